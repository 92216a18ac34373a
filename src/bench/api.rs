//! `POST /api/v1/contacts` over loopback against the real app, with many active workflows
//! whose triggers are evaluated on every change, from concurrent keep-alive clients.

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::data::{Props, STAGES};
use super::http::Client;
use super::{percentile, say, BenchArgs, Report};
use crate::config::Config;
use crate::db::models::WorkflowId;
use crate::db::DbPool;
use crate::services::demo::{FIRST_NAMES, LAST_NAMES};
use crate::services::workflows as svc;
use crate::startup::Application;

/// The app, serving the benchmark's database on a loopback port (no worker: the benchmark
/// drives the worker itself). It runs until the process ends.
pub struct Server {
    pub port: u16,
    pub token: String,
}

impl Server {
    pub fn start(db_path: &str) -> anyhow::Result<Server> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = db_path.to_string();
        std::thread::Builder::new()
            .name("bench-app".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let config = Config {
                        bind: "127.0.0.1:0".into(),
                        database_url: path,
                        run_worker: false,
                        smtp_url: None,
                    };
                    match Application::build(config) {
                        Ok(app) => {
                            let _ = tx.send(Ok(app.port()));
                            let _ = app.run_until_stopped().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let port = rx.recv()??;
        let token = {
            let pool = crate::db::connect(db_path, 1)?;
            let mut conn = pool.get()?;
            crate::db::models::api_token::ApiToken::create(&mut conn, "bench")?.1
        };
        Ok(Server { port, token })
    }
}

/// A varied set of date workflows: birthdays and renewals, filters on stage and names.
fn definition(i: i64) -> Value {
    let stage = STAGES[i as usize % STAGES.len()];
    let first = FIRST_NAMES[i as usize % FIRST_NAMES.len()];
    let last = LAST_NAMES[i as usize % LAST_NAMES.len()];
    match i % 3 {
        0 => json!({
            "name": format!("Birthday ({stage}) #{i}"),
            "start": {"type": "contact_date_property", "property": "birthday"},
            "recur_annually": true,
            "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": stage}]]},
            "steps": [
                {"type": "date_delay", "when": "before", "amount": i % 10 + 1, "unit": "days", "time_of_day": "09:00"},
                {"type": "send_email", "subject": "Soon your birthday", "body": "Hi {{ contact.firstname }}"}
            ],
            "settings": {"time_zone": "Europe/Oslo"}
        }),
        1 => json!({
            "name": format!("Renewal for {first} #{i}"),
            "start": {"type": "contact_date_property", "property": "renewal_date"},
            "triggers": {"filter_groups": [[
                {"property": "lifecyclestage", "operator": "eq", "value": "customer"},
                {"property": "firstname", "operator": "eq", "value": first}
            ]]},
            "steps": [
                {"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "10:00"},
                {"type": "create_task", "title": "Call {{ contact.firstname }} about the renewal"}
            ],
            "settings": {"time_zone": "Europe/Oslo", "unenroll_when_unmet": true}
        }),
        _ => json!({
            "name": format!("Renewal reminder {last} #{i}"),
            "start": {"type": "contact_date_property", "property": "renewal_date"},
            "triggers": {"filter_groups": [
                [{"property": "lastname", "operator": "eq", "value": last}],
                [{"property": "lifecyclestage", "operator": "eq", "value": "evangelist"},
                 {"property": "renewal_date", "operator": "known"}]
            ]},
            "steps": [
                {"type": "date_delay", "when": "before", "amount": 2, "unit": "weeks", "time_of_day": "09:30"},
                {"type": "send_email", "subject": "Renewal in two weeks", "body": "Hi {{ contact.firstname }}"}
            ],
            "settings": {"time_zone": "Europe/Oslo",
                "suppression": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "subscriber"}]], "list_ids": []}}
        }),
    }
}

