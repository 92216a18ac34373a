//! The real worker against a temp database: actions run on time, date changes re-plan,
//! suppression unenrolls, failing webhooks are retried, overdue actions obey the catch-up rule.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

async fn publish(app: &TestApp, token: &str, def: Value, enroll_existing: bool) -> i64 {
    app.publish_workflow(token, def, enroll_existing).await
}

async fn events(app: &TestApp, token: &str, wf: i64, query: &str) -> Vec<Value> {
    let (_, h) = app
        .api_get(&format!("/workflows/{wf}/history?{query}"), token)
        .await;
    h["events"].as_array().cloned().unwrap_or_default()
}

async fn wait_for<F: Fn(&[Value]) -> bool>(
    app: &TestApp,
    token: &str,
    wf: i64,
    query: &str,
    within: Duration,
    ok: F,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let ev = events(app, token, wf, query).await;
        if ok(&ev) {
            return ev;
        }
        assert!(
            start.elapsed() < within,
            "timed out waiting; history: {ev:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a contact and enrolls it in the workflow by hand; returns the contact's id.
async fn enrolled_contact(app: &TestApp, token: &str, wf: i64, contact: Value) -> i64 {
    let (_, c) = app.api_post("/contacts", token, contact).await;
    let cid = c["id"].as_i64().expect("contact id");
    let (s, e) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            token,
            json!({"contact_id": cid}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    cid
}

/// Waits for the workflow's first `unenrolled` event and checks its reason.
async fn wait_unenrolled(app: &TestApp, token: &str, wf: i64, reason: &str) {
    let ev = wait_for(
        app,
        token,
        wf,
        "event=unenrolled",
        Duration::from_secs(10),
        |e| !e.is_empty(),
    )
    .await;
    let detail = ev[0]["detail"].as_str().unwrap_or("");
    assert!(detail.contains(reason), "{ev:?}");
}

#[tokio::test]
async fn a_specific_date_workflow_runs_on_time() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "on.time@example.com", "properties": {"lifecyclestage": "customer"}}),
        )
        .await;
    // A few seconds ahead (in UTC), on today's date.
    let due = Utc::now() + chrono::Duration::seconds(3);
    let def = json!({ "name": "Launch", "start": {"type": "specific_date", "date": due.format("%Y-%m-%d").to_string()},
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
        "steps": [ {"type": "date_delay", "when": "on", "time_of_day": format!("{:02}:{:02}:{:02}", due.hour(), due.minute(), due.second())},
                   {"type": "set_property", "property": "renewal_notice", "value": "launched"} ],
        "settings": {"time_zone": "UTC"} });
    let wf = publish(&app, &token, def, true).await;
    let ev = wait_for(
        &app,
        &token,
        wf,
        "event=action_executed",
        Duration::from_secs(8),
        |e| !e.is_empty(),
    )
    .await;
    let ran_at = chrono::DateTime::parse_from_rfc3339(ev[0]["at"].as_str().unwrap()).unwrap();
    let late = ran_at.with_timezone(&Utc) - due.with_nanosecond(0).unwrap();
    assert!(
        late >= chrono::Duration::zero() && late < chrono::Duration::milliseconds(1000),
        "ran {late:?} after its time"
    );
    let (_, got) = app.api_get(&format!("/contacts/{}", c["id"]), &token).await;
    assert_eq!(got["properties"]["renewal_notice"], "launched");
}

