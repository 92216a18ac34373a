//! One worker batch of many jobs: the rows its jobs append (history, contact events, step
//! runs, Outbox emails) are held and written together before the batch commits
//! (`db::deferred`). What a user reads afterwards must be exactly what one-by-one writes gave:
//! every row once, each contact's history and timeline in the order things happened, times
//! unchanged.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.db();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut *conn)
        .expect("count")
        .n
}

async fn history(app: &TestApp, token: &str, wf: i64, query: &str) -> Vec<Value> {
    let (_, h) = app
        .api_get(&format!("/workflows/{wf}/history?{query}"), token)
        .await;
    h["events"].as_array().cloned().unwrap_or_default()
}

/// The id of the contact's newest history event matching `event` and, if given, `step`.
fn id_of(events: &[Value], event: &str, step: Option<i64>) -> i64 {
    events
        .iter()
        .find(|e| e["event"] == event && step.is_none_or(|s| e["step"] == s))
        .and_then(|e| e["id"].as_i64())
        .unwrap_or_else(|| panic!("no {event} {step:?} in {events:#?}"))
}

#[tokio::test]
async fn a_batch_of_many_jobs_writes_every_row_once_in_the_order_it_happened() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({ "name": "Renewal batch", "start": {"type": "blank"},
        "steps": [{"type": "delay", "amount": 1, "unit": "minutes"},
                  {"type": "send_email", "subject": "Your renewal", "body": "Hello"},
                  {"type": "set_property", "property": "renewal_notice", "value": "sent"}] });
    let wf = app.publish_workflow(&token, def, false).await;
    // More contacts than one multi-row statement holds (16 on SQLite), fewer than a batch.
    let n = 37;
    let mut contacts = Vec::new();
    for i in 0..n {
        let (_, c) = app
            .api_post(
                "/contacts",
                &token,
                json!({ "email": format!("batch{i}@example.com") }),
            )
            .await;
        let cid = c["id"].as_i64().expect("contact id");
        app.api_post(
            &format!("/workflows/{wf}/enrollments"),
            &token,
            json!({"contact_id": cid}),
        )
        .await;
        contacts.push(cid);
    }
    let before = Utc::now() - chrono::Duration::seconds(2);
    app.make_all_due_at(&perennial::clock::fmt_instant(
        Utc::now() - chrono::Duration::seconds(1),
    ));
    let start = Instant::now();
    while count(
        &app,
        &format!(
            "SELECT COUNT(*) AS n FROM enrollments WHERE workflow_id = {wf} AND status = 'active'"
        ),
    ) > 0
    {
        assert!(start.elapsed() < Duration::from_secs(20), "worker too slow");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = Utc::now() + chrono::Duration::seconds(2);

    // Every row once.
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM outbox"), n);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM action_runs"), 2 * n);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM history_events WHERE workflow_id = {wf} AND event = 'action_executed'")
        ),
        2 * n
    );

    for cid in contacts {
        let events = history(&app, &token, wf, &format!("contact_id={cid}")).await;
        // In the order they happened: the email, then the property, then the cycle's end.
        let email = id_of(&events, "action_executed", Some(1));
        let set = id_of(&events, "action_executed", Some(2));
        let done = id_of(&events, "completed", None);
        assert!(email < set && set < done, "{events:#?}");
        // Times unchanged: the email's history time is its Outbox time (one `now` per job),
        // exactly, though the batch wrote the two rows at different moments.
        let sent_at = {
            #[derive(diesel::QueryableByName)]
            struct Sent {
                #[diesel(sql_type = perennial::db::types::Instant)]
                created_at: String,
            }
            let mut conn = app.db();
            diesel::sql_query(format!(
                "SELECT created_at FROM outbox WHERE contact_id = {cid}"
            ))
            .get_result::<Sent>(&mut *conn)
            .expect("the contact's email in the Outbox")
            .created_at
        };
        let email_at = events
            .iter()
            .find(|e| e["event"] == "action_executed" && e["step"] == json!(1))
            .and_then(|e| e["at"].as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        assert_eq!(
            email_at.map(|t| t.with_timezone(&Utc)),
            perennial::clock::parse_instant(&sent_at),
            "{sent_at} {events:#?}"
        );
        // And every time is an instant of the run, whatever the database session's zone.
        for e in &events {
            let at = e["at"].as_str().expect("at");
            let t = chrono::DateTime::parse_from_rfc3339(at)
                .unwrap_or_else(|_| panic!("an instant: {at}"));
            assert!(
                t >= before - chrono::Duration::minutes(5) && t <= after,
                "{at} is not the run's time: {events:#?}"
            );
        }
        // The contact's timeline: the email went out before the workflow completed.
        let (_, timeline) = app
            .api_get(&format!("/contacts/{cid}/events"), &token)
            .await;
        let names: Vec<&str> = timeline["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        let pos = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .unwrap_or_else(|| panic!("no {name} in {names:?}"))
        };
        // Newest first.
        assert!(pos("workflow_completed") < pos("email_sent"), "{names:?}");
    }
}
