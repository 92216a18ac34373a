//! Review's counts at scale (issue 16, item 5): a count made in the background, waited for up
//! to a second; a slow one kept and shown with when it was made; "Count again"; a count that
//! outlasts the wait shows "Counting" and the page gets the figures when it is done. The
//! tests make every count "slow" (or the wait zero) so that a handful of contacts behave as a
//! million do.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{location, text, TestApp};
use crate::workflow_pages::contact;
use crate::workflows_api::with_properties;
use perennial::services::review_figures::Timing;

fn anniversary() -> Value {
    json!({ "name": "Anniversary",
        "start": { "type": "contact_date_property", "property": "customer_since" },
        "recur_annually": true,
        "steps": [ { "type": "date_delay", "when": "after", "amount": 300, "unit": "days", "time_of_day": "09:00" },
                   { "type": "create_task", "title": "Call" } ],
        "settings": { "time_zone": "UTC" } })
}

fn set_timing(app: &TestApp, first_wait_ms: u64, slow_after_ms: u64, keep_for_s: u64) {
    app.state.review_figures.set_timing(Timing {
        first_wait: Duration::from_millis(first_wait_ms),
        slow_after: Duration::from_millis(slow_after_ms),
        keep_for: Duration::from_secs(keep_for_s),
    });
}

/// Two contacts with the date, one without, and the workflow; its Review path.
async fn workflow_with_contacts(app: &TestApp, token: &str) -> String {
    with_properties(app, token).await;
    for (email, since) in [
        ("ada@example.com", json!({"customer_since": "2020-01-20"})),
        ("bob@example.com", json!({"customer_since": "2019-06-01"})),
        ("cy@example.com", json!({"firstname": "Cy"})),
    ] {
        contact(app, token, email, since).await;
    }
    let (s, wf) = app.api_post("/workflows", token, anniversary()).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    format!("/workflows/{}/review", wf["id"])
}

/// The page once no count is running (the page's script does the same).
async fn when_counted(app: &TestApp, path: &str) -> String {
    for _ in 0..200 {
        let html = app.get_html(path).await;
        if !html.contains("data-counting") {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} was still counting after 10 s");
}

fn status(html: &str) -> String {
    text(html, "#count-status").unwrap_or_default()
}

/// The count Review shows ("2", or "…" while counting).
fn shown(html: &str) -> String {
    text(html, "#live-count").unwrap_or_default()
}

/// An app whose Review waits `first_wait_ms` and keeps counts that took `slow_after_ms` for
/// `keep_for_s`, with the contacts and workflow of [`workflow_with_contacts`]; the app, its
/// token and the Review path.
async fn review_app(
    first_wait_ms: u64,
    slow_after_ms: u64,
    keep_for_s: u64,
) -> (TestApp, String, String) {
    let (app, token) = TestApp::ready().await;
    set_timing(&app, first_wait_ms, slow_after_ms, keep_for_s);
    let review = workflow_with_contacts(&app, &token).await;
    (app, token, review)
}

/// A fourth contact who meets the criteria.
async fn add_dee(app: &TestApp, token: &str) {
    let since = json!({"customer_since": "2021-02-02"});
    contact(app, token, "dee@example.com", since).await;
}

#[tokio::test]
async fn a_quick_count_is_made_again_for_every_view() {
    let (app, token, review) = review_app(1000, 5000, 60).await;
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "2");
    assert!(
        !html.contains("id=\"count-status\""),
        "counted for this view"
    );
    add_dee(&app, &token).await;
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "3");
    assert!(!html.contains("Count again"));
}

#[tokio::test]
async fn a_slow_count_is_kept_says_when_it_was_made_and_can_be_made_again() {
    let (app, token, review) = review_app(1000, 0, 60).await;
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "2");
    assert!(
        !html.contains("id=\"count-status\""),
        "the first count is made for this view"
    );

    add_dee(&app, &token).await;
    let html = app.get_html(&review).await;
    assert_eq!(
        shown(&html),
        "2",
        "kept: the count took longer than the page may (slow_after 0 here)"
    );
    let said = status(&html);
    assert!(
        said.starts_with("Counted at ")
            && said.contains(" UTC (")
            && said.contains("kept for 1 minute"),
        "{said}"
    );
    assert!(!html.contains("data-counting"), "nothing is being counted");

    let res = app
        .post_form(&review, &format!("{review}/count-again"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), review);
    let html = when_counted(&app, &review).await;
    assert_eq!(shown(&html), "3", "counted again");
}

#[tokio::test]
async fn a_count_that_outlasts_the_wait_shows_counting_then_the_figures() {
    let (app, _token, review) = review_app(0, 0, 60).await;
    let html = app.get_html(&review).await;
    assert!(
        html.contains("data-counting"),
        "the page's script polls: {}",
        status(&html)
    );
    assert_eq!(shown(&html), "…");
    assert!(
        status(&html).starts_with("Still counting"),
        "{}",
        status(&html)
    );
    assert!(!html.contains("Count again"), "not while counting");

    // The confirmation shows the count once there is one.
    let html = when_counted(&app, &review).await;
    assert_eq!(shown(&html), "2");
    let confirm = app
        .get_html(&format!("{review}/confirm?enroll_existing=yes"))
        .await;
    assert!(
        confirm.contains("2 contacts meet the criteria"),
        "{confirm}"
    );
}

#[tokio::test]
async fn an_old_count_is_shown_while_it_is_made_again() {
    let (app, token, review) = review_app(1000, 0, 0).await;
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "2");
    add_dee(&app, &token).await;

    // Past its time (here five times as long as the count took): the old figures at once,
    // marked as being counted again.
    let mut html = app.get_html(&review).await;
    for _ in 0..100 {
        assert_eq!(shown(&html), "2");
        if html.contains("data-counting") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        html = app.get_html(&review).await;
    }
    assert!(html.contains("data-counting"), "{}", status(&html));
    assert!(
        status(&html).contains("Counting again now"),
        "{}",
        status(&html)
    );

    set_timing(&app, 1000, 0, 60);
    let html = when_counted(&app, &review).await;
    assert_eq!(shown(&html), "3");
}

#[tokio::test]
async fn a_changed_workflow_is_counted_again_at_once() {
    let (app, token, review) = review_app(1000, 0, 60).await;
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "2");

    // Narrow the criteria to Ada: another version, so the kept count does not apply.
    let id = review
        .trim_start_matches("/workflows/")
        .trim_end_matches("/review");
    let mut def = anniversary();
    def["triggers"] = json!({ "filter_groups": [[{ "property": "email", "operator": "eq", "value": "ada@example.com" }]] });
    let (s, body) = app.api_put(&format!("/workflows/{id}"), &token, def).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let html = app.get_html(&review).await;
    assert_eq!(shown(&html), "1");
    assert!(
        !html.contains("id=\"count-status\""),
        "counted for this view"
    );
}
