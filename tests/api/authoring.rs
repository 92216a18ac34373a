//! Issue 14, items 4 and 5: "Insert token" in the email, notification and task panels (a
//! listed help without JavaScript), and Create workflow > From a template.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, attrs, flash, location, text, texts, TestApp};

#[tokio::test]
async fn email_notification_and_task_panels_offer_insert_token() {
    let (app, token) = TestApp::ready().await;
    let (s, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({ "name": "Tokens", "start": { "type": "blank" },
                "steps": [{ "type": "send_email", "subject": "Hi", "body": "Hello" }] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_i64().unwrap();
    for (url, targets) in [
        (format!("/workflows/{id}?panel=step-0"), "p-subject p-body"),
        (
            format!("/workflows/{id}?panel=add&after=0&type=internal_notification"),
            "p-message",
        ),
        (
            format!("/workflows/{id}?panel=add&after=0&type=create_task"),
            "p-title p-notes",
        ),
    ] {
        let html = app.get_html(&url).await;
        assert_eq!(
            text(&html, "details.token-picker > summary").as_deref(),
            Some("Insert token"),
            "{url}"
        );
        assert_eq!(
            attr(&html, "details.token-picker", "data-targets").as_deref(),
            Some(targets)
        );
        // The contact properties by label, each with its token: the help without JavaScript.
        let items = texts(&html, ".token-list li");
        assert!(
            items.contains(&"First name First name {{ contact.firstname }}".to_string()),
            "{items:?}"
        );
        assert!(attrs(&html, "button.token-insert", "data-token")
            .contains(&"{{ contact.lifecyclestage }}".to_string()));
        // The buttons wait for the script (hidden without it); no inline script or handler.
        assert!(html.contains("<script src=\"/static/app.js\" defer></script>"));
        assert!(!html.contains("<script>") && !html.contains(" onclick="));
    }
    let res = app.get("/static/app.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    let js = res.text().await.unwrap();
    assert!(js.contains("setRangeText") && js.contains("data-token-picker"));
}

#[tokio::test]
async fn a_template_asks_for_its_date_property_then_opens_the_editor_prefilled() {
    let (app, token) = TestApp::ready().await;
    // Create workflow offers both ways.
    let html = app.get_html("/workflows/new").await;
    let tabs = texts(&html, "nav.create-tabs a");
    assert_eq!(tabs, ["From scratch", "From a template"]);
    let html = app.get_html("/workflows/new/templates").await;
    let names = texts(&html, ".template-card h2");
    assert_eq!(
        names,
        [
            "Birthday greeting",
            "Renewal reminder",
            "Customer anniversary"
        ]
    );

    // No date property yet: the page says which one to create, with a link that comes back.
    let page = "/workflows/new/templates/birthday";
    let html = app.get_html(page).await;
    let note = text(&html, "#create-property-note").unwrap_or_default();
    assert!(
        note.contains("Birthday") && note.contains("birthday"),
        "{note}"
    );
    let link = attr(&html, "#create-property-note a", "href").expect("a link");
    assert_eq!(
        link,
        "/settings/properties/new?field_type=date&label=Birthday&name=birthday&next=%2Fworkflows%2Fnew%2Ftemplates%2Fbirthday"
    );
    let form = app.get_html(&link).await;
    assert_eq!(
        attr(&form, "#f-label", "value").as_deref(),
        Some("Birthday")
    );
    assert_eq!(attr(&form, "#f-name", "value").as_deref(), Some("birthday"));
    assert_eq!(
        attr(&form, "input[name=next]", "value").as_deref(),
        Some(page)
    );
    let res = app
        .post_form(
            &link,
            "/settings/properties",
            &[
                ("label", "Birthday"),
                ("name", "birthday"),
                ("field_type", "date"),
                ("next", page),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), page, "back to the template");

    // Now the property is chosen for the person; the workflow is created and opens.
    let html = app.get_html(page).await;
    assert_eq!(
        text(&html, "#f-property option[selected]").as_deref(),
        Some("Birthday")
    );
    assert_eq!(
        attr(&html, "#f-name", "value").as_deref(),
        Some("Birthday greeting")
    );
    let key = attr(&html, "input[name=create_key]", "value").unwrap();
    let res = app
        .post_form(
            page,
            page,
            &[
                ("name", "Birthdays"),
                ("property", "birthday"),
                ("create_key", &key),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let editor = location(&res);
    let id: i64 = editor.trim_start_matches("/workflows/").parse().unwrap();
    let html = app.get_html(&editor).await;
    assert!(flash(&html)
        .unwrap_or_default()
        .contains("from the template “Birthday greeting”"));
    assert!(text(&html, "#card-trigger")
        .unwrap_or_default()
        .contains("Birthday is known"));
    assert!(text(&html, "#card-step-1")
        .unwrap_or_default()
        .contains("Happy birthday, {{ contact.firstname }}!"));
    let (_, wf) = app.api_get(&format!("/workflows/{id}"), &token).await;
    assert_eq!(wf["definition"]["recur_annually"], true);
    assert_eq!(wf["definition"]["start"]["property"], "birthday");
    assert_eq!(wf["definition"]["steps"][0]["when"], "on");
    assert_eq!(wf["status"], "off");
    // The same form posted twice (Back, then Create again) makes one workflow.
    let again = app
        .post_form(
            page,
            page,
            &[
                ("name", "Birthdays"),
                ("property", "birthday"),
                ("create_key", &key),
            ],
        )
        .await;
    assert_eq!(location(&again), editor);

    // The renewal reminder: 30 and 7 days before, on the day; a property that is not a date
    // is refused beside its field, the name kept.
    let page = "/workflows/new/templates/renewal";
    let res = app
        .post_form(
            page,
            page,
            &[("name", "Renewals"), ("property", "firstname")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#property-error").is_some());
    assert_eq!(attr(&html, "#f-name", "value").as_deref(), Some("Renewals"));
    let res = app
        .post_form(
            page,
            page,
            &[("name", "Renewals"), ("property", "birthday")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&res)
        .trim_start_matches("/workflows/")
        .parse()
        .unwrap();
    let (_, wf) = app.api_get(&format!("/workflows/{id}"), &token).await;
    let delays: Vec<(String, i64)> = wf["definition"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "date_delay")
        .map(|s| {
            (
                s["when"].as_str().unwrap().to_string(),
                s["amount"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        delays,
        [
            ("before".to_string(), 30),
            ("before".to_string(), 7),
            ("on".to_string(), 0)
        ]
    );
    let res = app.get("/workflows/new/templates/nope").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
