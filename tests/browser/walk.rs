//! Issue 5's walk: the whole flow a person takes, in headless Chromium, through the real
//! forms, labels and buttons, asserting what each page shows and saving a full-page
//! screenshot of each step into `target/screenshots/`. Issue 14 runs it twice: at 1280×900
//! and at phone width, 390×844 (`target/screenshots/phone/`), where every page it opens must
//! not scroll sideways. Steps 1–3 here; 4–7 in `walk_build.rs`, 8–12 in `walk_live.rs`.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::expected::{self, DelayAfter, Plan, Window};
use crate::harness::{
    tools_or_skip, Browser, Viewport, ADMIN_EMAIL, ADMIN_PASSWORD, DESKTOP, PHONE,
};

pub(crate) const WORKFLOW_NAME: &str = "Customer anniversary";
pub(crate) const ZONE: &str = "Europe/Oslo";

pub(crate) struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub email: &'static str,
    pub stage: &'static str,
    pub customer_since: Option<&'static str>,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// Created through the contact form.
pub(crate) const FORM_CONTACTS: [Person; 3] = [
    Person {
        first: "Ada",
        last: "Lovelace",
        email: "ada@example.com",
        stage: "customer",
        customer_since: Some("2020-01-20"),
    },
    Person {
        first: "Grace",
        last: "Hopper",
        email: "grace@example.com",
        stage: "customer",
        customer_since: Some("2019-06-03"),
    },
    Person {
        first: "Alan",
        last: "Turing",
        email: "alan@example.com",
        stage: "customer",
        customer_since: None,
    },
];

/// Imported by CSV upload. Linus is a lead: the trigger's filter keeps him out.
pub(crate) const CSV_CONTACTS: [Person; 2] = [
    Person {
        first: "Katherine",
        last: "Johnson",
        email: "katherine@example.com",
        stage: "customer",
        customer_since: Some("2021-03-15"),
    },
    Person {
        first: "Linus",
        last: "Pauling",
        email: "linus@example.org",
        stage: "lead",
        customer_since: Some("2018-09-10"),
    },
];

pub(crate) fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time")
}

pub(crate) const FIRST_DELAY_DAYS: i64 = 300;
pub(crate) const SECOND_DELAY_DAYS: i64 = 301;

/// What the scheduling rules give a contact of the walk enrolled now (`expected.rs`).
pub(crate) fn plan_for(p: &Person) -> Plan {
    let tz: Tz = ZONE.parse().expect("zone");
    let window = Window {
        start: hm(9, 0),
        end: hm(17, 0),
    };
    let first = DelayAfter {
        days: FIRST_DELAY_DAYS,
        at: hm(9, 0),
    };
    let second = DelayAfter {
        days: SECOND_DELAY_DAYS,
        at: hm(10, 0),
    };
    let anchor =
        NaiveDate::parse_from_str(p.customer_since.expect("a date"), "%Y-%m-%d").expect("date");
    expected::plan(anchor, Utc::now(), tz, first, second, &window)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_a_real_browser() {
    run(DESKTOP, "", "the_whole_flow_in_a_real_browser").await;
}

/// The same walk on a phone: 390×844, the header's links behind its Menu, and no page of the
/// walk scrolls sideways (`Browser::check_width`, after every page load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_at_phone_width() {
    run(PHONE, "phone", "the_whole_flow_at_phone_width").await;
}

async fn run(viewport: Viewport, shots: &str, test: &str) {
    let Some(tools) = tools_or_skip(test) else {
        return;
    };
    let mut b = Browser::start_in(&tools, 1, viewport, shots).await;
    setup_and_contacts(&mut b).await;
    let editor = crate::walk_build::build_and_test(&mut b).await;
    crate::walk_live::publish_and_follow(&mut b, &editor).await;
    crate::walk_live::from_a_template(&mut b).await;
    crate::walk_live::tour(&mut b).await;
    if viewport.phone {
        let checked = b.checked.lock().expect("checked pages").clone();
        assert!(
            checked.len() >= 40,
            "every page of the walk was checked at phone width: {checked:#?}"
        );
    }
    b.finish().await;
}

