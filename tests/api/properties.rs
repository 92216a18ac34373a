//! Settings > Properties: the defaults, custom properties of every field type, name rules,
//! dropdown options, type changes, deletion.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, attrs, flash, location, table_rows, text, texts, TestApp};

/// Creates a property through the form; returns the response.
async fn create_property(
    app: &TestApp,
    label: &str,
    name: &str,
    field_type: &str,
    options: &str,
) -> reqwest::Response {
    app.post_form(
        "/settings/properties/new",
        "/settings/properties",
        &[
            ("label", label),
            ("name", name),
            ("field_type", field_type),
            ("options", options),
        ],
    )
    .await
}

#[tokio::test]
async fn the_defaults_are_listed_and_birth_date_is_fixed_single_line_text() {
    let (app, _) = TestApp::ready().await;
    let html = app.get_html("/settings/properties").await;
    let rows = table_rows(&html);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.get(1).map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("{name} listed in {rows:?}"))
            .clone()
    };
    assert_eq!(
        row("date_of_birth"),
        [
            "Birth date",
            "date_of_birth",
            "Single-line text fixed",
            "Default"
        ]
    );
    assert_eq!(row("email")[0], "Email");
    assert_eq!(row("firstname")[0], "First name");
    assert_eq!(row("lastname")[0], "Last name");
    assert_eq!(row("lifecyclestage")[2], "Dropdown select fixed");
    assert_eq!(row("timezone")[2], "Single-line text fixed");
    for r in &rows {
        assert_eq!(r[3], "Default", "only defaults on a fresh install: {r:?}");
    }
}

#[tokio::test]
async fn the_type_of_birth_date_cannot_be_changed() {
    let (app, token) = TestApp::ready().await;
    let id = app.property_id(&token, "date_of_birth").await;
    let page = format!("/settings/properties/{id}");
    let html = app.get_html(&page).await;
    assert_eq!(
        attr(&html, "input[name=label]", "value").as_deref(),
        Some("Birth date"),
        "the current label"
    );
    assert!(
        attr(&html, "select#f-field_type", "disabled").is_some(),
        "type select is disabled"
    );
    assert!(
        html.contains("is fixed and cannot be changed"),
        "the page says why"
    );
    assert!(
        attr(&html, "form[action$=\"/delete\"]", "action").is_none(),
        "no delete button for a default"
    );

    // A POST that changes the type anyway (a tampered form) is refused with the message.
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("label", "Birth date"),
                ("field_type", "date"),
                ("options", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, "#field_type-error").as_deref(),
        Some("The type of \"Birth date\" is fixed and cannot be changed.")
    );
    assert_eq!(
        text(&html, "select#f-field_type option[selected]").as_deref(),
        Some("Single-line text"),
        "the form still shows the fixed type, not the refused one"
    );
    assert_eq!(
        attr(&html, "input[name=field_type]", "value").as_deref(),
        Some("text")
    );

    let list = app.get_html("/settings/properties").await;
    let row = table_rows(&list)
        .into_iter()
        .find(|r| r[1] == "date_of_birth")
        .unwrap();
    assert_eq!(row[2], "Single-line text fixed", "unchanged");

    // Its label can still be edited.
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("label", "Date of birth"),
                ("field_type", "text"),
                ("options", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, props) = app.api_get("/properties", &token).await;
    let dob = props["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "date_of_birth")
        .unwrap()
        .clone();
    assert_eq!(dob["label"], "Date of birth");
    assert_eq!(dob["field_type"], "text");
}

