//! The workflow pages beside the editor: Settings, Review and publish, Test, History,
//! Revisions; manual enrollment from the contact page; Outbox, Tasks and Inbox.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attr, flash, location, table_rows, text, texts, TestApp};
use crate::workflows_api::{example, with_properties};

async fn create_workflow(app: &TestApp, token: &str, def: Value) -> i64 {
    let (s, wf) = app.api_post("/workflows", token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    wf["id"].as_i64().expect("workflow id")
}

async fn workflow(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, wf) = app.api_get(&format!("/workflows/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{wf}");
    wf
}

/// Creates (or updates) a contact through the API; its id.
pub async fn contact(app: &TestApp, token: &str, email: &str, props: Value) -> i64 {
    let (s, c) = app
        .api_post(
            "/contacts",
            token,
            json!({ "email": email, "properties": props }),
        )
        .await;
    assert!(s.is_success(), "{c}");
    c["id"].as_i64().expect("contact id")
}

/// The seed's anniversary workflow: 300 days after "customer since", every year, in UTC.
fn anniversary() -> Value {
    json!({ "name": "Anniversary",
        "start": { "type": "contact_date_property", "property": "customer_since" },
        "recur_annually": true,
        "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]] },
        "steps": [
            { "type": "date_delay", "when": "after", "amount": 300, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Thank you", "body": "Hi {{ contact.firstname }}" } ],
        "settings": { "time_zone": "UTC" } })
}

/// The history page's events: (time, event label, sentence with its details).
fn history_rows(html: &str) -> Vec<Vec<String>> {
    let doc = scraper::Html::parse_document(html);
    let item = scraper::Selector::parse("li.history-item").unwrap();
    let part = |sel: &str| scraper::Selector::parse(sel).unwrap();
    let (time, badge, main) = (part(".history-time"), part(".badge"), part(".history-main"));
    let words = |e: scraper::ElementRef, s: &scraper::Selector| {
        e.select(s)
            .next()
            .map(|x| x.text().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    doc.select(&item)
        .map(|e| vec![words(e, &time), words(e, &badge), words(e, &main)])
        .collect()
}

/// The text of the element with this id (ids with dots need the attribute selector).
fn by_id(html: &str, id: &str) -> Option<String> {
    text(html, &format!("[id=\"{id}\"]"))
}

#[tokio::test]
async fn settings_save_each_tab_and_keep_invalid_input_without_saving() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = create_workflow(&app, &token, example()).await;
    let page = format!("/workflows/{id}/settings");

    let html = app.get_html(&page).await;
    assert_eq!(
        attr(&html, "#f-time_zone", "value").as_deref(),
        Some("Europe/Oslo")
    );
    assert!(html.contains("Days and times actions may execute"));

    // General: a valid save is a new revision.
    let res = app
        .post_form(
            &page,
            &format!("{page}?tab=general"),
            &[
                ("window_mode", "limited"),
                ("days", "mon"),
                ("days", "wed"),
                ("window_start", "08:30"),
                ("window_end", "16:00"),
                ("time_zone", "America/New_York"),
                ("pause_dates", "2026-12-24\n2026-12-25"),
                ("feb29", "mar1"),
                ("catch_up_hours", "12"),
                ("campaign", "Renewals 2026"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{page}?tab=general"));
    let wf = workflow(&app, &token, id).await;
    assert_eq!(wf["revision"], 2);
    let s = &wf["definition"]["settings"];
    assert_eq!(s["time_zone"], "America/New_York");
    assert_eq!(
        s["execution_window"],
        json!({ "days": ["mon", "wed"], "start": "08:30", "end": "16:00" })
    );
    assert_eq!(s["pause_dates"], json!(["2026-12-24", "2026-12-25"]));
    assert_eq!(s["feb29"], "mar1");
    assert_eq!(s["catch_up_hours"], 12);
    assert_eq!(s["campaign"], "Renewals 2026");
    let html = app.get_html(&format!("{page}?tab=general")).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Settings saved (revision 2)"));
    assert_eq!(
        attr(&html, "#f-window_start", "value").as_deref(),
        Some("08:30")
    );

    // Invalid input: 422, the message beside the field, the input kept, nothing saved.
    let general =
        |tz: &'static str, start: &'static str, end: &'static str, pause: &'static str| {
            vec![
                ("window_mode", "limited"),
                ("days", "mon"),
                ("window_start", start),
                ("window_end", end),
                ("time_zone", tz),
                ("pause_dates", pause),
                ("feb29", "feb28"),
                ("catch_up_hours", "24"),
                ("campaign", ""),
            ]
        };
    let cases = [
        (
            general("Mars/Olympus", "09:00", "17:00", ""),
            "settings.time_zone-error",
            "is not a time zone name",
        ),
        (
            general("Europe/Oslo", "17:00", "09:00", ""),
            "settings.execution_window.end-error",
            "must end after it starts",
        ),
        (
            general("Europe/Oslo", "09:00", "17:00", "2026-12-24\n2026-02-30"),
            "settings.pause_dates-error",
            "\"2026-02-30\" is not a valid date",
        ),
    ];
    for (fields, error_id, message) in cases {
        let res = app
            .post_form(&page, &format!("{page}?tab=general"), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{error_id}");
        let html = res.text().await.unwrap();
        let shown = by_id(&html, error_id).unwrap_or_default();
        assert!(shown.contains(message), "{error_id}: {shown}");
        let get = |name: &str| fields.iter().find(|(k, _)| *k == name).unwrap().1;
        assert_eq!(
            attr(&html, "#f-time_zone", "value").as_deref(),
            Some(get("time_zone"))
        );
        assert_eq!(
            attr(&html, "#f-window_start", "value").as_deref(),
            Some(get("window_start"))
        );
        assert_eq!(
            attr(&html, "#f-window_end", "value").as_deref(),
            Some(get("window_end"))
        );
        assert_eq!(
            text(&html, "#f-pause_dates").unwrap_or_default(),
            get("pause_dates").replace('\n', " ")
        );
        assert!(flash(&html)
            .unwrap_or_default()
            .contains("Nothing was saved"));
        assert_eq!(
            workflow(&app, &token, id).await["revision"],
            2,
            "{error_id}: nothing saved"
        );
    }
    let res = app
        .post_form(
            &page,
            &format!("{page}?tab=general"),
            &[("window_mode", "any"), ("catch_up_hours", "soon")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(by_id(&html, "settings.catch_up_hours-error")
        .unwrap_or_default()
        .contains("whole number"));
    assert_eq!(
        attr(&html, "#f-catch_up_hours", "value").as_deref(),
        Some("soon")
    );

    // "Any time" removes the window.
    let res = app
        .post_form(
            &page,
            &format!("{page}?tab=general"),
            &[("window_mode", "any"), ("catch_up_hours", "24")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let wf = workflow(&app, &token, id).await;
    assert_eq!(wf["revision"], 3);
    assert!(
        wf["definition"]["settings"]
            .get("execution_window")
            .is_none(),
        "{wf}"
    );
    assert!(
        wf["definition"]["settings"].get("time_zone").is_none(),
        "empty zone: the account's"
    );

    // Unenrollment & suppression: filter rows (AND in a group, OR between groups).
    let unenroll = format!("{page}?tab=unenrollment");
    let html = app.get_html(&unenroll).await;
    assert!(html.contains("Unenroll contacts when they no longer meet the enrollment criteria"));
    let res = app
        .post_form(
            &unenroll,
            &unenroll,
            &[
                ("unenroll_when_unmet", "on"),
                ("sup_group", "0"),
                ("sup_property", "lifecyclestage"),
                ("sup_operator", "eq"),
                ("sup_value", "other"),
                ("sup_group", "0"),
                ("sup_property", "renewal_notice"),
                ("sup_operator", "known"),
                ("sup_value", ""),
                ("sup_group", "1"),
                ("sup_property", "email"),
                ("sup_operator", "contains"),
                ("sup_value", "@competitor.example"),
                ("sup_group", "2"),
                ("sup_property", ""),
                ("sup_operator", "eq"),
                ("sup_value", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let s = workflow(&app, &token, id).await["definition"]["settings"].clone();
    assert_eq!(s["unenroll_when_unmet"], true);
    assert_eq!(
        s["suppression"]["filter_groups"],
        json!([
            [{ "property": "lifecyclestage", "operator": "eq", "value": "other" },
             { "property": "renewal_notice", "operator": "known" }],
            [{ "property": "email", "operator": "contains", "value": "@competitor.example" }]
        ])
    );
    let html = app.get_html(&unenroll).await;
    assert_eq!(
        texts(&html, "fieldset.filter-group legend"),
        ["Group 1", "Group 2", "Another group (OR)"]
    );
    // A filter that cannot work is reported on its row, kept, and nothing is saved.
    let res = app
        .post_form(
            &unenroll,
            &unenroll,
            &[
                ("sup_group", "0"),
                ("sup_property", "renewal_date"),
                ("sup_operator", "contains"),
                ("sup_value", "x"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, ".filter-row.has-error .field-error")
        .unwrap_or_default()
        .contains("does not apply"));
    assert_eq!(
        attr(&html, "#sp-0-0 option[selected]", "value").as_deref(),
        Some("renewal_date")
    );
    assert_eq!(workflow(&app, &token, id).await["revision"], 4);

    // Notifications.
    let notes = format!("{page}?tab=notifications");
    let res = app
        .post_form(
            &notes,
            &notes,
            &[
                ("on_review_needed", "on"),
                ("notify_change", "on"),
                ("change_percent", "40"),
                ("recipients", "ops@example.com\nnot-an-email"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(by_id(&html, "settings.notifications.recipients-error")
        .unwrap_or_default()
        .contains("not-an-email"));
    assert_eq!(
        text(&html, "#f-recipients").as_deref(),
        Some("ops@example.com not-an-email")
    );
    let res = app
        .post_form(
            &notes,
            &notes,
            &[
                ("on_review_needed", "on"),
                ("notify_change", "on"),
                ("change_percent", "40"),
                ("recipients", "ops@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let n = workflow(&app, &token, id).await["definition"]["settings"]["notifications"].clone();
    assert_eq!(
        n,
        json!({ "on_review_needed": true, "enrollment_change_percent": 40, "recipients": ["ops@example.com"] })
    );
}

#[tokio::test]
async fn review_lists_problems_with_links_and_refuses_to_turn_on() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let mut def = example();
    def["steps"][1]["subject"] = json!("");
    let id = create_workflow(&app, &token, def).await;
    let review = format!("/workflows/{id}/review");
    let html = app.get_html(&review).await;
    let problems = texts(&html, ".problem-list li");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Add a subject.") && p.contains("steps[1].subject")),
        "{problems:?}"
    );
    let links = crate::helpers::attrs(&html, ".problem-list a", "href");
    assert!(
        links.contains(&format!("/workflows/{id}?panel=step-1")),
        "{links:?}"
    );
    assert!(
        html.contains("id=\"turn-on\" disabled"),
        "Turn on is disabled"
    );
    // The summary reads as sentences.
    let steps = texts(&html, "#step-summary li");
    assert!(
        steps
            .iter()
            .any(|s| s.contains("30 days before renewal_date at 09:00 (Europe/Oslo)")),
        "{steps:?}"
    );
    assert_eq!(
        text(&html, "#trigger-summary").as_deref(),
        Some("Lifecycle stage is “Customer”")
    );

    // Confirm and publish are refused too, with a flash; the workflow stays off.
    let res = app
        .get(&format!("{review}/confirm?enroll_existing=no"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), review);
    let html = app.get_html(&review).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("cannot be turned on"));
    let res = app
        .post_form(
            &review,
            &format!("/workflows/{id}/publish"),
            &[("enroll_existing", "no")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), review);
    let html = app.get_html(&review).await;
    assert!(
        flash(&html).unwrap_or_default().contains("fix the problem"),
        "{:?}",
        flash(&html)
    );
    assert_eq!(workflow(&app, &token, id).await["status"], "off");
}

#[tokio::test]
async fn the_live_count_and_the_saved_list_are_exactly_the_contacts_meeting_the_criteria() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let ada = contact(
        &app,
        &token,
        "ada@example.com",
        json!({"lifecyclestage": "customer", "customer_since": "2020-01-20"}),
    )
    .await;
    let _no_date = contact(
        &app,
        &token,
        "bob@example.com",
        json!({"lifecyclestage": "customer"}),
    )
    .await;
    let _lead = contact(
        &app,
        &token,
        "cy@example.com",
        json!({"lifecyclestage": "lead", "customer_since": "2020-02-01"}),
    )
    .await;
    let eve = contact(
        &app,
        &token,
        "eve@example.com",
        json!({"lifecyclestage": "customer", "customer_since": "2019-06-01"}),
    )
    .await;
    let dan = contact(
        &app,
        &token,
        "dan@example.com",
        json!({"lifecyclestage": "customer", "customer_since": "2018-03-03"}),
    )
    .await;

    // A list holding Dan, saved from a workflow whose criteria only Dan meets.
    let dan_only = create_workflow(&app, &token, json!({ "name": "Dan only", "start": {"type": "blank"},
        "triggers": { "filter_groups": [[{ "property": "email", "operator": "eq", "value": "dan@example.com" }]] },
        "steps": [{ "type": "create_task", "title": "Call" }] })).await;
    let res = app
        .post_form(
            &format!("/workflows/{dan_only}/review"),
            &format!("/workflows/{dan_only}/review/save-list"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let dan_list: i64 = location(&res)
        .trim_start_matches("/lists/")
        .parse()
        .expect("list id");

    let mut def = anniversary();
    def["settings"]["suppression"] = json!({ "filter_groups": [], "list_ids": [dan_list] });
    let id = create_workflow(&app, &token, def).await;
    let review = format!("/workflows/{id}/review");
    let html = app.get_html(&review).await;
    assert_eq!(
        text(&html, "#live-count").as_deref(),
        Some("2"),
        "Ada and Eve: Bob has no date, Cy is a lead, Dan is suppressed"
    );

    let res = app
        .post_form(&review, &format!("{review}/save-list"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list_path = location(&res);
    assert!(list_path.starts_with("/lists/"), "{list_path}");
    let html = app.get_html(&list_path).await;
    assert!(
        flash(&html)
            .unwrap_or_default()
            .contains("Saved 2 contacts"),
        "{:?}",
        flash(&html)
    );
    let emails: Vec<String> = table_rows(&html).iter().map(|r| r.join(" ")).collect();
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert!(
        emails.iter().any(|r| r.contains("ada@example.com"))
            && emails.iter().any(|r| r.contains("eve@example.com"))
    );
    let lists = app.get_html("/lists").await;
    assert!(
        lists.contains("Anniversary — meets criteria"),
        "visible under Lists"
    );
    let _ = (ada, eve, dan);

    // No triggers: manual enrollment only, 0, and no list.
    let manual = create_workflow(
        &app,
        &token,
        json!({ "name": "Manual", "start": {"type": "blank"},
        "steps": [{ "type": "create_task", "title": "Call" }] }),
    )
    .await;
    let html = app.get_html(&format!("/workflows/{manual}/review")).await;
    assert_eq!(text(&html, "#live-count").as_deref(), Some("0"));
    assert!(html.contains("Manual enrollment only"));

    // Event triggers: described, and nobody meets them in advance.
    let on_event = create_workflow(
        &app,
        &token,
        json!({ "name": "On signup", "start": {"type": "blank"},
            "triggers": { "events": [{ "name": "contact_created",
                "filters": [{ "property": "lifecyclestage", "operator": "eq", "value": "lead" }] }] },
            "steps": [{ "type": "create_task", "title": "Call" }] }),
    )
    .await;
    let html = app.get_html(&format!("/workflows/{on_event}/review")).await;
    assert_eq!(text(&html, "#live-count").as_deref(), Some("0"));
    assert_eq!(
        text(&html, "#event-triggers").as_deref(),
        Some("When “Contact created” occurs and Lifecycle stage is “Lead”")
    );
    assert!(!html.contains("Manual enrollment only"));
}

#[tokio::test]
async fn turn_on_with_existing_contacts_then_turn_off() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let ada = contact(
        &app,
        &token,
        "ada@example.com",
        json!({"firstname": "Ada", "lifecyclestage": "customer", "customer_since": "2020-01-20"}),
    )
    .await;
    let id = create_workflow(&app, &token, anniversary()).await;
    let review = format!("/workflows/{id}/review");
    let html = app.get_html(&review).await;
    assert!(html.contains("Enroll contacts who already meet the criteria?"));
    assert!(html.contains("No, only contacts who meet them after turning on"));
    assert!(html.contains("Yes, enroll existing contacts as of now"));

    let confirm = format!("{review}/confirm?enroll_existing=yes");
    let html = app.get_html(&confirm).await;
    assert!(html.contains("Yes, turn on"));
    assert_eq!(
        attr(&html, "input[name=enroll_existing]", "value").as_deref(),
        Some("yes")
    );
    let res = app
        .post_form(
            &confirm,
            &format!("/workflows/{id}/publish"),
            &[("enroll_existing", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/workflows/{id}"));
    let html = app.get_html(&review).await;
    assert_eq!(
        flash(&html).as_deref(),
        Some("Turned on. Enrolled 1 existing contact.")
    );
    assert_eq!(workflow(&app, &token, id).await["status"], "on");
    let (_, list) = app
        .api_get(&format!("/workflows/{id}/enrollments"), &token)
        .await;
    assert_eq!(list["enrollments"][0]["contact_id"], ada, "{list}");
    assert_eq!(list["enrollments"].as_array().unwrap().len(), 1);

    // Turn off asks first, and says what happens to the pending actions.
    let html = app.get_html(&review).await;
    assert_eq!(
        attr(&html, "#turn-off", "href").as_deref(),
        Some(format!("/workflows/{id}/turn-off").as_str())
    );
    let off = format!("/workflows/{id}/turn-off");
    let html = app.get_html(&off).await;
    assert_eq!(
        text(&html, "#confirm-title").as_deref(),
        Some("Turn off “Anniversary”?")
    );
    let enrolled = text(&html, "#turn-off-enrolled").unwrap_or_default();
    assert!(
        enrolled.starts_with("The 1 contact enrolled now stay enrolled."),
        "{enrolled}"
    );
    assert!(
        enrolled.contains("skipped and logged in History"),
        "{enrolled}"
    );
    assert_eq!(
        workflow(&app, &token, id).await["status"],
        "on",
        "asking changes nothing"
    );
    let res = app.post_form(&off, &off, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/workflows/{id}"));
    let html = app.get_html(&review).await;
    assert_eq!(
        flash(&html).as_deref(),
        Some("Turned off: no new enrollments. Enrolled contacts stay enrolled; an action whose time comes while the workflow is off is skipped and logged in History.")
    );
    assert_eq!(workflow(&app, &token, id).await["status"], "off");
    assert!(
        html.contains("Enroll contacts who already meet the criteria?"),
        "asks again"
    );
}

#[tokio::test]
async fn the_test_page_shows_the_seed_example_timeline() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let ada = contact(
        &app,
        &token,
        "ada@example.com",
        json!({"firstname": "Ada", "lifecyclestage": "customer", "customer_since": "2020-01-20"}),
    )
    .await;
    let bob = contact(
        &app,
        &token,
        "bob@example.com",
        json!({"firstname": "Bob", "lifecyclestage": "customer"}),
    )
    .await;
    let id = create_workflow(&app, &token, anniversary()).await;
    let html = app.get_html(&format!("/workflows/{id}/test")).await;
    let options = texts(&html, "#f-contact_id option");
    assert!(
        options
            .iter()
            .any(|o| o.contains("Ada") && o.contains("2020-01-20")),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o.contains("Bob")),
        "only contacts with the date: {options:?}"
    );

    let html = app
        .get_html(&format!(
            "/workflows/{id}/test?contact_id={ada}&now=2021-03-01T12:00:00Z"
        ))
        .await;
    assert_eq!(text(&html, "#anchor-date").as_deref(), Some("2021-01-20"));
    assert_eq!(text(&html, "#cycle-year").as_deref(), Some("2021"));
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1][1].contains("Send email “Thank you”"), "{rows:?}");
    assert!(rows[1][2].starts_with("2021-11-16 09:00"), "{rows:?}");
    assert_eq!(rows[1][3], "due");
    assert_eq!(
        attr(&html, "#f-now", "value").as_deref(),
        Some("2021-03-01T12:00")
    );

    let html = app
        .get_html(&format!("/workflows/{id}/test?contact_id={bob}"))
        .await;
    assert!(text(&html, "#timeline-note")
        .unwrap_or_default()
        .contains("would not be enrolled"));

    let html = app.get_html(&format!("/workflows/{id}/test?q=bob")).await;
    assert!(texts(&html, ".results a").iter().any(|r| r.contains("Bob")));

    // The enroll button: refused while off, with the reason.
    let res = app
        .post_form(
            &format!("/workflows/{id}/test?contact_id={ada}"),
            &format!("/workflows/{id}/test/enroll"),
            &[("contact_id", &ada.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&location(&res)).await;
    assert!(
        flash(&html)
            .unwrap_or_default()
            .contains("The workflow is off"),
        "{:?}",
        flash(&html)
    );
}

#[tokio::test]
async fn history_lists_events_filters_and_pages() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    for i in 0..55 {
        contact(
            &app,
            &token,
            &format!("c{i:02}@example.com"),
            json!({"lifecyclestage": "customer", "customer_since": "2020-01-20"}),
        )
        .await;
    }
    let id = create_workflow(&app, &token, anniversary()).await;
    let (s, on) = app
        .api_post(
            &format!("/workflows/{id}/publish"),
            &token,
            json!({"enroll_existing": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    let page = format!("/workflows/{id}/history");
    let html = app.get_html(&page).await;
    let rows = history_rows(&html);
    assert_eq!(rows.len(), 50, "a page of 50");
    let kinds: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(kinds.contains(&"Scheduled"), "{kinds:?}");
    assert!(attr(&html, "a[rel=next]", "href").is_some(), "Older →");

    // Event filter, kept across pages.
    let html = app.get_html(&format!("{page}?event=enrolled")).await;
    let first = history_rows(&html);
    assert_eq!(first.len(), 50);
    assert!(first.iter().all(|r| r[1] == "Enrolled"), "{first:?}");
    let older = attr(&html, "a[rel=next]", "href").expect("older link");
    assert!(
        older.contains("event=enrolled") && older.contains("before="),
        "{older}"
    );
    let html = app.get_html(&older).await;
    let second = history_rows(&html);
    assert_eq!(second.len(), 5, "55 enrolled events in all");
    assert!(second.iter().all(|r| r[1] == "Enrolled"));
    assert!(attr(&html, "a[rel=next]", "href").is_none());
    let mut emails: Vec<String> = first
        .iter()
        .chain(second.iter())
        .map(|r| r[2].clone())
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 55, "no event twice");

    // Contact filter by email and by id.
    let html = app
        .get_html(&format!("{page}?contact=c07@example.com"))
        .await;
    let rows = history_rows(&html);
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r[2].contains("c07@example.com")),
        "{rows:?}"
    );
    assert_eq!(
        rows.last().map(|r| r[1].as_str()),
        Some("Enrolled"),
        "newest first"
    );
    assert!(
        rows.iter().any(|r| r[2].contains("Step 1 · Date delay")),
        "steps numbered from 1 with their type: {rows:?}"
    );
    let res = app.get(&format!("{page}?contact=nobody@example.com")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("No contact has the email"));

    // Date range in the workflow's zone: today has everything, an old range nothing.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let html = app
        .get_html(&format!("{page}?event=enrolled&from={today}&to={today}"))
        .await;
    assert_eq!(history_rows(&html).len(), 50);
    let html = app
        .get_html(&format!("{page}?from=2001-01-01&to=2001-12-31"))
        .await;
    assert!(history_rows(&html).is_empty());
    assert!(html.contains("No events match"));

    // Past ranges are found from the end of the range, not by walking every newer event:
    // a workflow whose history was written over two months, then today.
    let old = create_workflow(&app, &token, anniversary()).await;
    {
        use diesel::RunQueryDsl;
        let mut conn = app.db();
        let (_, c) = app.api_get("/contacts?email=c00@example.com", &token).await;
        let cid = c["contacts"][0]["id"].as_i64().unwrap();
        let today = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string();
        for at in [
            "2020-01-01T10:00:00.000Z",
            "2020-01-02T10:00:00.000Z",
            "2020-01-10T10:00:00.000Z",
            "2020-02-01T10:00:00.000Z",
            "2020-02-03T10:00:00.000Z",
            today.as_str(),
        ] {
            diesel::sql_query(format!(
                "INSERT INTO history_events (workflow_id, contact_id, at, event, step, detail, revision)
                 VALUES ({old}, {cid}, '{at}', 'completed', NULL, 'at {at}', 1)"
            ))
            .execute(&mut *conn)
            .unwrap();
        }
    }
    let old_page = format!("/workflows/{old}/history");
    let html = app
        .get_html(&format!("{old_page}?from=2020-01-01&to=2020-01-10"))
        .await;
    let details: Vec<String> = texts(&html, "li.history-item dd.detail");
    assert_eq!(
        details,
        [
            "at 2020-01-10T10:00:00.000Z",
            "at 2020-01-02T10:00:00.000Z",
            "at 2020-01-01T10:00:00.000Z"
        ]
    );
    let html = app.get_html(&format!("{old_page}?to=2020-02-01")).await;
    assert_eq!(history_rows(&html).len(), 4);
    let html = app.get_html(&format!("{old_page}?from=2020-02-02")).await;
    assert_eq!(history_rows(&html).len(), 2);
}

#[tokio::test]
async fn revisions_list_view_and_restore() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = create_workflow(&app, &token, example()).await;
    let mut renamed = example();
    renamed["name"] = json!("Renewal reminder v2");
    let (s, _) = app
        .api_put(&format!("/workflows/{id}"), &token, renamed)
        .await;
    assert_eq!(s, StatusCode::OK);

    let html = app.get_html(&format!("/workflows/{id}/revisions")).await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0][0].contains("Revision 2") && rows[0][0].contains("current"),
        "{rows:?}"
    );
    assert_eq!(rows[0][2], "API");
    let html = app.get_html(&format!("/workflows/{id}/revisions/1")).await;
    let json_text = text(&html, "pre.json").unwrap_or_default();
    assert!(
        json_text.contains("\"name\": \"Renewal reminder\""),
        "{json_text}"
    );
    assert_eq!(
        app.get(&format!("/workflows/{id}/revisions/9"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let res = app
        .post_form(
            &format!("/workflows/{id}/revisions/1"),
            &format!("/workflows/{id}/revisions/1/restore"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/workflows/{id}"));
    let wf = workflow(&app, &token, id).await;
    assert_eq!(wf["revision"], 3);
    assert_eq!(wf["definition"], example());
    let html = app.get_html(&format!("/workflows/{id}/revisions")).await;
    assert_eq!(
        flash(&html).as_deref(),
        Some("Restored revision 1 as revision 3.")
    );
    assert!(table_rows(&html)[0][2].contains("restored revision 1"));
}

#[tokio::test]
async fn manual_enrollment_from_the_contact_page_and_refusal_when_suppressed() {
    let (app, token) = TestApp::ready().await;
    let ada = contact(&app, &token, "ada@example.com", json!({"firstname": "Ada"})).await;
    let zed = contact(&app, &token, "zed@example.com", json!({"firstname": "Zed"})).await;
    // A list holding Zed (saved from review), used to suppress.
    let zed_only = create_workflow(&app, &token, json!({ "name": "Zed only", "start": {"type": "blank"},
        "triggers": { "filter_groups": [[{ "property": "email", "operator": "eq", "value": "zed@example.com" }]] },
        "steps": [{ "type": "create_task", "title": "Call" }] })).await;
    let res = app
        .post_form(
            &format!("/workflows/{zed_only}/review"),
            &format!("/workflows/{zed_only}/review/save-list"),
            &[],
        )
        .await;
    let zed_list: i64 = location(&res)
        .trim_start_matches("/lists/")
        .parse()
        .expect("list id");

    let id = create_workflow(&app, &token, json!({ "name": "Welcome call", "start": {"type": "blank"},
        "steps": [{ "type": "delay", "amount": 2, "unit": "days" }, { "type": "create_task", "title": "Call" }],
        "settings": { "suppression": { "list_ids": [zed_list] } } })).await;
    let contact_page = format!("/contacts/{ada}");
    let html = app.get_html(&contact_page).await;
    assert!(
        html.contains(&format!("action=\"/contacts/{ada}/enroll\"")),
        "the contact page offers enrollment"
    );
    let html = app.get_html(&format!("/contacts/{ada}/enroll")).await;
    assert!(html.contains("No workflow is on"));
    let (s, _) = app
        .api_post(
            &format!("/workflows/{id}/publish"),
            &token,
            json!({"enroll_existing": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let choose = format!("/contacts/{ada}/enroll");
    let html = app.get_html(&choose).await;
    assert_eq!(texts(&html, "#f-workflow_id option"), ["Welcome call"]);
    let res = app
        .post_form(&choose, &choose, &[("workflow_id", &id.to_string())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), contact_page);
    let html = app.get_html(&contact_page).await;
    let msg = flash(&html).unwrap_or_default();
    assert!(
        msg.starts_with("Enrolled Ada in “Welcome call”. Next step due"),
        "{msg}"
    );
    let (_, list) = app
        .api_get(
            &format!("/workflows/{id}/enrollments?contact_id={ada}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"][0]["status"], "active", "{list}");

    let choose = format!("/contacts/{zed}/enroll");
    let res = app
        .post_form(&choose, &choose, &[("workflow_id", &id.to_string())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&format!("/contacts/{zed}")).await;
    let msg = flash(&html).unwrap_or_default();
    assert!(
        msg.contains("suppressed") && msg.contains("Zed only — meets criteria"),
        "{msg}"
    );
    let (_, list) = app
        .api_get(
            &format!("/workflows/{id}/enrollments?contact_id={zed}"),
            &token,
        )
        .await;
    assert_eq!(list["enrollments"], json!([]));
}

#[tokio::test]
async fn outbox_tasks_and_inbox_show_what_actions_left() {
    let (app, token) = TestApp::ready().await;
    let ada = contact(&app, &token, "ada@example.com", json!({"firstname": "Ada"})).await;
    let id = create_workflow(&app, &token, json!({ "name": "Onboarding", "start": {"type": "blank"},
        "steps": [
            { "type": "send_email", "subject": "Welcome, {{ contact.firstname }}", "body": "Hello {{ contact.firstname }}!" },
            { "type": "create_task", "title": "Call {{ contact.firstname }}", "due_in_days": 3 },
            { "type": "internal_notification", "message": "{{ contact.firstname }} joined" } ] })).await;
    let (s, _) = app
        .api_post(
            &format!("/workflows/{id}/publish"),
            &token,
            json!({"enroll_existing": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = app
        .api_post(
            &format!("/workflows/{id}/enrollments"),
            &token,
            json!({"contact_id": ada}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let started = std::time::Instant::now();
    loop {
        let html = app.get_html("/inbox").await;
        if !texts(&html, ".inbox-list li").is_empty() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "actions ran within 3 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let html = app.get_html("/outbox").await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0][1].contains("Ada") && rows[0][1].contains("ada@example.com"),
        "{rows:?}"
    );
    assert!(
        rows[0][2].contains("Welcome, Ada") && rows[0][2].contains("Hello Ada!"),
        "{rows:?}"
    );
    assert_eq!(rows[0][3], "Onboarding");
    assert!(rows[0][4].contains("Kept"), "{rows:?}");
    assert!(html.contains("aria-current=\"page\">Outbox"), "in the nav");

    let html = app.get_html("/tasks").await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0][0].contains("Call Ada"));
    assert_eq!(rows[0][1], "Ada");
    assert_eq!(rows[0][3], "Onboarding");
    let task_form = attr(&html, "form[action$='/done']", "action").expect("mark done form");
    let res = app.post_form("/tasks", &task_form, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/tasks").await;
    assert!(
        table_rows(&html).is_empty(),
        "done tasks leave the open list"
    );
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Task marked done"));
    assert_eq!(table_rows(&app.get_html("/tasks?show=done").await).len(), 1);

    let html = app.get_html("/inbox").await;
    let items = texts(&html, ".inbox-list li");
    assert!(
        items[0].contains("Ada joined")
            && items[0].contains("Onboarding")
            && items[0].contains("new"),
        "{items:?}"
    );
    let read = attr(&html, ".inbox-list form", "action").expect("mark read form");
    let res = app.post_form("/inbox", &read, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/inbox").await;
    assert!(texts(&html, ".inbox-list li.unread").is_empty());
    assert_eq!(texts(&html, ".inbox-list li.read").len(), 1);
}

#[tokio::test]
async fn the_contact_page_shows_the_next_action_in_the_workflows_time_zone() {
    let (app, token) = TestApp::ready().await;
    let ada = contact(&app, &token, "ada@example.com", json!({"firstname": "Ada"})).await;
    let id = app.publish_workflow(&token, json!({ "name": "Tokyo follow-up", "start": {"type": "blank"},
        "steps": [{ "type": "delay", "amount": 2, "unit": "days" }, { "type": "create_task", "title": "Call" }],
        "settings": { "time_zone": "Asia/Tokyo" } }), false).await;
    let (s, e) = app
        .api_post(
            &format!("/workflows/{id}/enrollments"),
            &token,
            json!({"contact_id": ada}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    // The API gives the due time in the workflow's zone: "2026-12-01T03:04:05.678+09:00".
    let due = e["next_due_at"].as_str().expect("next_due_at").to_string();
    assert!(due.ends_with("+09:00"), "{due}");
    let expected = format!(
        "Next action: {} (Asia/Tokyo)",
        chrono::DateTime::parse_from_rfc3339(&due)
            .expect("an instant")
            .format("%a %-d %b %Y %H:%M")
    );
    let html = app.get_html(&format!("/contacts/{ada}")).await;
    assert!(
        html.contains(&expected),
        "{expected} not on the contact page"
    );
}
