//! Run-time configuration from the environment (the CLI passes the same values).

/// Where the app listens and which database it uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PERENNIAL_BIND`, default `127.0.0.1:8080`; tests use port 0.
    pub bind: String,
    /// `DATABASE_URL`: an SQLite file path (default `perennial.db`) or a `postgres://` URL.
    pub database_url: String,
    /// Start the background worker inside the server process.
    pub run_worker: bool,
    /// `PERENNIAL_SMTP_URL`: deliver workflow emails over SMTP instead of keeping them in the Outbox.
    pub smtp_url: Option<String>,
}

impl Config {
    pub fn from_env() -> Config {
        Config {
            bind: std::env::var("PERENNIAL_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into()),
            database_url: database_url_from_env(),
            run_worker: true,
            smtp_url: std::env::var("PERENNIAL_SMTP_URL")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}

/// `PERENNIAL_POOL_SIZE`: database connections per process (default 8). On PostgreSQL every
/// process holds up to this many, plus one for a worker's listener: keep the sum over all
/// processes under the server's `max_connections`.
pub fn pool_size_from_env() -> u32 {
    std::env::var("PERENNIAL_POOL_SIZE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| (1..=256).contains(n))
        .unwrap_or(8)
}

pub fn database_url_from_env() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "perennial.db".into())
}