/// 1–3: first-run setup and sign-in, a custom date property, contacts by form and by CSV.
async fn setup_and_contacts(b: &mut Browser) {
    // 1. First-run setup creates the admin; sign out and sign in again.
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup", "a fresh install starts at setup");
    b.expect_text("Welcome — create the first admin").await;
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password (at least 8 characters)", ADMIN_PASSWORD)
        .await;
    b.shot("setup").await;
    b.click("Create admin and sign in").await;
    b.expect_text("Your admin account is ready.").await;
    assert_eq!(b.who().await, ADMIN_EMAIL);
    b.sign_out().await;
    assert!(
        b.path().await.starts_with("/login"),
        "signed out to the login page"
    );
    b.fill("Email", ADMIN_EMAIL).await;
    b.fill("Password", ADMIN_PASSWORD).await;
    b.shot("sign-in").await;
    b.click("Sign in").await;
    assert!(!b.path().await.starts_with("/login"), "signed in");
    assert_eq!(b.who().await, ADMIN_EMAIL);

    // 2. Settings > Properties: a custom date-picker property "Customer since".
    b.nav("Settings").await;
    b.click_in("Properties", "nav[aria-label=Settings]").await;
    b.click("Create property").await;
    b.fill("Label", "Customer since").await;
    b.fill("Internal name", "customer_since").await;
    b.select("Field type", "Date picker").await;
    b.shot("create-property").await;
    b.click("Create property").await;
    assert_eq!(b.path().await, "/settings/properties");
    let row = b
        .js(
            "const r = [...document.querySelectorAll('table.data tbody tr')]
                 .find(r => r.innerText.includes('customer_since'));
             return r ? r.innerText : null;",
            vec![],
        )
        .await;
    let row = row.as_str().expect("a row for customer_since").to_string();
    assert!(
        row.contains("Customer since") && row.contains("Date picker"),
        "{row}"
    );
    b.shot("properties").await;

    // 3. Contacts: three through the form, two by CSV upload.
    for (i, p) in FORM_CONTACTS.iter().enumerate() {
        b.nav("Contacts").await;
        b.click("Create contact").await;
        b.fill("Email", p.email).await;
        b.fill("First name", p.first).await;
        b.fill("Last name", p.last).await;
        // The stages read as labels ("Customer"), stored as HubSpot's internal values.
        b.select(
            "Lifecycle stage",
            &perennial::domain::labels::option_label(p.stage),
        )
        .await;
        if let Some(d) = p.customer_since {
            b.fill_date("Customer since", d).await;
        }
        if i == 0 {
            b.shot("create-contact").await;
        }
        b.click("Create contact").await;
        b.expect_text(&format!("Created {}.", p.name())).await;
        let stored = b
            .control("Customer since")
            .await
            .value()
            .await
            .expect("value");
        assert_eq!(stored.unwrap_or_default(), p.customer_since.unwrap_or(""));
    }
    let csv_dir = tempfile::tempdir().expect("csv dir");
    let csv_path = csv_dir.path().join("customers.csv");
    let mut csv = String::from("email,firstname,lastname,lifecyclestage,Customer since\n");
    for p in &CSV_CONTACTS {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            p.email,
            p.first,
            p.last,
            p.stage,
            p.customer_since.unwrap_or("")
        ));
    }
    std::fs::write(&csv_path, csv).expect("write csv");
    b.nav("Contacts").await;
    b.click("Import").await;
    b.control("CSV file")
        .await
        .send_keys(csv_path.display().to_string())
        .await
        .expect("choose the file");
    b.shot("import-choose-file").await;
    b.click("Import").await;
    wait_for_text(b, "rows imported", Duration::from_secs(30)).await;
    b.expect_text("2 of 2 rows imported (2 created, 0 updated)")
        .await;
    b.expect_text("0 rejected").await;
    b.shot("import-done").await;
    b.click("Back to contacts").await;
    b.expect_text("5 contacts").await;
    for p in FORM_CONTACTS.iter().chain(CSV_CONTACTS.iter()) {
        b.expect_text(p.email).await;
    }
    b.shot("contacts").await;
}

pub(crate) async fn wait_for_text(b: &Browser, needle: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !b.text().await.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "waited {limit:?} for {needle:?}; {}",
            b.describe().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Test page's timeline: each row's cells as text.
pub(crate) async fn timeline_rows(b: &Browser) -> Vec<Vec<String>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('table.timeline tbody tr')]
                 .map(r => [...r.cells].map(c => c.innerText.trim()))",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("rows")
}
