//! Fuzz target `ora_read`: see `../checks.rs` for what is checked.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ora_read(data));
