use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{attr, attrs, flash, location, table_rows, text, TestApp};

#[tokio::test]
async fn create_and_edit_a_contact_through_the_form() {
    let (app, _) = TestApp::ready().await;
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[
                ("email", "ada@example.com"),
                ("firstname", "Ada"),
                ("lastname", "Lovelace"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    let html = app.get_html(&page).await;
    assert!(html.contains("Ada Lovelace"));
    assert!(
        html.contains("Created Ada Lovelace"),
        "flash after redirect"
    );
    let list = app.get_html("/contacts").await;
    assert!(list.contains("ada@example.com"));
}

#[tokio::test]
async fn an_invalid_date_re_renders_the_form_with_the_message_and_the_input_kept() {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post("/properties", &token, serde_json::json!({"name": "customer_since", "label": "Customer since", "field_type": "date"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[
                ("email", "bob@example.com"),
                ("firstname", "Bobby"),
                ("customer_since", "2021-02-30"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("not a valid date"), "message shown");
    assert!(html.contains("value=\"2021-02-30\""), "bad input kept");
    assert!(html.contains("value=\"Bobby\""), "other input kept");
    let list = app.get_html("/contacts").await;
    assert!(!list.contains("bob@example.com"), "nothing saved");
}

#[tokio::test]
async fn duplicate_emails_are_refused_case_insensitively() {
    let (app, _) = TestApp::ready().await;
    app.post_form(
        "/contacts/new",
        "/contacts",
        &[("email", "carol@example.com")],
    )
    .await;
    let res = app
        .post_form(
            "/contacts/new",
            "/contacts",
            &[("email", "Carol@Example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("already has the email"));
}

#[tokio::test]
async fn editing_with_an_invalid_number_keeps_the_input_and_saves_nothing() {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "seats", "label": "Seats", "field_type": "number"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, c) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "ada@example.com", "properties": {"firstname": "Ada", "seats": 3}}),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    let page = format!("/contacts/{id}");
    let form = app.get_html(&page).await;
    assert_eq!(
        attr(&form, "input[name=seats]", "value").as_deref(),
        Some("3")
    );
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("email", "ada@example.com"),
                ("firstname", "Adaline"),
                ("seats", "three"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, ".flash-error").as_deref(),
        Some("Nothing was saved. Correct the fields marked below.")
    );
    // The message sits in the same field as the input it is about.
    assert_eq!(
        text(&html, ".field.has-error #seats-error").as_deref(),
        Some("Seats: \"three\" is not a number")
    );
    assert_eq!(
        attr(&html, ".field.has-error input", "name").as_deref(),
        Some("seats")
    );
    assert_eq!(
        attr(&html, "input[name=seats]", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        attr(&html, "input[name=seats]", "value").as_deref(),
        Some("three"),
        "bad input kept"
    );
    assert_eq!(
        attr(&html, "input[name=firstname]", "value").as_deref(),
        Some("Adaline"),
        "other input kept"
    );
    assert_eq!(
        attr(&html, "form.form", "action").as_deref(),
        Some(page.as_str()),
        "still the edit form"
    );
    let (_, got) = app.api_get(&format!("/contacts/{id}"), &token).await;
    assert_eq!(
        got["properties"],
        json!({"firstname": "Ada", "seats": 3}),
        "nothing saved"
    );

    // Corrected, it saves; numbers are stored canonically.
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("email", "ada@example.com"),
                ("firstname", "Adaline"),
                ("seats", "4.0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&page).await;
    assert_eq!(flash(&html).as_deref(), Some("Saved."));
    assert_eq!(
        attr(&html, "input[name=seats]", "value").as_deref(),
        Some("4")
    );
}

#[tokio::test]
async fn deleting_a_contact_asks_for_confirmation_first() {
    let (app, token) = TestApp::ready().await;
    let (_, c) = app
        .api_post("/contacts", &token, json!({"email": "gone@example.com", "properties": {"firstname": "Grace", "lastname": "Gone"}}))
        .await;
    let id = c["id"].as_i64().unwrap();
    let contact_page = app.get_html(&format!("/contacts/{id}")).await;
    let confirm_path = format!("/contacts/{id}/delete");
    assert_eq!(
        attr(&contact_page, "a.danger", "href").as_deref(),
        Some(confirm_path.as_str())
    );

    // The link only asks.
    let confirm = app.get_html(&confirm_path).await;
    assert_eq!(text(&confirm, "h1").as_deref(), Some("Delete Grace Gone?"));
    assert_eq!(
        text(&confirm, "button[type=submit].danger").as_deref(),
        Some("Yes, delete contact")
    );
    assert_eq!(
        attr(&confirm, "a.subtle", "href"),
        Some(format!("/contacts/{id}")),
        "cancel goes back"
    );
    let (s, _) = app.api_get(&format!("/contacts/{id}"), &token).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "still there after viewing the confirmation"
    );

    // Without the form's CSRF token: refused, nothing deleted.
    let res = app
        .client
        .post(app.url(&confirm_path))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (s, _) = app.api_get(&format!("/contacts/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);

    let res = app.post_form(&confirm_path, &confirm_path, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/contacts");
    let list = app.get_html("/contacts").await;
    assert_eq!(flash(&list).as_deref(), Some("Contact deleted."));
    assert!(!list.contains("gone@example.com"));
    assert_eq!(
        app.get(&format!("/contacts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&confirm_path).await.status(), StatusCode::NOT_FOUND);
    let (s, _) = app.api_get(&format!("/contacts/{id}"), &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Emails of the rows of a contacts list page, and its Newer / Older links.
fn page_of(html: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let emails = table_rows(html).into_iter().map(|r| r[1].clone()).collect();
    let newer = attrs(html, "nav.pager a", "href")
        .into_iter()
        .find(|h| h.contains("after="));
    let older = attrs(html, "nav.pager a", "href")
        .into_iter()
        .find(|h| h.contains("before="));
    (emails, newer, older)
}

#[tokio::test]
async fn the_contact_list_pages_through_every_contact_newest_first() {
    let (app, token) = TestApp::ready().await;
    let mut created = Vec::new();
    for i in 0..122 {
        let email = format!("person{i:03}@example.com");
        let (s, _) = app
            .api_post(
                "/contacts",
                &token,
                json!({"email": email, "properties": {"firstname": format!("P{i}")}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        created.push(email);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let first = app.get_html("/contacts").await;
    assert_eq!(
        text(&first, ".page-head .muted").as_deref(),
        Some("122 contacts")
    );
    let (p1, newer, older) = page_of(&first);
    assert_eq!(p1, newest_first[..50]);
    assert_eq!(newer, None, "the first page has no newer page");
    let second = app.get_html(&older.expect("an Older link")).await;
    let (p2, newer2, older2) = page_of(&second);
    assert_eq!(p2, newest_first[50..100]);
    let third = app
        .get_html(&older2.expect("an Older link on page 2"))
        .await;
    let (p3, newer3, older3) = page_of(&third);
    assert_eq!(p3, newest_first[100..]);
    assert_eq!(older3, None, "the last page has no older page");

    // And back again.
    let back2 = app
        .get_html(&newer3.expect("a Newer link on the last page"))
        .await;
    let (b2, back_newer, back_older) = page_of(&back2);
    assert_eq!(b2, p2);
    assert!(back_older.is_some());
    let back1 = app
        .get_html(&back_newer.expect("a Newer link back to page 1"))
        .await;
    let (b1, b1_newer, b1_older) = page_of(&back1);
    assert_eq!(b1, p1);
    assert_eq!(b1_newer, None, "back at the newest contacts");
    assert!(b1_older.is_some());
    assert!(newer2.is_some());
}

#[tokio::test]
async fn search_finds_contacts_by_email_first_or_last_name_prefix() {
    let (app, token) = TestApp::ready().await;
    let people = [
        ("quentin.blake@books.example", "Quentin", "Blake"),
        ("zara@zoo.example", "Zara", "Quill"),
        ("ann@example.com", "Ann", "Archer"),
        ("bob@example.com", "Bob", "Anderson"),
    ];
    for (email, first, last) in people {
        let (s, _) = app
            .api_post(
                "/contacts",
                &token,
                json!({"email": email, "properties": {"firstname": first, "lastname": last}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    for i in 0..55 {
        app.api_post(
            "/contacts",
            &token,
            json!({"email": format!("bulk{i:02}@example.com")}),
        )
        .await;
    }
    let search = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let html = app.get_html(&format!("/contacts?q={q}")).await;
            assert_eq!(
                attr(&html, "input[name=q]", "value").as_deref(),
                Some(q.as_str()),
                "query kept in the box"
            );
            let mut emails: Vec<String> = table_rows(&html)
                .into_iter()
                .map(|r| r[1].clone())
                .collect();
            emails.sort();
            (emails, html)
        }
    };
    // Email prefix, case-insensitive.
    assert_eq!(search("QUENTIN.b").await.0, ["quentin.blake@books.example"]);
    assert_eq!(search("ann@").await.0, ["ann@example.com"]);
    // First name prefix.
    assert_eq!(search("Zar").await.0, ["zara@zoo.example"]);
    // Last name prefix; "Ann" also matches Ann's email and first name, and Anderson.
    assert_eq!(search("quill").await.0, ["zara@zoo.example"]);
    assert_eq!(search("An").await.0, ["ann@example.com", "bob@example.com"]);
    // A prefix search: the middle of an email does not match.
    let (none, html) = search("zoo.example").await;
    assert!(none.is_empty());
    assert_eq!(
        text(&html, "p.empty").as_deref(),
        Some("No contact matches “zoo.example”.")
    );

    // Search results page too, keeping the query in the links.
    let html = app.get_html("/contacts?q=bulk").await;
    let (p1, _, older) = page_of(&html);
    assert_eq!(p1.len(), 50);
    let older = older.expect("an Older link");
    assert!(older.contains("q=bulk"), "{older}");
    let (p2, newer, older2) = page_of(&app.get_html(&older).await);
    assert_eq!(p2.len(), 5);
    assert_eq!(older2, None);
    assert!(newer.expect("a Newer link").contains("q=bulk"));
    let mut all: Vec<String> = p1.into_iter().chain(p2).collect();
    all.sort();
    let want: Vec<String> = (0..55).map(|i| format!("bulk{i:02}@example.com")).collect();
    assert_eq!(all, want, "every match exactly once");
}
