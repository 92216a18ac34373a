//! Throw-away databases for tests and the benchmark: a temporary SQLite file, or a fresh
//! database on a PostgreSQL server, dropped (with any connection still open) when the value
//! is dropped.
//!
//! The backend comes from `PERENNIAL_TEST_BACKEND` (`sqlite`, the default, or `postgres`) and
//! the server from `PERENNIAL_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`:
//! a local server with trust authentication, as on every development and CI machine here).

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::Backend;

/// The server the PostgreSQL scratch databases are made on.
///
/// Without TLS unless the URL asks for it (`sslmode=`): the local test server offers TLS
/// (Debian's default), and a test process that ends while its apps' threads are still inside
/// an OpenSSL read crashed with SIGSEGV at exit (OpenSSL's exit handlers run under them),
/// after every test had passed. Scratch databases are throwaway and on the test machine.
pub fn admin_url() -> String {
    let url = std::env::var("PERENNIAL_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// The backend the test run asked for.
pub fn test_backend() -> Backend {
    match std::env::var("PERENNIAL_TEST_BACKEND")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "postgres" | "postgresql" | "pg" => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// A scratch PostgreSQL database, unless the run asked for SQLite alone
/// (`PERENNIAL_TEST_BACKEND=sqlite`). Without a server the PostgreSQL half is skipped with a
/// note, except in CI (`CI` set), where it fails.
pub fn postgres_if_reachable() -> Option<ScratchDb> {
    let only_sqlite =
        std::env::var("PERENNIAL_TEST_BACKEND").is_ok_and(|b| b.eq_ignore_ascii_case("sqlite"));
    if only_sqlite && test_backend() == Backend::Sqlite {
        return None;
    }
    match ScratchDb::of(Backend::Postgres) {
        Ok(db) => Some(db),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED the PostgreSQL half: {e:#}");
            None
        }
        Err(e) => panic!("PostgreSQL is needed in CI: {e:#}"),
    }
}

/// A database that exists while this value lives.
pub struct ScratchDb {
    url: String,
    /// The temporary directory of an SQLite file.
    _dir: Option<tempfile::TempDir>,
    /// The name of a PostgreSQL database to drop.
    pg_name: Option<String>,
}

impl ScratchDb {
    /// A fresh, empty database of the backend the test run asked for.
    pub fn new() -> anyhow::Result<ScratchDb> {
        ScratchDb::of(test_backend())
    }

    pub fn of(backend: Backend) -> anyhow::Result<ScratchDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("making a temporary directory")?;
                let url = dir.path().join("test.db").display().to_string();
                Ok(ScratchDb {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!(
                    "perennial_scratch_{}_{}",
                    std::process::id(),
                    rand::random::<u32>()
                );
                let mut conn = PgConnection::establish(&admin).with_context(|| {
                    format!(
                        "connecting to the PostgreSQL server at {} (set PERENNIAL_TEST_PG_URL)",
                        super::redact(&admin)
                    )
                })?;
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .with_context(|| format!("creating database {name}"))?;
                let url = with_database(&admin, &name);
                Ok(ScratchDb {
                    url,
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// The URL to hand to `db::connect` or `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The same server URL naming another database: `postgres://u@h:5432/postgres?x=y` with
/// `db` is `postgres://u@h:5432/db?x=y`. Public for the bench, which makes its own database.
pub fn with_database(url: &str, db: &str) -> String {
    let (url, query) = match url.find('?') {
        Some(q) => url.split_at(q),
        None => (url, ""),
    };
    let host_start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match url[host_start..].find('/') {
        Some(slash) => &url[..host_start + slash],
        None => url,
    };
    format!("{base}/{db}{query}")
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // FORCE ends the connections the app under test still holds.
        let dropped = PgConnection::establish(&admin_url()).and_then(|mut c| {
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop scratch database {name}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn another_database_on_the_same_server() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
