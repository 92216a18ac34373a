//! Issue 17's walk: a renewal workflow built through the editor with a wait until (Met and
//! Timed out paths, an email on the Timed out one) and a goal, email pacing chosen on its
//! Settings, reviewed, turned on, and read back on the editor, Review and Performance — at
//! desktop and at phone width (no page scrolls sideways).

use std::time::{Duration, Instant};

use crate::harness::{
    tools_or_skip, Browser, Viewport, ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_workflow_with_a_goal_and_a_wait_until() {
    walk(
        DESKTOP,
        "campaign",
        "a_renewal_workflow_with_a_goal_and_a_wait_until",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_workflow_with_a_goal_and_a_wait_until_at_phone_width() {
    walk(
        PHONE,
        "campaign-phone",
        "a_renewal_workflow_with_a_goal_and_a_wait_until_at_phone_width",
    )
    .await;
}

async fn walk(viewport: Viewport, shots: &str, test: &str) {
    let Some(tools) = tools_or_skip(test) else {
        return;
    };
    let mut b = Browser::start_in(&tools, 1, viewport, shots).await;

    // Set up: the admin, a date property and a text property.
    b.goto("/setup").await;
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password (at least 8 characters)", ADMIN_PASSWORD)
        .await;
    b.click("Create admin and sign in").await;
    for (label, name, kind) in [
        ("Renewal date", "renewal_date", "Date picker"),
        ("Renewal status", "renewal_status", "Single-line text"),
    ] {
        b.goto("/settings/properties/new").await;
        b.fill("Label", label).await;
        b.fill("Internal name", name).await;
        b.select("Field type", kind).await;
        b.click("Create property").await;
    }

    // Account pacing on Settings > Account.
    b.goto("/settings/account").await;
    b.fill("At most this many emails per contact", "3").await;
    b.fill("In any (days)", "7").await;
    b.click("Save pacing").await;
    b.expect_text("Account pacing saved: At most 3 emails per contact in 7 days")
        .await;

    // A renewal workflow from scratch, centred on the renewal date.
    b.goto("/workflows/new").await;
    b.choose("Contact date property").await;
    b.select("Contact date property", "Renewal date").await;
    let name = b.control("Workflow name").await;
    name.clear().await.expect("clear");
    name.send_keys("Renewal follow-up").await.expect("type");
    b.click("Next").await;
    let editor = b.path().await;
    let editor = editor.split(['?', '#']).next().unwrap_or("").to_string();
    assert_eq!(b.text_of("h1").await, "Renewal follow-up");

    // A wait until after the first delay: the renewal status, or a payment event, 7 days.
    b.click_css("a.connector-add[title=\"Add a step after step 1\"]")
        .await;
    b.click_pick("Wait until").await;
    b.expect_text("Wait until the contact meets").await;
    b.select("Property", "Renewal status").await;
    b.select("Operator", "is equal to").await;
    b.fill("Value", "renewed").await;
    b.fill("Or until this event happens", "payment_received")
        .await;
    b.fill("Wait at most", "7").await;
    b.select("Unit", "Days").await;
    b.shot("wait-until-panel").await;
    b.click_in("Save", ".panel-actions").await;
    b.expect_text("Added “Wait until”.").await;
    let arms = b
        .js(
            "return [...document.querySelectorAll('.arm-label')].map(e => e.textContent.trim())",
            vec![],
        )
        .await;
    assert_eq!(
        arms,
        serde_json::json!(["Met", "Timed out"]),
        "the wait's paths"
    );

    // An email on the Timed out path.
    b.click_css(".arm-timed-out a.connector-add").await;
    b.click_pick("Send email").await;
    b.fill("Subject", "Your renewal is due").await;
    b.fill("Body", "Renew today to keep your plan.").await;
    b.click_in("Save", ".panel-actions").await;
    b.expect_text("Added “Send email”.").await;
    let timed_out = b.text_of(".arm-timed-out").await;
    assert!(
        timed_out.contains("Your renewal is due"),
        "the email is on the Timed out path: {timed_out}"
    );

    // The goal, from its card under the flow.
    b.click_css("#card-goal .card-link").await;
    b.expect_text("Workflow goal").await;
    b.select("Property", "Renewal status").await;
    b.select("Operator", "is equal to").await;
    b.fill("Value", "renewed").await;
    b.click_in("Save", ".panel-actions").await;
    b.expect_text("Goal updated.").await;
    let goal = b.text_of("#card-goal").await;
    assert!(goal.contains("renewed"), "the goal card: {goal}");
    b.shot("editor-goal-wait").await;

    // This workflow's own pacing: quiet hours.
    b.goto(&format!("{editor}/settings?tab=general")).await;
    b.expect_text("Email pacing").await;
    b.choose("This workflow's own pacing").await;
    b.fill("At most this many emails per contact", "2").await;
    b.fill("In any (days)", "7").await;
    b.click_in("Save", ".settings-form .form-actions").await;
    b.expect_text("Settings saved").await;

    // Review: the goal, the wait and the pacing in sentences; turn on.
    b.click_in("Review and publish", "nav[aria-label=Workflow]")
        .await;
    let goal = b.text_of("#goal-sentence").await;
    assert!(goal.contains("leave the workflow at once"), "{goal}");
    let forks = b.text_of("#fork-sentences").await;
    assert!(
        forks.contains("Wait until") && forks.contains("Timed out path: 1 step"),
        "{forks}"
    );
    let pacing = b.text_of("#pacing-sentence").await;
    assert!(
        pacing.contains("At most 2 emails per contact in 7 days"),
        "{pacing}"
    );
    b.shot("review-goal-wait").await;
    b.click("Turn on").await;
    b.click("Yes, turn on").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.text_of("#wf-status").await != "On" {
        assert!(Instant::now() < deadline, "the workflow turns on");
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.goto(&editor).await;
    }

    // Read back: the editor still draws the goal and both paths; Performance has the goal.
    b.goto(&editor).await;
    let goal = b.text_of("#card-goal").await;
    assert!(goal.contains("renewed"), "{goal}");
    let wait = b.text_of("#card-step-1").await;
    assert!(wait.contains("payment_received"), "{wait}");
    b.goto(&format!("{editor}/performance")).await;
    assert_eq!(b.text_of("#stat-conversions").await, "0");
    b.expect_text("Conversion rate").await;
    b.shot("performance-goal").await;
    b.finish().await;
}
