//! Logging setup and error reporting.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("PERENNIAL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_web=warn"));
    // Logs go to stderr: stdout carries command output (`token create` prints the token).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `outer: middle: root` — the whole cause chain on one line.
pub fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
