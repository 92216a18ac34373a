//! `spawn_app()` and the small vocabulary tests speak: sign in, read a CSRF token from a page,
//! post a form, call the API with a token.

use perennial::config::Config;
use perennial::startup::Application;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// A browser-like client: keeps cookies, does not follow redirects (tests assert them).
    pub client: Client,
    pub db_path: std::path::PathBuf,
    /// Keeps the temp database alive; `None` for a second client on the same app.
    _dir: Option<tempfile::TempDir>,
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("test.db");
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: db_path.display().to_string(),
        run_worker: true,
        smtp_url: None,
    };
    tweak(&mut config);
    let app = Application::build(config).expect("app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        db_path,
        _dir: Some(dir),
    }
}

/// The value of the first `name="csrf_token"` hidden input on a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF token") + marker.len();
    let end = html[start..].find('"').expect("token ends") + start;
    html[start..end].to_string()
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string()
}

impl TestApp {
    /// Another browser (no cookies) pointed at the same app.
    pub fn fresh_client(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            port: self.port,
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            db_path: self.db_path.clone(),
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.expect("body")
    }

    /// Posts a form with the CSRF token read from `page` (the page the form is on).
    pub async fn post_form(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let html = self.get_html(page).await;
        let token = csrf_from(&html);
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// First-run setup creates the admin and signs in.
    pub async fn setup_admin(&self) {
        let res = self
            .post_form("/setup", "/setup", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "setup redirects");
    }

    /// Creates an API token through the settings page and returns it.
    pub async fn api_token(&self) -> String {
        let res = self
            .post_form("/settings/tokens", "/settings/tokens", &[("name", "tests")])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        let marker = "id=\"new-token\">";
        let start = html.find(marker).expect("token shown") + marker.len();
        let end = html[start..].find('<').unwrap() + start;
        html[start..end].to_string()
    }

    /// A signed-in admin and an API token: the usual starting point.
    pub async fn ready() -> (TestApp, String) {
        let app = spawn_app().await;
        app.setup_admin().await;
        let token = app.api_token().await;
        (app, token)
    }

    pub async fn api(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("API call");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json)
    }

    pub async fn api_post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn api_get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.api(reqwest::Method::GET, path, token, None).await
    }

    pub async fn api_patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PATCH, path, token, Some(body)).await
    }

    #[allow(dead_code)]
    pub async fn api_put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PUT, path, token, Some(body)).await
    }
}