fn renewal_def(extra_settings: Value) -> Value {
    let mut settings = json!({"time_zone": "UTC"});
    if let (Some(s), Some(extra)) = (settings.as_object_mut(), extra_settings.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({ "name": "Renewal", "start": {"type": "contact_date_property", "property": "renewal_date"},
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
        "steps": [ {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
                   {"type": "send_email", "subject": "Soon", "body": "Hi {{ contact.firstname }}"} ],
        "settings": settings })
}

#[tokio::test]
async fn changing_the_date_re_plans_and_clearing_it_unenrolls() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let wf = publish(&app, &token, renewal_def(json!({})), false).await;
    let (_, c) = app.api_post("/contacts", &token, json!({"email": "re@example.com", "properties": {"lifecyclestage": "customer", "renewal_date": "2099-06-20"}})).await;
    let cid = c["id"].as_i64().unwrap();
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(
        list["enrollments"][0]["status"], "active",
        "enrolled by the trigger: {list}"
    );
    assert_eq!(
        list["enrollments"][0]["next_due_at"],
        "2099-06-13T09:00:00+00:00"
    );
    app.api_patch(
        &format!("/contacts/{cid}"),
        &token,
        json!({"properties": {"renewal_date": "2099-07-20"}}),
    )
    .await;
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(
        list["enrollments"][0]["next_due_at"], "2099-07-13T09:00:00+00:00",
        "re-planned: {list}"
    );
    let ev = events(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=rescheduled"),
    )
    .await;
    assert_eq!(ev.len(), 1, "{ev:?}");
    app.api_patch(
        &format!("/contacts/{cid}"),
        &token,
        json!({"properties": {"renewal_date": null}}),
    )
    .await;
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"][0]["status"], "unenrolled");
    let ev = events(
        &app,
        &token,
        wf,
        &format!("contact_id={cid}&event=unenrolled"),
    )
    .await;
    assert!(
        ev[0]["detail"].as_str().unwrap().contains("cleared"),
        "{ev:?}"
    );
}

#[tokio::test]
async fn a_contact_that_becomes_suppressed_is_unenrolled_and_cannot_be_enrolled_manually() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let suppression = json!({"suppression": {"filter_groups": [[{"property": "lastname", "operator": "eq", "value": "Blocked"}]], "list_ids": []}});
    let wf = publish(&app, &token, renewal_def(suppression), false).await;
    let (_, c) = app.api_post("/contacts", &token, json!({"email": "sup@example.com", "properties": {"lifecyclestage": "customer", "renewal_date": "2099-01-01"}})).await;
    let cid = c["id"].as_i64().unwrap();
    app.api_patch(
        &format!("/contacts/{cid}"),
        &token,
        json!({"properties": {"lastname": "Blocked"}}),
    )
    .await;
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"][0]["status"], "unenrolled", "{list}");
    let (s, e) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": cid}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"].as_str().unwrap().contains("suppressed"), "{e}");
}

/// A local HTTP server: answers 500 to the first request, 200 afterwards; records bodies and
/// signature headers.
fn flaky_server() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut buf = vec![0u8; 65536];
            let mut req = Vec::new();
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let n = h.fetch_add(1, Ordering::SeqCst);
            s.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&req).to_string());
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    (url, hits, seen)
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_back_off_and_succeeds_once() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // The receiver runs on loopback, which webhooks may call only when allowed.
    app.allow_webhook_hosts("127.0.0.1").await;
    let (url, hits, seen) = flaky_server();
    let def = json!({ "name": "Hook", "start": {"type": "blank"},
        "steps": [{"type": "webhook", "url": url, "secret": "s3cret"}] });
    let wf = publish(&app, &token, def, false).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "hook@example.com"}))
        .await;
    let (s, _) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": c["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let ev = wait_for(
        &app,
        &token,
        wf,
        "event=action_executed",
        Duration::from_secs(10),
        |e| !e.is_empty(),
    )
    .await;
    assert_eq!(ev.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "one failure, one success, no more"
    );
    let failed = events(&app, &token, wf, "event=action_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("500"),
        "{failed:?}"
    );
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("next retry"),
        "{failed:?}"
    );
    let requests = seen.lock().unwrap().clone();
    let last = requests.last().unwrap();
    let body = &last[last.find("\r\n\r\n").unwrap() + 4..];
    let sig = last
        .lines()
        .find_map(|l| {
            l.strip_prefix("X-Perennial-Signature: ")
                .or_else(|| l.strip_prefix("x-perennial-signature: "))
        })
        .unwrap();
    assert_eq!(
        sig.trim(),
        perennial::worker::external::signature("s3cret", body),
        "HMAC-SHA256 of the body"
    );
}

