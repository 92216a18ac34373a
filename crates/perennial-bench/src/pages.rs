//! Page latency over HTTP with a signed-in session: a workflow's history (millions of
//! events; the HTML page and the API, newest first, keyset pages and filters) and the
//! contacts list (a million contacts; first page, keyset pages both ways, searches).

use std::time::Instant;

use anyhow::Context;
use diesel::prelude::*;

use crate::api::Server;
use crate::http::{form, Client, Response};
use crate::worker::count;
use crate::{percentile, say, BenchArgs, Report};
use perennial::db::DbPool;
use perennial::services::workflows as svc;

/// Timed requests per URL (after one untimed warm-up).
const REPEAT: usize = 15;

/// The workflow that owns the generated history: a birthday workflow (off; its history is
/// what the page shows).
pub fn create_history_workflow(pool: &DbPool) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    let def = crate::enroll::birthday_definition("Birthday greetings (a busy year of history)");
    let wf = svc::create(&mut conn, &def, "bench")
        .map_err(|e| anyhow::anyhow!("creating the history workflow: {e:?}"))?;
    Ok(wf.id)
}

/// A browser-like session: the admin created through the /setup form, the cookie kept.
struct Browser {
    http: Client,
    cookie: String,
}

impl Browser {
    fn sign_up(port: u16) -> anyhow::Result<Browser> {
        let mut http = Client::new(port);
        let page = http.get("/setup", &[])?;
        anyhow::ensure!(page.status == 200, "GET /setup answered {}", page.status);
        let mut cookie = page
            .cookie("perennial_session")
            .context("no session cookie from /setup")?;
        let html = page.text();
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).context("no CSRF token on /setup")? + marker.len();
        let end = html[start..].find('"').context("CSRF token unterminated")? + start;
        let body = form(&[
            ("csrf_token", &html[start..end]),
            ("email", "bench@example.com"),
            ("password", "benchmark password 1"),
        ]);
        let res = http.post(
            "/setup",
            &[("Cookie", &cookie)],
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )?;
        anyhow::ensure!(
            res.status == 303,
            "POST /setup answered {}: {}",
            res.status,
            res.text()
        );
        if let Some(c) = res.cookie("perennial_session") {
            cookie = c;
        }
        Ok(Browser { http, cookie })
    }

    fn get(&mut self, path: &str) -> anyhow::Result<Response> {
        let res = self.http.get(path, &[("Cookie", &self.cookie)])?;
        if let Some(c) = res.cookie("perennial_session") {
            self.cookie = c;
        }
        Ok(res)
    }
}

/// Times `REPEAT` GETs of each URL; returns all samples (ms) and the slowest URL's p95.
fn measure(
    urls: &[String],
    mut get: impl FnMut(&str) -> anyhow::Result<Response>,
) -> anyhow::Result<(Vec<f64>, String, f64)> {
    let mut all = Vec::new();
    let mut worst = (String::new(), 0.0);
    for url in urls {
        let res = get(url)?;
        anyhow::ensure!(
            res.status == 200,
            "GET {url} answered {}: {}",
            res.status,
            res.text().chars().take(300).collect::<String>()
        );
        let mut samples = Vec::with_capacity(REPEAT);
        for _ in 0..REPEAT {
            let t = Instant::now();
            let res = get(url)?;
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(res.status == 200, "GET {url} answered {}", res.status);
        }
        let p95 = percentile(&samples, 95.0);
        say(format!(
            "  {url}: p50 {:.1} ms, p95 {p95:.1} ms",
            percentile(&samples, 50.0)
        ));
        if p95 > worst.1 {
            worst = (url.clone(), p95);
        }
        all.extend(samples);
    }
    Ok((all, worst.0, worst.1))
}

