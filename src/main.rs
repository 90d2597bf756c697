//! The `strata` binary: the editor window by default, or a headless subcommand.

mod bench;
mod cli;
mod decompose_cli;
mod info;
mod inpaint_cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    one_malloc_arena();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,wgpu_hal::gles=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = cli::Cli::parse();
    let result = cli::run(args);
    log_peak_memory();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("strata: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Has glibc keep one malloc arena for all threads.
///
/// By default glibc gives threads that allocate at once arenas of their own, up to eight per
/// core, and every arena keeps the blocks freed in it for its own thread's later use. The
/// decomposer's worker pools allocate and free large scratch buffers in parallel, so the
/// process ends up holding several arenas' worth of freed memory: decomposing a 4000×3000
/// photo peaked at 265–280 MiB resident, where one arena peaks at 206 MiB (issue 13 asks
/// for twice the document plus the model, about 216 MiB). Small allocations still take no
/// lock: glibc serves them from a per-thread cache. The time was unchanged (8.8–9.6 s
/// against 9.5–11.5 s, 2 cores). `MALLOC_ARENA_MAX` in the environment still wins, because
/// glibc reads it at start-up, before this runs, and this runs only when it is unset.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn one_malloc_arena() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets an allocator parameter and is safe to call at any
        // time; this runs first thing in `main`, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_malloc_arena() {}

/// Logs the process's peak resident memory (Linux's `VmHWM`) at `info`, for the memory
/// budgets of issue 13 (`RUST_LOG=info strata decompose …`).
fn log_peak_memory() {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        tracing::info!("peak resident memory: {kib} KiB");
    }
}
