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
    /// The app's database (`PERENNIAL_TEST_BACKEND`: an SQLite file, or a PostgreSQL database
    /// made for this test and dropped after it).
    pub database_url: String,
    /// The bell of this app's worker (a test that changes the database behind its back rings it).
    pub notifier: perennial::notifier::Notifier,
    /// The app's shared state (tests change how long Review keeps its counts).
    pub state: std::sync::Arc<perennial::state::AppState>,
    /// Keeps the database alive while any client of the app lives; then stops the app's
    /// worker and drops the database.
    _db: Option<std::sync::Arc<AppGuard>>,
}

/// Ends a test app: its worker stops first, then its database goes (a PostgreSQL one is
/// dropped; an SQLite file is deleted with its directory).
pub struct AppGuard {
    worker: Option<perennial::worker::WorkerStopper>,
    db: Option<perennial::db::scratch::ScratchDb>,
}

impl Drop for AppGuard {
    fn drop(&mut self) {
        if let Some(w) = &self.worker {
            w.stop();
        }
        drop(self.db.take());
    }
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_full(tweak, perennial::config::HttpOptions::default()).await
}

/// An app with these HTTP options (trusted proxies, secure cookies, a metrics token).
pub async fn spawn_app_http(http: perennial::config::HttpOptions) -> TestApp {
    spawn_app_full(|_| {}, http).await
}

pub async fn spawn_app_full(
    tweak: impl FnOnce(&mut Config),
    http: perennial::config::HttpOptions,
) -> TestApp {
    // TEST_LOG=1 shows the app's own log (errors the API only reports as "logged").
    if std::env::var_os("TEST_LOG").is_some() {
        perennial::telemetry::init();
    }
    // Retries of failing webhooks come quickly in tests (the default first wait is 30 s).
    std::env::set_var("PERENNIAL_RETRY_BASE_MS", "200");
    // Review recounts for every view unless a count takes 10 minutes: a count slowed by a busy
    // test machine is not kept between the views of a test. `review_counts` sets its own.
    std::env::set_var("PERENNIAL_REVIEW_CACHE_AFTER_MS", "600000");
    // Likewise the totals of headers and the contacts page (kept when counting takes 20 ms).
    std::env::set_var("PERENNIAL_KEEP_TOTALS_AFTER_MS", "600000");
    // The `api_postgres` binary is this suite on PostgreSQL; otherwise PERENNIAL_TEST_BACKEND.
    let backend = if env!("CARGO_CRATE_NAME") == "api_postgres" {
        perennial::db::Backend::Postgres
    } else {
        perennial::db::scratch::test_backend()
    };
    let db = perennial::db::scratch::ScratchDb::of(backend).expect("a scratch database");
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: db.url().to_string(),
        run_worker: true,
        smtp_url: None,
    };
    tweak(&mut config);
    let config_url = config.database_url.clone();
    let app = Application::build_with(config, http).expect("app builds");
    let port = app.port();
    let guard = AppGuard {
        worker: app.worker_stopper(),
        db: Some(db),
    };
    let notifier = app.state.pool.notifier().clone();
    let state = app.state.clone();
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
        database_url: config_url,
        notifier,
        state,
        _db: Some(std::sync::Arc::new(guard)),
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
            database_url: self.database_url.clone(),
            notifier: self.notifier.clone(),
            state: self.state.clone(),
            _db: self._db.clone(),
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
            .post_form(
                "/setup",
                "/setup",
                &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
            )
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

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method.clone(), self.url(&format!("/api/v1{path}")))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let method_name = method.as_str().to_string();
        let res = req.send().await.expect("API call");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        // Every response the suite sees must be what the OpenAPI document says.
        crate::openapi_check::check(
            &method_name,
            &format!("/api/v1{path}"),
            status.as_u16(),
            &text,
        );
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json)
    }

    pub async fn api_post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn api_get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.api(reqwest::Method::GET, path, token, None).await
    }

    pub async fn api_patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PATCH, path, token, Some(body))
            .await
    }

    #[allow(dead_code)]
    pub async fn api_put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PUT, path, token, Some(body))
            .await
    }
}

/// Trimmed, whitespace-collapsed text of every element matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).expect("valid selector");
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The text of the first element matching `selector`, if any.
pub fn text(html: &str, selector: &str) -> Option<String> {
    texts(html, selector).into_iter().next()
}

/// The `attr` of every element matching `selector` that has it.
pub fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).expect("valid selector");
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

/// The `attr` of the first element matching `selector`.
pub fn attr(html: &str, selector: &str, attr_name: &str) -> Option<String> {
    attrs(html, selector, attr_name).into_iter().next()
}