#[tokio::test]
async fn actions_falling_due_while_the_workflow_is_off_are_skipped_and_logged() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Later", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"}, {"type": "set_property", "property": "renewal_notice", "value": "x"}] });
    let wf = publish(&app, &token, def, false).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "off@example.com"}))
        .await;
    app.api_post(
        &format!("/workflows/{wf}/enrollments"),
        &token,
        json!({"contact_id": c["id"]}),
    )
    .await;
    let (s, off) = app
        .api_post(&format!("/workflows/{wf}/turn-off"), &token, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(off["status"], "off");
    // Move the pending step into the past, as if its minute had passed.
    app.make_all_due_at("2000-01-01T00:00:00.000Z");
    let ev = wait_for(
        &app,
        &token,
        wf,
        "event=skipped",
        Duration::from_secs(5),
        |e| !e.is_empty(),
    )
    .await;
    assert!(
        ev.iter()
            .any(|e| e["detail"].as_str().unwrap_or("").contains("off")),
        "{ev:?}"
    );
    let (_, got) = app.api_get(&format!("/contacts/{}", c["id"]), &token).await;
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "the action did not run"
    );
}

#[tokio::test]
async fn an_action_overdue_past_the_catch_up_limit_is_skipped_with_the_reason() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Catch up", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "days"}, {"type": "set_property", "property": "renewal_notice", "value": "late"},
                  {"type": "delay", "amount": 3, "unit": "days"}, {"type": "set_property", "property": "renewal_notice", "value": "on time"}],
        "settings": {"catch_up_hours": 24} });
    let wf = publish(&app, &token, def, false).await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "late@example.com"}))
        .await;
    app.api_post(
        &format!("/workflows/{wf}/enrollments"),
        &token,
        json!({"contact_id": c["id"]}),
    )
    .await;
    // As if the worker had been down for two days: the first delay ended 48 h ago. The second
    // delay (3 days, counted from the first's end) then ends a day from now, so nothing runs:
    // a 1-day second delay would end exactly at the 24 h limit and race the worker's clock.
    let two_days_ago = perennial::clock::fmt_instant(Utc::now() - chrono::Duration::hours(48));
    app.make_all_due_at(&two_days_ago);
    let ev = wait_for(
        &app,
        &token,
        wf,
        "event=skipped",
        Duration::from_secs(15),
        |e| !e.is_empty(),
    )
    .await;
    assert!(
        ev[0]["detail"].as_str().unwrap().contains("catch-up"),
        "{ev:?}"
    );
    let (_, got) = app.api_get(&format!("/contacts/{}", c["id"]), &token).await;
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "skipped, not run late"
    );
}

