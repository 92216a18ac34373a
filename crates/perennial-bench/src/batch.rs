//! `POST /api/v1/contacts/batch` over loopback (DESIGN §7, issue 16): batches of up to 1,000
//! upserts, each batch one transaction, with the API stage's workflows live, so every contact
//! written is checked against their triggers as a single upsert is.

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use crate::api::{upsert_input, Server};
use crate::http::Client;
use crate::{percentile, say, BenchArgs, Report};

/// Contacts per request: the endpoint's maximum.
const BATCH: i64 = 1_000;

/// Sends `--api-batch-contacts` contacts in batches of [`BATCH`] from `--api-batch-clients`
/// connections (half update existing contacts' stage and renewal date, half create contacts
/// with five properties, as the single-upsert load does) and reports contacts/s.
pub fn run(
    server: &Server,
    args: &BenchArgs,
    emails: &Arc<Vec<String>>,
    active_workflows: i64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let clients = args.api_batch_clients;
    let batches = (args.api_batch_contacts + BATCH - 1) / BATCH;
    let per_client = (batches + clients - 1) / clients;
    say(format!(
        "api batch: {} contacts in batches of {BATCH} from {clients} connections, {active_workflows} workflows on…",
        per_client * clients * BATCH
    ));
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let emails = emails.clone();
            let port = server.port;
            let auth = format!("Bearer {}", server.token);
            std::thread::spawn(move || client(c, per_client, port, &auth, &emails))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut contacts = 0i64;
    for h in handles {
        let (lat, n) = h
            .join()
            .map_err(|_| anyhow::anyhow!("batch client thread panicked"))??;
        latencies.extend(lat);
        contacts += n;
    }
    let wall = start.elapsed().as_secs_f64();
    let per_s = contacts as f64 / wall.max(1e-9);
    let p50 = percentile(&latencies, 50.0);
    let p99 = percentile(&latencies, 99.0);
    say(format!(
        "api batch: {per_s:.0} contacts/s ({contacts} in {wall:.1} s; a batch p50 {p50:.0} ms, p99 {p99:.0} ms)"
    ));
    report.figure("api_batch_contacts_per_s", per_s);
    report.figure("api_batch_ms_p50", p50);
    report.figure("api_batch_ms_p99", p99);
    report.row(
        &format!("API batch upserts ({BATCH} per request, {clients} clients)"),
        format!("{per_s:.0} contacts/s"),
        "≥ 50000/s (issue 16)",
    );
    report.row(
        "  one batch p50 / p99",
        format!("{p50:.0} / {p99:.0} ms"),
        "",
    );
    Ok(())
}

/// `n` batches from one connection; returns each batch's latency (ms) and the contacts sent.
fn client(
    c: i64,
    n: i64,
    port: u16,
    auth: &str,
    emails: &[String],
) -> anyhow::Result<(Vec<f64>, i64)> {
    let mut rng = StdRng::seed_from_u64(1_000 + c as u64);
    let mut http = Client::new(port);
    let today = chrono::Utc::now().date_naive();
    let mut latencies = Vec::with_capacity(n as usize);
    let mut sent = 0;
    for b in 0..n {
        let inputs: Vec<Value> = (0..BATCH)
            .map(|j| {
                let new_email = format!("batch.{c}.{b}.{j}@example.com");
                upsert_input(&mut rng, emails, today, j % 2 == 0, new_email)
            })
            .collect();
        let bytes = serde_json::to_vec(&json!({ "inputs": inputs }))?;
        let t = Instant::now();
        let res = http.post(
            "/api/v1/contacts/batch",
            &[("Authorization", auth)],
            "application/json",
            &bytes,
        )?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            res.status == 200,
            "a batch failed: {} {}",
            res.status,
            res.text().chars().take(300).collect::<String>()
        );
        sent += BATCH;
    }
    Ok((latencies, sent))
}
