//! Email pacing in the pages (issue 17): a workflow's Settings (General tab) and Settings >
//! Account > Account pacing, with each message beside its field and the input kept.

use reqwest::StatusCode;

use crate::campaign_editor::{blank_workflow, definition};
use crate::helpers::{attr, flash, location, text, TestApp};
use crate::workflows_api::with_properties;

#[tokio::test]
async fn account_pacing_is_saved_shown_and_refused_beside_its_field() {
    let (app, _) = TestApp::ready().await;
    let html = app.get_html("/settings/account").await;
    assert_eq!(text(&html, "#pacing h2").as_deref(), Some("Account pacing"));
    assert!(html.contains("No pacing"), "none by default");

    let res = app
        .post_form(
            "/settings/account",
            "/settings/pacing",
            &[
                ("pacing_max_emails", "3"),
                ("pacing_per_days", ""),
                ("quiet_start", "21:00"),
                ("quiet_end", "08:00"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap_or_default();
    let m = text(&html, "[id=\"pacing.per_days-error\"]").unwrap_or_default();
    assert!(m.contains("how many days"), "{m}");
    assert_eq!(
        attr(&html, "#f-pacing_max_emails", "value").as_deref(),
        Some("3")
    );
    assert_eq!(
        attr(&html, "#f-quiet_start", "value").as_deref(),
        Some("21:00")
    );

    let res = app
        .post_form(
            "/settings/account",
            "/settings/pacing",
            &[
                ("pacing_max_emails", "3"),
                ("pacing_per_days", "7"),
                ("quiet_start", "21:00"),
                ("quiet_end", "08:00"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings/account#pacing");
    let html = app.get_html("/settings/account").await;
    let f = flash(&html).unwrap_or_default();
    assert!(f.contains("At most 3 emails per contact in 7 days"), "{f}");
    assert_eq!(
        attr(&html, "#f-pacing_per_days", "value").as_deref(),
        Some("7")
    );
    assert_eq!(
        attr(&html, "#f-quiet_end", "value").as_deref(),
        Some("08:00")
    );

    // A workflow that uses the account's pacing says what it is.
    let app2 = app;
    let token = app2.api_token().await;
    let id = blank_workflow(&app2, &token).await;
    let html = app2
        .get_html(&format!("/workflows/{id}/settings?tab=general"))
        .await;
    assert!(html.contains("At most 3 emails per contact in 7 days"));
    assert!(html.contains(r#"value="account" checked"#));

    // Emptying every input removes the account's pacing.
    let res = app2
        .post_form(
            "/settings/account",
            "/settings/pacing",
            &[
                ("pacing_max_emails", ""),
                ("pacing_per_days", ""),
                ("quiet_start", ""),
                ("quiet_end", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app2.get_html("/settings/account").await;
    assert!(html.contains("No pacing"));
}

#[tokio::test]
async fn a_workflow_gets_its_own_pacing_or_the_accounts_on_its_settings_page() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;
    let page = format!("/workflows/{id}/settings?tab=general");
    let html = app.get_html(&page).await;
    assert_eq!(
        text(&html, "#pacing legend").as_deref(),
        Some("Email pacing")
    );

    let general = |mode: &'static str, max: &'static str, qs: &'static str| {
        vec![
            ("window_mode", "any"),
            ("catch_up_hours", "24"),
            ("feb29", "feb28"),
            ("pacing_mode", mode),
            ("pacing_max_emails", max),
            ("pacing_per_days", "7"),
            ("quiet_start", qs),
            ("quiet_end", "08:00"),
        ]
    };
    let res = app
        .post_form(&page, &page, &general("own", "2", "25:00"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap_or_default();
    let m = text(&html, "[id=\"settings.pacing.quiet_hours.start-error\"]").unwrap_or_default();
    assert!(m.contains("HH:MM"), "{m}");
    assert_eq!(
        attr(&html, "#f-quiet_start", "value").as_deref(),
        Some("25:00")
    );
    assert!(
        html.contains(r#"value="own" checked"#),
        "the choice is kept"
    );

    let res = app
        .post_form(&page, &page, &general("own", "2", "21:00"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let def = definition(&app, &token, id).await;
    let p = &def["settings"]["pacing"];
    assert_eq!(p["max_emails"], 2, "{def}");
    assert_eq!(p["per_days"], 7);
    assert_eq!(p["quiet_hours"]["start"], "21:00");
    let html = app.get_html(&page).await;
    assert_eq!(
        attr(&html, "#f-pacing_max_emails", "value").as_deref(),
        Some("2")
    );

    let res = app
        .post_form(&page, &page, &general("account", "2", "21:00"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let def = definition(&app, &token, id).await;
    assert!(def["settings"].get("pacing").is_none(), "{def}");
}

#[tokio::test]
async fn suppression_takes_relative_dates_with_ignore_the_year() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let id = blank_workflow(&app, &token).await;
    let page = format!("/workflows/{id}/settings?tab=unenrollment");
    let html = app.get_html(&page).await;
    assert!(html.contains("is within the next N days (dates)"));
    let res = app
        .post_form(
            &page,
            &page,
            &[
                ("sup_group", "0"),
                ("sup_property", "renewal_date"),
                ("sup_operator", "within_last_days"),
                ("sup_value", "30"),
                ("sup_year", "ignore"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let def = definition(&app, &token, id).await;
    let f = &def["settings"]["suppression"]["filter_groups"][0][0];
    assert_eq!(f["operator"], "within_last_days", "{def}");
    assert_eq!(f["ignore_year"], true, "{def}");
    let html = app.get_html(&page).await;
    assert!(html.contains(r#"<option value="ignore" selected>Ignore the year</option>"#));
    let review = app.get_html(&format!("/workflows/{id}/review")).await;
    assert!(
        review.contains("is within the last 30 days (ignoring the year)"),
        "review says it in words"
    );
}
