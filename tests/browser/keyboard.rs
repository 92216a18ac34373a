//! Keyboard-only use of Create workflow (`/workflows/new`) and of the date delay panel: Tab
//! reaches every control in document order, the focus is visible on each, every input has a
//! label, and both forms are filled in and submitted with keys alone.

use serde::Deserialize;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::harness::{tools_or_skip, Browser, ADMIN_EMAIL, ADMIN_PASSWORD};

/// One place Tab stopped.
#[derive(Debug, Deserialize, Clone)]
struct Stop {
    /// `radio:{name}` for a radio group (one stop per group), else `el:{dom index}`.
    key: String,
    /// Position in document order.
    dom: i64,
    /// `input#f-name`, `a "Cancel"`: for messages.
    desc: String,
    /// Inside `scope` (the part of the page under test).
    in_scope: bool,
    /// Matches `:focus-visible`.
    focus_visible: bool,
    /// A focus indicator is drawn: the outline or box-shadow of the element (or of a close
    /// ancestor, through `:focus-within`) differs from when it had no focus.
    indicator: bool,
}

/// What `document.activeElement` is, in the terms of `Stop`.
const DESCRIBE_ACTIVE: &str = "
    const scope = document.querySelector(arguments[0]);
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const all = [...document.querySelectorAll('*')];
    const dom = all.indexOf(el);
    const key = el.type === 'radio' ? 'radio:' + el.name : 'el:' + dom;
    const text = (el.innerText || el.value || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
    const desc = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (el.name ? '[name=' + el.name + ']' : '') + (text ? ' \"' + text + '\"' : '');
    const rings = window.__perennialRings;
    const before = rings && rings.get(el);
    return { key, dom, desc, in_scope: !!(scope && scope.contains(el)),
             focus_visible: el.matches(':focus-visible'),
             indicator: before !== undefined && rings.ring(el) !== before };";

/// Notes, while nothing has the focus, the outline and box-shadow of every focusable element
/// and of its three nearest ancestors (a card shows the focus of its link with
/// `:focus-within`). A visible focus changes one of them.
const NOTE_RINGS: &str = "
    const ring = el => {
        const parts = [];
        for (let e = el, i = 0; e && e !== document.body && i < 4; e = e.parentElement, i++) {
            const cs = getComputedStyle(e);
            const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0
                ? cs.outlineStyle + ' ' + cs.outlineWidth + ' ' + cs.outlineColor : 'none';
            parts.push(outline + ' / ' + cs.boxShadow);
        }
        return parts.join(' | ');
    };
    const rings = new Map();
    rings.ring = ring;
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]'))
        rings.set(el, ring(el));
    window.__perennialRings = rings;";

/// Every control a keyboard user must be able to reach inside `scope`, as `Stop` keys.
const REACHABLE: &str = "
    const scope = document.querySelector(arguments[0]);
    const all = [...document.querySelectorAll('*')];
    const sel = 'a[href], button, input, select, textarea, summary, [tabindex]';
    const keys = new Set();
    for (const el of scope.querySelectorAll(sel)) {
        if (el.disabled || el.type === 'hidden' || el.tabIndex < 0) continue;
        if (el.getClientRects().length === 0) continue;
        keys.add(el.type === 'radio' ? 'radio:' + el.name : 'el:' + all.indexOf(el));
    }
    return [...keys];";

