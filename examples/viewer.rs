//! Opens the editor window on a file (or on the bundled sample), without the CLI around it:
//! `cargo run --example viewer -- [FILE]`. With `STRATA_SCREENSHOT=shot.png` in the
//! environment the window saves a screenshot of its third frame and closes.

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    strata::ui::run(std::env::args_os().nth(1).map(Into::into))
}
