//! Issue 14, item 3: labels, not internal values, wherever a person reads: operators,
//! dropdown values (lifecycle stages), list names, property labels.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, location, table_rows, text, texts, TestApp};

#[tokio::test]
async fn lifecycle_stages_read_as_labels_and_are_accepted_by_label() {
    let (app, token) = TestApp::ready().await;
    // The contact form offers the stages by label, with the internal value submitted.
    let html = app.get_html("/contacts/new").await;
    let options = texts(&html, "#f-lifecyclestage option");
    assert!(
        options.contains(&"Marketing qualified lead".to_string()),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "marketingqualifiedlead"),
        "{options:?}"
    );
    assert_eq!(
        attr(
            &html,
            "#f-lifecyclestage option[value=marketingqualifiedlead]",
            "value"
        )
        .as_deref(),
        Some("marketingqualifiedlead")
    );
    // A label typed (a CSV from elsewhere, an API client) is the same option.
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[
                ("email", "mia@example.com"),
                ("firstname", "Mia"),
                ("lifecyclestage", "Marketing qualified lead"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, found) = app.api_get("/contacts?email=mia@example.com", &token).await;
    assert_eq!(
        found["contacts"][0]["properties"]["lifecyclestage"],
        "marketingqualifiedlead"
    );
    let html = app.get_html("/contacts").await;
    let rows = table_rows(&html);
    assert_eq!(rows[0][2], "Marketing qualified lead", "{rows:?}");
    // A value that is no option is refused, naming the options by label.
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[("email", "x@example.com"), ("lifecyclestage", "vip")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let msg = text(&html, "#lifecyclestage-error").unwrap_or_default();
    assert!(msg.contains("Sales qualified lead"), "{msg}");
}

#[tokio::test]
async fn filters_read_with_operator_words_option_labels_and_list_names() {
    let (app, token) = TestApp::ready().await;
    let list = {
        let res = app
            .post_form("/lists", "/lists", &[("name", "Newsletter")])
            .await;
        let to = location(&res);
        to.trim_start_matches("/lists/")
            .parse::<i64>()
            .expect("list id")
    };
    let (s, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({ "name": "Nurture", "start": { "type": "blank" },
                "triggers": { "filter_groups": [[
                    { "property": "lifecyclestage", "operator": "eq", "value": "marketingqualifiedlead" },
                    { "operator": "in_list", "value": list } ]],
                    "events": [{ "name": "contact_created",
                        "filters": [{ "property": "lifecyclestage", "operator": "neq", "value": "lead" }] }] },
                "steps": [{ "type": "set_property", "property": "lifecyclestage", "value": "salesqualifiedlead" }] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().unwrap();

    // The canvas cards.
    let html = app.get_html(&format!("/workflows/{id}")).await;
    let trigger = text(&html, "#card-trigger").unwrap_or_default();
    assert!(
        trigger.contains("Lifecycle stage is equal to Marketing qualified lead"),
        "{trigger}"
    );
    assert!(trigger.contains("“Newsletter”"), "{trigger}");
    let step = text(&html, "#card-step-0").unwrap_or_default();
    assert!(step.contains("Sales qualified lead"), "{step}");
    assert!(
        !html.contains("marketingqualifiedlead</"),
        "no raw value shown"
    );

    // The trigger panel: operators in words, the stage chosen by its label.
    let html = app
        .get_html(&format!("/workflows/{id}?panel=trigger"))
        .await;
    let ops = texts(&html, "#p-ev0_f0_operator option");
    assert!(ops.contains(&"is not equal to".to_string()), "{ops:?}");
    assert!(!ops.iter().any(|o| o == "neq" || o == "eq"), "{ops:?}");
    assert_eq!(
        text(&html, "#p-ev0_f0_operator option[selected]").as_deref(),
        Some("is not equal to")
    );
    assert_eq!(
        text(&html, "#p-g0_f0_value option[selected]").as_deref(),
        Some("Marketing qualified lead")
    );
    let rows_ops = texts(&html, "#p-g0_f0_operator option");
    assert!(
        rows_ops.contains(&"is equal to".to_string()),
        "{rows_ops:?}"
    );

    // Review and publish: the criteria and the step in words.
    let html = app.get_html(&format!("/workflows/{id}/review")).await;
    let criteria = texts(&html, "ul.criteria li").join(" | ");
    assert!(
        criteria.contains(
            "Lifecycle stage is “Marketing qualified lead” and member of list “Newsletter”"
        ),
        "{criteria}"
    );
    assert!(html.contains("Set Lifecycle stage to “Sales qualified lead”"));
}

#[tokio::test]
async fn lists_name_the_workflow_they_were_saved_from_in_the_account_zone() {
    let (app, _token) = TestApp::ready().await;
    app.post_form(
        "/settings/account",
        "/settings/account",
        &[("time_zone", "Europe/Oslo")],
    )
    .await;
    app.post_form("/lists", "/lists", &[("name", "VIP")]).await;
    let html = app.get_html("/lists").await;
    assert!(
        html.contains("Created (Europe/Oslo)"),
        "the list's times are in the account zone"
    );
    let rows = table_rows(&html);
    assert_eq!(rows[0][0], "VIP");
    assert_eq!(rows[0][2], "Static");
}
