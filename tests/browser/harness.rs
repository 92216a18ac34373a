//! The browser harness: find Chromium and ChromeDriver, start the driver on a free port, spawn
//! the app on a random port with a temp database, open a headless session, and the small
//! vocabulary the tests speak — by label text, button text and ids, the way a person finds
//! things on the page — plus full-page screenshots into `target/screenshots/`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perennial::config::Config;
use perennial::startup::Application;
use serde_json::{json, Value};
use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// Chromium's flags: headless, no sandbox (we run as root in CI), and nothing that reaches
/// for the network (the machine has none; Chromium would retry Google's hosts forever).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--lang=en-US",
];

pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn first_existing(env: &str, fixed: &[&str], names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).map(PathBuf::from) {
        if p.is_file() {
            return Some(p);
        }
    }
    fixed
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| names.iter().find_map(|n| on_path(n)))
}

/// Chromium and ChromeDriver, from `CHROME_BIN` / `CHROMEDRIVER` or the usual places.
pub fn find_tools() -> Option<Tools> {
    let chromium = first_existing(
        "CHROME_BIN",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    )?;
    let chromedriver = first_existing(
        "CHROMEDRIVER",
        &["/usr/bin/chromedriver"],
        &["chromedriver"],
    )?;
    Some(Tools {
        chromium,
        chromedriver,
    })
}

/// The tools, or `None` after a loud "SKIPPED" line — only on a machine without a browser and
/// outside CI. In CI (`CI` set) a missing browser fails the test.
pub fn tools_or_skip(test: &str) -> Option<Tools> {
    if let Some(t) = find_tools() {
        return Some(t);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if in_ci {
        panic!(
            "{test}: CI is set but no Chromium/ChromeDriver was found (looked at $CHROME_BIN, \
             $CHROMEDRIVER, /usr/bin/chromium, /usr/bin/chromedriver and PATH). .ci/run installs \
             Debian's chromium and chromium-driver."
        );
    }
    // Straight to stderr, not `eprintln!`: the test harness hides what a passing test prints.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test}: no Chromium/ChromeDriver installed (looked at $CHROME_BIN, $CHROMEDRIVER, \
         /usr/bin/chromium, /usr/bin/chromedriver and PATH). Install them with \
         `apt-get install chromium chromium-driver` to run the browser tests."
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Kills the child process when dropped (also when a test panics).
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where screenshots go: `$CARGO_TARGET_DIR/screenshots`, else `target/screenshots` in the crate.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(target)
    } else {
        target
    };
    target.join("screenshots")
}

/// The size of the window the pages are drawn in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
    /// A phone: every page is checked for horizontal scrolling, and the header's links are
    /// behind its Menu.
    pub phone: bool,
}

pub const DESKTOP: Viewport = Viewport {
    width: 1280,
    height: 900,
    phone: false,
};

/// An iPhone 12–15's CSS pixels.
pub const PHONE: Viewport = Viewport {
    width: 390,
    height: 844,
    phone: true,
};

pub struct Browser {
    pub driver: WebDriver,
    /// `http://127.0.0.1:{port}` of the app.
    pub base: String,
    pub viewport: Viewport,
    /// The app's shared state (the walk makes Review's count outlast its wait).
    pub state: std::sync::Arc<perennial::state::AppState>,
    /// Pages checked for horizontal scrolling (phone width), by path.
    pub checked: std::sync::Mutex<Vec<String>>,
    shot_no: u32,
    shots: PathBuf,
    // Dropped last, in this order: the session is quit explicitly in `finish`.
    _app_dir: tempfile::TempDir,
    _profile: tempfile::TempDir,
    _chromedriver: ChildGuard,
}

impl Browser {
    /// Starts ChromeDriver, the app (fresh database) and a headless Chromium session.
    /// Screenshots are numbered from `first_shot`; files of earlier runs numbered
    /// `first_shot..first_shot + 89` are removed first.
    pub async fn start(tools: &Tools, first_shot: u32) -> Browser {
        Browser::start_in(tools, first_shot, DESKTOP, "").await
    }

