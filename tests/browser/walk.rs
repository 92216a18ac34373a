//! Issue 5's walk: the whole flow a person takes, in headless Chromium, through the real
//! forms, labels and buttons, asserting what each page shows and saving a full-page
//! screenshot of each step into `target/screenshots/`.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::expected::{self, DelayAfter, Window};
use crate::harness::{tools_or_skip, Browser, ADMIN_EMAIL, ADMIN_PASSWORD};

const WORKFLOW_NAME: &str = "Customer anniversary";
const ZONE: &str = "Europe/Oslo";

struct Person {
    first: &'static str,
    last: &'static str,
    email: &'static str,
    stage: &'static str,
    customer_since: Option<&'static str>,
}

impl Person {
    fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// Created through the contact form.
const FORM_CONTACTS: [Person; 3] = [
    Person {
        first: "Ada",
        last: "Lovelace",
        email: "ada@example.com",
        stage: "customer",
        customer_since: Some("2020-01-20"),
    },
    Person {
        first: "Grace",
        last: "Hopper",
        email: "grace@example.com",
        stage: "customer",
        customer_since: Some("2019-06-03"),
    },
    Person {
        first: "Alan",
        last: "Turing",
        email: "alan@example.com",
        stage: "customer",
        customer_since: None,
    },
];

/// Imported by CSV upload. Linus is a lead: the trigger's filter keeps him out.
const CSV_CONTACTS: [Person; 2] = [
    Person {
        first: "Katherine",
        last: "Johnson",
        email: "katherine@example.com",
        stage: "customer",
        customer_since: Some("2021-03-15"),
    },
    Person {
        first: "Linus",
        last: "Pauling",
        email: "linus@example.org",
        stage: "lead",
        customer_since: Some("2018-09-10"),
    },
];

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time")
}

