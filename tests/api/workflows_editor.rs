//! The workflow list, Create workflow and the editor, driven like a browser without
//! JavaScript: plain GETs and form posts, definitions read back through the API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attr, attrs, flash, location, table_rows, text, texts, TestApp};

async fn property(app: &TestApp, token: &str, name: &str, label: &str, ft: &str) {
    let (s, body) = app
        .api_post(
            "/properties",
            token,
            json!({"name": name, "label": label, "field_type": ft}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

/// Renewal date (date), Score (number), VIP (checkbox), Notice (text).
async fn with_properties(app: &TestApp, token: &str) {
    property(app, token, "renewal_date", "Renewal date", "date").await;
    property(app, token, "score", "Score", "number").await;
    property(app, token, "vip", "VIP", "bool").await;
    property(app, token, "notice", "Notice", "text").await;
}

/// A static list made through the Lists page; its id.
async fn list(app: &TestApp, name: &str) -> i64 {
    let res = app.post_form("/lists", "/lists", &[("name", name)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    id_in(&location(&res), "/lists/")
}

fn id_in(loc: &str, prefix: &str) -> i64 {
    loc.trim_start_matches(prefix)
        .split(['#', '?', '/'])
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {loc:?}"))
}

/// Creates a workflow through Create workflow > From scratch; its id.
async fn create(app: &TestApp, fields: &[(&str, &str)]) -> i64 {
    let mut all = vec![("object_type", "contact")];
    all.extend_from_slice(fields);
    let res = app
        .post_form("/workflows/new", "/workflows/new", &all)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "create {fields:?}");
    id_in(&location(&res), "/workflows/")
}

async fn renewal_workflow(app: &TestApp) -> i64 {
    create(
        app,
        &[
            ("start", "contact_date_property"),
            ("property", "renewal_date"),
            ("name", "Renewal reminder"),
        ],
    )
    .await
}

/// (revision, definition) read back through the API.
async fn definition(app: &TestApp, token: &str, id: i64) -> (i64, Value) {
    let (s, wf) = app.api_get(&format!("/workflows/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{wf}");
    (
        wf["revision"].as_i64().unwrap_or(0),
        wf["definition"].clone(),
    )
}

/// Posts a panel's form from the editor page that shows it; returns the response.
async fn panel_post(
    app: &TestApp,
    id: i64,
    panel: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post_form(
        &format!("/workflows/{id}?panel={panel}"),
        &format!("/workflows/{id}{action}"),
        fields,
    )
    .await
}

/// Adds a step of `kind` to the list `arm` ("" = top level) after `after`.
async fn add_step(
    app: &TestApp,
    id: i64,
    kind: &str,
    after: &str,
    arm: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("type", kind), ("after", after), ("arm", arm)];
    all.extend_from_slice(fields);
    let page = format!("/workflows/{id}?panel=add&after={after}&arm={arm}&type={kind}");
    app.post_form(&page, &format!("/workflows/{id}/steps"), &all)
        .await
}

/// (form fields, selector of the message, part of the message).
type NewCase = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

/// (step type, form fields, the input at fault, part of its message).
type BadStep = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

async fn saved(res: reqwest::Response) -> String {
    let status = res.status();
    let loc = location(&res);
    let body = res.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "expected a save, got: {}",
        texts(&body, ".field-error, .flash").join(" | ")
    );
    loc
}

#[tokio::test]
async fn each_start_type_is_created_from_scratch_and_opens_the_editor() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;

    let page = app.get_html("/workflows/new").await;
    assert_eq!(
        attr(&page, "input[name=object_type][checked]", "value").as_deref(),
        Some("contact")
    );
    assert_eq!(
        attr(&page, "#f-name", "value").as_deref(),
        Some("Unnamed workflow")
    );
    assert!(
        text(&page, "label[for=f-name]").is_some(),
        "the name has a label"
    );
    assert_eq!(attr(&page, "#f-date", "type").as_deref(), Some("date"));

    let blank = create(&app, &[("start", "blank"), ("name", "Welcome")]).await;
    let (rev, def) = definition(&app, &token, blank).await;
    assert_eq!(rev, 1);
    assert_eq!(def["name"], "Welcome");
    assert_eq!(def["start"], json!({"type": "blank"}));
    assert_eq!(def["steps"], json!([]));
    assert_eq!(
        def["triggers"],
        json!({"filter_groups": [], "manual_only": false})
    );

    let dated = create(
        &app,
        &[
            ("start", "specific_date"),
            ("date", "2026-12-24"),
            ("name", "Christmas"),
        ],
    )
    .await;
    let (_, def) = definition(&app, &token, dated).await;
    assert_eq!(
        def["start"],
        json!({"type": "specific_date", "date": "2026-12-24"})
    );
    assert_eq!(
        def["steps"],
        json!([{"type": "date_delay", "when": "on", "time_of_day": "09:00"}])
    );
    assert_eq!(def["recur_annually"], false);

    let property = renewal_workflow(&app).await;
    let (_, def) = definition(&app, &token, property).await;
    assert_eq!(
        def["start"],
        json!({"type": "contact_date_property", "property": "renewal_date"})
    );
    assert_eq!(def["steps"][0]["type"], "date_delay");

    // Next lands in the editor with a flash.
    let res = app
        .post_form(
            "/workflows/new",
            "/workflows/new",
            &[("start", "blank"), ("name", "Another")],
        )
        .await;
    let loc = location(&res);
    assert!(loc.starts_with("/workflows/"), "{loc}");
    let html = app.get_html(&loc).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Created “Another”"));
    assert_eq!(text(&html, "h1.wf-name").as_deref(), Some("Another"));
}

#[tokio::test]
async fn birth_date_is_not_offered_and_the_page_says_why() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let page = app.get_html("/workflows/new").await;
    let offered = attrs(&page, "#f-property option", "value");
    assert!(offered.contains(&"renewal_date".to_string()), "{offered:?}");
    assert!(
        !offered.contains(&"date_of_birth".to_string()),
        "{offered:?}"
    );
    assert!(!offered.contains(&"score".to_string()), "{offered:?}");
    let note = text(&page, "#property-note").unwrap_or_default();
    assert!(note.contains("Birth date"), "{note}");
    assert!(note.contains("single-line text"), "{note}");
    assert!(
        attrs(&page, "#property-note a", "href")
            .contains(&"/settings/properties/new?field_type=date&label=Birthday".to_string()),
        "links to creating a date-picker property"
    );

    // Posted anyway (a crafted form): refused with the reason, beside the select.
    let res = app
        .post_form(
            "/workflows/new",
            "/workflows/new",
            &[
                ("start", "contact_date_property"),
                ("property", "date_of_birth"),
                ("name", "Birthdays"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let msg = text(&html, "#property-error").unwrap_or_default();
    assert!(msg.contains("single-line text"), "{msg}");
    assert_eq!(
        attr(&html, "#f-name", "value").as_deref(),
        Some("Birthdays")
    );
    let (_, all) = app.api_get("/workflows", &token).await;
    assert_eq!(all["workflows"], json!([]));
}

#[tokio::test]
async fn create_workflow_refuses_missing_input_and_keeps_what_was_typed() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let cases: Vec<NewCase> = vec![
        (
            vec![("start", "specific_date"), ("date", ""), ("name", "Gala")],
            "#date-error",
            "Choose the date of the event.",
        ),
        (
            vec![
                ("start", "specific_date"),
                ("date", "2026-02-30"),
                ("name", "Gala"),
            ],
            "#date-error",
            "not a valid date",
        ),
        (
            vec![
                ("start", "contact_date_property"),
                ("property", ""),
                ("name", "Gala"),
            ],
            "#property-error",
            "Choose the contact date property",
        ),
        (
            vec![("start", "blank"), ("name", "   ")],
            "#name-error",
            "Give the workflow a name.",
        ),
        (
            vec![("name", "Gala")],
            ".new-wf-start .field-error",
            "Choose how",
        ),
    ];
    for (fields, selector, message) in cases {
        let res = app
            .post_form("/workflows/new", "/workflows/new", &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = res.text().await.unwrap();
        let got = text(&html, selector).unwrap_or_default();
        assert!(got.contains(message), "{fields:?}: {got:?}");
        let name = fields.iter().find(|(k, _)| *k == "name").map(|f| f.1);
        assert_eq!(attr(&html, "#f-name", "value").as_deref(), name);
        if let Some((_, date)) = fields.iter().find(|(k, _)| *k == "date") {
            assert_eq!(attr(&html, "#f-date", "value").as_deref(), Some(*date));
        }
    }
    let (_, all) = app.api_get("/workflows", &token).await;
    assert_eq!(all["workflows"], json!([]), "nothing was created");
}

#[tokio::test]
async fn the_editor_draws_the_flow_as_cards() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    let html = app.get_html(&format!("/workflows/{id}")).await;

    let trigger = text(&html, "#card-trigger").unwrap_or_default();
    assert!(trigger.contains("Renewal date is known"), "{trigger}");
    // The built-in trigger enrolls on its own: the card says so in words.
    assert!(
        trigger.contains("Enrolls every contact whose Renewal date is known"),
        "{trigger}"
    );
    assert!(!trigger.contains("Manual enrollment only"), "{trigger}");
    let date = text(&html, "#card-start").unwrap_or_default();
    assert!(
        date.contains("Contact date property: Renewal date"),
        "{date}"
    );
    assert!(date.contains("Repeat annually"), "{date}");
    assert_eq!(
        attr(&html, "#card-start form", "action"),
        Some(format!("/workflows/{id}/recur"))
    );
    let first = text(&html, "#card-step-0").unwrap_or_default();
    assert!(first.contains("Execute next action on…"), "{first}");
    assert!(first.contains("On Renewal date at 09:00"), "{first}");
    // Cards open their panel; + adds after the first delay (not before it).
    assert_eq!(
        attr(&html, "#card-step-0 a.card-link", "href"),
        Some(format!("/workflows/{id}?panel=step-0#panel"))
    );
    let adds = attrs(&html, "a.connector-add", "href");
    assert_eq!(adds, [format!("/workflows/{id}?panel=add&after=0#panel")]);
    // The problems box names what blocks publishing, linked to its card.
    let problems = text(&html, ".wf-problems").unwrap_or_default();
    assert!(problems.contains("Add at least one action"), "{problems}");
    assert!(
        text(&html, "#panel").is_none(),
        "no panel until a card is chosen"
    );

    // The first delay's panel: no delete button, no move.
    let panel = app.get_html(&format!("/workflows/{id}?panel=step-0")).await;
    assert_eq!(
        text(&panel, "#panel-title").as_deref(),
        Some("Execute next action on…")
    );
    assert!(attrs(&panel, "#panel form", "action")
        .iter()
        .all(|a| !a.ends_with("/delete") && !a.ends_with("/move")));
    assert_eq!(
        attr(&panel, "#panel a.button.subtle", "href"),
        Some(format!("/workflows/{id}")),
        "Cancel goes back to the editor"
    );

    // A specific-date workflow shows its date; a blank one has no date card.
    let dated = create(
        &app,
        &[
            ("start", "specific_date"),
            ("date", "2026-12-24"),
            ("name", "X"),
        ],
    )
    .await;
    let html = app.get_html(&format!("/workflows/{dated}")).await;
    assert!(text(&html, "#card-start")
        .unwrap_or_default()
        .contains("Specific date: 2026-12-24"));
    let blank = create(&app, &[("start", "blank"), ("name", "B")]).await;
    let html = app.get_html(&format!("/workflows/{blank}")).await;
    assert!(text(&html, "#card-start").is_none());
    assert_eq!(
        attrs(&html, "a.connector-add", "href"),
        [format!("/workflows/{blank}?panel=add&after=-1#panel")]
    );
    let _ = token;
}

#[tokio::test]
async fn trigger_panel_saves_filter_groups_and_reenrollment() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let vip_list = list(&app, "VIP customers").await;
    let id = renewal_workflow(&app).await;

    let panel = app
        .get_html(&format!("/workflows/{id}?panel=trigger"))
        .await;
    assert!(text(&panel, ".filter-builtin")
        .unwrap_or_default()
        .contains("Renewal date is known"));
    // The empty group offers one blank row and the list select.
    assert!(attr(&panel, "#p-g0_f0_property", "name").is_some());
    assert!(attr(&panel, "#p-g0_addlist", "name").is_some());

    let list_id = vip_list.to_string();
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "customer"),
            ("g0_f1_property", "score"),
            ("g0_f1_operator", "gt"),
            ("g0_f1_value", "10"),
            ("g0_addlist", &list_id),
            ("g1_f0_property", "vip"),
            ("g1_f0_operator", "known"),
            ("g1_f0_value", ""),
            ("reenroll_enabled", "1"),
            ("reenroll_properties", "renewal_date"),
            ("reenroll_properties", "score"),
        ],
    )
    .await;
    saved(res).await;
    let (rev, def) = definition(&app, &token, id).await;
    assert_eq!(rev, 2);
    assert_eq!(
        def["triggers"],
        json!({"filter_groups": [
            [{"property": "lifecyclestage", "operator": "eq", "value": "customer"},
             {"property": "score", "operator": "gt", "value": 10},
             {"operator": "in_list", "value": vip_list}],
            [{"property": "vip", "operator": "known"}]
        ], "manual_only": false})
    );
    assert_eq!(
        def["reenroll"],
        json!({"enabled": true, "on_properties": ["renewal_date", "score"]})
    );

    // The card summarises it; the panel shows it back.
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let card = text(&html, "#card-trigger").unwrap_or_default();
    assert!(
        card.contains("Lifecycle stage is equal to Customer and Score is greater than 10"),
        "{card}"
    );
    assert!(card.contains("VIP customers"), "{card}");
    assert!(card.contains("or VIP is known"), "{card}");
    let panel = app
        .get_html(&format!("/workflows/{id}?panel=trigger"))
        .await;
    assert_eq!(
        attr(&panel, "#p-g0_f1_operator option[selected]", "value").as_deref(),
        Some("gt")
    );
    assert_eq!(
        attr(&panel, "#p-g0_f1_value", "value").as_deref(),
        Some("10")
    );
    // Operators are limited to the property's type (a number has no "contains").
    let ops = attrs(&panel, "#p-g0_f1_operator option", "value");
    assert!(ops.contains(&"lt".to_string()) && !ops.contains(&"contains".to_string()));
    assert_eq!(
        attr(&panel, "#p-g0_f2_value option[selected]", "value"),
        Some(list_id.clone())
    );
    assert!(attr(
        &panel,
        "#p-reenroll_properties option[value=score][selected]",
        "value"
    )
    .is_some());

    // "Add OR group" re-draws the panel with another group; nothing is saved.
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "lead"),
            ("action", "add_group"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, ".filter-group legend").len(), 2);
    // A dropdown's value is chosen by label; the choice is kept.
    assert_eq!(
        attr(&html, "#p-g0_f0_value option[selected]", "value").as_deref(),
        Some("lead"),
        "typed input is kept"
    );
    assert_eq!(definition(&app, &token, id).await.0, 2);

    // Removing rows (and with them a whole group) and turning re-enrollment off.
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "customer"),
            ("g0_f1_property", "score"),
            ("g0_f1_operator", "gt"),
            ("g0_f1_value", "10"),
            ("g0_f1_remove", "1"),
            ("g0_f2_operator", "in_list"),
            ("g0_f2_value", &list_id),
            ("g0_f2_remove", "1"),
            ("g1_f0_property", "vip"),
            ("g1_f0_operator", "known"),
            ("g1_f0_remove", "1"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(
        def["triggers"]["filter_groups"],
        json!([[{"property": "lifecyclestage", "operator": "eq", "value": "customer"}]])
    );
    assert_eq!(def["reenroll"]["enabled"], false);

    // Everything removed: the built-in trigger alone enrolls.
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "customer"),
            ("g0_f0_remove", "1"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["triggers"]["filter_groups"], json!([]));
    assert_eq!(def["triggers"]["manual_only"], false);
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(text(&html, "#card-trigger")
        .unwrap_or_default()
        .contains("Enrolls every contact whose Renewal date is known"));

    // "Enroll manually only" is an explicit choice on the panel, stated on the card.
    let res = panel_post(&app, id, "trigger", "/trigger", &[("manual_only", "1")]).await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["triggers"]["manual_only"], true);
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let card = text(&html, "#card-trigger").unwrap_or_default();
    assert!(card.contains("Enroll manually only"), "{card}");
    let panel = app
        .get_html(&format!("/workflows/{id}?panel=trigger"))
        .await;
    assert_eq!(
        attr(&panel, "#p-manual_only", "checked").as_deref(),
        Some("")
    );
}