#[tokio::test]
async fn the_periodic_check_enrolls_contacts_who_come_to_meet_date_relative_triggers() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let today = Utc::now().date_naive();
    let def = json!({ "name": "Renewing within 30 days", "start": {"type": "contact_date_property", "property": "renewal_date"},
        "triggers": {"filter_groups": [[{"property": "renewal_date", "operator": "before", "value": "today+30"}]]},
        "steps": [{"type": "date_delay", "when": "on", "time_of_day": "09:00"}, {"type": "set_property", "property": "renewal_notice", "value": "due"}],
        "settings": {"time_zone": "UTC"} });
    let wf = publish(&app, &token, def, false).await;
    let soon = (today + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    let later = (today + chrono::Duration::days(40))
        .format("%Y-%m-%d")
        .to_string();
    let (_, a) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "soon@example.com", "properties": {"renewal_date": soon}}),
        )
        .await;
    let (_, b) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "later@example.com", "properties": {"renewal_date": later}}),
        )
        .await;
    let enrolled = |v: &Value| v["enrollments"].as_array().map(|a| a.len()).unwrap_or(0);
    let (_, ea) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={}", a["id"]),
            &token,
        )
        .await;
    let (_, eb) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={}", b["id"]),
            &token,
        )
        .await;
    assert_eq!(
        (enrolled(&ea), enrolled(&eb)),
        (1, 0),
        "only the contact meeting the trigger today"
    );
    // Fifteen days later the second contact's renewal is within 30 days.
    let pool = perennial::db::connect(&app.database_url, 1).unwrap();
    let n = perennial::engine::backfill::sweep(
        &mut pool.get().unwrap(),
        Utc::now() + chrono::Duration::days(15),
    )
    .unwrap();
    assert_eq!(n, 1);
    let (_, eb) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={}", b["id"]),
            &token,
        )
        .await;
    assert_eq!(enrolled(&eb), 1, "{eb}");
    let ev = events(
        &app,
        &token,
        wf,
        &format!("contact_id={}&event=enrolled", b["id"]),
    )
    .await;
    assert!(
        ev[0]["detail"].as_str().unwrap().contains("date-relative"),
        "{ev:?}"
    );
}

/// A minimal SMTP server on loopback: accepts one message and hands its text back.
fn fake_smtp() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut out = stream.try_clone().unwrap();
        let mut reader = std::io::BufReader::new(stream);
        let _ = write!(out, "220 localhost ESMTP test\r\n");
        let mut line = String::new();
        let mut data = String::new();
        let mut in_data = false;
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    let _ = write!(out, "250 queued\r\n");
                    let _ = tx.send(std::mem::take(&mut data));
                } else {
                    data.push_str(&line);
                }
            } else {
                let cmd = line.to_ascii_uppercase();
                let reply = if cmd.starts_with("EHLO") {
                    "250-localhost\r\n250 OK\r\n"
                } else if cmd.starts_with("DATA") {
                    in_data = true;
                    "354 go on\r\n"
                } else if cmd.starts_with("QUIT") {
                    let _ = write!(out, "221 bye\r\n");
                    break;
                } else {
                    "250 OK\r\n"
                };
                let _ = write!(out, "{reply}");
            }
            line.clear();
        }
    });
    (url, rx)
}

#[tokio::test]
async fn with_smtp_configured_emails_are_delivered_over_smtp() {
    let (url, received) = fake_smtp();
    let app = crate::helpers::spawn_app_with(|c| c.smtp_url = Some(url)).await;
    app.setup_admin().await;
    let token = app.api_token().await;
    let def = json!({ "name": "Mail", "start": {"type": "blank"},
        "steps": [{"type": "send_email", "subject": "Hello {{ contact.firstname }}", "body": "Welcome aboard"}] });
    let wf = app.publish_workflow(&token, def, false).await;
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "smtp@example.com", "properties": {"firstname": "Sam"}}),
        )
        .await;
    app.api_post(
        &format!("/workflows/{wf}/enrollments"),
        &token,
        json!({"contact_id": c["id"]}),
    )
    .await;
    let message =
        tokio::task::spawn_blocking(move || received.recv_timeout(Duration::from_secs(10)))
            .await
            .unwrap()
            .expect("an email reached the SMTP server");
    assert!(message.contains("Subject: Hello Sam"), "{message}");
    assert!(message.contains("To: smtp@example.com"), "{message}");
    assert!(message.contains("Welcome aboard"), "{message}");
    let ev = wait_for(
        &app,
        &token,
        wf,
        "event=action_executed",
        Duration::from_secs(5),
        |e| !e.is_empty(),
    )
    .await;
    assert!(
        ev[0]["detail"].as_str().unwrap().contains("over SMTP"),
        "{ev:?}"
    );
}

