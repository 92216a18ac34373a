//! Settings > Account: the account time zone; the settings navigation.

use reqwest::StatusCode;

use crate::helpers::{attr, flash, location, text, texts, TestApp};

#[tokio::test]
async fn settings_opens_on_the_account_page_with_utc_by_default() {
    let (app, _) = TestApp::ready().await;
    let res = app.get("/settings").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings/account");
    let html = app.get_html("/settings/account").await;
    assert_eq!(
        attr(&html, "input[name=time_zone]", "value").as_deref(),
        Some("UTC")
    );
    assert_eq!(
        texts(&html, "nav.subnav a"),
        ["Account", "Properties", "API tokens", "Users", "Webhooks"]
    );
    assert_eq!(
        text(&html, "label[for=f-time_zone]").as_deref(),
        Some("Account time zone")
    );
    // The IANA names are offered as suggestions (with their offsets).
    assert!(attr(&html, "#zones option[value=\"Europe/Oslo\"]", "label").is_some());
}

#[tokio::test]
async fn a_valid_time_zone_is_saved() {
    let (app, _) = TestApp::ready().await;
    let res = app
        .post_form(
            "/settings/account",
            "/settings/account",
            &[("time_zone", " Europe/Oslo ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings/account");
    let html = app.get_html("/settings/account").await;
    assert_eq!(
        flash(&html).as_deref(),
        Some("Account time zone set to Europe/Oslo.")
    );
    assert_eq!(
        attr(&html, "input[name=time_zone]", "value").as_deref(),
        Some("Europe/Oslo")
    );
    // Still there in another session.
    let again = app.get_html("/settings/account").await;
    assert_eq!(
        attr(&again, "input[name=time_zone]", "value").as_deref(),
        Some("Europe/Oslo")
    );
    assert_eq!(flash(&again), None, "the flash is shown once");
}

#[tokio::test]
async fn an_invalid_time_zone_is_refused_with_the_input_kept() {
    let (app, _) = TestApp::ready().await;
    app.post_form(
        "/settings/account",
        "/settings/account",
        &[("time_zone", "America/New_York")],
    )
    .await;
    for bad in ["Mars/Olympus_Mons", "CEST+2", ""] {
        let res = app
            .post_form(
                "/settings/account",
                "/settings/account",
                &[("time_zone", bad)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let html = res.text().await.unwrap();
        let msg = text(&html, "#time_zone-error").unwrap_or_default();
        assert!(
            msg.contains("is not an IANA time zone name"),
            "{bad:?}: {msg}"
        );
        assert_eq!(
            attr(&html, "input[name=time_zone]", "value").as_deref(),
            Some(bad),
            "input kept"
        );
        assert_eq!(
            attr(&html, "input[name=time_zone]", "aria-invalid").as_deref(),
            Some("true")
        );
        assert_eq!(
            attr(&html, "input[name=time_zone]", "aria-describedby").as_deref(),
            Some("time_zone-error")
        );
    }
    let html = app.get_html("/settings/account").await;
    assert_eq!(
        attr(&html, "input[name=time_zone]", "value").as_deref(),
        Some("America/New_York"),
        "nothing saved"
    );
}
