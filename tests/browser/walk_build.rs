//! The walk's steps 4–7 (see `walk.rs`): Create workflow > From scratch, the editor (delays,
//! an email with a token inserted by the picker, a property, a branch), Settings, and the
//! Test timeline against the times `expected.rs` computes.

use thirtyfour::prelude::*;

use crate::expected;
use crate::harness::Browser;
use crate::walk::{
    plan_for, timeline_rows, CSV_CONTACTS, FIRST_DELAY_DAYS, FORM_CONTACTS, SECOND_DELAY_DAYS,
    WORKFLOW_NAME, ZONE,
};

/// 4–7; the editor's path.
pub(crate) async fn build_and_test(b: &mut Browser) -> String {
    // 4. Automations > Workflows > Create workflow > From scratch.
    b.nav("Automations › Workflows").await;
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
    b.fill("Body", "Hi , thank you for another year with us!")
        .await;
    // Insert token: the cursor after "Hi ", then First name from the picker.
    b.js(
        "const f = document.getElementById('p-body'); f.focus(); f.setSelectionRange(3, 3);",
        vec![],
    )
    .await;
    b.click_css_no_nav(".token-picker > summary").await;
    b.expect_text("Click a property to insert its token where the cursor is.")
        .await;
    b.shot("email-token-picker").await;
    b.click_css_no_nav(".token-picker button.token-insert[data-token='{{ contact.firstname }}']")
        .await;
    let body = b
        .control("Body")
        .await
        .value()
        .await
        .expect("body")
        .unwrap_or_default();
    assert_eq!(
        body, "Hi {{ contact.firstname }}, thank you for another year with us!",
        "the token is inserted at the cursor"
    );
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
    let rows = timeline_rows(b).await;
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
    let rows = timeline_rows(b).await;
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

    editor
}
