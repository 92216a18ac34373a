//! The command line: `perennial [serve|migrate|worker|user create|token create|import-contacts|
//! demo|bench]`.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db;

#[derive(Debug, Parser)]
#[command(
    name = "perennial",
    version,
    about = "Contact workflows centred on a date"
)]
pub struct Cli {
    /// The database: an SQLite file path (created and migrated when missing; `sqlite://path`
    /// also works) or a PostgreSQL URL (`postgres://user@host/db`, migrated on start).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "perennial.db",
        global = true
    )]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the API, with the worker (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "PERENNIAL_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Serve pages and the API only; scheduled actions are left to `perennial worker`
        /// processes sharing the database (PostgreSQL).
        #[arg(long)]
        no_worker: bool,
        /// Always mark the session cookie `Secure` (the site is only reached over HTTPS).
        #[arg(long, env = "PERENNIAL_SECURE_COOKIES")]
        secure_cookies: bool,
        /// A reverse proxy (address or CIDR range) whose X-Forwarded-For and
        /// X-Forwarded-Proto are believed; repeat or separate with commas.
        #[arg(long = "trusted-proxy", env = "PERENNIAL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// Ask for `Authorization: Bearer <token>` on GET /metrics.
        #[arg(long, env = "PERENNIAL_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
    },
    /// Create the database file if needed and apply pending migrations.
    Migrate,
    /// Run only the worker (scheduled actions), beside `serve --no-worker` processes or on
    /// other machines sharing a PostgreSQL database.
    Worker,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import contacts from a CSV file (header row = property names; upsert by email).
    ImportContacts { file: std::path::PathBuf },
    /// Load 1,000 sample contacts with birthdays and renewal dates.
    Demo {
        #[arg(long, default_value_t = 1000)]
        contacts: usize,
    },
    /// Measure performance on a fresh temporary database (see BENCHMARKS.md); prints a table
    /// and, last, one JSON line.
    ///
    /// Runs the `perennial-bench` executable beside this one with the arguments given
    /// (`perennial bench --help` lists them).
    #[command(disable_help_flag = true)]
    Bench {
        /// Passed to `perennial-bench` as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who can sign in.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
    },
    /// List the users: id, email, status.
    List,
    /// Disable a user: their sessions end and their API tokens stop working.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled user sign in again (their API tokens work again).
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Delete a user with their sessions and API tokens.
    Delete {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// The user the token acts for (default: the earliest active user). The token stops
        /// working when that user is disabled or deleted.
        #[arg(long)]
        user: Option<String>,
    },
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    crate::config::parse_net(s)
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let database_url = cli.database_url;
    match cli.command {
        None => serve(
            Config {
                database_url,
                ..Config::from_env()
            },
            crate::config::HttpOptions::from_env(),
        ),
        Some(Command::Serve {
            bind,
            no_worker,
            secure_cookies,
            trusted_proxies,
            metrics_token,
        }) => serve(
            Config {
                bind,
                database_url,
                run_worker: !no_worker,
                ..Config::from_env()
            },
            crate::config::HttpOptions {
                secure_cookies,
                trusted_proxies,
                metrics_token: metrics_token.filter(|t| !t.trim().is_empty()),
            },
        ),
        Some(Command::Worker) => {
            let pool = db::connect(&database_url, crate::config::pool_size_from_env().min(4))?;
            let config = crate::worker::WorkerConfig {
                // SQLite: watch the file for other processes' commits. PostgreSQL: they
                // announce their work (LISTEN/NOTIFY, `db::listen`).
                watch_other_processes: pool.backend() == db::Backend::Sqlite,
                ..Default::default()
            };
            let handle = crate::worker::spawn(pool, config);
            let term = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            signal_hook::flag::register(signal_hook::consts::SIGTERM, term.clone())?;
            signal_hook::flag::register(signal_hook::consts::SIGINT, term.clone())?;
            eprintln!("Perennial worker running; Ctrl-C to stop.");
            while !term.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            eprintln!("Stopping: finishing the current job…");
            handle.stop();
            Ok(())
        }
        Some(Command::Migrate) => {
            db::connect(&database_url, 1)?;
            eprintln!("Database {database_url} is up to date.");
            Ok(())
        }
        Some(Command::User {
            command: UserCommand::Create { email, password },
        }) => {
            use crate::db::models::user::{check_new_user, User};
            if let Err((field, msg)) = check_new_user(&email, &password) {
                anyhow::bail!("{field}: {msg}");
            }
            let pool = db::connect(&database_url, 1)?;
            let mut conn = pool.get()?;
            if User::find_by_email(&mut conn, &email)?.is_some() {
                anyhow::bail!("a user with the email {email} already exists");
            }
            let user = User::create(&mut conn, &email, &password)?;
            eprintln!("Created user {} ({}).", user.email, user.id);
            Ok(())
        }
        Some(Command::User { command }) => users(&database_url, command),
        Some(Command::Token {
            command: TokenCommand::Create { name, user },
        }) => {
            use crate::db::models::api_token::ApiToken;
            use crate::db::models::user::User;
            if name.trim().is_empty() {
                anyhow::bail!("--name must not be empty");
            }
            let pool = db::connect(&database_url, 1)?;
            let mut conn = pool.get()?;
            let (_, plain) = match user {
                None => {
                    let made = ApiToken::create(&mut conn, &name)?;
                    if made.0.user_id.is_none() {
                        eprintln!("No user exists yet: the token works until the first user is created, and then acts for them.");
                    }
                    made
                }
                Some(email) => {
                    let Some(u) = User::find_by_email(&mut conn, &email)? else {
                        anyhow::bail!("no user has the email {email} (`perennial user list`)");
                    };
                    if !u.is_active() {
                        anyhow::bail!("{email} is disabled: their tokens would not work");
                    }
                    ApiToken::create_for(&mut conn, &name, u.id())?
                }
            };
            println!("{plain}");
            Ok(())
        }
        Some(Command::ImportContacts { file }) => {
            let pool = db::connect(&database_url, 2)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let name = file.display().to_string();
            let report =
                crate::services::import::import_csv(&pool, &name, &bytes, |done, total| {
                    eprint!("\r{done}/{total} rows");
                })?;
            eprintln!();
            println!(
                "Imported {} of {} rows ({} created, {} updated); {} rejected.",
                report.imported,
                report.total,
                report.created,
                report.updated,
                report.errors.len() as u64 + report.more_errors
            );
            if !report.ignored_columns.is_empty() {
                println!(
                    "Ignored columns (no property has this name or label): {}",
                    report.ignored_columns.join(", ")
                );
            }
            for e in &report.errors {
                println!("line {}: {}", e.line, e.reason);
            }
            Ok(())
        }
        Some(Command::Demo { contacts }) => {
            let pool = db::connect(&database_url, 2)?;
            let mut conn = pool.get()?;
            let n = crate::services::demo::load_demo(&mut conn, contacts)?;
            eprintln!("Loaded {n} sample contacts.");
            Ok(())
        }
        Some(Command::Bench { args }) => bench(args),
    }
}

