//! `perennial-bench` (also run by `perennial bench`): the performance figures of DESIGN §6 on
//! this machine. A crate of its own, beside the app, which it uses through the app's library.
//!
//! A fresh temporary database is filled with realistic contacts and history, then each
//! measurement runs against it in turn: publish-time enrollment (and the raw SQLite limit for
//! the same rows), the worker's throughput, due-time latency under load, API upserts over
//! loopback with many active workflows, and page latencies. A readable table is printed, and
//! last one JSON line with every figure (see BENCHMARKS.md).

pub mod api;
pub mod batch;
pub mod data;
pub mod enroll;
pub mod http;
pub mod import;
pub mod latency;
pub mod pacing;
pub mod pages;
pub mod pg;
pub mod sqlite;
pub mod worker;
pub mod workers;

use std::time::Instant;

use anyhow::Context;
use serde_json::{json, Map, Value};

use perennial::db;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Contacts to generate (and to enroll at publish).
    #[arg(long, default_value_t = 1_000_000)]
    pub contacts: i64,
    /// History events of the workflow whose history page is measured.
    #[arg(long, default_value_t = 10_000_000)]
    pub history_events: i64,
    /// Due set-property actions the worker executes.
    #[arg(long, default_value_t = 100_000)]
    pub actions: i64,
    /// Active workflows evaluated on every API write.
    #[arg(long, default_value_t = 50)]
    pub workflows: i64,
    /// POST /api/v1/contacts requests sent (half with the plain workflows, half with event
    /// triggers on half of them).
    #[arg(long, default_value_t = 20_000)]
    pub api_requests: i64,
    /// Concurrent keep-alive connections sending them.
    #[arg(long, default_value_t = 8)]
    pub api_clients: i64,
    /// Contacts sent through `POST /api/v1/contacts/batch` (1,000 per request) after the
    /// single upserts, with the same workflows on.
    #[arg(long, default_value_t = 100_000)]
    pub api_batch_contacts: i64,
    /// Concurrent connections sending those batches.
    #[arg(long, default_value_t = 2)]
    pub api_batch_clients: i64,
    /// Rows of the CSV file the import stage imports (half updates, half new contacts).
    #[arg(long, default_value_t = 100_000)]
    pub import_rows: i64,
    /// Actions due over the latency window.
    #[arg(long, default_value_t = 20_000)]
    pub latency_actions: i64,
    /// Length of the latency window in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub latency_window_secs: f64,
    /// A smaller run (100k contacts, 1M events, 10k actions) for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Run on PostgreSQL: a server URL (`postgres://user@host:5432/postgres`); a fresh database
    /// `perennial_bench_<pid>` is created on it for the run and dropped afterwards (unless
    /// `--keep`). Without it the bench runs on a temporary SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
    /// PostgreSQL only: worker process counts to measure (`perennial worker` processes beside
    /// this executable), each beside a raw claim-and-complete loop with as many connections.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub workers: Vec<usize>,
    /// Keep the temporary database and print where it is.
    #[arg(long)]
    pub keep: bool,
    /// Run only these measurements (comma-separated: enroll, api, import, worker, pacing,
    /// workers, latency, pages; `workers` runs on PostgreSQL only), for working on one of them. The
    /// JSON line then lacks the others' figures. `latency-api` (never run unless named) is the
    /// latency stage while `--api-clients` clients send upserts through the API.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

impl BenchArgs {
    fn wants(&self, stage: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == stage)
    }

    fn effective(mut self) -> BenchArgs {
        if self.quick {
            self.contacts = self.contacts.min(100_000);
            self.history_events = self.history_events.min(1_000_000);
            self.actions = self.actions.min(10_000);
            self.api_requests = self.api_requests.min(4_000);
            self.api_batch_contacts = self.api_batch_contacts.min(20_000);
            self.import_rows = self.import_rows.min(20_000);
            self.latency_actions = self.latency_actions.min(5_000);
        }
        self.contacts = self.contacts.max(100);
        self.history_events = self.history_events.max(100);
        self.actions = self.actions.max(10);
        self.workflows = self.workflows.max(1);
        self.api_requests = self.api_requests.max(10);
        self.api_clients = self.api_clients.clamp(1, 64);
        self.api_batch_contacts = self.api_batch_contacts.max(1_000);
        self.api_batch_clients = self.api_batch_clients.clamp(1, 16);
        self.import_rows = self.import_rows.max(100);
        self.latency_actions = self.latency_actions.max(10);
        self.latency_window_secs = self.latency_window_secs.clamp(0.5, 60.0);
        self
    }
}