#[tokio::test]
async fn a_job_that_fails_in_a_batch_rolls_back_alone_and_the_others_commit() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Tag", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"}, {"type": "set_property", "property": "renewal_notice", "value": "x"}] });
    let wf = publish(&app, &token, def, false).await;
    let mut ids = Vec::new();
    for email in ["fine@example.com", "broken@example.com"] {
        let (_, c) = app
            .api_post("/contacts", &token, json!({ "email": email }))
            .await;
        app.api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": c["id"]}),
        )
        .await;
        ids.push(c["id"].as_i64().expect("contact id"));
    }
    let (fine, broken) = (ids[0], ids[1]);
    // The database refuses the second contact's history: its job fails after its action ran.
    {
        use diesel::connection::SimpleConnection;
        let pool = perennial::db::connect(&app.database_url, 1).expect("db");
        let mut conn = pool.get().expect("connection");
        let sql = match perennial::db::Backend::of(&conn) {
            perennial::db::Backend::Sqlite => format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON history_events
                 WHEN NEW.contact_id = {broken} AND NEW.event = 'action_executed'
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            ),
            perennial::db::Backend::Postgres => format!(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.contact_id = {broken} AND NEW.event = 'action_executed' THEN
                     RAISE EXCEPTION 'refused by the test';
                   END IF;
                   RETURN NEW;
                 END $$;
                 CREATE TRIGGER refuse BEFORE INSERT ON history_events
                   FOR EACH ROW EXECUTE FUNCTION refuse();"
            ),
        };
        conn.batch_execute(&sql).expect("trigger");
    }
    // Both steps fall due at once, so the worker claims them in one batch.
    let due = (Utc::now() - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    app.make_all_due_at(&due);
    wait_for(
        &app,
        &token,
        wf,
        &format!("event=action_executed&contact_id={fine}"),
        Duration::from_secs(10),
        |e| !e.is_empty(),
    )
    .await;
    let (_, got) = app.api_get(&format!("/contacts/{fine}"), &token).await;
    assert_eq!(got["properties"]["renewal_notice"], "x", "{got}");
    let (_, got) = app.api_get(&format!("/contacts/{broken}"), &token).await;
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "the failed job's write was rolled back: {got}"
    );
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wf}/enrollments?contact_id={broken}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"][0]["status"], "active", "{list}");
    // Counted as an attempt and held back a minute before the retry.
    #[derive(diesel::QueryableByName)]
    struct Attempts {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    let pool = perennial::db::connect(&app.database_url, 1).expect("db");
    let mut conn = pool.get().expect("connection");
    let row: Attempts = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!(
            "SELECT attempts FROM enrollments WHERE contact_id = {broken} AND lease_until > '{due}'"
        )),
        &mut conn,
    )
    .expect("the failed job's enrollment, leased for its retry");
    assert_eq!(row.attempts, 1);
}

#[tokio::test]
async fn an_action_that_suppresses_its_own_contact_ends_the_run_before_the_next_step() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // The first action makes the contact meet the workflow's own suppression criteria; the
    // enrollment must end there, and the second action (due at the same moment) never run.
    let def = json!({ "name": "Self-suppressing", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"},
                  {"type": "set_property", "property": "lastname", "value": "Blocked"},
                  {"type": "set_property", "property": "renewal_notice", "value": "too late"}],
        "settings": {"suppression": {"filter_groups": [[{"property": "lastname", "operator": "eq", "value": "Blocked"}]], "list_ids": []}} });
    let wf = publish(&app, &token, def, false).await;
    let cid = enrolled_contact(&app, &token, wf, json!({"email": "self@example.com"})).await;
    app.make_all_due_at(&perennial::clock::fmt_instant(
        Utc::now() - chrono::Duration::seconds(1),
    ));
    wait_unenrolled(&app, &token, wf, "suppressed").await;
    let (_, got) = app.api_get(&format!("/contacts/{cid}"), &token).await;
    assert_eq!(got["properties"]["lastname"], "Blocked", "{got}");
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "the step after the unenrollment did not run: {got}"
    );
    let executed = events(&app, &token, wf, "event=action_executed").await;
    assert_eq!(executed.len(), 1, "{executed:?}");
}