const FIRST_DELAY_DAYS: i64 = 300;
const SECOND_DELAY_DAYS: i64 = 301;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_a_real_browser() {
    let Some(tools) = tools_or_skip("the_whole_flow_in_a_real_browser") else {
        return;
    };
    let mut b = Browser::start(&tools, 1).await;

    // 1. First-run setup creates the admin; sign out and sign in again.
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup", "a fresh install starts at setup");
    b.expect_text("Welcome — create the first admin").await;
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password (at least 8 characters)", ADMIN_PASSWORD)
        .await;
    b.shot("setup").await;
    b.click("Create admin and sign in").await;
    b.expect_text("Your admin account is ready.").await;
    assert_eq!(b.text_of(".topbar .who").await, ADMIN_EMAIL);
    b.click("Sign out").await;
    assert!(
        b.path().await.starts_with("/login"),
        "signed out to the login page"
    );
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password", ADMIN_PASSWORD).await;
    b.shot("sign-in").await;
    b.click("Sign in").await;
    assert!(!b.path().await.starts_with("/login"), "signed in");
    assert_eq!(b.text_of(".topbar .who").await, ADMIN_EMAIL);

    // 2. Settings > Properties: a custom date-picker property "Customer since".
    b.click_in("Settings", "nav[aria-label=Main]").await;
    b.click_in("Properties", "nav[aria-label=Settings]").await;
    b.click("Create property").await;
    b.fill("Label", "Customer since").await;
    b.fill("Internal name", "customer_since").await;
    b.select("Field type", "Date picker").await;
    b.shot("create-property").await;
    b.click("Create property").await;
    assert_eq!(b.path().await, "/settings/properties");
    let row = b
        .js(
            "const r = [...document.querySelectorAll('table.data tbody tr')]
                 .find(r => r.innerText.includes('customer_since'));
             return r ? r.innerText : null;",
            vec![],
        )
        .await;
    let row = row.as_str().expect("a row for customer_since").to_string();
    assert!(
        row.contains("Customer since") && row.contains("Date picker"),
        "{row}"
    );
    b.shot("properties").await;

    // 3. Contacts: three through the form, two by CSV upload.
    for (i, p) in FORM_CONTACTS.iter().enumerate() {
        b.click_in("Contacts", "nav[aria-label=Main]").await;
        b.click("Create contact").await;
        b.fill("Email", p.email).await;
        b.fill("First name", p.first).await;
        b.fill("Last name", p.last).await;
        b.select("Lifecycle stage", p.stage).await;
        if let Some(d) = p.customer_since {
            b.fill_date("Customer since", d).await;
        }
        if i == 0 {
            b.shot("create-contact").await;
        }
        b.click("Create contact").await;
        b.expect_text(&format!("Created {}.", p.name())).await;
        let stored = b
            .control("Customer since")
            .await
            .value()
            .await
            .expect("value");
        assert_eq!(stored.unwrap_or_default(), p.customer_since.unwrap_or(""));
    }
    let csv_dir = tempfile::tempdir().expect("csv dir");
    let csv_path = csv_dir.path().join("customers.csv");
    let mut csv = String::from("email,firstname,lastname,lifecyclestage,Customer since\n");
    for p in &CSV_CONTACTS {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            p.email,
            p.first,
            p.last,
            p.stage,
            p.customer_since.unwrap_or("")
        ));
    }
    std::fs::write(&csv_path, csv).expect("write csv");
    b.click_in("Contacts", "nav[aria-label=Main]").await;
    b.click("Import").await;
    b.control("CSV file")
        .await
        .send_keys(csv_path.display().to_string())
        .await
        .expect("choose the file");
    b.shot("import-choose-file").await;
    b.click("Import").await;
    wait_for_text(&b, "rows imported", Duration::from_secs(30)).await;
    b.expect_text("2 of 2 rows imported (2 created, 0 updated)")
        .await;
    b.expect_text("0 rejected").await;
    b.shot("import-done").await;
    b.click("Back to contacts").await;
    b.expect_text("5 contacts").await;
    for p in FORM_CONTACTS.iter().chain(CSV_CONTACTS.iter()) {
        b.expect_text(p.email).await;
    }
    b.shot("contacts").await;

    // 4. Automations > Workflows > Create workflow > From scratch.
    b.click_in("Automations › Workflows", "nav[aria-label=Main]")
        .await;
    b.click("Create workflow").await;
    assert_eq!(b.path().await, "/workflows/new");
    b.expect_text("Create workflow › From scratch").await;
    let contact_based = b.control_where("Contact-based", "input[type=radio]").await;
    assert!(
        contact_based.is_selected().await.unwrap(),
        "Contact-based is chosen"
    );
    b.choose("Contact date property").await;
    b.select("Contact date property", "Customer since").await;
    b.expect_text("Birth date").await; // …is not offered, and the page says why
    let offered = b
        .js(
            "return [...document.getElementById('f-property').options].map(o => o.text)",
            vec![],
        )
        .await;
    assert!(
        !offered.to_string().contains("Birth date"),
        "Birth date is not offered: {offered}"
    );
    // Rename with the pencil: clicking it puts the cursor in the name.
    b.click_css_no_nav(".name-edit .pencil").await;
    let focused = b.js("return document.activeElement.id", vec![]).await;
    assert_eq!(focused, "f-name", "the pencil focuses the name");
    let name = b.control("Workflow name").await;
    name.send_keys(Key::Control + "a")
        .await
        .expect("select all");
    name.send_keys(WORKFLOW_NAME).await.expect("type the name");
    assert_eq!(
        name.value().await.unwrap().unwrap_or_default(),
        WORKFLOW_NAME
    );
    b.shot("create-workflow").await;
    b.click("Next").await;
    let editor = b.path().await;
    let id: i64 = editor
        .trim_start_matches("/workflows/")
        .split(['?', '#', '/'])
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("Next opens the editor, not {editor}"));
    let editor = format!("/workflows/{id}");
    assert_eq!(b.text_of("h1").await, WORKFLOW_NAME);
    b.expect_text("Customer since is known").await;
    b.shot("editor-new").await;

    // 5. The editor. The trigger card: the built-in "Customer since is known" enrolls on its
    // own — no second condition to add (the seed's example works with no extra step).
    let trigger_card = b.text_of("#card-trigger").await;
    assert!(
        trigger_card.contains("Enrolls every contact whose Customer since is known"),
        "the trigger card says what enrolls a contact: {trigger_card}"
    );
    b.expect_no_text("Manual enrollment only").await;

    // The first delay: 300 days after, at 09:00.
    b.click_css("#card-step-0 .card-link").await;
    b.expect_text("When should the next action execute?").await;
    b.expect_text("It cannot be deleted").await;
    b.choose("After the date").await;
    b.fill("How many", &FIRST_DELAY_DAYS.to_string()).await;
    b.select("Unit", "Days").await;
    b.fill_time("Time of day to execute", "09:00").await;
    b.shot("first-delay-panel").await;
    b.click_in("Save", ".panel-actions").await;
    let delay_card = b.text_of("#card-step-0").await;
    assert!(
        delay_card.contains("300"),
        "the delay card shows 300 days: {delay_card}"
    );

    // Repeat annually, on the date card.
    b.set_choice_in("#card-start", "Repeat annually", true)
        .await;
    b.click_in("Apply", "#card-start").await;
    b.expect_text("Repeats every year on the same day and month")
        .await;

    // Send email after the first delay.
    b.click_css("a.connector-add[href*='after=0']").await;
    b.click_pick("Send email").await;
    b.fill("Subject", "Happy customer anniversary").await;
    b.fill(
        "Body",
        "Hi {{ contact.firstname }}, thank you for another year with us!",
    )
    .await;
    b.click_in("Update preview", ".preview").await;
    let preview = b.text_of(".preview").await;
    assert!(
        !preview.contains("{{"),
        "the preview fills the token in: {preview}"
    );
    b.shot("email-panel").await;
    b.click_in("Save", ".panel-actions").await;
    b.expect_text("Happy customer anniversary").await;

    // A second date delay, then Set property value.
    b.click_css("a.connector-add[href*='after=1']").await;
    b.click_pick("Date delay").await;
    b.choose("After the date").await;
    b.fill("How many", &SECOND_DELAY_DAYS.to_string()).await;
    b.select("Unit", "Days").await;
    b.fill_time("Time of day to execute", "10:00").await;
    b.click_in("Save", ".panel-actions").await;
    b.click_css("a.connector-add[href*='after=2']").await;
    b.click_pick("Set property value").await;
    b.select("Property to set", "Lifecycle stage").await;
    b.fill("Value", "evangelist").await;
    b.shot("set-property-panel").await;
    b.click_in("Save", ".panel-actions").await;
    // An if/then branch at the end: Ada takes the Yes path, everyone else the No path.
    b.click_css("a.connector-add[href*='after=3']").await;
    b.click_pick("If/then branch").await;
    b.select("Property", "First name").await;
    b.select("Operator", "is equal to").await;
    b.fill("Value", "Ada").await;
    b.shot("branch-panel").await;
    b.click_in("Save", ".panel-actions").await;
    for card in [
        "#card-step-0",
        "#card-step-1",
        "#card-step-2",
        "#card-step-3",
        "#card-step-4",
    ] {
        let found = b.driver.find_all(By::Css(card)).await.expect("cards");
        assert_eq!(found.len(), 1, "{card} is on the canvas");
    }
    b.expect_no_text("to fix before turning on").await;
    b.shot("editor-complete").await;

    // 6. Settings: Monday–Friday 09:00–17:00, time zone Europe/Oslo.
    b.click_in("Settings", "nav[aria-label=Workflow]").await;
    b.choose("Only on the days and between the times below")
        .await;
    for day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"] {
        b.set_choice(day, true).await;
    }
    for day in ["Saturday", "Sunday"] {
        b.set_choice(day, false).await;
    }
    b.fill_time("From", "09:00").await;
    b.fill_time("Until", "17:00").await;
    b.fill("Workflow time zone", ZONE).await;
    b.shot("settings").await;
    b.click_in("Save", "form.settings-form").await;
    b.expect_text("Settings saved").await;
    assert_eq!(
        b.control("Workflow time zone")
            .await
            .value()
            .await
            .unwrap()
            .unwrap_or_default(),
        ZONE
    );
    // Suppression: leads are never enrolled (Linus has the date but is a lead).
    b.click("Unenrollment & suppression").await;
    b.select("Property", "Lifecycle stage").await;
    b.select("Operator", "is equal to").await;
    b.fill("Value", "lead").await;
    b.shot("settings-suppression").await;
    b.click_in("Save", "form.settings-form").await;
    b.expect_text("Settings saved").await;

    // 7. Test: the first contact's timeline, as the scheduling rules give it.
    let tz: Tz = ZONE.parse().expect("zone");
    let window = Window {
        start: hm(9, 0),
        end: hm(17, 0),
    };
    let first = DelayAfter {
        days: FIRST_DELAY_DAYS,
        at: hm(9, 0),
    };
    let second = DelayAfter {
        days: SECOND_DELAY_DAYS,
        at: hm(10, 0),
    };
    let plan_for = |p: &Person| {
        let anchor =
            NaiveDate::parse_from_str(p.customer_since.expect("a date"), "%Y-%m-%d").expect("date");
        expected::plan(anchor, Utc::now(), tz, first, second, &window)
    };
    let ada = &FORM_CONTACTS[0];
    let ada_plan = plan_for(ada);
    b.click_in("Test", "nav[aria-label=Workflow]").await;
    b.select("Contact", ada.email).await;
    b.click("Show timeline").await;
    b.expect_text(&format!("Timeline for {}", ada.name())).await;
    // The anchor is shown as the contact's date or as this cycle's day of it.
    let anchor_shown = b.text_of("#anchor-date").await;
    assert!(
        anchor_shown == "2020-01-20" || anchor_shown == format!("{}-01-20", ada_plan.cycle_year),
        "anchor date {anchor_shown}"
    );
    assert_eq!(
        b.text_of("#cycle-year").await,
        ada_plan.cycle_year.to_string()
    );
    let rows = timeline_rows(&b).await;
    assert_eq!(rows.len(), 5, "five steps: {rows:?}");
    assert_eq!(
        b.text_of("#trigger-verdict").await,
        "Meets the enrollment trigger: its date is known (built-in trigger).",
        "the page says which trigger matches"
    );
    assert!(
        b.text_of(".branch-path").await.contains("the “Yes” path"),
        "Ada takes the Yes path"
    );
    let due = |i: usize| rows[i][2].clone();
    assert!(
        due(0).starts_with(&expected::page_time(&ada_plan.first_delay_ends)),
        "the first delay ends {:?}: {rows:?}",
        ada_plan.first_delay_ends
    );
    assert!(
        due(1).starts_with(&expected::page_time(&ada_plan.first_action)),
        "the email runs {:?}: {rows:?}",
        ada_plan.first_action
    );
    assert!(
        due(3).starts_with(&expected::page_time(&ada_plan.second_action)),
        "the property is set {:?}: {rows:?}",
        ada_plan.second_action
    );
    // Every action is still ahead (the first delay may have ended already when its time
    // passed but the window moved the email to a later day).
    for r in &rows[1..] {
        assert!(
            r[3].contains("due"),
            "every action is still ahead: {rows:?}"
        );
    }
    b.shot("test-timeline").await;

    // Katherine's first action: moved by the Monday–Friday window when it falls on a weekend.
    let kat = &CSV_CONTACTS[0];
    let kat_plan = plan_for(kat);
    b.select("Contact", kat.email).await;
    b.click("Show timeline").await;
    b.expect_text(&format!("Timeline for {}", kat.name())).await;
    let rows = timeline_rows(&b).await;
    assert!(
        rows[0][2].starts_with(&expected::page_time(&kat_plan.first_delay_ends))
            && rows[1][2].starts_with(&expected::page_time(&kat_plan.first_action)),
        "Katherine's delay ends {:?} and the email runs {:?}: {rows:?}",
        kat_plan.first_delay_ends,
        kat_plan.first_action
    );
    if kat_plan.first_action != kat_plan.first_delay_ends {
        assert!(
            rows[1][2].contains("moved from"),
            "the page says the email was moved by the window: {rows:?}"
        );
    }
    b.shot("test-timeline-window").await;

    // Grace takes the No path; Linus (a lead) is suppressed: never enrolled.
    let grace = &FORM_CONTACTS[1];
    b.select("Contact", grace.email).await;
    b.click("Show timeline").await;
    b.expect_text(&format!("Timeline for {}", grace.name()))
        .await;
    assert!(
        b.text_of(".branch-path").await.contains("the “No” path"),
        "Grace takes the No path: {}",
        b.text_of(".branch-path").await
    );
    b.shot("test-no-branch").await;
    let linus = &CSV_CONTACTS[1];
    b.select("Contact", linus.email).await;
    b.click("Show timeline").await;
    b.expect_text(&format!("Timeline for {}", linus.name()))
        .await;
    let suppressed = b.text_of("#suppressed").await;
    assert!(
        suppressed.contains("never enrolled"),
        "the Test page says Linus is suppressed: {suppressed}"
    );
    b.shot("test-suppressed").await;

    // 8. Review and publish: no problems; save the list; enroll existing; turn on.
    b.click_in("Review and publish", "nav[aria-label=Workflow]")
        .await;
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
        b.goto(&editor).await;
    }
    b.shot("workflow-on").await;

    b.click_in("History", "nav[aria-label=Workflow]").await;
    let events = history_rows(&b).await;
    for p in enrolled {
        let mine: Vec<&HistoryRow> = events.iter().filter(|e| e.contact == p.name()).collect();
        assert!(
            mine.iter().any(|e| e.event_class == "ev-enrolled"),
            "{} has an enrolled event: {events:#?}",
            p.name()
        );
        // The next step is the first delay, due when it ends (or, if that has just passed
        // and the window moved the email to a later day, the email, due then).
        let plan = plan_for(p);
        let delay_due = expected::rfc3339_local(&plan.first_delay_ends);
        let email_due = expected::rfc3339_local(&plan.first_action);
        assert!(
            mine.iter().any(|e| e.event_class == "ev-scheduled"
                && (e.detail.contains(&delay_due) || e.detail.contains(&email_due))),
            "{} has a scheduled event due {delay_due}: {events:#?}",
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
    b.shot("history").await;

    // The contact without a date: not enrolled, and the contact page says so.
    b.click_in("Contacts", "nav[aria-label=Main]").await;
    b.click(&FORM_CONTACTS[2].name()).await;
    b.expect_text("Not enrolled in any workflow.").await;
    b.shot("contact-without-date").await;
    b.click_in("Contacts", "nav[aria-label=Main]").await;
    b.click(&ada.name()).await;
    b.expect_text(WORKFLOW_NAME).await;
    b.shot("contact-enrolled").await;

    // 10. Turn it off; the page says so.
    b.click_in("Automations › Workflows", "nav[aria-label=Main]")
        .await;
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
    b.click_in("Automations › Workflows", "nav[aria-label=Main]")
        .await;
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

    b.finish().await;
}

async fn wait_for_text(b: &Browser, needle: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !b.text().await.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "waited {limit:?} for {needle:?}; {}",
            b.describe().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Test page's timeline: each row's cells as text.
async fn timeline_rows(b: &Browser) -> Vec<Vec<String>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('table.timeline tbody tr')]
                 .map(r => [...r.cells].map(c => c.innerText.trim()))",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("rows")
}

#[derive(Debug, serde::Deserialize)]
struct HistoryRow {
    contact: String,
    event_class: String,
    detail: String,
}

async fn history_rows(b: &Browser) -> Vec<HistoryRow> {
    let v = b
        .js(
            "return [...document.querySelectorAll('table.history tbody tr')].map(r => ({
                 contact: (r.cells[1].querySelector('a') || r.cells[1]).innerText.trim(),
                 event_class: [...r.cells[2].querySelector('.badge').classList]
                     .find(c => c.startsWith('ev-')) || '',
                 detail: r.cells[4].innerText.trim(),
             }))",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("history rows")
}
