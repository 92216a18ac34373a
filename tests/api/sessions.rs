//! Issue 16, items 11 and 14: sign-in rate limits and timing, session rotation, sign-out on
//! the server, `next=` on this site only, users who can be disabled and deleted (page and
//! CLI), API tokens that belong to a user.

use std::time::Instant;

use reqwest::StatusCode;

use crate::helpers::{
    csrf_from, flash, location, session_cookie_of, spawn_app, table_rows, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};

/// Posts the login form from a fresh client; returns the response.
async fn login(app: &TestApp, email: &str, password: &str, next: &str) -> reqwest::Response {
    let other = app.fresh_client();
    let html = other.get_html("/login").await;
    let csrf = csrf_from(&html);
    other
        .client
        .post(other.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_so_a_saved_cookie_stops_working() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let cookie = app
        .session_cookie(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("signed in");
    let res = app.get_with_cookie("/contacts", &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csrf = csrf_from(&res.text().await.unwrap());
    // Sign out with that cookie (the browser then drops it)...
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let out = client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    // ...but a copy saved before signing out no longer signs anyone in.
    let res = app.get_with_cookie("/contacts", &cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    // The other browser (setup) is still signed in: only that session ended.
    assert_eq!(app.get("/contacts").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let before = session_cookie_of(&page).unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let res = client
        .post(app.url("/login"))
        .header("cookie", &before)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = session_cookie_of(&res).unwrap();
    assert_ne!(before, after);
    // The cookie from before sign-in (say, planted by someone) signs nobody in.
    let res = app.get_with_cookie("/contacts", &before).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/contacts", &after).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_sign_in_next_only_leads_to_a_path_of_this_site() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for (next, expected) in [
        ("/%09/evil.com", "/"),
        ("//evil.com", "/"),
        ("/%5Cevil.com", "/"),
        ("https://evil.com/", "/"),
        ("/%0A/evil.com", "/"),
        ("%2F%2Fevil.com", "/"),
        ("/contacts?q=ada", "/contacts?q=ada"),
    ] {
        let res = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD, &urlencode_once(next)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), expected, "next={next}");
    }
}

/// The form field holds what the query held, decoded once (as a browser submits it).
fn urlencode_once(s: &str) -> String {
    let decoded: Vec<(String, String)> =
        serde_html_form::from_str(&format!("n={s}")).unwrap_or_default();
    decoded
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[tokio::test]
async fn an_unknown_email_takes_as_long_as_a_wrong_password() {
    let app = spawn_app().await;
    app.setup_admin().await;
    // Only the POST is timed; known and unknown alternate, so a busy machine slows both alike.
    let attempt = |email: &'static str| {
        let other = app.fresh_client();
        async move {
            let csrf = csrf_from(&other.get_html("/login").await);
            let started = Instant::now();
            let res = other
                .client
                .post(other.url("/login"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("email", email),
                    ("password", "wrong password!"),
                ])
                .send()
                .await
                .unwrap();
            let took = started.elapsed();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            took
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        known.push(attempt(ADMIN_EMAIL).await);
        unknown.push(attempt("nobody@example.com").await);
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[1], unknown[1]);
    // The password check dominates both answers; without the dummy check an unknown email was
    // answered in a small fraction of the time (no hash verified at all).
    assert!(
        unknown * 3 >= known,
        "unknown email {unknown:?} vs known email {known:?}"
    );
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_paused_per_account_with_429_and_a_message() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for _ in 0..5 {
        let res = login(&app, ADMIN_EMAIL, "wrong password!", "/").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Now even the right password waits.
    let res = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    let html = res.text().await.unwrap();
    let msg = crate::helpers::text(&html, "[role=alert], .field-error, .form-error")
        .unwrap_or_else(|| html.clone());
    assert!(msg.contains("Too many failed sign-ins"), "{msg}");
    assert!(msg.contains("minute"), "{msg}");
    // Email case does not make a new account key.
    let res = login(&app, &ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD, "/").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn many_failed_sign_ins_from_one_address_are_paused_for_every_account() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for i in 0..20 {
        let res = login(&app, &format!("guess{i}@example.com"), "whatever!", "/").await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {i}"
        );
    }
    let res = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "/").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn wrong_api_tokens_from_one_address_get_429_with_retry_after() {
    let (app, token) = TestApp::ready().await;
    for _ in 0..20 {
        let (s, _) = app.api_get("/properties", "prn_wrong").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .client
        .get(app.url("/api/v1/properties"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("try again"),
        "{body}"
    );
}

/// Adds a user on Settings > Users as the signed-in admin.
async fn add_user(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_form(
        "/settings/users",
        "/settings/users",
        &[("email", email), ("password", password)],
    )
    .await
}

/// The id of a user, from the Settings > Users table's delete links.
async fn user_id(app: &TestApp, email: &str) -> i64 {
    let html = app.get_html("/settings/users").await;
    let doc = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("#users tbody tr").unwrap();
    let link = scraper::Selector::parse("a[href$='/delete']").unwrap();
    doc.select(&rows)
        .find(|r| r.text().collect::<String>().contains(email))
        .and_then(|r| r.select(&link).next())
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| h.split('/').nth(3))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no row for {email}"))
}

#[tokio::test]
async fn users_are_listed_added_disabled_enabled_and_deleted_and_their_tokens_follow() {
    let (app, _) = TestApp::ready().await;
    let res = add_user(&app, "bea@example.com", "bea's password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/settings/users").await;
    assert!(flash(&html).unwrap().contains("bea@example.com"));
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0][0].contains(ADMIN_EMAIL) && rows[0][0].contains("you"));
    // A duplicate is refused beside the field.
    let res = add_user(&app, "BEA@example.com", "another password").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("already exists"));

    // Bea signs in elsewhere and makes a token that acts for her.
    let bea = app.fresh_client();
    let cookie = app
        .session_cookie("bea@example.com", "bea's password")
        .await
        .expect("Bea signs in");
    let page = bea.get_with_cookie("/settings/tokens", &cookie).await;
    let csrf = csrf_from(&page.text().await.unwrap());
    let made = reqwest::Client::new()
        .post(app.url("/settings/tokens"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str()), ("name", "bea's script")])
        .send()
        .await
        .unwrap();
    let html = made.text().await.unwrap();
    let bea_token = crate::helpers::text(&html, "#new-token").expect("token shown");
    let (s, _) = app.api_get("/properties", &bea_token).await;
    assert_eq!(s, StatusCode::OK);
    let tokens = table_rows(&app.get_html("/settings/tokens").await);
    assert!(
        tokens
            .iter()
            .any(|r| r[0] == "bea's script" && r[4] == "bea@example.com"),
        "{tokens:?}"
    );

    // Disabled: her session ends, her token answers 401, she cannot sign in.
    let id = user_id(&app, "bea@example.com").await;
    let res = app
        .post_form(
            "/settings/users",
            &format!("/settings/users/{id}/disable"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/settings/users").await;
    assert!(flash(&html).unwrap().contains("disabled"), "{html}");
    assert_eq!(
        app.get_with_cookie("/contacts", &cookie).await.status(),
        StatusCode::SEE_OTHER
    );
    let (s, body) = app.api_get("/properties", &bea_token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(app
        .session_cookie("bea@example.com", "bea's password")
        .await
        .is_none());

    // Enabled again: the token works again.
    app.post_form(
        "/settings/users",
        &format!("/settings/users/{id}/enable"),
        &[],
    )
    .await;
    let (s, _) = app.api_get("/properties", &bea_token).await;
    assert_eq!(s, StatusCode::OK);

    // Nobody disables or deletes themselves here.
    let me = user_id_of_me(&app).await;
    let res = app
        .post_form(
            "/settings/users",
            &format!("/settings/users/{me}/disable"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html("/settings/users").await;
    assert!(flash(&html).unwrap().contains("your own account"));

    // Deleted, after a confirmation page: the token is gone with her.
    let confirm = app.get_html(&format!("/settings/users/{id}/delete")).await;
    assert!(confirm.contains("bea@example.com"));
    let res = app
        .post_form(
            &format!("/settings/users/{id}/delete"),
            &format!("/settings/users/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let rows = table_rows(&app.get_html("/settings/users").await);
    assert_eq!(rows.len(), 1);
    let (s, _) = app.api_get("/properties", &bea_token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// The signed-in admin's own id (the row marked "you" has no delete link; ids start at 1).
async fn user_id_of_me(app: &TestApp) -> i64 {
    let html = app.get_html("/settings/users").await;
    assert!(html.contains("you"));
    1
}

#[tokio::test]
async fn the_cli_lists_disables_enables_and_deletes_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_perennial"))
            .args(args)
            .env("DATABASE_URL", &db)
            .output()
            .unwrap()
    };
    let ok = |o: std::process::Output| {
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    // A token made before any user exists waits for the first user, who then owns it.
    let early = ok(run(&["token", "create", "--name", "early"]));
    assert!(String::from_utf8_lossy(&early.stderr).contains("No user exists yet"));
    let early = String::from_utf8_lossy(&early.stdout).trim().to_string();
    ok(run(&[
        "user",
        "create",
        "--email",
        "a@example.com",
        "--password",
        "password a",
    ]));
    ok(run(&[
        "user",
        "create",
        "--email",
        "b@example.com",
        "--password",
        "password b",
    ]));
    let token = String::from_utf8_lossy(
        &ok(run(&[
            "token",
            "create",
            "--name",
            "b's",
            "--user",
            "b@example.com",
        ]))
        .stdout,
    )
    .trim()
    .to_string();
    ok(run(&["user", "disable", "--email", "b@example.com"]));
    let list = String::from_utf8_lossy(&ok(run(&["user", "list"])).stdout).to_string();
    assert!(list.contains("a@example.com\tactive"), "{list}");
    assert!(list.contains("b@example.com\tdisabled"), "{list}");
    // The last active user stays.
    let refused = run(&["user", "disable", "--email", "a@example.com"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only active user"));
    let refused = run(&["token", "create", "--name", "x", "--user", "b@example.com"]);
    assert!(!refused.status.success());

    // The server on the same file: b's token does not work while b is disabled.
    let app = crate::helpers::spawn_app_with(|c| c.database_url = db.display().to_string()).await;
    let (s, _) = app.api_get("/properties", &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    ok(run(&["user", "enable", "--email", "b@example.com"]));
    let (s, _) = app.api_get("/properties", &token).await;
    assert_eq!(s, StatusCode::OK);
    ok(run(&["user", "delete", "--email", "b@example.com"]));
    let (s, _) = app.api_get("/properties", &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let list = String::from_utf8_lossy(&ok(run(&["user", "list"])).stdout).to_string();
    assert!(!list.contains("b@example.com"), "{list}");
    // The early token acts for a: it works while a is active, not once a is disabled.
    let (s, _) = app.api_get("/properties", &early).await;
    assert_eq!(s, StatusCode::OK);
    ok(run(&[
        "user",
        "create",
        "--email",
        "c@example.com",
        "--password",
        "password c",
    ]));
    ok(run(&["user", "disable", "--email", "a@example.com"]));
    let (s, _) = app.api_get("/properties", &early).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