/// Where every measurement puts its figures (in table order).
#[derive(Default)]
pub struct Report {
    rows: Vec<(String, String, String)>,
    json: Map<String, Value>,
}

impl Report {
    /// A figure in the JSON line (rounded to 3 decimals).
    pub fn figure(&mut self, key: &str, v: f64) {
        let r = (v * 1000.0).round() / 1000.0;
        self.json.insert(key.to_string(), json!(r));
    }

    /// A row of the table: what, the value as read, the target.
    pub fn row(&mut self, what: &str, value: String, target: &str) {
        self.rows
            .push((what.to_string(), value, target.to_string()));
    }

    fn print(&self) {
        let w0 = self
            .rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let w1 = self
            .rows
            .iter()
            .map(|r| r.1.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        println!();
        println!("{:<w0$}  {:>w1$}  target", "figure", "value");
        println!("{}  {}  {}", "-".repeat(w0), "-".repeat(w1), "-".repeat(24));
        for (a, b, c) in &self.rows {
            println!("{a:<w0$}  {b:>w1$}  {c}");
        }
        println!();
    }
}

/// The p-th percentile (0–100) of samples, nearest-rank.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Peak resident memory of this process so far (the app runs inside it), in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU time (user + system) of the calling thread, in seconds: on a shared machine this is
/// what a single-threaded stage costs, whatever the neighbours do to its wall time.
pub fn thread_cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/thread-self/stat")
}

/// User + system CPU seconds in a `/proc/…/stat` file (a thread's or a process's).
pub fn cpu_seconds_of(stat_path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(14) + ticks(15)) / 100.0
}