/// `perennial bench …`: the benchmark is a crate of its own (crates/perennial-bench), which
/// depends on this library, so this binary cannot link it; it runs the `perennial-bench`
/// executable that cargo builds into the same directory, with inherited stdio, and ends with
/// its exit code.
fn bench(args: Vec<std::ffi::OsString>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the current executable")?;
    let name = format!("perennial-bench{}", std::env::consts::EXE_SUFFIX);
    let Some(bench) = exe
        .parent()
        .map(|dir| dir.join(name))
        .filter(|p| p.is_file())
    else {
        anyhow::bail!(
            "the benchmark is a separate binary: build it with \
             `cargo build --release -p perennial-bench` \
             (or run `cargo run --release -p perennial-bench -- …`)"
        );
    };
    let status = std::process::Command::new(&bench)
        .args(args)
        .status()
        .with_context(|| format!("running {}", bench.display()))?;
    if status.success() {
        return Ok(());
    }
    // The bench has said what went wrong on stderr: pass its exit code on, adding nothing.
    #[cfg(unix)]
    let code = {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1)
    };
    #[cfg(not(unix))]
    let code = status.code().unwrap_or(1);
    std::process::exit(code)
}

/// `perennial user list|disable|enable|delete` (`create` is handled beside the others).
fn users(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    use crate::db::models::user::User;
    let pool = db::connect(database_url, 1)?;
    let mut conn = pool.get()?;
    let (email, done) = match &command {
        UserCommand::List => {
            for u in User::all(&mut conn)? {
                let status = if u.is_active() { "active" } else { "disabled" };
                println!("{}\t{}\t{status}", u.id, u.email);
            }
            return Ok(());
        }
        UserCommand::Create { .. } => anyhow::bail!("user create is handled elsewhere"),
        UserCommand::Disable { email } => (email.clone(), "disabled"),
        UserCommand::Enable { email } => (email.clone(), "enabled"),
        UserCommand::Delete { email } => (email.clone(), "deleted"),
    };
    let Some(user) = User::find_by_email(&mut conn, &email)? else {
        anyhow::bail!("no user has the email {email} (`perennial user list`)");
    };
    let result = match command {
        UserCommand::Disable { .. } => User::set_disabled(&mut conn, user.id(), true),
        UserCommand::Enable { .. } => User::set_disabled(&mut conn, user.id(), false),
        _ => User::delete(&mut conn, user.id()),
    };
    result.map_err(|e| anyhow::anyhow!("{email} was not {done}: {e}"))?;
    eprintln!("{email} is {done}.");
    Ok(())
}

fn serve(config: Config, http: crate::config::HttpOptions) -> anyhow::Result<()> {
    let rt = actix_web::rt::System::new();
    rt.block_on(async move {
        let app = crate::startup::Application::build_with(config.clone(), http)?;
        tracing::info!(
            "Perennial listening on http://{}",
            display_addr(&config.bind, app.port())
        );
        app.run_until_stopped()
            .await
            .context("server stopped with an error")
    })
}

fn display_addr(bind: &str, port: u16) -> String {
    match bind.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind.to_string(),
    }
}
