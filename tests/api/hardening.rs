//! Issue 16, items 7, 9, 10 and 13: the metrics token, embedded static assets with ETags, HEAD
//! wherever GET, security headers, the `Secure` cookie behind HTTPS, the Origin check, and
//! body caps.

use perennial::config::HttpOptions;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{csrf_from, spawn_app, spawn_app_http, TestApp};

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn html_pages_carry_a_strict_csp_and_the_framing_and_sniffing_headers() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let anonymous = app.fresh_client();
    for (client, path) in [
        (&app, "/contacts"),
        (&app, "/settings/users"),
        (&anonymous, "/login"),
        (&app, "/nowhere"),
        (&anonymous, "/api/v1/docs"),
    ] {
        let res = client.get(path).await;
        assert_eq!(
            header(&res, "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        let csp = header(&res, "content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(header(&res, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&res, "referrer-policy"), "same-origin", "{path}");
    }
    // No page carries an inline script (the CSP would block it).
    for path in [
        "/contacts",
        "/workflows",
        "/settings/tokens",
        "/settings/users",
    ] {
        let html = app.get_html(path).await;
        let doc = scraper::Html::parse_document(&html);
        let scripts = scraper::Selector::parse("script").unwrap();
        for s in doc.select(&scripts) {
            assert!(
                s.value().attr("src").is_some(),
                "{path} has an inline script"
            );
        }
        assert!(!html.contains(" onclick="), "{path} has an inline handler");
    }
}

#[tokio::test]
async fn static_assets_come_from_the_binary_with_an_etag_and_revalidate() {
    let app = spawn_app().await;
    let res = app.get("/static/app.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-type").starts_with("text/css"));
    assert!(header(&res, "cache-control").contains("no-cache"));
    let etag = header(&res, "etag").to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(
        res.text().await.unwrap(),
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css")).unwrap()
    );
    let again = app
        .client
        .get(app.url("/static/app.css"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    let js = app.get("/static/api-docs.js").await;
    assert!(header(&js, "content-type").contains("javascript"));
    assert_eq!(
        app.get("/static/nope.css").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn head_is_answered_wherever_get_is_with_headers_and_no_body() {
    let (app, token) = TestApp::ready().await;
    for (path, auth) in [
        ("/healthz", false),
        ("/readyz", false),
        ("/metrics", false),
        ("/static/app.css", false),
        ("/api/v1/openapi.json", false),
        ("/api/v1/docs", false),
        ("/contacts", false),
        ("/workflows", false),
        ("/settings/users", false),
        ("/api/v1/properties", true),
    ] {
        let mut get = app.client.get(app.url(path));
        let mut head = app.client.head(app.url(path));
        if auth {
            get = get.bearer_auth(&token);
            head = head.bearer_auth(&token);
        }
        let get = get.send().await.unwrap();
        let head = head.send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            header(&head, "content-type"),
            header(&get, "content-type"),
            "HEAD {path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_https_from_a_trusted_proxy_or_when_told() {
    let set_cookie = |res: &reqwest::Response| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Plain HTTP, nothing trusted: a forged X-Forwarded-Proto changes nothing.
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/setup"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let cookies = set_cookie(&res);
    assert!(!cookies.is_empty());
    assert!(cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");
    assert!(
        cookies.iter().all(|c| c.contains("HttpOnly")),
        "{cookies:?}"
    );

    // Behind a trusted proxy that says HTTPS.
    let app = spawn_app_http(HttpOptions {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let res = app
        .client
        .get(app.url("/setup"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let cookies = set_cookie(&res);
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
    let plain = app.fresh_client().get("/setup").await;
    assert!(set_cookie(&plain).iter().all(|c| !c.contains("Secure")));

    // --secure-cookies.
    let app = spawn_app_http(HttpOptions {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let cookies = set_cookie(&app.get("/setup").await);
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_even_with_the_token() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let html = app.get_html("/settings/users").await;
    let token = csrf_from(&html);
    let post = |origin: Option<(&'static str, String)>| {
        let mut req = app.client.post(app.url("/settings/users")).form(&[
            ("csrf_token", token.as_str()),
            ("email", "new@example.com"),
            ("password", "long enough password"),
        ]);
        if let Some((name, value)) = origin {
            req = req.header(name, value);
        }
        req.send()
    };
    let res = post(Some(("Origin", "https://evil.example".into())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    assert!(body.contains("another site"), "{body}");
    let res = post(Some(("Referer", "https://evil.example/page".into())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(Some(("Origin", "null".into()))).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = app.get_html("/settings/users").await;
    assert!(!html.contains("new@example.com"), "nothing was created");
    // From the site itself it goes through.
    let res = post(Some(("Origin", app.address.clone()))).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app
        .get_html("/settings/users")
        .await
        .contains("new@example.com"));
}

#[tokio::test]
async fn metrics_can_ask_for_a_token() {
    let app = spawn_app_http(HttpOptions {
        metrics_token: Some("scrape-secret".into()),
        ..Default::default()
    })
    .await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "www-authenticate").starts_with("Bearer"));
    assert!(res.text().await.unwrap().contains("--metrics-token"));
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok
        .text()
        .await
        .unwrap()
        .contains("perennial_db_pool_connections"));
    // Health checks stay open.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_and_overdeep_bodies_are_refused_cleanly() {
    let (app, token) = TestApp::ready().await;
    // JSON over 4 MB: 413 with a JSON message.
    let huge = format!(
        "{{\"email\":\"big@example.com\",\"properties\":{{\"firstname\":\"{}\"}}}}",
        "x".repeat(5 * 1024 * 1024)
    );
    let res = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("larger"), "{body}");

    // Nested 10,000 deep: a 422 naming the depth, no crash.
    let deep = format!(
        "{{\"email\":\"deep@example.com\",\"properties\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let res = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("nested"), "{body}");
    let (s, _) = app
        .api_get("/contacts?email=deep@example.com", &token)
        .await;
    assert_eq!(s, StatusCode::OK, "the app still answers");

    // A form over 1 MB: 413 with a page saying so.
    let html = app.get_html("/settings/tokens").await;
    let csrf = csrf_from(&html);
    let res = app
        .client
        .post(app.url("/settings/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", &"n".repeat(2 * 1024 * 1024)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("nothing was saved"));

    // A CSV upload declared over 64 MB: 413 before it is read.
    let cookie = app
        .session_cookie(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await
        .expect("signed in");
    let answer = tokio::task::spawn_blocking({
        let port = app.port;
        move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let head = format!(
                "POST /contacts/import HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\
                 Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n",
                65 * 1024 * 1024
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&[b'x'; 4096]).unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            String::from_utf8_lossy(&buf[..n]).to_string()
        }
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 64 MB"), "{answer}");
}

#[tokio::test]
async fn a_json_body_with_a_nul_character_is_refused_naming_the_field() {
    let (app, token) = TestApp::ready().await;
    let (s, body) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "nul@example.com", "properties": {"firstname": "A\u{0}da"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "properties.firstname");
    assert!(body["error"].as_str().unwrap().contains("NUL"), "{body}");
    let (s, found) = app.api_get("/contacts?email=nul@example.com", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["contacts"], json!([]), "nothing saved");
}

#[tokio::test]
async fn the_binary_serves_its_pages_and_assets_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_perennial"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("DATABASE_URL", dir.path().join("elsewhere.db"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let css = client.get(format!("{base}/static/app.css")).send().await;
    let setup = client.get(format!("{base}/setup")).send().await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the server started");
    let css = css.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(!css.bytes().await.unwrap().is_empty());
    let setup = setup.unwrap();
    assert_eq!(setup.status(), StatusCode::OK);
    assert!(setup.text().await.unwrap().contains("/static/app.css"));
}
