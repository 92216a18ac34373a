//! `POST /api/v1/contacts` over loopback against the real app, with many active workflows
//! whose triggers are evaluated on every change, from concurrent keep-alive clients.

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::data::{Props, STAGES};
use crate::http::Client;
use crate::{percentile, say, BenchArgs, Report};
use perennial::config::Config;
use perennial::db::models::WorkflowId;
use perennial::db::DbPool;
use perennial::services::demo::{FIRST_NAMES, LAST_NAMES};
use perennial::services::workflows as svc;
use perennial::startup::Application;

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
            let pool = perennial::db::connect(db_path, 1)?;
            let mut conn = pool.get()?;
            perennial::db::models::api_token::ApiToken::create(&mut conn, "bench")?.1
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

/// The same workflow with an event trigger beside its filters (any of them enrolls): the
/// built-in "property changed" event refined to one transition, or a custom event with an
/// amount (not posted by this load: evaluated on every write, never matching).
fn with_event_trigger(i: i64) -> Value {
    let mut def = definition(i);
    def["name"] = json!(format!(
        "{} + event",
        def["name"].as_str().unwrap_or("workflow")
    ));
    def["triggers"]["events"] = if i % 2 == 0 {
        // One transition, as real triggers name one ("stage changed from customer to
        // evangelist"): it matches now and then, not on every write.
        json!([{"name": "property_changed", "filters": [
            {"property": "event.property", "operator": "eq", "value": "lifecyclestage"},
            {"property": "event.old", "operator": "eq", "value": "customer"},
            {"property": "event.new", "operator": "eq", "value": "evangelist"}
        ]}])
    } else {
        json!([{"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}]}])
    };
    def
}

fn create_on(conn: &mut perennial::db::DbConnection, def: &Value) -> anyhow::Result<i64> {
    let wf = svc::create(conn, def, "bench").map_err(|e| anyhow::anyhow!("creating: {e:?}"))?;
    svc::publish(conn, WorkflowId(wf.id), false)
        .map_err(|e| anyhow::anyhow!("publishing: {e:?}"))?;
    Ok(wf.id)
}

fn switch(conn: &mut perennial::db::DbConnection, off: &[i64], on: &[i64]) -> anyhow::Result<()> {
    for id in off {
        svc::turn_off(conn, WorkflowId(*id)).map_err(|e| anyhow::anyhow!("turning off: {e:?}"))?;
    }
    for id in on {
        svc::publish(conn, WorkflowId(*id), false)
            .map_err(|e| anyhow::anyhow!("publishing: {e:?}"))?;
    }
    Ok(())
}

/// Rounds of the write-path comparison: each round sends the same load once with the plain
/// workflows on and once with half of them carrying event triggers, so drift over the run
/// (a growing database, a busy machine) falls on both sides alike.
const ROUNDS: i64 = 4;

pub fn run(
    pool: &DbPool,
    server: &Server,
    args: &BenchArgs,
    _props: Props,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let plain: Vec<i64> = (0..args.workflows)
        .map(|i| create_on(&mut conn, &definition(i)))
        .collect::<anyhow::Result<_>>()?;
    // Event variants of the first half, created then left off until their phase.
    let half = (args.workflows / 2) as usize;
    let variants: Vec<i64> = (0..half as i64)
        .map(|i| {
            let id = create_on(&mut conn, &with_event_trigger(i))?;
            svc::turn_off(&mut conn, WorkflowId(id))
                .map_err(|e| anyhow::anyhow!("turning off: {e:?}"))?;
            Ok(id)
        })
        .collect::<anyhow::Result<_>>()?;
    // Existing contacts' emails to update (half the requests).
    let emails = existing_emails(&mut conn, args.contacts)?;
    let emails = Arc::new(emails);
    let active = args.workflows + 1;
    say(format!(
        "api: {} upserts from {} connections, {active} workflows on, in {ROUNDS} rounds of plain / half with event triggers…",
        args.api_requests, args.api_clients
    ));
    // `--api-requests` in all, split evenly over both sides and every round.
    let per_round = (args.api_requests / (2 * ROUNDS)).max(args.api_clients);
    let mut plain_load = Load::default();
    let mut event_load = Load::default();
    for round in 0..ROUNDS {
        plain_load.add(send(
            server,
            args,
            &emails,
            per_round,
            &format!("r{round}p"),
        )?);
        switch(&mut conn, &plain[..half], &variants)?;
        event_load.add(send(
            server,
            args,
            &emails,
            per_round,
            &format!("r{round}e"),
        )?);
        switch(&mut conn, &variants, &plain[..half])?;
    }
    drop(conn);
    // Batches, with the plain workflows on (the same 51 as the single upserts above).
    crate::batch::run(server, args, &emails, active, report)?;
    let per_s = plain_load.per_s();
    let per_s_events = event_load.per_s();
    let slowdown = (1.0 - per_s_events / per_s) * 100.0;
    let p50 = percentile(&plain_load.latencies, 50.0);
    let p99 = percentile(&plain_load.latencies, 99.0);
    say(format!(
        "api: {per_s:.0} upserts/s; with event triggers on half the workflows {per_s_events:.0}/s ({slowdown:+.1}% slower)"
    ));
    report.figure("api_upserts_per_s", per_s);
    report.figure("api_upserts_per_s_event_triggers", per_s_events);
    report.figure("api_event_triggers_slowdown_pct", slowdown);
    report.figure(
        "api_requests",
        (plain_load.latencies.len() + event_load.latencies.len()) as f64,
    );
    report.figure("api_errors", (plain_load.errors + event_load.errors) as f64);
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
    report.row(
        &format!("  same, {half} of the workflows with event triggers"),
        format!("{per_s_events:.0}/s ({slowdown:+.1}%)"),
        "within 10% (issue 7)",
    );
    Ok(())
}

/// Requests sent in one phase, and how long they took.
#[derive(Default)]
pub(crate) struct Load {
    pub(crate) latencies: Vec<f64>,
    errors: usize,
    wall: f64,
}

impl Load {
    pub(crate) fn add(&mut self, other: Load) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.wall += other.wall;
    }

    pub(crate) fn per_s(&self) -> f64 {
        (self.latencies.len() - self.errors) as f64 / self.wall.max(1e-9)
    }
}

/// `n` upserts from `args.api_clients` concurrent connections; new contacts' emails carry `tag`.
pub(crate) fn send(
    server: &Server,
    args: &BenchArgs,
    emails: &Arc<Vec<String>>,
    n: i64,
    tag: &str,
) -> anyhow::Result<Load> {
    let per_client = (n + args.api_clients - 1) / args.api_clients;
    let start = Instant::now();
    let handles: Vec<_> = (0..args.api_clients)
        .map(|c| {
            let emails = emails.clone();
            let port = server.port;
            let auth = format!("Bearer {}", server.token);
            let tag = tag.to_string();
            std::thread::spawn(move || client(c, per_client, port, &auth, &emails, &tag))
        })
        .collect();
    let mut load = Load::default();
    let mut first_error = None;
    for h in handles {
        let r = h
            .join()
            .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
        load.latencies.extend(r.latencies_ms);
        load.errors += r.errors;
        first_error = first_error.or(r.first_error);
    }
    load.wall = start.elapsed().as_secs_f64();
    if let Some(e) = &first_error {
        say(format!("api: {} requests failed; first: {e}", load.errors));
    }
    anyhow::ensure!(
        load.errors * 100 <= load.latencies.len(),
        "{} of {} API requests failed: {first_error:?}",
        load.errors,
        load.latencies.len()
    );
    Ok(load)
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
    tag: &str,
) -> anyhow::Result<ClientResult> {
    // A sequence of its own per phase and client (a repeated one would re-send values already
    // stored, changing nothing), drawn from the same distribution on both sides.
    let seed = tag.bytes().fold(7 + c as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(b as u64)
    });
    let mut rng = StdRng::seed_from_u64(seed);
    let mut http = Client::new(port);
    let mut out = ClientResult {
        latencies_ms: Vec::with_capacity(n as usize),
        errors: 0,
        first_error: None,
    };
    let today = chrono::Utc::now().date_naive();
    for j in 0..n {
        let new_email = format!("api.{tag}.{c}.{j}@example.com");
        let body = upsert_input(&mut rng, emails, today, j % 2 == 0, new_email);
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

/// One upsert as the loads send it: with `update` (and known emails) an existing contact's new
/// stage and renewal date; otherwise a new contact (`new_email`) with five properties.
/// Up to 20,000 existing contacts' emails, spread over the table (the updates of a load).
pub fn existing_emails(
    conn: &mut perennial::db::DbConnection,
    contacts: i64,
) -> anyhow::Result<Vec<String>> {
    use diesel::prelude::*;
    use perennial::db::schema::contacts::dsl;
    let step = (contacts / 20_000).max(1);
    Ok(dsl::contacts
        .filter(
            dsl::id.eq_any(
                (1..=contacts)
                    .step_by(step as usize)
                    .take(20_000)
                    .collect::<Vec<i64>>(),
            ),
        )
        .select(dsl::email)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

pub fn upsert_input(
    rng: &mut StdRng,
    emails: &[String],
    today: chrono::NaiveDate,
    update: bool,
    new_email: String,
) -> Value {
    let stage = STAGES[rng.gen_range(0..STAGES.len())];
    let renewal = (today + chrono::Duration::days(rng.gen_range(-30..400)))
        .format("%Y-%m-%d")
        .to_string();
    if update && !emails.is_empty() {
        let email = &emails[rng.gen_range(0..emails.len())];
        return json!({"email": email, "properties": {"lifecyclestage": stage, "renewal_date": renewal}});
    }
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let birthday = chrono::NaiveDate::from_ymd_opt(
        1950 + rng.gen_range(0..55),
        1 + rng.gen_range(0..12),
        1 + rng.gen_range(0..28),
    )
    .map(|d| d.format("%Y-%m-%d").to_string())
    .unwrap_or_default();
    json!({"email": new_email, "properties": {
        "firstname": first, "lastname": last, "lifecyclestage": stage,
        "birthday": birthday, "renewal_date": renewal}})
}