#[tokio::test]
async fn custom_properties_of_every_field_type_shape_the_contact_form() {
    let (app, token) = TestApp::ready().await;
    let kinds = [
        ("Nickname", "nickname", "text", "", "Single-line text"),
        ("Seats", "seats", "number", "", "Number"),
        ("Renewal date", "renewal_date", "date", "", "Date picker"),
        ("Last call", "last_call", "datetime", "", "Date and time"),
        ("Plan", "plan", "enum", "Basic\nPro", "Dropdown select"),
        ("Newsletter", "newsletter", "bool", "", "Single checkbox"),
    ];
    for (label, name, ft, options, _) in kinds {
        let res = create_property(&app, label, name, ft, options).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
        assert_eq!(location(&res), "/settings/properties");
        let html = app.get_html("/settings/properties").await;
        assert_eq!(
            flash(&html),
            Some(format!("Created the property “{label}” ({name})."))
        );
    }
    let rows = table_rows(&app.get_html("/settings/properties").await);
    for (label, name, _, _, type_label) in kinds {
        let row = rows
            .iter()
            .find(|r| r[1] == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(row, &[label, name, type_label, "Custom"]);
    }

    // The contact form renders each by its field type.
    let form = app.get_html("/contacts/new").await;
    assert_eq!(
        attr(&form, "input[name=nickname]", "type").as_deref(),
        Some("text")
    );
    assert_eq!(
        attr(&form, "input[name=seats]", "inputmode").as_deref(),
        Some("decimal")
    );
    assert_eq!(
        attr(&form, "input[name=renewal_date]", "type").as_deref(),
        Some("date")
    );
    assert_eq!(
        attr(&form, "input[name=last_call]", "type").as_deref(),
        Some("datetime-local")
    );
    assert_eq!(
        texts(&form, "select[name=plan] option"),
        ["—", "Basic", "Pro"]
    );
    assert_eq!(
        texts(&form, "select[name=newsletter] option"),
        ["—", "Yes", "No"]
    );
    for name in [
        "nickname",
        "seats",
        "renewal_date",
        "last_call",
        "plan",
        "newsletter",
    ] {
        let label = texts(&form, &format!("label[for=f-{name}]"));
        assert_eq!(label.len(), 1, "{name} has a label");
    }

    // Values of every type are saved in canonical form and shown again.
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[
                ("email", "typed@example.com"),
                ("nickname", "Ty"),
                ("seats", "12.50"),
                ("renewal_date", "2027-03-01"),
                ("last_call", "2026-05-01T09:30"),
                ("plan", "pro"),
                ("newsletter", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, found) = app
        .api_get("/contacts?email=typed@example.com", &token)
        .await;
    assert_eq!(
        found["contacts"][0]["properties"],
        json!({"nickname": "Ty", "seats": 12.5, "renewal_date": "2027-03-01",
               "last_call": "2026-05-01T09:30:00Z", "plan": "Pro", "newsletter": true})
    );
    let page = app.get_html(&location(&res)).await;
    assert_eq!(
        attr(&page, "input[name=seats]", "value").as_deref(),
        Some("12.5")
    );
    assert_eq!(
        attr(&page, "input[name=renewal_date]", "value").as_deref(),
        Some("2027-03-01")
    );
    assert_eq!(
        attr(&page, "input[name=last_call]", "value").as_deref(),
        Some("2026-05-01T09:30")
    );
    assert_eq!(
        text(&page, "select[name=plan] option[selected]").as_deref(),
        Some("Pro")
    );
    assert_eq!(
        text(&page, "select[name=newsletter] option[selected]").as_deref(),
        Some("Yes")
    );
}

#[tokio::test]
async fn internal_names_must_be_lowercase_valid_and_unique() {
    let (app, token) = TestApp::ready().await;
    assert_eq!(
        create_property(&app, "Plan", "plan", "text", "")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, before) = app.api_get("/properties", &token).await;
    let cases = [
        ("Birthday", "Use lowercase letters"),
        ("2fast", "Use lowercase letters"),
        ("has space", "Use lowercase letters"),
        ("dash-ed", "Use lowercase letters"),
        ("email", "A property named \"email\" already exists."),
        (
            "date_of_birth",
            "A property named \"date_of_birth\" already exists.",
        ),
        ("plan", "A property named \"plan\" already exists."),
    ];
    for (name, message) in cases {
        let res = create_property(&app, "Some label", name, "date", "").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let html = res.text().await.unwrap();
        let shown = text(&html, "#name-error").unwrap_or_default();
        assert!(shown.contains(message), "{name:?}: {shown}");
        assert_eq!(
            attr(&html, "input[name=name]", "value").as_deref(),
            Some(name),
            "input kept"
        );
        assert_eq!(
            attr(&html, "input[name=label]", "value").as_deref(),
            Some("Some label"),
            "input kept"
        );
        assert_eq!(
            text(&html, "select[name=field_type] option[selected]").as_deref(),
            Some("Date picker")
        );
    }
    // A missing label is named too.
    let res = create_property(&app, " ", "nolabel", "text", "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&res.text().await.unwrap(), "#label-error").is_some());
    let (_, after) = app.api_get("/properties", &token).await;
    assert_eq!(before, after, "nothing was created");
}

#[tokio::test]
async fn dropdowns_need_options_and_offer_exactly_them() {
    let (app, token) = TestApp::ready().await;
    let res = create_property(&app, "Tier", "tier", "enum", "  \n").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, "#options-error").as_deref(),
        Some("A dropdown needs at least one option.")
    );

    // Blank lines and case-insensitive repeats are dropped; order is kept.
    let res = create_property(
        &app,
        "Tier",
        "tier",
        "enum",
        "Gold\r\nSilver\r\n\r\n gold \r\nBronze",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, props) = app.api_get("/properties", &token).await;
    let tier = props["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tier")
        .unwrap()
        .clone();
    assert_eq!(tier["options"], json!(["Gold", "Silver", "Bronze"]));
    let form = app.get_html("/contacts/new").await;
    assert_eq!(
        texts(&form, "select[name=tier] option"),
        ["—", "Gold", "Silver", "Bronze"]
    );

    // The edit page shows them one per line.
    let id = app.property_id(&token, "tier").await;
    let edit = app.get_html(&format!("/settings/properties/{id}")).await;
    assert_eq!(
        text(&edit, "textarea[name=options]").as_deref(),
        Some("Gold Silver Bronze")
    );
    assert_eq!(
        attr(&edit, "input[name=label]", "value").as_deref(),
        Some("Tier"),
        "the current label, not \"Label\""
    );
    assert_eq!(text(&edit, "h1").as_deref(), Some("Edit “Tier”"));

    // A value outside the options is refused; a differently cased one is stored as the option.
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[("email", "t@example.com"), ("tier", "platinum")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(text(&html, "#tier-error")
        .unwrap()
        .contains("is not one of the options: Gold, Silver, Bronze"));
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[("email", "t@example.com"), ("tier", "silver")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, found) = app.api_get("/contacts?email=t@example.com", &token).await;
    assert_eq!(found["contacts"][0]["properties"]["tier"], "Silver");
}

#[tokio::test]
async fn a_property_that_holds_values_cannot_change_type() {
    let (app, token) = TestApp::ready().await;
    // Unused: the type may still change.
    create_property(&app, "Seats", "seats", "number", "").await;
    let id = app.property_id(&token, "seats").await;
    let page = format!("/settings/properties/{id}");
    let res = app
        .post_form(
            &page,
            &page,
            &[("label", "Seats"), ("field_type", "text"), ("options", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("label", "Seats"),
                ("field_type", "number"),
                ("options", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // In use: refused, with the reason beside the field and the user's choice kept.
    let (s, _) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "s@example.com", "properties": {"seats": 4}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("label", "Seat count"),
                ("field_type", "date"),
                ("options", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, "#field_type-error").as_deref(),
        Some("1 contact(s) have a value for this property; its type cannot change. Create a new property instead.")
    );
    assert_eq!(
        attr(&html, "input[name=label]", "value").as_deref(),
        Some("Seat count")
    );
    let (_, props) = app.api_get("/properties", &token).await;
    let seats = props["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "seats")
        .unwrap()
        .clone();
    assert_eq!(
        (seats["label"].as_str(), seats["field_type"].as_str()),
        (Some("Seats"), Some("number")),
        "nothing saved"
    );
    let (_, c) = app.api_get("/contacts?email=s@example.com", &token).await;
    assert_eq!(
        c["contacts"][0]["properties"]["seats"], 4,
        "the value is untouched"
    );

    // Renaming the label alone is fine.
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("label", "Seat count"),
                ("field_type", "number"),
                ("options", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = app.get_html("/settings/properties").await;
    assert_eq!(
        flash(&list).as_deref(),
        Some("Saved the property “Seat count”.")
    );
}

#[tokio::test]
async fn a_custom_property_is_deleted_with_its_values_but_defaults_cannot_be() {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "loyalty", "label": "Loyalty", "field_type": "text"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "l@example.com", "properties": {"loyalty": "high", "firstname": "Lo"}}),
        )
        .await;
    let contact = c["id"].as_i64().unwrap();
    let id = app.property_id(&token, "loyalty").await;
    let page = format!("/settings/properties/{id}");
    let edit = app.get_html(&page).await;
    let delete_action = format!("/settings/properties/{id}/delete");
    assert_eq!(
        attrs(&edit, "form[action$=\"/delete\"]", "action"),
        std::slice::from_ref(&delete_action)
    );
    let res = app.post_form(&page, &delete_action, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = app.get_html("/settings/properties").await;
    assert_eq!(
        flash(&list).as_deref(),
        Some("Deleted the property “Loyalty” and its values.")
    );
    assert!(!table_rows(&list).iter().any(|r| r[1] == "loyalty"));
    let (_, got) = app.api_get(&format!("/contacts/{contact}"), &token).await;
    assert_eq!(
        got["properties"],
        json!({"firstname": "Lo"}),
        "its values went with it"
    );
    let form = app.get_html(&format!("/contacts/{contact}")).await;
    assert!(attr(&form, "input[name=loyalty]", "name").is_none());

    // A default property: no delete button, and a forged POST is refused.
    let email_id = app.property_id(&token, "email").await;
    let page = format!("/settings/properties/{email_id}");
    assert!(attr(
        &app.get_html(&page).await,
        "form[action$=\"/delete\"]",
        "action"
    )
    .is_none());
    let res = app
        .post_form(
            &page,
            &format!("/settings/properties/{email_id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = app.get_html("/settings/properties").await;
    assert_eq!(
        flash(&list).as_deref(),
        Some("“Email” is a default property and cannot be deleted.")
    );
    assert!(table_rows(&list).iter().any(|r| r[1] == "email"));
}

#[tokio::test]
async fn a_property_a_workflow_uses_cannot_be_deleted() {
    let (app, token) = TestApp::ready().await;
    for (name, label) in [
        ("renewal_date", "Renewal date"),
        ("spare_date", "Spare date"),
    ] {
        let (s, _) = app
            .api_post(
                "/properties",
                &token,
                json!({"name": name, "label": label, "field_type": "date"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let def = json!({ "name": "Renewal reminder",
        "start": { "type": "contact_date_property", "property": "renewal_date" },
        "steps": [
            { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Renewal", "body": "Hi {{ contact.firstname }}" } ],
        "settings": { "time_zone": "UTC" } });
    let (s, wf) = app.api_post("/workflows", &token, def).await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");

    let id = app.property_id(&token, "renewal_date").await;
    let page = format!("/settings/properties/{id}");
    let res = app.post_form(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(location(&res), "/settings/properties");
    let list = app.get_html("/settings/properties").await;
    assert_eq!(
        flash(&list).as_deref(),
        Some("“Renewal date” is used by the workflow “Renewal reminder”; remove it from it first.")
    );
    assert!(
        table_rows(&list).iter().any(|r| r[1] == "renewal_date"),
        "still there"
    );

    // An unused one goes; an unknown id is a 404.
    let spare = app.property_id(&token, "spare_date").await;
    let spare_page = format!("/settings/properties/{spare}");
    let res = app
        .post_form(&spare_page, &format!("{spare_page}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form("/settings/properties", &format!("{spare_page}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&spare_page).await.status(), StatusCode::NOT_FOUND);
}
