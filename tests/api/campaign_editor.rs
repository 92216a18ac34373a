//! The editor's pages for issue 17: Wait until and Random split steps with their paths on the
//! canvas, the goal panel, and relative date operators in the filter editor — driven like a
//! browser without JavaScript, definitions read back through the API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{attr, location, text, texts, TestApp};
use crate::workflows_api::with_properties;

/// A blank workflow with one email, made through the API; its id.
pub async fn blank_workflow(app: &TestApp, token: &str) -> i64 {
    let def = json!({"name": "Renewal nudges", "start": {"type": "blank"},
        "steps": [{"type": "send_email", "subject": "Renew now", "body": "Hi"}]});
    let (s, wf) = app.api_post("/workflows", token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    wf["id"].as_i64().expect("id")
}

pub async fn definition(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, wf) = app.api_get(&format!("/workflows/{id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{wf}");
    wf["definition"].clone()
}

pub async fn add_step(
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

pub async fn saved(res: reqwest::Response) -> String {
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

/// The page of a refused save (422) and its body.
async fn refused(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    res.text().await.unwrap_or_default()
}

#[tokio::test]
async fn wait_until_and_random_split_are_added_with_their_paths_on_the_canvas() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;

    // The step picker offers both.
    let html = app
        .get_html(&format!("/workflows/{id}?panel=add&after=0"))
        .await;
    let picks = texts(&html, ".panel a");
    assert!(picks.iter().any(|t| t.contains("Wait until")), "{picks:?}");
    assert!(
        picks.iter().any(|t| t.contains("Random split")),
        "{picks:?}"
    );

    // A wait until: a condition, an event and a timeout.
    let html = app
        .get_html(&format!(
            "/workflows/{id}?panel=add&after=0&type=wait_until"
        ))
        .await;
    assert_eq!(
        attr(&html, "#p-timeout_amount", "value").as_deref(),
        Some("7")
    );
    let loc = saved(
        add_step(
            &app,
            id,
            "wait_until",
            "0",
            "",
            &[
                ("g0_f0_property", "renewal_notice"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "renewed"),
                ("event", "payment_received"),
                ("timeout_amount", "5"),
                ("timeout_unit", "days"),
            ],
        )
        .await,
    )
    .await;
    assert!(loc.ends_with("#card-step-1"), "{loc}");
    let def = definition(&app, &token, id).await;
    let wait = &def["steps"][1];
    assert_eq!(wait["type"], "wait_until", "{def}");
    assert_eq!(wait["event"], "payment_received");
    assert_eq!(wait["timeout"], json!({"amount": 5, "unit": "days"}));
    assert_eq!(wait["condition"][0][0]["value"], "renewed");

    // Its two paths on the canvas, each with a +; a step added on Timed out.
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let labels = texts(&html, ".arm-label");
    assert_eq!(labels, vec!["Met", "Timed out"], "{labels:?}");
    saved(
        add_step(
            &app,
            id,
            "send_email",
            "-1",
            "1-timed_out",
            &[("subject", "Last chance"), ("body", "Hi")],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    assert_eq!(def["steps"][1]["timed_out"][0]["subject"], "Last chance");
    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert!(text(&html, ".arm-timed-out #card-step-1-timed_out-0").is_some());

    // Editing the wait keeps its paths and shows its inputs.
    let html = app.get_html(&format!("/workflows/{id}?panel=step-1")).await;
    assert_eq!(
        attr(&html, "#p-event", "value").as_deref(),
        Some("payment_received")
    );
    assert_eq!(
        attr(&html, "#p-g0_f0_value", "value").as_deref(),
        Some("renewed")
    );
    saved(
        app.post_form(
            &format!("/workflows/{id}?panel=step-1"),
            &format!("/workflows/{id}/steps/1"),
            &[
                ("type", "wait_until"),
                ("g0_f0_property", "renewal_notice"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "renewed"),
                ("event", ""),
                ("timeout_amount", "2"),
                ("timeout_unit", "weeks"),
            ],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"][1]["timeout"],
        json!({"amount": 2, "unit": "weeks"})
    );
    assert!(def["steps"][1].get("event").is_none(), "{def}");
    assert_eq!(def["steps"][1]["timed_out"][0]["subject"], "Last chance");

    // A random split with a holdout; its paths by name on the canvas.
    saved(
        add_step(
            &app,
            id,
            "random_split",
            "1",
            "",
            &[
                ("path0_name", "Short"),
                ("path0_percent", "45"),
                ("path1_name", "Long"),
                ("path1_percent", "45"),
                ("path2_name", ""),
                ("path2_percent", ""),
                ("holdout_percent", "10"),
            ],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    let split = &def["steps"][2];
    assert_eq!(split["type"], "random_split", "{def}");
    assert_eq!(split["holdout_percent"], 10);
    assert_eq!(split["paths"][1]["name"], "Long");
    assert_eq!(split["paths"].as_array().map(Vec::len), Some(2));
    saved(
        add_step(
            &app,
            id,
            "send_email",
            "-1",
            "2-p1",
            &[("subject", "The long one"), ("body", "Hi")],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"][2]["paths"][1]["steps"][0]["subject"],
        "The long one"
    );
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let labels = texts(&html, ".arm-label");
    assert_eq!(
        labels,
        vec![
            "Met",
            "Timed out",
            "Path “Short”",
            "Path “Long”",
            "Holdout (10%)"
        ],
    );
    assert!(text(&html, ".arm-path #card-step-2-p1-0").is_some());

    // Renaming a path keeps its steps; the split's panel lists the rows.
    let html = app.get_html(&format!("/workflows/{id}?panel=step-2")).await;
    assert_eq!(
        attr(&html, "#p-path1_name", "value").as_deref(),
        Some("Long")
    );
    saved(
        app.post_form(
            &format!("/workflows/{id}?panel=step-2"),
            &format!("/workflows/{id}/steps/2"),
            &[
                ("type", "random_split"),
                ("path0_name", "Short"),
                ("path0_percent", "50"),
                ("path1_name", "Longer"),
                ("path1_percent", "50"),
                ("holdout_percent", "0"),
            ],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    assert_eq!(def["steps"][2]["paths"][1]["name"], "Longer");
    assert_eq!(
        def["steps"][2]["paths"][1]["steps"][0]["subject"],
        "The long one"
    );
    assert!(def["steps"][2].get("holdout_percent").is_none(), "{def}");
}

#[tokio::test]
async fn bad_wait_and_split_input_comes_back_beside_the_field_as_typed() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;

    let html = refused(
        add_step(
            &app,
            id,
            "wait_until",
            "0",
            "",
            &[
                ("event", "paid"),
                ("timeout_amount", "soon"),
                ("timeout_unit", "days"),
            ],
        )
        .await,
    )
    .await;
    let m = text(&html, "#p-timeout_amount-error").unwrap_or_default();
    assert!(m.contains("whole number"), "{m}");
    assert_eq!(attr(&html, "#p-event", "value").as_deref(), Some("paid"));

    // A bad event name, from validation, beside the event.
    let html = refused(
        add_step(
            &app,
            id,
            "wait_until",
            "0",
            "",
            &[
                ("event", "paid now!"),
                ("timeout_amount", "3"),
                ("timeout_unit", "days"),
            ],
        )
        .await,
    )
    .await;
    assert!(
        text(&html, "#p-event-error").is_some(),
        "{}",
        texts(&html, ".field-error").join("|")
    );

    // Percentages that do not add up; a path without a name.
    let html = refused(
        add_step(
            &app,
            id,
            "random_split",
            "0",
            "",
            &[
                ("path0_name", "A"),
                ("path0_percent", "60"),
                ("path1_name", ""),
                ("path1_percent", "30"),
                ("holdout_percent", "5"),
            ],
        )
        .await,
    )
    .await;
    let m = text(&html, "#p-holdout_percent-error").unwrap_or_default();
    assert!(m.contains("add up to 100"), "{m}");
    assert!(text(&html, "#p-path1_name-error").is_some());
    assert_eq!(
        attr(&html, "#p-path0_percent", "value").as_deref(),
        Some("60")
    );
    let html = refused(
        add_step(
            &app,
            id,
            "random_split",
            "0",
            "",
            &[
                ("path0_name", "A"),
                ("path0_percent", "abc"),
                ("holdout_percent", "0"),
            ],
        )
        .await,
    )
    .await;
    assert!(text(&html, "#p-path0_percent-error").is_some());
    let def = definition(&app, &token, id).await;
    assert_eq!(
        def["steps"].as_array().map(Vec::len),
        Some(1),
        "nothing saved"
    );

    // Neither a condition nor an event: saved as a draft, but listed as a thing to fix.
    saved(
        add_step(
            &app,
            id,
            "wait_until",
            "0",
            "",
            &[("timeout_amount", "3"), ("timeout_unit", "days")],
        )
        .await,
    )
    .await;
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let m = texts(&html, ".wf-problems li").join(" ");
    assert!(m.contains("Say what to wait for"), "{m}");
}

#[tokio::test]
async fn the_goal_panel_sets_shows_and_removes_the_goal() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;

    let html = app.get_html(&format!("/workflows/{id}")).await;
    assert_eq!(
        text(&html, "#card-goal .card-title").as_deref(),
        Some("Set a goal")
    );
    assert_eq!(
        attr(&html, "#card-goal a", "href").as_deref(),
        Some(format!("/workflows/{id}?panel=goal#panel").as_str())
    );
    let page = format!("/workflows/{id}?panel=goal");
    let html = app.get_html(&page).await;
    assert_eq!(
        text(&html, "#panel-title").as_deref(),
        Some("Workflow goal")
    );

    let loc = saved(
        app.post_form(
            &page,
            &format!("/workflows/{id}/goal"),
            &[
                ("g0_f0_property", "renewal_notice"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "renewed"),
            ],
        )
        .await,
    )
    .await;
    assert!(loc.ends_with("#card-goal"), "{loc}");
    let def = definition(&app, &token, id).await;
    assert_eq!(
        def["goal"]["filter_groups"][0][0]["value"], "renewed",
        "{def}"
    );
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let lines = texts(&html, "#card-goal .card-line").join(" ");
    assert!(lines.contains("renewed"), "{lines}");
    let html = app.get_html(&page).await;
    assert_eq!(
        attr(&html, "#p-g0_f0_value", "value").as_deref(),
        Some("renewed")
    );

    // A bad value beside its field, as typed; nothing saved.
    let html = refused(
        app.post_form(
            &page,
            &format!("/workflows/{id}/goal"),
            &[
                ("g0_f0_property", "renewal_date"),
                ("g0_f0_operator", "after"),
                ("g0_f0_value", "someday"),
            ],
        )
        .await,
    )
    .await;
    assert!(
        text(&html, "#p-g0_f0_value-error").is_some(),
        "{}",
        texts(&html, ".field-error").join("|")
    );
    assert_eq!(
        attr(&html, "#p-g0_f0_value", "value").as_deref(),
        Some("someday")
    );

    // Removing every condition removes the goal.
    saved(
        app.post_form(
            &page,
            &format!("/workflows/{id}/goal"),
            &[
                ("g0_f0_property", "renewal_notice"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "renewed"),
                ("g0_f0_remove", "1"),
            ],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    assert!(def.get("goal").is_none() || def["goal"].is_null(), "{def}");
}

#[tokio::test]
async fn relative_date_operators_are_offered_in_words_with_ignore_the_year() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;
    let page = format!("/workflows/{id}?panel=trigger");
    saved(
        app.post_form(
            &page,
            &format!("/workflows/{id}/trigger"),
            &[
                ("g0_f0_property", "renewal_date"),
                ("g0_f0_operator", "within_next_days"),
                ("g0_f0_value", "7"),
                ("g0_f0_ignore_year", "1"),
            ],
        )
        .await,
    )
    .await;
    let def = definition(&app, &token, id).await;
    let f = &def["triggers"]["filter_groups"][0][0];
    assert_eq!(f["operator"], "within_next_days", "{def}");
    assert_eq!(f["ignore_year"], true);
    let html = app.get_html(&page).await;
    let ops = texts(&html, "#p-g0_f0_operator option");
    assert!(
        ops.iter().any(|o| o == "is within the next … days"),
        "{ops:?}"
    );
    assert!(
        ops.iter().any(|o| o == "is within the last … days"),
        "{ops:?}"
    );
    assert!(!ops.iter().any(|o| o.contains("within_")), "{ops:?}");
    let card = texts(&html, "#card-trigger .card-line").join(" ");
    assert!(card.contains("next 7 days"), "{card}");

    // In a branch too; the box stays ticked when the panel opens again.
    saved(
        add_step(
            &app,
            id,
            "branch",
            "0",
            "",
            &[
                ("g0_f0_property", "customer_since"),
                ("g0_f0_operator", "within_last_days"),
                ("g0_f0_value", "30"),
                ("g0_f0_ignore_year", "1"),
            ],
        )
        .await,
    )
    .await;
    let html = app.get_html(&format!("/workflows/{id}?panel=step-1")).await;
    assert!(
        html.contains(r#"name="g0_f0_ignore_year" value="1" checked"#),
        "ignore the year ticked"
    );
}

#[tokio::test]
async fn a_live_workflow_lists_goal_and_pacing_among_its_unpublished_changes() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let def = json!({"name": "Live renewal", "start": {"type": "blank"},
        "steps": [{"type": "send_email", "subject": "Renew now", "body": "Hi"}]});
    let id = app.publish_workflow(&token, def, false).await;
    saved(
        app.post_form(
            &format!("/workflows/{id}?panel=goal"),
            &format!("/workflows/{id}/goal"),
            &[
                ("g0_f0_property", "renewal_notice"),
                ("g0_f0_operator", "eq"),
                ("g0_f0_value", "renewed"),
            ],
        )
        .await,
    )
    .await;
    let page = format!("/workflows/{id}/settings?tab=general");
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("window_mode", "any"),
                ("catch_up_hours", "24"),
                ("feb29", "feb28"),
                ("pacing_mode", "own"),
                ("pacing_max_emails", "1"),
                ("pacing_per_days", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let html = app.get_html(&format!("/workflows/{id}/review")).await;
    let changes = texts(&html, "#changes li").join(" | ");
    assert!(
        changes.contains("Goal changed: was “no goal”, now “renewal_notice is “renewed”")
            || changes.contains("Goal changed: was “no goal”"),
        "{changes}"
    );
    assert!(
        changes.contains("Email pacing")
            && changes.contains("At most 1 email per contact in 2 days"),
        "{changes}"
    );
}