#[tokio::test]
async fn two_jobs_of_one_contact_in_one_batch_see_each_others_changes() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    // Workflow A's action moves the contact out of workflow B's criteria, and B unenrolls
    // contacts who stop meeting them. Both fall due together, A first: B's job, claimed
    // in the same batch, must see that its enrollment has ended and not run.
    let a = json!({ "name": "A", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"},
                  {"type": "set_property", "property": "lifecyclestage", "value": "other"}] });
    let b = json!({ "name": "B", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]]},
        "steps": [{"type": "delay", "amount": 2, "unit": "minutes"},
                  {"type": "set_property", "property": "renewal_notice", "value": "should not run"}],
        "settings": {"unenroll_when_unmet": true} });
    let wa = publish(&app, &token, a, false).await;
    let wb = publish(&app, &token, b, false).await;
    let cid = enrolled_contact(
        &app,
        &token,
        wa,
        json!({"email": "both@example.com", "properties": {"lifecyclestage": "customer"}}),
    )
    .await;
    // B enrolled the contact by its trigger when it was created.
    let (_, list) = app
        .api_get(
            &format!("/workflows/{wb}/enrollments?contact_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"][0]["status"], "active", "{list}");
    // A falls due a minute before B, both just past: one batch, A's job first.
    let at =
        |secs: i64| perennial::clock::fmt_instant(Utc::now() - chrono::Duration::seconds(secs));
    let (due_a, due_b) = (at(61), at(1));
    {
        use diesel::connection::SimpleConnection;
        let pool = perennial::db::connect(&app.database_url, 1).expect("db");
        let mut conn = pool.get().expect("connection");
        conn.batch_execute(&format!(
            "UPDATE enrollments SET next_due_at = '{due_a}' WHERE status = 'active' AND workflow_id = {wa};
             UPDATE enrollments SET next_due_at = '{due_b}' WHERE status = 'active' AND workflow_id <> {wa};"
        ))
        .expect("make due");
    }
    app.notifier.notify();
    wait_unenrolled(&app, &token, wb, "no longer meets").await;
    let (_, got) = app.api_get(&format!("/contacts/{cid}"), &token).await;
    assert_eq!(got["properties"]["lifecyclestage"], "other", "{got}");
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "B's step did not run: {got}"
    );
}

#[tokio::test]
async fn suppression_added_after_enrollment_stops_the_next_action() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let mut def = json!({ "name": "Quiet please", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"},
                  {"type": "set_property", "property": "renewal_notice", "value": "sent"}] });
    let wf = publish(&app, &token, def.clone(), false).await;
    let cid = enrolled_contact(
        &app,
        &token,
        wf,
        json!({"email": "quiet@example.com", "properties": {"lastname": "Quiet"}}),
    )
    .await;
    // The contact already matches the suppression criteria added now; no property of theirs
    // changes afterwards, so only the check when the action falls due can stop it.
    def["settings"] = json!({"suppression": {"filter_groups": [[{"property": "lastname", "operator": "eq", "value": "Quiet"}]], "list_ids": []}});
    let (s, saved) = app.api_put(&format!("/workflows/{wf}"), &token, def).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    app.make_all_due_at(&perennial::clock::fmt_instant(
        Utc::now() - chrono::Duration::seconds(1),
    ));
    wait_unenrolled(&app, &token, wf, "suppressed").await;
    let (_, got) = app.api_get(&format!("/contacts/{cid}"), &token).await;
    assert!(
        got["properties"].get("renewal_notice").is_none(),
        "the action did not run: {got}"
    );
}