/// Controls in `scope` without a label: no `<label>`, `aria-label` or `aria-labelledby`.
const UNLABELLED: &str = "
    const scope = document.querySelector(arguments[0]);
    return [...scope.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button')
        .filter(el => !(el.labels && el.labels.length > 0)
            && !(el.getAttribute('aria-label') || '').trim()
            && !el.getAttribute('aria-labelledby'))
        .map(el => el.outerHTML.slice(0, 120));";

/// Elements with a positive tabindex (they jump the natural order).
const POSITIVE_TABINDEX: &str = "
    return [...document.querySelectorAll('[tabindex]')]
        .filter(el => el.tabIndex > 0).map(el => el.outerHTML.slice(0, 120));";

impl Browser {
    async fn active(&self, scope: &str) -> Option<Stop> {
        let v = self.js(DESCRIBE_ACTIVE, vec![json!(scope)]).await;
        if v.is_null() {
            None
        } else {
            Some(serde_json::from_value(v).expect("a stop"))
        }
    }

    /// Presses Tab from the top of the page until the focus leaves the document or comes
    /// round again; the distinct stops, in order (date and time inputs take several Tabs, one
    /// per part, and count once).
    async fn tab_walk(&self, scope: &str) -> Vec<Stop> {
        self.js(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
            vec![],
        )
        .await;
        self.js(NOTE_RINGS, vec![]).await;
        let mut stops: Vec<Stop> = Vec::new();
        for _ in 0..200 {
            self.keys(Key::Tab).await;
            let Some(stop) = self.active(scope).await else {
                if stops.is_empty() {
                    continue;
                }
                break;
            };
            if stops.last().is_some_and(|s| s.key == stop.key) {
                continue;
            }
            if stops.first().is_some_and(|s| s.key == stop.key) {
                break;
            }
            stops.push(stop);
        }
        stops
    }

    /// Tab until the focus is on the element for which `test(stop)` holds; panics after 100.
    async fn tab_to(&self, what: &str, test: impl Fn(&Stop) -> bool) -> Stop {
        for _ in 0..100 {
            self.keys(Key::Tab).await;
            if let Some(s) = self.active("body").await {
                if test(&s) {
                    return s;
                }
            }
        }
        panic!("Tab never reached {what}; {}", self.describe().await);
    }

    async fn active_value(&self) -> String {
        self.js("return document.activeElement.value", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The checks shared by both pages: order, reach, visible focus, labels.
    async fn check_keyboard_access(&self, scope: &str, page: &str) {
        // From the top of the page: load it again without a #fragment (which moves the
        // starting point of Tab).
        self.goto(&self.path().await).await;
        let positive = self.js(POSITIVE_TABINDEX, vec![]).await;
        assert_eq!(positive, json!([]), "{page}: no positive tabindex");

        let stops = self.tab_walk(scope).await;
        let order: Vec<&str> = stops.iter().map(|s| s.desc.as_str()).collect();
        eprintln!("{page}: {} Tab stops: {}", stops.len(), order.join(" → "));
        assert!(
            stops
                .first()
                .is_some_and(|s| s.desc.contains("Skip to content")),
            "{page}: the first Tab reaches \"Skip to content\": {order:#?}"
        );
        for pair in stops.windows(2) {
            assert!(
                pair[0].dom < pair[1].dom,
                "{page}: Tab goes from {} back up to {} — the order should follow the page: {order:#?}",
                pair[0].desc,
                pair[1].desc
            );
        }
        let reachable: Vec<String> =
            serde_json::from_value(self.js(REACHABLE, vec![json!(scope)]).await).expect("keys");
        let reached: Vec<&str> = stops.iter().map(|s| s.key.as_str()).collect();
        let missed: Vec<&String> = reachable
            .iter()
            .filter(|k| !reached.contains(&k.as_str()))
            .collect();
        assert!(
            missed.is_empty(),
            "{page}: Tab never reaches {missed:?}; it stops at {order:#?}"
        );
        for s in &stops {
            assert!(
                s.focus_visible && s.indicator,
                "{page}: the focus on {} is not visible (:focus-visible {}, outline or shadow changes {})",
                s.desc,
                s.focus_visible,
                s.indicator
            );
        }
        let unlabelled = self.js(UNLABELLED, vec![json!(scope)]).await;
        assert_eq!(unlabelled, json!([]), "{page}: every input has a label");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_create_page_and_delay_panel() {
    let Some(tools) = tools_or_skip("keyboard_only_create_page_and_delay_panel") else {
        return;
    };
    let mut b = Browser::start(&tools, 90).await;

    // Set up (with the mouse; not under test): the admin and a date-picker property.
    b.goto("/setup").await;
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password (at least 8 characters)", ADMIN_PASSWORD)
        .await;
    b.click("Create admin and sign in").await;
    b.goto("/settings/properties/new").await;
    b.fill("Label", "Renewal date").await;
    b.fill("Internal name", "renewal_date").await;
    b.select("Field type", "Date picker").await;
    b.click("Create property").await;

    // Create workflow, keyboard only.
    b.goto("/workflows/new").await;
    b.check_keyboard_access("main", "/workflows/new").await;
    b.js(
        "document.activeElement && document.activeElement.blur()",
        vec![],
    )
    .await;
    b.tab_to("the workflow name", |s| s.desc.starts_with("input#f-name"))
        .await;
    b.select_all().await;
    b.keys("Keyboard renewal").await;
    b.tab_to("the start choice", |s| s.key == "radio:start")
        .await;
    for _ in 0..3 {
        if b.active_value().await == "contact_date_property" {
            break;
        }
        b.keys(Key::Down).await;
    }
    assert_eq!(
        b.active_value().await,
        "contact_date_property",
        "arrow keys choose Contact date property"
    );
    b.tab_to("the property dropdown", |s| {
        s.desc.starts_with("select#f-property")
    })
    .await;
    b.keys("Renewal").await; // type-ahead picks the option
    assert_eq!(b.active_value().await, "renewal_date");
    b.shot("keyboard-create-workflow").await;
    b.tab_to("Next", |s| s.desc.contains("\"Next\"")).await;
    b.navigating("Enter on Next", || async { b.keys(Key::Enter).await })
        .await;
    assert_eq!(b.text_of("h1").await, "Keyboard renewal");
    let editor = b.path().await;

    // The first delay's panel, opened from its card with Enter.
    b.js(
        "document.activeElement && document.activeElement.blur()",
        vec![],
    )
    .await;
    b.tab_to("the first delay's card", |s| {
        s.desc.contains("Execute next action on")
    })
    .await;
    b.navigating("Enter on the delay card", || async {
        b.keys(Key::Enter).await
    })
    .await;
    assert!(
        b.path().await.contains("panel=step-0"),
        "the delay panel opens: {}",
        b.path().await
    );
    // The link goes to #panel: the next Tab is inside the panel, not back at the top.
    b.keys(Key::Tab).await;
    let first = b.active("#panel").await.expect("a focused element");
    assert!(
        first.in_scope,
        "Tab after opening the panel lands in it: {first:?}"
    );
    b.check_keyboard_access("#panel", "the date delay panel")
        .await;
    b.js(
        "document.activeElement && document.activeElement.blur()",
        vec![],
    )
    .await;
    b.tab_to("the when choice", |s| s.key == "radio:when").await;
    for _ in 0..3 {
        if b.active_value().await == "before" {
            break;
        }
        b.keys(Key::Down).await;
    }
    assert_eq!(
        b.active_value().await,
        "before",
        "arrow keys choose Before the date"
    );
    b.tab_to("How many", |s| s.desc.starts_with("input#p-amount"))
        .await;
    b.select_all().await;
    b.keys("30").await;
    b.tab_to("Time of day", |s| s.desc.starts_with("input#p-time_of_day"))
        .await;
    b.keys("0815AM").await;
    assert_eq!(b.active_value().await, "08:15");
    b.shot("keyboard-delay-panel").await;
    b.tab_to("Save", |s| s.desc.contains("\"Save\"")).await;
    b.navigating("Enter on Save", || async { b.keys(Key::Enter).await })
        .await;
    assert!(
        b.path().await.starts_with(&editor),
        "saved back to the editor: {}",
        b.describe().await
    );
    let card = b.text_of("#card-step-0").await;
    assert!(
        card.contains("30 days before") && card.contains("08:15"),
        "the card shows what was typed: {card}"
    );
    b.shot("keyboard-delay-saved").await;
    b.finish().await;
}
