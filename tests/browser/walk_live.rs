//! The walk's steps 8–12 (see `walk.rs`): Review and publish, the workflow on, its history
//! read as sentences, Performance (per-step counts, the chart, the calendar), the contacts,
//! Turn off, a past Specific date's warning, and a workflow started from a template.

use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::prelude::*;

use crate::expected;
use crate::harness::Browser;
use crate::walk::{plan_for, CSV_CONTACTS, FORM_CONTACTS, WORKFLOW_NAME};

/// 8–11, from the editor at `editor`.
pub(crate) async fn publish_and_follow(b: &mut Browser, editor: &str) {
    let ada = &FORM_CONTACTS[0];
    // 8. Review and publish: no problems; save the list; enroll existing; turn on. The count is
    // made to outlast the page's wait, as a million contacts' would: the page says it is
    // counting, and its script puts the figures in without a reload.
    let timing = b.state.review_figures.timing();
    b.state
        .review_figures
        .set_timing(perennial::services::review_figures::Timing {
            first_wait: Duration::ZERO,
            slow_after: Duration::ZERO,
            ..timing
        });
    b.click_in("Review and publish", "nav[aria-label=Workflow]")
        .await;
    assert_eq!(b.text_of("#live-count").await, "…", "still counting");
    b.js("window.perennialSamePage = true;", vec![]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    // Read in one script: the script replaces the elements at any moment.
    let count = "var e = document.getElementById('live-count'); return e ? e.textContent : '';";
    while b.js(count, vec![]).await != json!("3") {
        assert!(
            Instant::now() < deadline,
            "the script did not put the count in: {}",
            b.js(count, vec![]).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b.js("return window.perennialSamePage === true;", vec![])
            .await,
        json!(true),
        "the figures came without reloading the page"
    );
    b.expect_text("Counted at ").await;
    b.state.review_figures.set_timing(timing);
    b.expect_text("No problems found: this workflow is ready to turn on.")
        .await;
    assert!(
        b.driver
            .find_all(By::Css(".problem-list li"))
            .await
            .unwrap()
            .is_empty(),
        "the problems list is empty"
    );
    assert_eq!(
        b.text_of("#live-count").await,
        "3",
        "three contacts meet the criteria"
    );
    b.shot("review").await;
    b.click("Save as a static list").await;
    assert!(
        b.path().await.starts_with("/lists/"),
        "the saved list opens"
    );
    assert_eq!(b.text_of(".list-count").await, "3");
    let enrolled = [&FORM_CONTACTS[0], &FORM_CONTACTS[1], &CSV_CONTACTS[0]];
    let left_out = [&FORM_CONTACTS[2], &CSV_CONTACTS[1]];
    for p in enrolled {
        b.expect_text(p.email).await;
    }
    for p in left_out {
        b.expect_no_text(p.email).await;
    }
    b.shot("saved-list").await;

    // Back to the review page, with the browser's Back (it may come from the page cache).
    b.driver.back().await.expect("back");
    let review = format!("{editor}/review");
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.path().await != review {
        assert!(Instant::now() < deadline, "Back did not return to {review}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.choose("Yes, enroll existing contacts as of now").await;
    b.click("Turn on").await;
    b.expect_text(&format!("Turn on “{WORKFLOW_NAME}”?")).await;
    b.expect_text("Existing contacts will be enrolled as of now")
        .await;
    b.shot("turn-on-confirm").await;
    b.click("Yes, turn on").await;

    // 9. On, with the enrolled count; history; the contact without a date is not enrolled.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = b.text_of("#wf-status").await;
        let count = b.text_of("#wf-enrolled").await;
        if status == "On" && count == "3" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected On with 3 enrolled, the page shows {status} with {count}; {}",
            b.describe().await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.goto(editor).await;
    }
    b.shot("workflow-on").await;

    // The history, read as sentences in the workflow's zone.
    b.click_in("History", "nav[aria-label=Workflow]").await;
    b.expect_text("Times in Europe/Oslo").await;
    let events = history_rows(b).await;
    for p in enrolled {
        let mine: Vec<&HistoryRow> = events.iter().filter(|e| e.contact == p.name()).collect();
        assert!(
            mine.iter().any(|e| e.event_class == "ev-enrolled"
                && e.sentence.starts_with(
                    "Enrolled: met the criteria when the workflow was turned on · cycle "
                )
                && e.sentence.ends_with("(Customer since)")),
            "{} has an enrolled event, in words: {events:#?}",
            p.name()
        );
        // The next step is the first delay, due when it ends (or, if that has just passed
        // and the window moved the email to a later day, the email, due then).
        let plan = plan_for(p);
        let waits = format!(
            "Waits until {} (Europe/Oslo) — 300 days after Customer since — then Send email “Happy customer anniversary”",
            expected::words(&plan.first_delay_ends)
        );
        let email = format!(
            "Send email “Happy customer anniversary” scheduled for {} (Europe/Oslo)",
            expected::words(&plan.first_action)
        );
        let delay_due = expected::rfc3339_local(&plan.first_delay_ends);
        let email_due = expected::rfc3339_local(&plan.first_action);
        assert!(
            mine.iter().any(|e| e.event_class == "ev-scheduled"
                && (e.sentence == waits || e.sentence.starts_with(&email))
                && (e.detail.contains(&delay_due) || e.detail.contains(&email_due))),
            "{} has a scheduled event: {waits:?}: {events:#?}",
            p.name()
        );
    }
    for p in left_out {
        assert!(
            events.iter().all(|e| e.contact != p.name()),
            "{} is not in the history: {events:#?}",
            p.name()
        );
    }
    // The recorded detail opens from its disclosure.
    b.click_css_no_nav("li.history-item details.event-detail > summary")
        .await;
    b.expect_text("Recorded detail").await;
    b.shot("history").await;

    // Performance: the per-step counts, the chart and the calendar.
    b.click_in("Performance", "nav[aria-label=Workflow]").await;
    assert_eq!(b.text_of("#stat-active").await, "3");
    let waiting = enrolled
        .iter()
        .filter(|p| plan_for(p).first_delay_ends > chrono::Utc::now())
        .count();
    let steps = step_stats(b).await;
    assert_eq!(steps.len(), 5, "five steps: {steps:?}");
    assert!(
        steps[0][1].contains("300 days after Customer since"),
        "{steps:?}"
    );
    assert_eq!(
        steps[0][2],
        waiting.to_string(),
        "waiting at the first delay: {steps:?}"
    );
    assert!(steps[1][1].contains("Send email “Happy customer anniversary”"));
    assert_eq!(
        &steps[1][3..],
        ["0", "0", "0"],
        "nothing ran yet: {steps:?}"
    );
    assert_eq!(
        b.text_of("#chart-summary").await,
        "3 enrolled and 0 actions executed in the last 30 days."
    );
    let bars = b
        .driver
        .find_all(By::Css("#activity-chart rect"))
        .await
        .expect("bars");
    assert_eq!(bars.len(), 60, "30 days of two bars");
    b.expect_text("Next 30 days").await;
    b.shot("performance").await;

    // The contact without a date: not enrolled, and the contact page says so.
    b.nav("Contacts").await;
    b.click(&FORM_CONTACTS[2].name()).await;
    b.expect_text("Not enrolled in any workflow.").await;
    b.shot("contact-without-date").await;
    b.nav("Contacts").await;
    b.click(&ada.name()).await;
    b.expect_text(WORKFLOW_NAME).await;
    b.shot("contact-enrolled").await;

    // 10. Turn it off; the page says so.
    b.nav("Automations › Workflows").await;
    b.click(WORKFLOW_NAME).await;
    assert_eq!(b.path().await, editor);
    b.click_in("Turn off", ".wf-head").await;
    b.expect_text(&format!("Turn off “{WORKFLOW_NAME}”?")).await;
    b.expect_text("The 3 contacts enrolled now stay enrolled")
        .await;
    b.expect_text("skipped and logged in History").await;
    assert_eq!(
        b.text_of("#wf-status").await,
        "On",
        "asking changes nothing"
    );
    b.shot("turn-off-confirm").await;
    b.click("Yes, turn off").await;
    assert_eq!(b.text_of("#wf-status").await, "Off");
    let flash = b.text_of(".flash").await;
    assert!(
        flash.to_lowercase().contains("off"),
        "a message says the workflow was turned off: {flash}"
    );
    b.shot("workflow-off").await;
    b.nav("Automations › Workflows").await;
    let row = b
        .js(
            "const a = [...document.querySelectorAll('a.wf-link')]
                 .find(a => a.innerText.trim() === arguments[0]);
             return a ? a.closest('tr').innerText : null;",
            vec![json!(WORKFLOW_NAME)],
        )
        .await;
    let row = row.as_str().expect("the workflow is listed").to_string();
    assert!(row.contains("Off"), "the list shows it off: {row}");
    b.shot("workflows-list").await;

    // 11. A Specific date workflow whose date has passed: Review warns that nobody would get
    // any action, instead of "No problems found".
    b.click("Create workflow").await;
    b.choose("Specific date").await;
    b.fill_date("Date of event", "2020-03-01").await;
    b.click("Next").await;
    b.click_in("Review and publish", "nav[aria-label=Workflow]")
        .await;
    let warnings = b.text_of("#warnings").await;
    assert!(
        warnings.contains("Every step's date has already passed"),
        "a past-date warning: {warnings}"
    );
    b.expect_no_text("No problems found").await;
    b.shot("review-past-date").await;
}

/// Step 12, Create workflow > From a template: the birthday greeting needs a date property
/// the account lacks; the page offers it, creates it and comes back; the editor opens
/// prefilled.
pub(crate) async fn from_a_template(b: &mut Browser) {
    b.nav("Automations › Workflows").await;
    b.click("From a template").await;
    b.expect_text("Birthday greeting").await;
    b.expect_text("Renewal reminder").await;
    b.shot("templates").await;
    b.click("Use the template Birthday greeting").await;
    // The account has a date property, but not the one a birthday needs: no property is
    // chosen for the person, and the page offers to create "Birthday" and come back.
    let chosen = b
        .control("Contact date property")
        .await
        .value()
        .await
        .unwrap();
    assert_eq!(
        chosen.unwrap_or_default(),
        "",
        "Customer since is not a birthday"
    );
    b.expect_text("Not the one you need? Create “Birthday” and come back.")
        .await;
    b.shot("template-needs-property").await;
    b.click("Create “Birthday”").await;
    assert_eq!(
        b.control("Label")
            .await
            .value()
            .await
            .unwrap()
            .unwrap_or_default(),
        "Birthday"
    );
    assert_eq!(
        b.control("Internal name")
            .await
            .value()
            .await
            .unwrap()
            .unwrap_or_default(),
        "birthday"
    );
    b.click("Create property").await;
    assert_eq!(b.path().await, "/workflows/new/templates/birthday");
    let chosen = b
        .js(
            "const s = document.getElementById('f-property'); return s.options[s.selectedIndex].text",
            vec![],
        )
        .await;
    assert_eq!(chosen, "Birthday", "the new property is chosen");
    b.shot("template-form").await;
    b.click("Create workflow").await;
    assert_eq!(b.text_of("h1").await, "Birthday greeting");
    b.expect_text("Birthday is known").await;
    b.expect_text("Happy birthday, {{ contact.firstname }}!")
        .await;
    b.expect_text("Repeats every year").await;
    b.shot("template-editor").await;
}

/// Step 13, the other screens a person opens, each checked (at phone width, for sideways
/// scrolling) and photographed: a contact's activity, Lists, Outbox, Tasks, Inbox, the
/// workflow's revisions, CSV import, Settings > Account and API tokens, Properties.
pub(crate) async fn tour(b: &mut Browser) {
    let ada = &FORM_CONTACTS[0];
    b.nav("Contacts").await;
    b.click(&ada.name()).await;
    b.click("Activity").await;
    b.expect_text("Contact created").await;
    b.shot("contact-activity").await;
    for (nav, shot, expect) in [
        ("Lists", "lists", "Lists"),
        ("Outbox", "outbox", "Outbox"),
        ("Tasks", "tasks", "Tasks"),
        ("Inbox", "inbox", "Inbox"),
    ] {
        b.nav(nav).await;
        b.expect_text(expect).await;
        b.shot(shot).await;
    }
    b.nav("Automations › Workflows").await;
    b.click(WORKFLOW_NAME).await;
    b.click_in("Revisions", "nav[aria-label=Workflow]").await;
    b.shot("revisions").await;
    b.nav("Contacts").await;
    b.click("Import").await;
    b.shot("import").await;
    b.nav("Settings").await;
    b.expect_text("Account time zone").await;
    b.shot("settings-account").await;
    b.click_in("API tokens", "nav[aria-label=Settings]").await;
    b.shot("settings-tokens").await;
    b.click_in("Properties", "nav[aria-label=Settings]").await;
    b.click("Create property").await;
    b.shot("create-property-empty").await;
}

#[derive(Debug, serde::Deserialize)]
struct HistoryRow {
    contact: String,
    event_class: String,
    sentence: String,
    detail: String,
}

/// The history page's events: the contact, the event's badge, the sentence, the detail.
async fn history_rows(b: &Browser) -> Vec<HistoryRow> {
    let v = b
        .js(
            "return [...document.querySelectorAll('li.history-item')].map(li => ({
                 contact: li.querySelector('a.contact-link').textContent.trim(),
                 event_class: [...li.querySelector('.badge').classList]
                     .find(c => c.startsWith('ev-')) || '',
                 sentence: li.querySelector('.what').textContent.replace(/\\s+/g, ' ').trim(),
                 detail: li.querySelector('dd.detail').textContent.trim(),
             }))",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("history rows")
}

/// Performance's per-step table: each step's cells (#, step, waiting, executed, skipped,
/// failed) as text.
async fn step_stats(b: &Browser) -> Vec<Vec<String>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('#step-stats tbody tr:not(.heading)')]
                 .map(r => [...r.cells].map(c => c.textContent.replace(/\\s+/g, ' ').trim()))",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("step rows")
}