pub fn run(
    pool: &DbPool,
    server: &Server,
    history_wf: i64,
    args: &BenchArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Bounds {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        lo: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        hi: i64,
    }
    let mut conn = pool.get()?;
    let b: Bounds = diesel::sql_query(format!(
        "SELECT MIN(id) AS lo, MAX(id) AS hi FROM history_events WHERE workflow_id = {history_wf}"
    ))
    .get_result(&mut conn)?;
    let events = count(
        &mut conn,
        &format!("SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {history_wf}"),
    )?;
    let total_events = count(&mut conn, "SELECT MAX(id) AS n FROM history_events")?;
    let contacts = count(&mut conn, "SELECT COUNT(*) AS n FROM contacts")?;
    drop(conn);
    let mid = (b.lo + b.hi) / 2;
    let deep = b.lo + (b.hi - b.lo) / 20;
    let who = args.contacts / 3 + 1;
    let day = (chrono::Utc::now() - chrono::Duration::days(180)).date_naive();
    let (from, to) = (format!("{day}T00:00:00Z"), format!("{day}T06:00:00Z"));

    let mut browser = Browser::sign_up(server.port)?;
    say(format!(
        "pages: history of a workflow with {events} events ({total_events} in the table)…"
    ));
    let html_base = format!("/workflows/{history_wf}/history");
    let html_available = browser.get(&html_base)?.status == 200;
    let mut html_urls = Vec::new();
    if html_available {
        html_urls = vec![
            html_base.clone(),
            format!("{html_base}?before={mid}"),
            format!("{html_base}?before={deep}"),
            format!("{html_base}?contact={who}"),
            format!("{html_base}?event=action_failed"),
            format!("{html_base}?from={day}&to={day}"),
        ];
    } else {
        say(format!(
            "  {html_base} is not served by this build: measuring the API history only"
        ));
    }
    let (html, html_worst, html_worst_p95) = measure(&html_urls, |u| browser.get(u))?;
    let api_base = format!("/api/v1/workflows/{history_wf}/history");
    let api_urls = vec![
        api_base.clone(),
        format!("{api_base}?before={mid}"),
        format!("{api_base}?before={deep}"),
        format!("{api_base}?contact_id={who}"),
        format!("{api_base}?event=action_failed"),
        format!("{api_base}?event=unenrolled&before={mid}"),
        format!("{api_base}?contact_id={who}&event=enrolled"),
        format!("{api_base}?from={from}&to={to}"),
    ];
    let mut api_client = Client::new(server.port);
    let auth = format!("Bearer {}", server.token);
    let (api, api_worst, api_worst_p95) = measure(&api_urls, |u| {
        api_client.get(u, &[("Authorization", &auth)])
    })?;
    let mut history = html.clone();
    history.extend(&api);
    let history_p95 = percentile(&history, 95.0);
    let api_p95 = percentile(&api, 95.0);

    say(format!("pages: contacts list with {contacts} contacts…"));
    let half = args.contacts / 2;
    let contact_urls = vec![
        "/contacts".to_string(),
        format!("/contacts?before={half}"),
        format!("/contacts?after={half}"),
        "/contacts?before=120".to_string(),
        "/contacts?q=ada".to_string(),
        "/contacts?q=Lovelace".to_string(),
        "/contacts?q=ingrid.hansen".to_string(),
        format!("/contacts?q=nora&before={half}"),
        "/contacts?q=nobody-by-this-name".to_string(),
    ];
    let (contacts_samples, c_worst, c_worst_p95) = measure(&contact_urls, |u| browser.get(u))?;
    let contacts_p95 = percentile(&contacts_samples, 95.0);

    say("pages: Review and publish over every contact, and a live edit's impact…");
    let review_urls = review_urls(pool, history_wf)?;
    // The first view of each starts its count in the background (waiting for it up to 1 s);
    // the page is then fetched until the figures are in, as its script does.
    let mut first_view_ms: f64 = 0.0;
    let mut counted_ms: f64 = 0.0;
    for url in &review_urls {
        let t = Instant::now();
        let first = browser.get(url)?;
        anyhow::ensure!(first.status == 200, "GET {url} answered {}", first.status);
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut page = first.text();
        while page.contains("data-counting") {
            anyhow::ensure!(
                t.elapsed().as_secs() < 600,
                "{url} still counting after 10 minutes"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
            page = browser.get(url)?.text();
        }
        let ready_ms = t.elapsed().as_secs_f64() * 1000.0;
        say(format!(
            "  {url}: first view {first_ms:.0} ms, its figures counted after {ready_ms:.0} ms"
        ));
        first_view_ms = first_view_ms.max(first_ms);
        counted_ms = counted_ms.max(ready_ms);
    }
    report.figure("review_first_view_ms", first_view_ms);
    report.figure("review_counted_ms", counted_ms);
    let (review_samples, r_worst, r_worst_p95) = measure(&review_urls, |u| browser.get(u))?;
    let review_p95 = percentile(&review_samples, 95.0);
    report.figure("review_page_ms_p95", review_p95);
    report.row(
        &format!(
            "Review page p95 ({contacts} contacts counted, skip count; {} URLs × {REPEAT})",
            review_urls.len()
        ),
        format!("{review_p95:.1} ms"),
        "< 50 ms",
    );
    report.row(
        "  slowest URL p95",
        format!("{r_worst_p95:.1} ms"),
        &r_worst,
    );
    report.row(
        "  first view (slowest URL; the count runs in the background)",
        format!("{first_view_ms:.0} ms"),
        "≤ 1 s wait",
    );
    report.row(
        "  figures counted after (slowest URL)",
        format!("{counted_ms:.0} ms"),
        "",
    );

    report.figure("history_page_ms_p95", history_p95);
    report.figure("history_api_ms_p95", api_p95);
    if html_available {
        report.figure("history_html_ms_p95", percentile(&html, 95.0));
    }
    report.figure("history_page_events", events as f64);
    report.figure("contacts_page_ms_p95", contacts_p95);
    report.row(
        &format!(
            "history page p95 ({events} events; {} URLs × {REPEAT})",
            html_urls.len() + api_urls.len()
        ),
        format!("{history_p95:.1} ms"),
        "< 50 ms",
    );
    if html_available {
        report.row(
            "  HTML page p95 (slowest URL)",
            format!("{:.1} ms ({html_worst_p95:.1})", percentile(&html, 95.0)),
            &html_worst,
        );
    } else {
        report.row("  HTML page", "not served".into(), "");
    }
    report.row(
        "  API p95 (slowest URL)",
        format!("{api_p95:.1} ms ({api_worst_p95:.1})"),
        &api_worst,
    );
    report.row(
        &format!(
            "contacts page p95 ({contacts} contacts; {} URLs × {REPEAT})",
            contact_urls.len()
        ),
        format!("{contacts_p95:.1} ms"),
        "< 50 ms",
    );
    report.row(
        "  slowest URL p95",
        format!("{c_worst_p95:.1} ms"),
        &c_worst,
    );
    Ok(())
}

/// Review of the history workflow (off: every contact with a birthday meets its criteria, so
/// the count and the skip count read them all), and — when the enroll measurement left a live
/// workflow — its Review with unpublished changes, whose impact re-plans its enrollments (up
/// to `revise::IMPACT_SAMPLE`).
fn review_urls(pool: &DbPool, history_wf: i64) -> anyhow::Result<Vec<String>> {
    use perennial::db::models::workflow::Workflow;
    use perennial::db::models::WorkflowId;
    let mut urls = vec![format!("/workflows/{history_wf}/review")];
    let mut conn = pool.get()?;
    let live = Workflow::active(&mut conn)?.into_iter().max_by_key(|w| {
        perennial::db::models::enrollment::Enrollment::count_active(&mut conn, WorkflowId(w.id))
            .unwrap_or(0)
    });
    if let Some(wf) = live {
        let mut def = wf.parsed()?;
        def.name = format!("{} (edited)", def.name);
        if let Some(perennial::domain::definition::Step::DateDelay { time_of_day, .. }) =
            def.steps.first_mut()
        {
            *time_of_day = Some("10:30".into());
        }
        let json = serde_json::to_string(&def)?;
        perennial::db::models::draft::Draft::put(&mut conn, wf.id(), &json, wf.revision, "bench")?;
        urls.push(format!("/workflows/{}/review", wf.id));
    }
    Ok(urls)
}
