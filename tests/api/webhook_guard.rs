//! Issue 16, item 12: webhooks do not call this machine or its private networks (any spelling,
//! checked on the address actually called, after redirects too) unless Settings > Webhooks
//! lists the host; a refusal is a clear, final step error in the history.
//!
//! Every target here is on loopback: refused calls never open a connection, and the allowed
//! ones reach a receiver this test runs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A receiver on 127.0.0.1 counting requests; answers `answer` (a status line and headers).
fn receiver(answer: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10) {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .ok();
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            h.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                stream,
                "{answer}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    (port, hits)
}

/// A blank workflow of these webhook steps, with one contact enrolled; waits until every step
/// has an outcome in the history and returns the history (oldest first).
async fn run_webhooks(app: &TestApp, token: &str, urls: &[String]) -> Vec<Value> {
    let steps: Vec<Value> = urls
        .iter()
        .map(|u| json!({"type": "webhook", "url": u}))
        .collect();
    let def = json!({"name": "Hooks", "start": {"type": "blank"}, "steps": steps});
    let wf = app.publish_workflow(token, def, false).await;
    let (_, c) = app
        .api_post("/contacts", token, json!({"email": "hook@example.com"}))
        .await;
    let (s, e) = app
        .api_post(
            &format!("/workflows/{wf}/enrollments"),
            token,
            json!({"contact_id": c["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let started = Instant::now();
    loop {
        let (_, h) = app
            .api_get(&format!("/workflows/{wf}/history"), token)
            .await;
        let mut events = h["events"].as_array().cloned().unwrap_or_default();
        if events.iter().any(|e| e["event"] == "completed") {
            events.reverse();
            return events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the webhooks did not finish: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn outcomes(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["event"] == "action_failed" || e["event"] == "action_executed")
        .map(|e| {
            (
                e["event"].as_str().unwrap_or("").to_string(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_before_any_connection() {
    let (app, token) = TestApp::ready().await;
    let (port, hits) = receiver("HTTP/1.1 200 OK");
    let urls: Vec<String> = [
        "127.0.0.1",
        "2130706433",
        "127.1",
        "0x7f.0.0.1",
        "[::1]",
        "0.0.0.0",
        "localhost",
        "[::ffff:127.0.0.1]",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/hook"))
    .collect();
    let events = run_webhooks(&app, &token, &urls).await;
    let outcomes = outcomes(&events);
    assert_eq!(
        outcomes.len(),
        urls.len(),
        "one final outcome per step: {outcomes:#?}"
    );
    for ((event, detail), url) in outcomes.iter().zip(&urls) {
        assert_eq!(event, "action_failed", "{url}: {detail}");
        // Refused by the guard, or (a spelling the resolver does not take) not found; never
        // a connection.
        assert!(
            detail.contains("webhook refused") || detail.contains("failed"),
            "{url}: {detail}"
        );
        assert!(
            detail.contains("not retried") || detail.contains("attempt"),
            "{detail}"
        );
    }
    let refused: Vec<&String> = outcomes
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.contains("webhook refused"))
        .collect();
    for d in &refused {
        assert!(
            d.contains("loopback") || d.contains("unspecified"),
            "names the kind of address: {d}"
        );
        assert!(
            d.contains("Settings > Webhooks"),
            "says how to allow it: {d}"
        );
        assert!(d.contains("not retried"), "{d}");
    }
    // The plain address and the numeric spellings the issue names are refused by the guard.
    for (detail, url) in outcomes.iter().map(|(_, d)| d).zip(&urls).take(3) {
        assert!(detail.contains("webhook refused"), "{url}: {detail}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn listed_hosts_are_called_and_redirects_are_checked_again() {
    let (app, token) = TestApp::ready().await;
    // A bad entry is refused with the reason, and nothing is saved.
    let res = app
        .post_form(
            "/settings/webhooks",
            "/settings/webhooks",
            &[("allowed_hosts", "127.0.0.1\nhttp://bad host/")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("is not a host name"));

    app.allow_webhook_hosts("127.0.0.1").await;
    let html = app.get_html("/settings/webhooks").await;
    assert!(html.contains("127.0.0.1</textarea>"), "the list is shown");

    let (ok_port, ok_hits) = receiver("HTTP/1.1 200 OK");
    let (redirect_port, redirect_hits) = receiver(Box::leak(
        format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{ok_port}/elsewhere")
            .into_boxed_str(),
    ));
    let urls = vec![
        format!("http://127.0.0.1:{ok_port}/hook"),
        format!("http://127.0.0.1:{redirect_port}/hook"),
    ];
    let events = run_webhooks(&app, &token, &urls).await;
    let outcomes = outcomes(&events);
    assert_eq!(outcomes[0].0, "action_executed", "{outcomes:#?}");
    assert!(outcomes[0].1.contains("answered 200"), "{outcomes:#?}");
    assert_eq!(outcomes[1].0, "action_failed", "{outcomes:#?}");
    assert!(
        outcomes[1].1.contains("webhook refused") && outcomes[1].1.contains("127.0.0.2"),
        "the redirect's target is checked: {outcomes:#?}"
    );
    assert_eq!(ok_hits.load(Ordering::SeqCst), 1);
    assert_eq!(redirect_hits.load(Ordering::SeqCst), 1);
}