    /// [`start`](Browser::start) in `viewport`, its screenshots in `screenshots/{subdir}`.
    pub async fn start_in(
        tools: &Tools,
        first_shot: u32,
        viewport: Viewport,
        subdir: &str,
    ) -> Browser {
        // The app, as tests/api/helpers.rs spawns it: totals counted for every page, as on
        // any database of this size (a count slowed by a busy machine is not kept).
        std::env::set_var("PERENNIAL_KEEP_TOTALS_AFTER_MS", "600000");
        let app_dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            bind: "127.0.0.1:0".into(),
            database_url: app_dir.path().join("browser.db").display().to_string(),
            run_worker: true,
            smtp_url: None,
        };
        let app = Application::build(config).expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());

        // ChromeDriver on a free port; wait until it listens.
        let port = free_port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", tools.chromedriver.display()));
        let chromedriver = ChildGuard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&tools.chromium.display().to_string())
            .expect("binary");
        for flag in CHROMIUM_FLAGS {
            caps.add_arg(flag).expect("flag");
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .expect("profile flag");
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a WebDriver session with headless Chromium");
        driver
            .set_page_load_timeout(Duration::from_secs(30))
            .await
            .expect("page load timeout");

        let shots = screenshot_dir().join(subdir);
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        if let Ok(entries) = std::fs::read_dir(&shots) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let n: Option<u32> = name.get(..2).and_then(|p| p.parse().ok());
                if name.ends_with(".png")
                    && n.is_some_and(|n| n >= first_shot && n < first_shot + 89)
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let b = Browser {
            driver,
            base,
            viewport,
            state,
            checked: std::sync::Mutex::new(Vec::new()),
            shot_no: first_shot,
            shots,
            _app_dir: app_dir,
            _profile: profile,
            _chromedriver: chromedriver,
        };
        b.emulate(viewport.height).await;
        b
    }

    /// Draws the pages `viewport.width` wide and `height` tall. Not Chrome's "mobile"
    /// emulation: that widens the layout viewport to fit a page too wide for it (so
    /// `innerWidth` would grow with the page and hide the overflow this checks for).
    async fn emulate(&self, height: u32) {
        self.driver
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": self.viewport.width, "height": height,
                        "deviceScaleFactor": 1, "mobile": false }),
            )
            .await
            .expect("set the viewport");
    }

    /// At phone width: the page must not scroll sideways (nothing wider than the screen).
    pub async fn check_width(&self) {
        if !self.viewport.phone {
            return;
        }
        let m = self
            .js(
                "const inner = window.innerWidth;
                 const clipped = e => {
                     for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                         const ox = getComputedStyle(a).overflowX;
                         if (ox !== 'visible' && a.getBoundingClientRect().right <= inner + 0.5) return true;
                     }
                     return false;
                 };
                 const wide = [...document.querySelectorAll('body *')].filter(e => {
                     const r = e.getBoundingClientRect();
                     return r.right > inner + 0.5 && getComputedStyle(e).position !== 'fixed' && !clipped(e);
                 }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
                 return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide };",
                vec![],
            )
            .await;
        let (scroll, inner) = (
            m["scroll"].as_f64().unwrap_or(0.0),
            m["inner"].as_f64().unwrap_or(0.0),
        );
        let path = self.path().await;
        assert!(
            inner <= f64::from(self.viewport.width),
            "{path}: the window is {inner} px wide, not {} px",
            self.viewport.width
        );
        assert!(
            scroll <= inner,
            "{path} scrolls sideways at {} px: document.documentElement.scrollWidth = {scroll} > \
             window.innerWidth = {inner}; too wide: {}",
            self.viewport.width,
            m["wide"]
        );
        let mut checked = self.checked.lock().expect("checked pages");
        if !checked.contains(&path) {
            checked.push(path);
        }
    }

    /// Ends the browser session (ChromeDriver and the profile go when `self` drops).
    pub async fn finish(self) {
        let Browser { driver, .. } = self;
        driver.quit().await.expect("quit the session");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn goto(&self, path: &str) {
        self.driver
            .goto(self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.wait_ready().await;
        self.check_width().await;
    }

    /// The path (and query) of the current page.
    pub async fn path(&self) -> String {
        let url = self.driver.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.driver
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
            .json()
            .clone()
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self.js("return document.readyState", vec![]).await;
            if state == "complete" {
                return;
            }
            assert!(Instant::now() < deadline, "page did not finish loading");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `act` (a click, a key press) and waits until it has loaded a new document.
    pub async fn navigating<F, Fut>(&self, what: &str, act: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.js("window.__perennialOld = true;", vec![]).await;
        act().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // During the navigation a script may fail; that counts as "not yet".
            let fresh = self
                .driver
                .execute(
                    "return window.__perennialOld !== true && document.readyState === 'complete'",
                    Vec::<Value>::new(),
                )
                .await
                .map(|r| r.json() == &Value::Bool(true))
                .unwrap_or(false);
            if fresh {
                self.check_width().await;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no new page within 30 s (still at {})",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of the page (or of `#main` when there is one).
    pub async fn text(&self) -> String {
        self.js(
            "const m = document.getElementById('main') || document.body; return m.innerText;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn text_of(&self, css: &str) -> String {
        match self.driver.find(By::Css(css)).await {
            Ok(el) => el.text().await.expect("text"),
            Err(e) => panic!("no element {css} on {}: {e}", self.describe().await),
        }
    }

    /// Where we are, for failure messages: the path, the heading and any error messages.
    pub async fn describe(&self) -> String {
        let info = self
            .js(
                "const h = document.querySelector('h1');
                 const errs = [...document.querySelectorAll('.field-error, .flash')]
                     .map(e => e.innerText.trim()).filter(t => t);
                 return { h1: h ? h.innerText : '', errors: errs };",
                vec![],
            )
            .await;
        format!(
            "{} (h1: {:?}; messages: {})",
            self.path().await,
            info["h1"],
            info["errors"]
        )
    }

    /// Asserts the page shows `needle` (in its visible text).
    pub async fn expect_text(&self, needle: &str) {
        let text = self.text().await;
        assert!(
            text.contains(needle),
            "expected the page to show {needle:?}; {}\n--- page text ---\n{text}",
            self.describe().await
        );
    }

    pub async fn expect_no_text(&self, needle: &str) {
        let text = self.text().await;
        assert!(
            !text.contains(needle),
            "expected the page NOT to show {needle:?}; {}\n--- page text ---\n{text}",
            self.describe().await
        );
    }

    /// The form control a `<label>` with this text (whitespace collapsed) is for. Exact
    /// text first, then a label that starts with it.
    pub async fn control(&self, label: &str) -> WebElement {
        self.control_where(label, "").await
    }

    /// Like `control`, but only a control matching the CSS `filter` (e.g. `[type=radio]`).
    pub async fn control_where(&self, label: &str, filter: &str) -> WebElement {
        self.control_in("", label, filter).await
    }

    /// Like `control_where`, among the labels inside the element matched by `within`.
    pub async fn control_in(&self, within: &str, label: &str, filter: &str) -> WebElement {
        let found = self
            .driver
            .execute(
                "const [want, filter, within] = arguments;
                 const root = within ? document.querySelector(within) : document;
                 if (!root) return null;
                 const norm = s => s.replace(/\\s+/g, ' ').trim();
                 const ok = c => c && (!filter || c.matches(filter));
                 const labels = [...root.querySelectorAll('label')];
                 let l = labels.find(l => norm(l.textContent) === want && ok(l.control));
                 if (!l) l = labels.find(l => norm(l.textContent).startsWith(want) && ok(l.control));
                 return l ? l.control : null;",
                vec![json!(label), json!(filter), json!(within)],
            )
            .await
            .expect("label lookup");
        match found.element() {
            Ok(e) => e,
            Err(_) => panic!(
                "no form control labelled {label:?}{}{}; {}",
                if filter.is_empty() {
                    String::new()
                } else {
                    format!(" matching {filter}")
                },
                if within.is_empty() {
                    String::new()
                } else {
                    format!(" in {within}")
                },
                self.describe().await
            ),
        }
    }

    /// Types `value` into the input or textarea labelled `label`, replacing what was there.
    pub async fn fill(&self, label: &str, value: &str) {
        let el = self.control(label).await;
        el.clear().await.expect("clear");
        if !value.is_empty() {
            el.send_keys(value).await.expect("type");
        }
        let now = el.value().await.expect("value").unwrap_or_default();
        assert_eq!(now, value, "the field {label:?} holds what was typed");
    }

    /// A date picker (`<input type=date>`), typed the way a person types it in an en-US
    /// Chromium: month, day, year. `iso` is YYYY-MM-DD.
    pub async fn fill_date(&self, label: &str, iso: &str) {
        let el = self.control(label).await;
        assert_eq!(
            el.attr("type").await.expect("type").as_deref(),
            Some("date")
        );
        let (y, rest) = iso.split_at(4);
        let (m, d) = (&rest[1..3], &rest[4..6]);
        el.click().await.expect("focus the date picker");
        el.send_keys(format!("{m}{d}{y}"))
            .await
            .expect("type a date");
        let now = el.value().await.expect("value").unwrap_or_default();
        assert_eq!(now, iso, "the date picker {label:?} holds the date typed");
    }

    /// A time input (`<input type=time>`), typed as in an en-US Chromium: hh mm AM/PM.
    /// `hhmm` is 24-hour "HH:MM".
    pub async fn fill_time(&self, label: &str, hhmm: &str) {
        let el = self.control(label).await;
        assert_eq!(
            el.attr("type").await.expect("type").as_deref(),
            Some("time")
        );
        let h: u32 = hhmm[..2].parse().expect("hour");
        let m = &hhmm[3..5];
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        el.click().await.expect("focus the time input");
        // Start from the hour segment whatever was clicked.
        el.send_keys(Key::Shift + Key::Tab).await.ok();
        let el = self.control(label).await;
        el.send_keys(format!("{h12:02}{m}{ampm}"))
            .await
            .expect("type a time");
        let now = el.value().await.expect("value").unwrap_or_default();
        assert_eq!(now, hhmm, "the time input {label:?} holds the time typed");
    }

    /// Chooses the option with this visible text (exactly, else the first that contains it)
    /// in the `<select>` labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let el = self.control(label).await;
        assert_eq!(
            el.tag_name().await.expect("tag"),
            "select",
            "{label:?} is a select"
        );
        let options = el.find_all(By::Tag("option")).await.expect("options");
        let mut texts = Vec::new();
        for o in &options {
            texts.push(o.text().await.expect("option text").trim().to_string());
        }
        let pick = texts
            .iter()
            .position(|t| t == option)
            .or_else(|| texts.iter().position(|t| t.contains(option)))
            .unwrap_or_else(|| panic!("{label:?} has no option {option:?} (it has {texts:?})"));
        if self.viewport.phone {
            // A phone picks from its own picker, which WebDriver cannot reach: choose the
            // option as that picker does (selected, then `input` and `change`).
            self.driver
                .execute(
                    "const [s, i] = arguments; s.focus(); s.selectedIndex = i;
                     s.dispatchEvent(new Event('input', {bubbles: true}));
                     s.dispatchEvent(new Event('change', {bubbles: true}));",
                    vec![el.to_json().expect("element"), json!(pick)],
                )
                .await
                .expect("choose option");
        } else {
            options[pick].click().await.expect("choose option");
        }
        assert!(options[pick].is_selected().await.expect("selected"));
    }

    /// Ticks (or unticks) the checkbox, or picks the radio button, whose label starts with `label`.
    pub async fn set_choice(&self, label: &str, on: bool) {
        let el = self
            .control_where(label, "input[type=checkbox], input[type=radio]")
            .await;
        if el.is_selected().await.expect("selected") != on {
            el.click().await.expect("click choice");
        }
        assert_eq!(
            el.is_selected().await.expect("selected"),
            on,
            "{label:?} is {on}"
        );
    }

    pub async fn choose(&self, label: &str) {
        self.set_choice(label, true).await;
    }

    /// `set_choice` among the labels inside `within`.
    pub async fn set_choice_in(&self, within: &str, label: &str, on: bool) {
        let el = self
            .control_in(within, label, "input[type=checkbox], input[type=radio]")
            .await;
        if el.is_selected().await.expect("selected") != on {
            el.click().await.expect("click choice");
        }
        assert_eq!(
            el.is_selected().await.expect("selected"),
            on,
            "{label:?} is {on}"
        );
    }

    /// In the editor's "Choose an action" panel, the action with this name.
    pub async fn click_pick(&self, label: &str) {
        let css = "a.pick-item";
        let items = self
            .driver
            .find_all(By::Css(css))
            .await
            .expect("pick items");
        for item in items {
            let name = item
                .find(By::Css(".pick-label"))
                .await
                .expect("pick label")
                .text()
                .await
                .expect("text");
            if name.trim() == label {
                item.scroll_into_view().await.ok();
                self.navigating(&format!("pick {label:?}"), || async {
                    item.click().await.expect("click");
                })
                .await;
                return;
            }
        }
        panic!("no action {label:?} to pick; {}", self.describe().await);
    }

    /// Presses keys as a person does, on whatever has the focus.
    pub async fn keys(&self, data: impl Into<TypingData>) {
        self.driver
            .action_chain()
            .send_keys(data)
            .perform()
            .await
            .expect("press keys");
    }

    /// Ctrl+A: selects everything in the focused text field.
    pub async fn select_all(&self) {
        self.driver
            .action_chain()
            .key_down(Key::Control)
            .send_keys("a")
            .key_up(Key::Control)
            .perform()
            .await
            .expect("press Ctrl+A");
    }

    /// Scrolls `el` to the middle of the window (clear of sticky bars and the header).
    pub async fn to_middle(&self, el: &WebElement) {
        self.driver
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
                vec![el.to_json().expect("element")],
            )
            .await
            .expect("scroll into view");
    }

    /// Clicks the element matched by `css` where that does not load a page (scrolled to the
    /// middle of the window first, clear of sticky bars, as a person would).
    pub async fn click_css_no_nav(&self, css: &str) {
        let el = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        self.to_middle(&el).await;
        el.click().await.expect("click");
    }

    /// The visible button or link whose text (whitespace collapsed) is `text`; inside the
    /// element matched by `within` when given.
    pub async fn clickable(&self, text: &str, within: &str) -> WebElement {
        let found = self
            .driver
            .execute(
                "const [want, within] = arguments;
                 const root = within ? document.querySelector(within) : document;
                 if (!root) return null;
                 const norm = s => s.replace(/\\s+/g, ' ').trim();
                 const visible = e => e.getClientRects().length > 0
                     && !e.closest('[aria-hidden=true], .visually-hidden');
                 const all = [...root.querySelectorAll('button, a, input[type=submit]')]
                     .filter(visible);
                 return all.find(e => norm(e.innerText || e.value || '') === want)
                     || all.find(e => norm(e.getAttribute('aria-label') || '') === want)
                     || null;",
                vec![json!(text), json!(within)],
            )
            .await
            .expect("button lookup");
        match found.element() {
            Ok(e) => e,
            Err(_) => panic!(
                "no visible button or link {text:?}{}; {}",
                if within.is_empty() {
                    String::new()
                } else {
                    format!(" in {within}")
                },
                self.describe().await
            ),
        }
    }

    /// Clicks the button or link with this text and waits for the next page.
    pub async fn click(&self, text: &str) {
        self.click_in(text, "").await;
    }

    /// Goes to a page of the main navigation: the header's bar, or on a phone its Menu.
    pub async fn nav(&self, text: &str) {
        if self.viewport.phone {
            self.click_css_no_nav(".menu > summary").await;
            self.click_in(text, "nav.menunav").await;
        } else {
            self.click_in(text, "nav.mainnav").await;
        }
    }

    /// Signs out from the header (on a phone, from its Menu).
    pub async fn sign_out(&self) {
        if self.viewport.phone {
            self.click_css_no_nav(".menu > summary").await;
            self.click_in("Sign out", ".menu-signout").await;
        } else {
            self.click_in("Sign out", ".topbar > .signout").await;
        }
    }

    /// Who is signed in, as the header (or its Menu) says.
    pub async fn who(&self) -> String {
        let v = self
            .js(
                "const w = [...document.querySelectorAll('.topbar .who')];
                 return w.map(e => e.textContent.trim()).find(t => t) || '';",
                vec![],
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    pub async fn click_in(&self, text: &str, within: &str) {
        let el = self.clickable(text, within).await;
        self.to_middle(&el).await;
        self.navigating(&format!("click {text:?}"), || async {
            el.click().await.expect("click");
        })
        .await;
    }

    /// Clicks the element matched by `css` and waits for the next page.
    pub async fn click_css(&self, css: &str) {
        let el = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        self.to_middle(&el).await;
        self.navigating(&format!("click {css}"), || async {
            el.click().await.expect("click");
        })
        .await;
    }

    /// A full-page PNG: `target/screenshots/NN-name.png`, numbered in order of the walk.
    /// The viewport is made as tall as the page (and as any panel that scrolls on its own, such
    /// as the editor's sticky side panel) so everything is in the picture, then restored.
    pub async fn shot(&mut self, name: &str) -> PathBuf {
        let cdp = self.driver.cdp();
        // The whole page from its top, wherever the last click scrolled it.
        let scrolled = self
            .js(
                "const y = window.scrollY; window.scrollTo(0, 0); return y",
                vec![],
            )
            .await;
        let mut height = self
            .js("return window.innerHeight", vec![])
            .await
            .as_f64()
            .unwrap_or(0.0);
        for _ in 0..3 {
            let needed = self
                .js(
                    "let h = document.documentElement.scrollHeight;
                     for (const el of document.querySelectorAll('body *')) {
                         const oy = getComputedStyle(el).overflowY;
                         if ((oy === 'auto' || oy === 'scroll') && el.scrollHeight > el.clientHeight + 1) {
                             const top = el.getBoundingClientRect().top + window.scrollY;
                             h = Math.max(h, top + el.scrollHeight + 32);
                         }
                     }
                     return Math.ceil(h);",
                    vec![],
                )
                .await
                .as_f64()
                .unwrap_or(900.0);
            if needed <= height {
                break;
            }
            height = needed.min(16000.0);
            self.emulate(height as u32).await;
        }
        let shot = cdp
            .send_raw("Page.captureScreenshot", json!({ "format": "png" }))
            .await
            .expect("capture screenshot");
        self.emulate(self.viewport.height).await;
        self.js("window.scrollTo(0, arguments[0])", vec![scrolled])
            .await;
        let data = shot["data"].as_str().expect("screenshot data");
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64 png");
        let path = self.shots.join(format!("{:02}-{name}.png", self.shot_no));
        self.shot_no += 1;
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}