pub fn run(
    pool: &DbPool,
    server: &Server,
    args: &BenchArgs,
    _props: Props,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    for i in 0..args.workflows {
        let wf = svc::create(&mut conn, &definition(i), "bench")
            .map_err(|e| anyhow::anyhow!("creating workflow {i}: {e:?}"))?;
        svc::publish(&mut conn, WorkflowId(wf.id), false)
            .map_err(|e| anyhow::anyhow!("publishing workflow {i}: {e:?}"))?;
    }
    // Existing contacts' emails to update (half the requests), spread over the table.
    let step = (args.contacts / 20_000).max(1);
    let emails: Vec<String> = {
        use crate::db::schema::contacts::dsl;
        use diesel::prelude::*;
        dsl::contacts
            .filter(
                dsl::id.eq_any(
                    (1..=args.contacts)
                        .step_by(step as usize)
                        .take(20_000)
                        .collect::<Vec<i64>>(),
                ),
            )
            .select(dsl::email)
            .load::<Option<String>>(&mut conn)?
            .into_iter()
            .flatten()
            .collect()
    };
    drop(conn);
    let emails = Arc::new(emails);
    let active = args.workflows + 1;
    say(format!(
        "api: {} upserts from {} connections, {active} workflows on…",
        args.api_requests, args.api_clients
    ));
    let per_client = (args.api_requests + args.api_clients - 1) / args.api_clients;
    let start = Instant::now();
    let handles: Vec<_> = (0..args.api_clients)
        .map(|c| {
            let emails = emails.clone();
            let port = server.port;
            let auth = format!("Bearer {}", server.token);
            std::thread::spawn(move || client(c, per_client, port, &auth, &emails))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for h in handles {
        let r = h
            .join()
            .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
        latencies.extend(r.latencies_ms);
        errors += r.errors;
        first_error = first_error.or(r.first_error);
    }
    let wall = start.elapsed().as_secs_f64();
    let ok = latencies.len() as f64 - errors as f64;
    if let Some(e) = &first_error {
        say(format!("api: {errors} requests failed; first: {e}"));
    }
    anyhow::ensure!(
        errors * 100 <= latencies.len(),
        "{errors} of {} API requests failed: {first_error:?}",
        latencies.len()
    );
    let per_s = ok / wall;
    let p50 = percentile(&latencies, 50.0);
    let p99 = percentile(&latencies, 99.0);
    say(format!("api: {per_s:.0} upserts/s"));
    report.figure("api_upserts_per_s", per_s);
    report.figure("api_requests", latencies.len() as f64);
    report.figure("api_errors", errors as f64);
    report.figure("api_ms_p50", p50);
    report.figure("api_ms_p99", p99);
    report.figure("api_active_workflows", active as f64);
    report.row(
        &format!(
            "API upserts ({} clients, {active} workflows on)",
            args.api_clients
        ),
        format!("{per_s:.0}/s"),
        "",
    );
    report.row(
        "  request latency p50 / p99",
        format!("{p50:.1} / {p99:.1} ms"),
        "",
    );
    Ok(())
}

struct ClientResult {
    latencies_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

fn client(
    c: i64,
    n: i64,
    port: u16,
    auth: &str,
    emails: &[String],
) -> anyhow::Result<ClientResult> {
    let mut rng = StdRng::seed_from_u64(7 + c as u64);
    let mut http = Client::new(port);
    let mut out = ClientResult {
        latencies_ms: Vec::with_capacity(n as usize),
        errors: 0,
        first_error: None,
    };
    let today = chrono::Utc::now().date_naive();
    for j in 0..n {
        let stage = STAGES[rng.gen_range(0..STAGES.len())];
        let renewal = (today + chrono::Duration::days(rng.gen_range(-30..400))).format("%Y-%m-%d");
        let body = if j % 2 == 0 && !emails.is_empty() {
            let email = &emails[rng.gen_range(0..emails.len())];
            json!({"email": email, "properties": {"lifecyclestage": stage, "renewal_date": renewal.to_string()}})
        } else {
            let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
            let birthday = chrono::NaiveDate::from_ymd_opt(
                1950 + rng.gen_range(0..55),
                1 + rng.gen_range(0..12),
                1 + rng.gen_range(0..28),
            )
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
            json!({"email": format!("api.{c}.{j}@example.com"), "properties": {
                "firstname": first, "lastname": last, "lifecyclestage": stage,
                "birthday": birthday, "renewal_date": renewal.to_string()}})
        };
        let bytes = serde_json::to_vec(&body)?;
        let t = Instant::now();
        let res = http.post(
            "/api/v1/contacts",
            &[("Authorization", auth)],
            "application/json",
            &bytes,
        )?;
        out.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if res.status != 200 && res.status != 201 {
            out.errors += 1;
            if out.first_error.is_none() {
                out.first_error = Some(format!("{} {}", res.status, res.text()));
            }
        }
    }
    Ok(out)
}
