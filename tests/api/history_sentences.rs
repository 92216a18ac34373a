//! Issue 14, item 1: the workflow history and a contact's activity in sentences, in the
//! workflow's time zone, details behind a disclosure, links between the contact and its
//! activity; the JSON API keeps its shape and internal event names.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attr, attrs, text, texts, TestApp};

pub const OSLO: &str = "Europe/Oslo";

/// A "Renewal date" date picker (label and name as a person would create it).
pub async fn renewal_property(app: &TestApp, token: &str) {
    let (s, p) = app
        .api_post(
            "/properties",
            token,
            json!({"name": "renewal_date", "label": "Renewal date", "field_type": "date"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
}

/// 30 days before the renewal date at 09:00 (Oslo), then the email; once, no window.
pub fn renewal_reminder() -> Value {
    json!({ "name": "Renewal reminder",
        "start": { "type": "contact_date_property", "property": "renewal_date" },
        "steps": [
            { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi {{ contact.firstname }}" } ],
        "settings": { "time_zone": OSLO } })
}

pub async fn person(
    app: &TestApp,
    token: &str,
    first: &str,
    last: &str,
    renewal: NaiveDate,
) -> i64 {
    let (s, c) = app
        .api_post(
            "/contacts",
            token,
            json!({ "email": format!("{}@example.com", first.to_lowercase()),
                    "properties": { "firstname": first, "lastname": last,
                                    "lifecyclestage": "customer",
                                    "renewal_date": renewal.format("%Y-%m-%d").to_string() } }),
        )
        .await;
    assert!(s.is_success(), "{c}");
    c["id"].as_i64().expect("contact id")
}

pub fn oslo() -> Tz {
    OSLO.parse().expect("zone")
}

pub fn today_in_oslo() -> NaiveDate {
    Utc::now().with_timezone(&oslo()).date_naive()
}

/// `Tue 22 Dec 2026 09:00` for a local day and time in Oslo.
fn words(day: NaiveDate, h: u32) -> String {
    oslo()
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap()))
        .earliest()
        .expect("a local time")
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

pub async fn api_events(app: &TestApp, token: &str, wf: i64, query: &str) -> Vec<Value> {
    let (s, h) = app
        .api_get(&format!("/workflows/{wf}/history?{query}"), token)
        .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    h["events"].as_array().cloned().unwrap_or_default()
}

pub async fn wait_for_event(app: &TestApp, token: &str, wf: i64, event: &str, n: usize) {
    let start = Instant::now();
    loop {
        if api_events(app, token, wf, &format!("event={event}"))
            .await
            .len()
            >= n
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {n} {event} events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn history_reads_as_sentences_in_the_workflows_zone() {
    let (app, token) = TestApp::ready().await;
    renewal_property(&app, &token).await;
    let renewal = today_in_oslo() + chrono::Duration::days(60);
    let anna = person(&app, &token, "Anna", "Berg", renewal).await;
    let wf = app.publish_workflow(&token, renewal_reminder(), true).await;

    let page = format!("/workflows/{wf}/history");
    let html = app.get_html(&page).await;
    let sentences = texts(&html, "li.history-item .sentence");
    assert!(
        sentences.contains(&format!(
            "Scheduled Anna Berg — Waits until {} (Europe/Oslo) — 30 days before Renewal date — then Send email “Renewal in 30 days”",
            words(renewal - chrono::Duration::days(30), 9)
        )),
        "{sentences:#?}"
    );
    assert!(
        sentences.iter().any(|s| s.starts_with(
            "Enrolled Anna Berg — Enrolled: met the criteria when the workflow was turned on"
        )),
        "{sentences:#?}"
    );
    // No internal values where a person reads: no raw event names, types or instants.
    for s in &sentences {
        assert!(
            !s.contains("date_delay") && !s.contains("send_email"),
            "{s}"
        );
        assert!(!s.contains("+01:00") && !s.contains("+02:00"), "{s}");
    }
    assert!(html.contains("Times in Europe/Oslo"));
    // The recorded detail is behind a disclosure, and the contact links both ways.
    let details = texts(&html, "li.history-item details.event-detail");
    assert!(
        details.iter().any(|d| d.contains("date_delay due ")),
        "{details:#?}"
    );
    assert!(attrs(&html, "li.history-item a.contact-link", "href")
        .contains(&format!("/contacts/{anna}")));
    assert!(attrs(&html, "details.event-detail a", "href")
        .contains(&format!("/workflows/{wf}/history?contact={anna}")));

    // The email falls due: "Send email … scheduled for <time> (Europe/Oslo)", then done.
    let due = Utc::now() - chrono::Duration::minutes(1);
    app.make_all_due_at(&perennial::clock::fmt_instant(due));
    wait_for_event(&app, &token, wf, "action_executed", 1).await;
    let html = app.get_html(&page).await;
    let sentences = texts(&html, "li.history-item .sentence");
    let scheduled = format!(
        "Scheduled Anna Berg — Send email “Renewal in 30 days” scheduled for {} (Europe/Oslo)",
        due.with_timezone(&oslo()).format("%a %-d %b %Y %H:%M")
    );
    assert!(
        sentences.contains(&scheduled),
        "{scheduled}\n{sentences:#?}"
    );
    assert!(
        sentences.contains(
            &"Action executed Anna Berg — Send email “Renewal in 30 days” — done".to_string()
        ),
        "{sentences:#?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s.starts_with("Completed Anna Berg — Completed")),
        "{sentences:#?}"
    );

    // The API keeps its shape and the internal event names (DESIGN §7).
    let (_, body) = app
        .api_get(&format!("/workflows/{wf}/history"), &token)
        .await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["events", "next"]);
    for e in body["events"].as_array().unwrap() {
        let mut k: Vec<&String> = e.as_object().unwrap().keys().collect();
        k.sort();
        assert_eq!(
            k,
            [
                "at",
                "contact_id",
                "detail",
                "event",
                "id",
                "revision",
                "step"
            ]
        );
    }
    let names: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    for internal in ["enrolled", "scheduled", "action_executed", "completed"] {
        assert!(names.contains(&internal), "{names:?}");
    }
    assert!(body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("send_email due ")));
}

#[tokio::test]
async fn a_contact_links_to_its_activity_in_sentences() {
    let (app, token) = TestApp::ready().await;
    renewal_property(&app, &token).await;
    let renewal = today_in_oslo() + chrono::Duration::days(60);
    // Turned on first: Anna is enrolled by the trigger when she is created.
    let wf = app
        .publish_workflow(&token, renewal_reminder(), false)
        .await;
    let anna = person(&app, &token, "Anna", "Berg", renewal).await;

    // The contact page: its workflow activity in words, links to the history and activity.
    let html = app.get_html(&format!("/contacts/{anna}")).await;
    assert_eq!(
        attr(&html, "#activity-link", "href"),
        Some(format!("/contacts/{anna}/events"))
    );
    let activity = texts(&html, "#workflow-activity li");
    assert!(
        activity
            .iter()
            .any(|a| a.contains("Scheduled Renewal reminder")
                && a.contains(": Waits until")
                && a.contains("(Europe/Oslo)")),
        "{activity:#?}"
    );
    assert!(attrs(&html, "#workflow-activity a", "href")
        .contains(&format!("/workflows/{wf}/history?contact={anna}")));

    // The history page filtered to this contact (the link's target) shows only its events.
    let html = app
        .get_html(&format!("/workflows/{wf}/history?contact={anna}"))
        .await;
    assert!(!texts(&html, "li.history-item").is_empty());

    // The activity page: sentences, the account's zone, details behind a disclosure.
    app.api_patch(
        &format!("/contacts/{anna}"),
        &token,
        json!({"properties": {"lifecyclestage": "marketingqualifiedlead"}}),
    )
    .await;
    let html = app.get_html(&format!("/contacts/{anna}/events")).await;
    let lines = texts(&html, "li.history-item .sentence");
    assert!(
        lines.contains(
            &"Lifecycle stage changed from “Customer” to “Marketing qualified lead”".to_string()
        ),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Enrolled in the workflow “Renewal reminder”")),
        "{lines:#?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("Contact created"));
    assert!(html.contains("Times in UTC, the account’s time zone"));
    assert!(attrs(&html, "li.history-item a", "href")
        .contains(&format!("/workflows/{wf}/history?contact={anna}")));
    assert!(text(&html, "details.event-detail").is_some());
    assert!(attrs(&html, "a", "href").contains(&format!("/contacts/{anna}")));
}