/// Prints a progress line on stderr (the table and JSON go to stdout).
pub fn say(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

/// The database of the run: a temporary SQLite file, or a database made on a PostgreSQL server.
pub enum Target {
    Sqlite {
        dir: tempfile::TempDir,
        path: String,
    },
    Postgres(pg::PgDb),
}

impl Target {
    fn open(args: &BenchArgs) -> anyhow::Result<Target> {
        match args.database_url.as_deref().map(db::Backend::of_url) {
            Some((db::Backend::Postgres, url)) => {
                Ok(Target::Postgres(pg::PgDb::create(&url, args.keep)?))
            }
            Some((db::Backend::Sqlite, _)) => {
                anyhow::bail!("--database-url takes a postgres:// URL (without it the bench runs on a temporary SQLite file)")
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("perennial-bench-")
                    .tempdir()
                    .context("creating a temporary directory")?;
                let path = dir.path().join("bench.db").display().to_string();
                Ok(Target::Sqlite { dir, path })
            }
        }
    }

    /// What `db::connect` takes.
    pub fn url(&self) -> &str {
        match self {
            Target::Sqlite { path, .. } => path,
            Target::Postgres(db) => db.url(),
        }
    }

    fn size_mb(&self) -> f64 {
        match self {
            Target::Sqlite { path, .. } => std::fs::metadata(path)
                .map(|m| m.len() as f64 / 1_048_576.0)
                .unwrap_or(0.0),
            Target::Postgres(db) => db.size_mb(),
        }
    }
}

/// Runs every measurement and prints the table, then the JSON line.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let args = args.effective();
    let started = Instant::now();
    let target = Target::open(&args)?;
    let backend = match target {
        Target::Sqlite { .. } => db::Backend::Sqlite,
        Target::Postgres(_) => db::Backend::Postgres,
    };
    say(format!(
        "database {} ({}); {} contacts, {} history events, {} actions, {} workflows",
        db::redact(target.url()),
        backend.name(),
        args.contacts,
        args.history_events,
        args.actions,
        args.workflows
    ));
    let pool = db::connect(target.url(), 4)?;
    let mut report = Report::default();
    let now = chrono::Utc::now();
    let today = now.date_naive();

    // The data: contacts, then a big history (so every later write meets full-size indexes).
    let props = {
        let mut conn = pool.get()?;
        data::ensure_properties(&mut conn)?
    };
    let t = Instant::now();
    match &target {
        Target::Sqlite { path, .. } => {
            let raw = sqlite::RawDb::open(path)?;
            data::generate_contacts(&raw, args.contacts, props, today)?;
        }
        Target::Postgres(db) => {
            pg::generate_contacts(&mut db.connect()?, args.contacts, props, today)?
        }
    }
    let gen_contacts = t.elapsed().as_secs_f64();
    say(format!(
        "generated {} contacts in {gen_contacts:.1} s; peak RSS so far {:.0} MB",
        args.contacts,
        peak_rss_mb()
    ));
    let history_wf = pages::create_history_workflow(&pool)?;
    let t = Instant::now();
    match &target {
        Target::Sqlite { path, .. } => {
            let raw = sqlite::RawDb::open(path)?;
            data::generate_history(
                &raw,
                history_wf,
                args.history_events,
                args.contacts,
                now.timestamp(),
            )?;
        }
        Target::Postgres(db) => pg::generate_history(
            &mut db.connect()?,
            history_wf,
            args.history_events,
            args.contacts,
            now.timestamp(),
        )?,
    }
    let gen_history = t.elapsed().as_secs_f64();
    say(format!(
        "generated {} history events in {gen_history:.1} s; peak RSS so far {:.0} MB",
        args.history_events,
        peak_rss_mb()
    ));

    if args.wants("enroll") {
        enroll::run(&pool, &target, &args, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    let server = api::Server::start(target.url())?;
    if args.wants("api") {
        api::run(&pool, &server, &args, props, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    if args.wants("import") {
        import::run(&pool, &args, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    if args.wants("worker") {
        worker::run(&pool, &args, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    if args.wants("pacing") {
        pacing::run(&pool, &args, &mut report)?;
    }
    if let Target::Postgres(db) = &target {
        if args.wants("workers") && !args.workers.is_empty() {
            workers::run(&pool, db, &args, &mut report)?;
        }
    }
    if args.wants("latency") {
        latency::run(&pool, &args, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    // Only when asked for by name: it sends API load for the whole window.
    if args.only.iter().any(|s| s == "latency-api") {
        latency::run_under_api_load(&pool, &server, &args, &mut report)?;
        say(format!("peak RSS so far {:.0} MB", peak_rss_mb()));
    }
    if args.wants("pages") {
        pages::run(&pool, &server, history_wf, &args, &mut report)?;
    }

    let rss = peak_rss_mb();
    report.figure("peak_rss_mb", rss);
    report.row(
        "peak resident memory (whole process, app included)",
        format!("{rss:.0} MB"),
        "< 1024 MB",
    );
    let db_mb = target.size_mb();
    report.figure("db_size_mb", db_mb);
    report.figure("setup_contacts_seconds", gen_contacts);
    report.figure("setup_history_seconds", gen_history);
    let total = started.elapsed().as_secs_f64();
    report.figure("total_seconds", total);
    report.figure("contacts", args.contacts as f64);
    report.figure("history_events", args.history_events as f64);
    report.json.insert("backend".into(), json!(backend.name()));
    report.row("database size at the end", format!("{db_mb:.0} MB"), "");
    report.row(
        "setup: generate contacts / history",
        format!("{gen_contacts:.1} s / {gen_history:.1} s"),
        "",
    );
    report.row("whole benchmark", format!("{total:.0} s"), "< 600 s");
    report.print();
    drop(pool);
    match target {
        Target::Sqlite { dir, .. } if args.keep => {
            let kept = dir.keep();
            say(format!("kept the database in {}", kept.display()));
        }
        // The PostgreSQL database is dropped here (or kept, and said so).
        other => drop(other),
    }
    println!("{}", Value::Object(report.json));
    Ok(())
}
