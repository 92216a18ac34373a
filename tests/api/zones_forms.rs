//! Issue 14, item 6: time zones chosen from a searchable list of IANA names (account,
//! workflow, the contact's `timezone`), a contact zone that is no IANA name refused (forms and
//! API); the property form's internal name from the label and options box for dropdowns; an
//! invalid date kept as typed; list pages in the account's zone.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, attrs, location, table_rows, text, TestApp};

#[tokio::test]
async fn a_contact_time_zone_must_be_an_iana_name() {
    let (app, token) = TestApp::ready().await;
    // API: 422 naming properties.timezone, nothing saved.
    let (s, body) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "oslo@example.com", "properties": {"timezone": "Oslo"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "properties.timezone");
    assert!(
        body["error"].as_str().unwrap_or("").contains("IANA"),
        "{body}"
    );
    let (_, found) = app
        .api_get("/contacts?email=oslo@example.com", &token)
        .await;
    assert_eq!(found["contacts"].as_array().map(Vec::len), Some(0));
    // Any case of a real name is that zone, stored as spelled in the database of zones.
    let (s, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "oslo@example.com", "properties": {"timezone": "europe/oslo"}}),
        )
        .await;
    assert!(s.is_success(), "{c}");
    assert_eq!(c["properties"]["timezone"], "Europe/Oslo");
    let id = c["id"].as_i64().unwrap();
    let (s, body) = app
        .api_patch(
            &format!("/contacts/{id}"),
            &token,
            json!({"properties": {"timezone": "CET+1"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "properties.timezone");

    // The form: the searchable list, and a refusal beside the field with the input kept.
    let page = format!("/contacts/{id}");
    let html = app.get_html(&page).await;
    assert_eq!(attr(&html, "#f-timezone", "list").as_deref(), Some("zones"));
    let zones = attrs(&html, "#zones option", "value");
    assert!(zones.contains(&"Europe/Oslo".to_string()) && zones.len() > 300);
    assert!(!zones.iter().any(|z| z.starts_with("Etc/")));
    let res = app
        .post_form(
            &page,
            &page,
            &[("email", "oslo@example.com"), ("timezone", "Oslo")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#timezone-error")
        .unwrap_or_default()
        .contains("IANA"));
    assert_eq!(attr(&html, "#f-timezone", "value").as_deref(), Some("Oslo"));
}

#[tokio::test]
async fn account_and_workflow_zones_come_from_the_list() {
    let (app, token) = TestApp::ready().await;
    let html = app.get_html("/settings/account").await;
    assert_eq!(
        attr(&html, "#f-time_zone", "list").as_deref(),
        Some("zones")
    );
    assert!(attr(&html, "#zones option[value=\"Europe/Oslo\"]", "label")
        .unwrap_or_default()
        .starts_with("UTC+0"));
    let res = app
        .post_form(
            "/settings/account",
            "/settings/account",
            &[("time_zone", "Oslo")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        attr(&html, "#f-time_zone", "value").as_deref(),
        Some("Oslo")
    );
    let res = app
        .post_form(
            "/settings/account",
            "/settings/account",
            &[("time_zone", "america/new_york")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/settings/account").await;
    assert_eq!(
        attr(&html, "#f-time_zone", "value").as_deref(),
        Some("America/New_York")
    );

    // The list pages show their times in the account's zone.
    let html = app.get_html("/contacts").await;
    assert!(!html.contains("(UTC)"));
    app.api_post("/contacts", &token, json!({"email": "a@example.com"}))
        .await;
    let html = app.get_html("/contacts").await;
    assert!(html.contains("Last updated (America/New_York)"));
    let (_, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "Z", "start": {"type": "blank"}, "steps": []}),
        )
        .await;
    let id = wf["id"].as_i64().unwrap();
    let html = app.get_html("/workflows").await;
    assert!(html.contains("Last updated (America/New_York)"));

    // The workflow's zone: from the same list, any case accepted as the zone's name.
    let page = format!("/workflows/{id}/settings");
    let html = app.get_html(&page).await;
    assert!(attrs(&html, "#zones option", "value").contains(&"Asia/Tokyo".to_string()));
    let res = app
        .post_form(
            &page,
            &format!("{page}?tab=general"),
            &[
                ("window_mode", "any"),
                ("time_zone", "asia/tokyo"),
                ("feb29", "feb28"),
                ("catch_up_hours", "24"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, wf) = app.api_get(&format!("/workflows/{id}"), &token).await;
    assert_eq!(wf["definition"]["settings"]["time_zone"], "Asia/Tokyo");
}

#[tokio::test]
async fn the_property_form_names_from_the_label_and_shows_options_for_dropdowns() {
    let (app, _token) = TestApp::ready().await;
    let html = app.get_html("/settings/properties/new").await;
    // The script fills the name as the label is typed; the box is for dropdowns only (CSS).
    assert_eq!(
        attr(&html, "#f-label", "data-name-from").as_deref(),
        Some("f-name")
    );
    assert!(text(&html, ".options-field label").is_some());
    assert!(attr(&html, "form.property-form", "method").is_some());
    let css = app.get("/static/app.css").await.text().await.unwrap();
    assert!(css.contains(
        ".property-form:has(#f-field_type option[value=\"enum\"]:checked) .options-field"
    ));
    // Left empty, the internal name is made from the label.
    let res = app
        .post_form(
            "/settings/properties/new",
            "/settings/properties",
            &[
                ("label", "Kundeår start"),
                ("name", ""),
                ("field_type", "date"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings/properties");
    let html = app.get_html("/settings/properties").await;
    assert!(table_rows(&html)
        .iter()
        .any(|r| r[0] == "Kundeår start" && r[1] == "kundear_start"));
    // A label given as a link parameter suggests the name.
    let html = app
        .get_html("/settings/properties/new?field_type=date&label=Renewal%20date")
        .await;
    assert_eq!(
        attr(&html, "#f-name", "value").as_deref(),
        Some("renewal_date")
    );
}

#[tokio::test]
async fn an_invalid_date_comes_back_as_typed_beside_its_message() {
    let (app, token) = TestApp::ready().await;
    app.api_post(
        "/properties",
        &token,
        json!({"name": "renewal_date", "label": "Renewal date", "field_type": "date"}),
    )
    .await;
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[("email", "d@example.com"), ("renewal_date", "31/12/2026")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    // Not an emptied date picker: a text input holding what was typed, with the message.
    assert_eq!(
        attr(&html, "#f-renewal_date", "type").as_deref(),
        Some("text")
    );
    assert_eq!(
        attr(&html, "#f-renewal_date", "value").as_deref(),
        Some("31/12/2026")
    );
    assert!(text(&html, "#renewal_date-error")
        .unwrap_or_default()
        .contains("not a valid date"));
    // A valid one stays a date picker.
    let html = app.get_html("/contacts/new").await;
    assert_eq!(
        attr(&html, "#f-renewal_date", "type").as_deref(),
        Some("date")
    );

    // The history's date filters do the same.
    let (_, wf) = app
        .api_post(
            "/workflows",
            &token,
            json!({"name": "H", "start": {"type": "blank"}, "steps": []}),
        )
        .await;
    let id = wf["id"].as_i64().unwrap();
    let res = app
        .get(&format!("/workflows/{id}/history?from=yesterday"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(attr(&html, "#f-from", "type").as_deref(), Some("text"));
    assert_eq!(
        attr(&html, "#f-from", "value").as_deref(),
        Some("yesterday")
    );
}