/// The flash message shown at the top of a page after a redirect.
pub fn flash(html: &str) -> Option<String> {
    text(html, ".flash")
}

/// The cells of each row of the first data table, as text.
pub fn table_rows(html: &str) -> Vec<Vec<String>> {
    let doc = scraper::Html::parse_document(html);
    let rows = scraper::Selector::parse("table.data tbody tr").expect("selector");
    let cells = scraper::Selector::parse("td").expect("selector");
    doc.select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| {
                    c.text()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect()
}

impl TestApp {
    /// Posts `multipart/form-data` (what a browser sends for a file input) with the CSRF token
    /// read from `page`. Built by hand: the dev-dependency reqwest has no multipart feature.
    pub async fn post_multipart(
        &self,
        page: &str,
        action: &str,
        file_field: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Response {
        let html = self.get_html(page).await;
        let token = csrf_from(&html);
        self.post_multipart_with_token(action, &token, file_field, filename, bytes)
            .await
    }

    pub async fn post_multipart_with_token(
        &self,
        action: &str,
        token: &str,
        file_field: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Response {
        let boundary = "----perennial-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n").as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.client
            .post(self.url(action))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST multipart")
    }

    /// Follows an import's status page until the import has finished; returns that page.
    pub async fn wait_for_import(&self, status_path: &str) -> String {
        for _ in 0..600 {
            let html = self.get_html(status_path).await;
            if !html.contains("http-equiv=\"refresh\"") {
                return html;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("import at {status_path} did not finish within 30 s");
    }

    /// The id of a property, looked up through the API.
    pub async fn property_id(&self, token: &str, name: &str) -> i64 {
        let (status, body) = self.api_get("/properties", token).await;
        assert_eq!(status, StatusCode::OK);
        body["properties"]
            .as_array()
            .expect("properties array")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["id"].as_i64())
            .unwrap_or_else(|| panic!("no property {name}"))
    }
}

impl TestApp {
    /// Creates a workflow through the API and turns it on; returns its id.
    pub async fn publish_workflow(&self, token: &str, def: Value, enroll_existing: bool) -> i64 {
        let (s, wf) = self.api_post("/workflows", token, def).await;
        assert_eq!(s, StatusCode::CREATED, "{wf}");
        let id = wf["id"].as_i64().expect("workflow id");
        let (s, on) = self
            .api_post(
                &format!("/workflows/{id}/publish"),
                token,
                serde_json::json!({ "enroll_existing": enroll_existing }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{on}");
        id
    }

    /// Travels in time: every pending step falls due at `at` (stored instant text), as if the
    /// time had passed (or the worker had been down), then wakes the worker.
    pub fn make_all_due_at(&self, at: &str) {
        use diesel::RunQueryDsl;
        let mut conn = self.db();
        diesel::sql_query("UPDATE enrollments SET next_due_at = $1 WHERE status = 'active'")
            .bind::<perennial::db::types::Instant, _>(at.to_string())
            .execute(&mut *conn)
            .expect("time travel");
        self.notifier.notify();
    }

    /// A connection of its own to the app's database (for what no page or endpoint does).
    /// Raw statements for both backends write placeholders `$1`, `$2`… in order and bind
    /// instants as `perennial::db::types::Instant`.
    pub fn db(&self) -> perennial::db::DbConn {
        let pool = perennial::db::connect(&self.database_url, 1).expect("db");
        pool.get().expect("connection")
    }
}

impl TestApp {
    /// Signs in with a cookie-less client of its own; returns the session cookie
    /// (`name=value`) when the sign-in succeeded (303), else `None`.
    pub async fn session_cookie(&self, email: &str, password: &str) -> Option<String> {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .expect("GET /login");
        let cookie = session_cookie_of(&page).expect("a session cookie");
        let csrf = csrf_from(&page.text().await.expect("body"));
        let res = client
            .post(self.url("/login"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("POST /login");
        (res.status() == StatusCode::SEE_OTHER)
            .then(|| session_cookie_of(&res))
            .flatten()
    }

    /// GET with exactly this cookie header (no cookie store).
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET")
    }
}

/// The `perennial_session=…` pair a response sets, if any.
pub fn session_cookie_of(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("perennial_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

impl TestApp {
    /// Settings > Webhooks: lets webhooks call these internal hosts (tests run their
    /// receivers on loopback, which is refused by default).
    pub async fn allow_webhook_hosts(&self, hosts: &str) {
        let res = self
            .post_form(
                "/settings/webhooks",
                "/settings/webhooks",
                &[("allowed_hosts", hosts)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "allowed hosts saved");
    }
}
