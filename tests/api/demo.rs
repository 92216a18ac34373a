//! "A first look that is not empty": the sample-contacts button on the empty Contacts page.

use reqwest::StatusCode;

use crate::helpers::{flash, location, table_rows, text, TestApp};

#[tokio::test]
async fn the_empty_contacts_page_offers_sample_contacts_and_loads_1000() {
    let (app, token) = TestApp::ready().await;
    let empty = app.get_html("/contacts").await;
    assert_eq!(
        text(&empty, ".empty h2").as_deref(),
        Some("No contacts yet")
    );
    assert_eq!(
        text(&empty, "form[action=\"/contacts/demo\"] button").as_deref(),
        Some("Load sample contacts")
    );

    let res = app.post_form("/contacts", "/contacts/demo", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/contacts");
    let html = app.get_html("/contacts").await;
    assert_eq!(
        flash(&html).as_deref(),
        Some("Loaded 1000 sample contacts with birthdays and renewal dates.")
    );
    assert_eq!(
        text(&html, ".page-head .muted").as_deref(),
        Some("1,000 contacts")
    );
    assert!(text(&html, ".empty h2").is_none(), "no longer empty");
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 50, "a full first page");
    for r in &rows {
        assert!(r[0].contains(' '), "a realistic full name: {r:?}");
        assert!(r[1].ends_with("@example.com"), "{r:?}");
        assert!(!r[2].is_empty(), "a lifecycle stage: {r:?}");
    }

    // Birthdays and renewal dates are custom date properties with values.
    let (_, props) = app.api_get("/properties", &token).await;
    let props = props["properties"].as_array().unwrap().clone();
    for name in ["birthday", "renewal_date"] {
        let p = props
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} exists"));
        assert_eq!(p["field_type"], "date", "{name}");
    }
    let (_, c) = app
        .api_get(&format!("/contacts?email={}", rows[0][1]), &token)
        .await;
    let values = &c["contacts"][0]["properties"];
    for name in [
        "firstname",
        "lastname",
        "birthday",
        "renewal_date",
        "lifecyclestage",
    ] {
        assert!(values[name].is_string(), "{name} in {values}");
    }
    assert_eq!(values["birthday"].as_str().unwrap().len(), 10, "YYYY-MM-DD");

    // Pressing it again does not duplicate anyone.
    let form = app.get_html("/contacts/new").await;
    let token_field = crate::helpers::csrf_from(&form);
    let res = app
        .client
        .post(app.url("/contacts/demo"))
        .form(&[("csrf_token", token_field.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/contacts").await;
    assert_eq!(
        text(&html, ".page-head .muted").as_deref(),
        Some("1,000 contacts")
    );
}