#[tokio::test]
async fn invalid_trigger_conditions_are_shown_beside_their_inputs() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "customer"),
            ("g0_f1_property", "score"),
            ("g0_f1_operator", "contains"),
            ("g0_f1_value", "7"),
            ("g1_f0_property", "ghost"),
            ("g1_f0_operator", "known"),
            ("g1_f1_property", "renewal_date"),
            ("g1_f1_operator", "before"),
            ("g1_f1_value", "soon"),
            ("g2_f0_property", "vip"),
            ("g2_f0_operator", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    // A form-level problem first: the operator nobody chose.
    assert_eq!(
        text(&html, "#p-g2_f0_operator-error").as_deref(),
        Some("Choose how to compare.")
    );
    assert_eq!(
        attr(&html, "#p-g1_f1_value", "value").as_deref(),
        Some("soon")
    );
    // With the operator chosen, validation speaks beside each input.
    let res = panel_post(
        &app,
        id,
        "trigger",
        "/trigger",
        &[
            ("g0_f0_property", "lifecyclestage"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "customer"),
            ("g0_f1_property", "score"),
            ("g0_f1_operator", "contains"),
            ("g0_f1_value", "7"),
            ("g1_f0_property", "ghost"),
            ("g1_f0_operator", "known"),
            ("g1_f1_property", "renewal_date"),
            ("g1_f1_operator", "before"),
            ("g1_f1_value", "soon"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#p-g0_f1_operator-error")
        .unwrap_or_default()
        .contains("does not apply to Score"));
    assert!(text(&html, "#p-g1_f0_property-error")
        .unwrap_or_default()
        .contains("no property named \"ghost\""));
    assert!(text(&html, "#p-g1_f1_value-error")
        .unwrap_or_default()
        .contains("not a date"));
    assert_eq!(
        attr(&html, "#p-g1_f1_value", "value").as_deref(),
        Some("soon")
    );
    assert_eq!(
        attr(&html, "#p-g1_f0_property option[selected]", "value").as_deref(),
        Some("ghost"),
        "an unknown property stays selected"
    );
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Nothing was saved"));
    let (rev, def) = definition(&app, &token, id).await;
    assert_eq!(rev, 1);
    assert_eq!(def["triggers"]["filter_groups"], json!([]));
}

#[tokio::test]
async fn date_delay_panel_writes_the_definition() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    let panel = app.get_html(&format!("/workflows/{id}?panel=step-0")).await;
    assert_eq!(
        attr(&panel, "input[name=when][checked]", "value").as_deref(),
        Some("on")
    );
    assert_eq!(
        attr(&panel, "#p-time_of_day", "type").as_deref(),
        Some("time")
    );
    assert!(text(&panel, "#panel")
        .unwrap_or_default()
        .contains("Use the contact's time zone (falls back to the workflow's)"));

    let res = panel_post(
        &app,
        id,
        "step-0",
        "/steps/0",
        &[
            ("type", "date_delay"),
            ("when", "before"),
            ("amount", "30"),
            ("unit", "days"),
            ("time_of_day", "09:00"),
        ],
    )
    .await;
    saved(res).await;
    let (rev, def) = definition(&app, &token, id).await;
    assert_eq!(rev, 2);
    assert_eq!(
        def["steps"][0],
        json!({"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00"})
    );
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(text(&html, "#card-step-0")
        .unwrap_or_default()
        .contains("30 days before Renewal date at 09:00"));

    // Weeks after, in the contact's zone; then back to "on", which drops amount and unit.
    let res = panel_post(
        &app,
        id,
        "step-0",
        "/steps/0",
        &[
            ("type", "date_delay"),
            ("when", "after"),
            ("amount", "2"),
            ("unit", "weeks"),
            ("time_of_day", "17:30"),
            ("zone_contact", "1"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"][0],
        json!({"type": "date_delay", "when": "after", "amount": 2, "unit": "weeks", "time_of_day": "17:30", "zone": "contact"})
    );
    let res = panel_post(
        &app,
        id,
        "step-0",
        "/steps/0",
        &[
            ("type", "date_delay"),
            ("when", "on"),
            ("amount", "2"),
            ("unit", "weeks"),
            ("time_of_day", "08:00"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"][0],
        json!({"type": "date_delay", "when": "on", "time_of_day": "08:00"})
    );
}

/// (type, form fields, expected step JSON) for the table-driven tests.
type Case = (&'static str, Vec<(&'static str, String)>, Value);

fn f(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

#[tokio::test]
async fn every_action_type_can_be_added() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let list_id = list(&app, "Newsletter").await;
    let other = create(&app, &[("start", "blank"), ("name", "Other")]).await;
    let id = renewal_workflow(&app).await;
    let l = list_id.to_string();
    let o = other.to_string();
    let cases: Vec<Case> = vec![
        (
            "set_property",
            f(&[("property", "lifecyclestage"), ("value", "customer")]),
            json!({"type": "set_property", "property": "lifecyclestage", "value": "customer"}),
        ),
        (
            "set_property",
            f(&[("property", "score"), ("value", "42")]),
            json!({"type": "set_property", "property": "score", "value": 42}),
        ),
        (
            "copy_property",
            f(&[("from", "firstname"), ("to", "notice")]),
            json!({"type": "copy_property", "from": "firstname", "to": "notice"}),
        ),
        (
            "clear_property",
            f(&[("property", "notice")]),
            json!({"type": "clear_property", "property": "notice"}),
        ),
        (
            "adjust_property",
            f(&[
                ("property", "score"),
                ("direction", "increase"),
                ("amount", "5"),
            ]),
            json!({"type": "adjust_property", "property": "score", "amount": 5.0}),
        ),
        (
            "adjust_property",
            f(&[
                ("property", "score"),
                ("direction", "decrease"),
                ("amount", "2.5"),
            ]),
            json!({"type": "adjust_property", "property": "score", "amount": -2.5}),
        ),
        (
            "send_email",
            f(&[
                ("subject", "Renewal soon, {{ contact.firstname }}"),
                (
                    "body",
                    "Hi {{ contact.firstname }},\nyour plan renews soon.",
                ),
            ]),
            json!({"type": "send_email", "subject": "Renewal soon, {{ contact.firstname }}", "body": "Hi {{ contact.firstname }},\nyour plan renews soon."}),
        ),
        (
            "internal_notification",
            f(&[
                ("message", "Renewal for {{ contact.email }}"),
                ("recipients", "ops@example.com, sales@example.com"),
            ]),
            json!({"type": "internal_notification", "message": "Renewal for {{ contact.email }}", "recipients": ["ops@example.com", "sales@example.com"]}),
        ),
        (
            "internal_notification",
            f(&[("message", "Inbox only"), ("recipients", "")]),
            json!({"type": "internal_notification", "message": "Inbox only"}),
        ),
        (
            "create_task",
            f(&[
                ("title", "Call"),
                ("notes", "Ask about the plan"),
                ("due_in_days", "3"),
            ]),
            json!({"type": "create_task", "title": "Call", "notes": "Ask about the plan", "due_in_days": 3}),
        ),
        (
            "create_task",
            f(&[("title", "Call"), ("notes", ""), ("due_in_days", "")]),
            json!({"type": "create_task", "title": "Call"}),
        ),
        (
            "add_to_list",
            f(&[("list_id", &l)]),
            json!({"type": "add_to_list", "list_id": list_id}),
        ),
        (
            "remove_from_list",
            f(&[("list_id", &l)]),
            json!({"type": "remove_from_list", "list_id": list_id}),
        ),
        (
            "webhook",
            f(&[
                ("url", "https://hooks.example.com/renewal"),
                ("secret", "s3cret"),
            ]),
            json!({"type": "webhook", "url": "https://hooks.example.com/renewal", "secret": "s3cret"}),
        ),
        (
            "branch",
            f(&[
                ("g0_f0_property", "vip"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "true"),
                ("g1_f0_property", "score"),
                ("g1_f0_operator", "gt"),
                ("g1_f0_value", "3"),
            ]),
            json!({"type": "branch", "condition": [
                [{"property": "vip", "operator": "eq", "value": true}],
                [{"property": "score", "operator": "gt", "value": 3}]], "yes": [], "no": []}),
        ),
        (
            "enroll_in_workflow",
            f(&[("workflow_id", &o)]),
            json!({"type": "enroll_in_workflow", "workflow_id": other}),
        ),
        (
            "unenroll_from_workflow",
            f(&[("workflow_id", &o)]),
            json!({"type": "unenroll_from_workflow", "workflow_id": other}),
        ),
        (
            "date_delay",
            f(&[
                ("when", "after"),
                ("amount", "7"),
                ("unit", "days"),
                ("time_of_day", "10:15"),
            ]),
            json!({"type": "date_delay", "when": "after", "amount": 7, "unit": "days", "time_of_day": "10:15"}),
        ),
    ];
    let mut revision = definition(&app, &token, id).await.0;
    for (n, (kind, fields, expected)) in cases.iter().enumerate() {
        // The type's panel is reachable from the list of actions.
        let pick = app
            .get_html(&format!("/workflows/{id}?panel=add&after={n}"))
            .await;
        assert!(
            attrs(&pick, ".pick-item", "href")
                .iter()
                .any(|h| h.contains(&format!("type={kind}"))),
            "{kind} offered"
        );
        let after = n.to_string();
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = add_step(&app, id, kind, &after, "", &borrowed).await;
        let loc = saved(res).await;
        assert_eq!(loc, format!("/workflows/{id}#card-step-{}", n + 1));
        let (rev, def) = definition(&app, &token, id).await;
        assert_eq!(rev, revision + 1, "{kind}: one revision per save");
        revision = rev;
        assert_eq!(def["steps"][n + 1], *expected, "{kind}");
    }
    // Every card is drawn (trigger, date, first delay, the steps, and the goal card).
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert_eq!(
        texts(&html, "article.card-node").len(),
        2 + 1 + cases.len() + 1
    );
    let email = text(&html, "#card-step-7").unwrap_or_default();
    assert!(email.contains("Send email"), "{email}");

    // A blank workflow offers plain delays instead of date delays.
    let blank = create(&app, &[("start", "blank"), ("name", "Drip")]).await;
    let pick = app
        .get_html(&format!("/workflows/{blank}?panel=add&after=-1"))
        .await;
    let offered = attrs(&pick, ".pick-item", "href");
    assert!(!offered.iter().any(|h| h.contains("type=date_delay")));
    let blank_cases: Vec<Case> = vec![
        (
            "delay",
            f(&[("amount", "3"), ("unit", "hours")]),
            json!({"type": "delay", "amount": 3, "unit": "hours"}),
        ),
        (
            "delay_until",
            f(&[("days", "mon"), ("days", "fri"), ("time_of_day", "08:30")]),
            json!({"type": "delay_until", "days": ["mon", "fri"], "time_of_day": "08:30"}),
        ),
    ];
    for (n, (kind, fields, expected)) in blank_cases.iter().enumerate() {
        assert!(offered.iter().any(|h| h.contains(&format!("type={kind}"))));
        let after = (n as i64 - 1).to_string();
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        saved(add_step(&app, blank, kind, &after, "", &borrowed).await).await;
        let (_, def) = definition(&app, &token, blank).await;
        assert_eq!(def["steps"][n], *expected, "{kind}");
    }
}

#[tokio::test]
async fn steps_are_edited_moved_deleted_and_branch_paths_hold_steps() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    for (after, subject) in [("0", "First"), ("1", "Second")] {
        saved(
            add_step(
                &app,
                id,
                "send_email",
                after,
                "",
                &[("subject", subject), ("body", "Hello")],
            )
            .await,
        )
        .await;
    }
    // Edit: the panel shows the step; saving changes it.
    let panel = app.get_html(&format!("/workflows/{id}?panel=step-1")).await;
    assert_eq!(
        attr(&panel, "#p-subject", "value").as_deref(),
        Some("First")
    );
    let res = panel_post(
        &app,
        id,
        "step-1",
        "/steps/1",
        &[
            ("type", "send_email"),
            ("subject", "First, edited"),
            ("body", "Hi"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["steps"][1]["subject"], "First, edited");

    // Move down, then up again.
    let res = panel_post(&app, id, "step-1", "/steps/1/move", &[("dir", "down")]).await;
    assert_eq!(location(&res), format!("/workflows/{id}#card-step-2"));
    let (_, def) = definition(&app, &token, id).await;
    let subjects = |d: &Value| -> Vec<String> {
        d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subject"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    assert_eq!(subjects(&def), ["-", "Second", "First, edited"]);
    let res = panel_post(&app, id, "step-2", "/steps/2/move", &[("dir", "up")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(subjects(&def), ["-", "First, edited", "Second"]);
    // Moving above the first delay is refused.
    let rev = definition(&app, &token, id).await.0;
    let res = panel_post(&app, id, "step-1", "/steps/1/move", &[("dir", "up")]).await;
    let html = app.get_html(&location(&res)).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("first step stays the delay"));
    assert_eq!(definition(&app, &token, id).await.0, rev);

    // A branch with a step in each path; the step in the Yes path is edited and deleted.
    saved(
        add_step(
            &app,
            id,
            "branch",
            "2",
            "",
            &[
                ("g0_f0_property", "vip"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "true"),
            ],
        )
        .await,
    )
    .await;
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let adds = attrs(&html, "a.connector-add", "href");
    assert!(adds.contains(&format!(
        "/workflows/{id}?panel=add&after=-1&arm=3-yes#panel"
    )));
    assert!(adds.contains(&format!(
        "/workflows/{id}?panel=add&after=-1&arm=3-no#panel"
    )));
    let loc = saved(
        add_step(
            &app,
            id,
            "clear_property",
            "-1",
            "3-yes",
            &[("property", "notice")],
        )
        .await,
    )
    .await;
    assert_eq!(loc, format!("/workflows/{id}#card-step-3-yes-0"));
    saved(
        add_step(
            &app,
            id,
            "create_task",
            "-1",
            "3-no",
            &[("title", "Call them")],
        )
        .await,
    )
    .await;
    saved(
        add_step(
            &app,
            id,
            "create_task",
            "0",
            "3-no",
            &[("title", "And again")],
        )
        .await,
    )
    .await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"][3]["yes"],
        json!([{"type": "clear_property", "property": "notice"}])
    );
    assert_eq!(def["steps"][3]["no"][1]["title"], "And again");
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(text(&html, ".arm-yes #card-step-3-yes-0")
        .unwrap_or_default()
        .contains("Clear Notice"));
    assert!(text(&html, ".arm-no #card-step-3-no-1").is_some());

    let res = panel_post(
        &app,
        id,
        "step-3-yes-0",
        "/steps/3-yes-0",
        &[("type", "clear_property"), ("property", "score")],
    )
    .await;
    saved(res).await;
    // Moves stay within their own path.
    let res = panel_post(
        &app,
        id,
        "step-3-no-1",
        "/steps/3-no-1/move",
        &[("dir", "up")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["steps"][3]["yes"][0]["property"], "score");
    assert_eq!(def["steps"][3]["no"][0]["title"], "And again");
    // Editing the branch keeps its paths.
    let res = panel_post(
        &app,
        id,
        "step-3",
        "/steps/3",
        &[
            ("type", "branch"),
            ("g0_f0_property", "vip"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "false"),
        ],
    )
    .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["steps"][3]["condition"][0][0]["value"], false);
    assert_eq!(def["steps"][3]["no"].as_array().map(Vec::len), Some(2));

    let res = panel_post(&app, id, "step-3-yes-0", "/steps/3-yes-0/delete", &[]).await;
    saved(res).await;
    let res = panel_post(&app, id, "step-1", "/steps/1/delete", &[]).await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(subjects(&def)[..2], ["-".to_string(), "Second".to_string()]);
    assert_eq!(def["steps"][2]["type"], "branch");
    assert_eq!(def["steps"][2]["yes"], json!([]));

    // Unknown steps are 404s.
    let res = panel_post(&app, id, "step-1", "/steps/9/delete", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_first_date_delay_cannot_be_deleted() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    let res = panel_post(&app, id, "step-0", "/steps/0/delete", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&location(&res)).await;
    let message = flash(&html).unwrap_or_default();
    assert!(message.contains("cannot be deleted"), "{message}");
    assert!(html.contains("flash-error"));
    let (rev, def) = definition(&app, &token, id).await;
    assert_eq!(rev, 1);
    assert_eq!(def["steps"][0]["type"], "date_delay");
}

#[tokio::test]
async fn invalid_step_input_is_kept_and_nothing_is_saved() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    let rev = definition(&app, &token, id).await.0;

    // Editing the date delay with a bad time.
    let res = panel_post(
        &app,
        id,
        "step-0",
        "/steps/0",
        &[
            ("type", "date_delay"),
            ("when", "before"),
            ("amount", "30"),
            ("unit", "days"),
            ("time_of_day", "25:00"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#p-time_of_day-error")
        .unwrap_or_default()
        .contains("is not a time of day"));
    assert_eq!(
        attr(&html, "#p-time_of_day", "value").as_deref(),
        Some("25:00")
    );
    assert_eq!(attr(&html, "#p-amount", "value").as_deref(), Some("30"));
    assert_eq!(
        attr(&html, "input[name=when][checked]", "value").as_deref(),
        Some("before")
    );
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Nothing was saved"));

    // Adding steps: (type, fields, input, message).
    let cases: Vec<BadStep> = vec![
        (
            "webhook",
            vec![("url", "ftp://x"), ("secret", "")],
            "url",
            "Use an http:// or https:// URL.",
        ),
        (
            "set_property",
            vec![("property", "ghost"), ("value", "x")],
            "property",
            "no property named \"ghost\"",
        ),
        (
            "set_property",
            vec![("property", "score"), ("value", "lots")],
            "value",
            "not a number",
        ),
        (
            "adjust_property",
            vec![
                ("property", "notice"),
                ("direction", "increase"),
                ("amount", "1"),
            ],
            "property",
            "only number properties",
        ),
        (
            "adjust_property",
            vec![
                ("property", "score"),
                ("direction", "increase"),
                ("amount", "-3"),
            ],
            "amount",
            "not a positive number",
        ),
        (
            "date_delay",
            vec![
                ("when", "after"),
                ("amount", ""),
                ("unit", "days"),
                ("time_of_day", "09:00"),
            ],
            "amount",
            "Enter how many days or weeks.",
        ),
        (
            "internal_notification",
            vec![("message", "Hi"), ("recipients", "ops@example.com, nobody")],
            "recipients",
            "not a valid email address",
        ),
        (
            "create_task",
            vec![("title", "Call"), ("due_in_days", "soon")],
            "due_in_days",
            "not a whole number",
        ),
        (
            "add_to_list",
            vec![("list_id", "")],
            "list_id",
            "Choose a list.",
        ),
        (
            "copy_property",
            vec![("from", "score"), ("to", "renewal_date")],
            "to",
            "Cannot copy Score",
        ),
    ];
    for (kind, fields, input, message) in cases {
        let res = add_step(&app, id, kind, "0", "", &fields).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {fields:?}"
        );
        let html = res.text().await.unwrap();
        let got = text(&html, &format!("#p-{input}-error")).unwrap_or_default();
        assert!(got.contains(message), "{kind}: {got:?}");
        let (_, typed) = fields.iter().find(|(k, _)| *k == input).copied().unwrap();
        let kept = attr(&html, &format!("#p-{input}"), "value")
            .or_else(|| attr(&html, &format!("#p-{input} option[selected]"), "value"))
            .or_else(|| text(&html, &format!("textarea#p-{input}")));
        if !typed.is_empty() {
            assert_eq!(kept.as_deref(), Some(typed), "{kind}: input kept");
        }
        // Still the add panel, ready to submit again.
        assert_eq!(
            attr(&html, "#panel input[name=type]", "value").as_deref(),
            Some(kind)
        );
        assert_eq!(
            definition(&app, &token, id).await.0,
            rev,
            "{kind}: nothing saved"
        );
    }

    // A draft may lack a subject: it saves, and the problems box links to the card.
    let loc = saved(
        add_step(
            &app,
            id,
            "send_email",
            "0",
            "",
            &[("subject", ""), ("body", "")],
        )
        .await,
    )
    .await;
    assert_eq!(loc, format!("/workflows/{id}#card-step-1"));
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let problems = text(&html, ".wf-problems").unwrap_or_default();
    assert!(problems.contains("Add a subject."), "{problems}");
    assert!(attrs(&html, ".wf-problems a", "href")
        .contains(&format!("/workflows/{id}?panel=step-1#panel")));
    assert!(text(&html, "#card-step-1 .card-issues").is_some());
}

#[tokio::test]
async fn the_email_panel_previews_with_a_sample_contact() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let (s, _) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "ada@example.com", "properties": {"firstname": "Ada", "lastname": "Lovelace"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = renewal_workflow(&app).await;
    saved(
        add_step(
            &app,
            id,
            "send_email",
            "0",
            "",
            &[
                ("subject", "Hello {{ contact.firstname }}"),
                (
                    "body",
                    "Dear {{ contact.firstname }} {{ contact.lastname }}",
                ),
            ],
        )
        .await,
    )
    .await;
    let panel = app.get_html(&format!("/workflows/{id}?panel=step-1")).await;
    assert_eq!(
        text(&panel, ".preview-subject").as_deref(),
        Some("Subject: Hello Ada")
    );
    assert_eq!(
        text(&panel, ".preview-body").as_deref(),
        Some("Dear Ada Lovelace")
    );
    assert!(text(&panel, ".preview")
        .unwrap_or_default()
        .contains("Ada Lovelace"));
    // "Update preview" renders the typed text without saving.
    let rev = definition(&app, &token, id).await.0;
    let res = panel_post(
        &app,
        id,
        "step-1",
        "/steps/1",
        &[
            ("type", "send_email"),
            ("subject", "Bye {{ contact.firstname }}"),
            ("body", ""),
            ("action", "preview"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, ".preview-subject").as_deref(),
        Some("Subject: Bye Ada")
    );
    assert_eq!(definition(&app, &token, id).await.0, rev);
}

#[tokio::test]
async fn repeat_annually_and_the_date_panel() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    property(&app, &token, "customer_since", "Customer since", "date").await;
    let id = renewal_workflow(&app).await;
    let res = app
        .post_form(
            &format!("/workflows/{id}"),
            &format!("/workflows/{id}/recur"),
            &[("recur_annually", "1")],
        )
        .await;
    saved(res).await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["recur_annually"], true);
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(attr(
        &html,
        "#card-start input[name=recur_annually][checked]",
        "name"
    )
    .is_some());
    // Unticked: the checkbox is simply absent from the form.
    saved(
        app.post_form(
            &format!("/workflows/{id}"),
            &format!("/workflows/{id}/recur"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(
        definition(&app, &token, id).await.1["recur_annually"],
        false
    );

    // The date card's panel changes the property (date-picker ones only).
    let panel = app.get_html(&format!("/workflows/{id}?panel=start")).await;
    let offered = attrs(&panel, "#p-property option", "value");
    assert!(offered.contains(&"customer_since".to_string()));
    assert!(!offered.contains(&"date_of_birth".to_string()));
    saved(
        panel_post(
            &app,
            id,
            "start",
            "/start",
            &[("property", "customer_since"), ("recur_annually", "1")],
        )
        .await,
    )
    .await;
    let (_, def) = definition(&app, &token, id).await;
    assert_eq!(def["start"]["property"], "customer_since");
    assert_eq!(def["recur_annually"], true);
    let res = panel_post(
        &app,
        id,
        "start",
        "/start",
        &[("property", "date_of_birth")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#p-property-error")
        .unwrap_or_default()
        .contains("single-line text"));
}

#[tokio::test]
async fn the_list_shows_searches_clones_and_deletes() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let empty = app.get_html("/workflows").await;
    assert!(text(&empty, ".empty h2")
        .unwrap_or_default()
        .contains("No workflows yet"));
    assert_eq!(
        attr(&empty, ".page-head a.button.primary", "href").as_deref(),
        Some("/workflows/new")
    );

    let renewal = renewal_workflow(&app).await;
    let _gala = create(
        &app,
        &[
            ("start", "specific_date"),
            ("date", "2026-06-01"),
            ("name", "Summer gala"),
        ],
    )
    .await;
    let html = app.get_html("/workflows").await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 2);
    let row = rows
        .iter()
        .find(|r| r[0] == "Renewal reminder")
        .expect("renewal row");
    assert_eq!(row[1], "Contact date property");
    assert_eq!(row[2], "Off");
    assert_eq!(row[3], "0");
    assert!(row[4].contains(" 20"), "a day and time: {row:?}");
    assert!(attrs(&html, "table.data a.wf-link", "href").contains(&format!("/workflows/{renewal}")));

    let found = app.get_html("/workflows?q=gala").await;
    let rows = table_rows(&found);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "Summer gala");
    assert_eq!(attr(&found, "#q", "value").as_deref(), Some("gala"));
    let none = app.get_html("/workflows?q=zzz").await;
    assert!(text(&none, "p.empty")
        .unwrap_or_default()
        .contains("No workflow matches"));

    // Clone: a copy, off, opened in the editor.
    let res = app
        .post_form("/workflows", &format!("/workflows/{renewal}/clone"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let copy = id_in(&location(&res), "/workflows/");
    assert_ne!(copy, renewal);
    let (_, def) = definition(&app, &token, copy).await;
    assert_eq!(def["name"], "Renewal reminder (copy)");
    let (_, original) = definition(&app, &token, renewal).await;
    assert_eq!(def["steps"], original["steps"]);
    let html = app.get_html(&location(&res)).await;
    assert!(flash(&html).unwrap_or_default().contains("Cloned as"));

    // Delete: a confirmation page, then the post.
    let confirm = app.get_html(&format!("/workflows/{copy}/delete")).await;
    assert!(text(&confirm, "h1")
        .unwrap_or_default()
        .contains("Renewal reminder (copy)"));
    let res = app
        .post_form(
            &format!("/workflows/{copy}/delete"),
            &format!("/workflows/{copy}/delete"),
            &[],
        )
        .await;
    assert_eq!(location(&res), "/workflows");
    let html = app.get_html("/workflows").await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("Deleted the workflow"));
    assert_eq!(table_rows(&html).len(), 2);
    let (s, _) = app.api_get(&format!("/workflows/{copy}"), &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/workflows/{copy}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = renewal_workflow(&app).await;
    for action in [
        format!("/workflows/{id}/trigger"),
        format!("/workflows/{id}/steps"),
        format!("/workflows/{id}/steps/0/delete"),
        format!("/workflows/{id}/clone"),
        format!("/workflows/{id}/delete"),
    ] {
        let res = app
            .client
            .post(app.url(&action))
            .form(&[("type", "send_email"), ("after", "0")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(definition(&app, &token, id).await.0, 1);
}
