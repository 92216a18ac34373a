//! CSV import: the upload page (multipart, CSRF, background job with a report) and the
//! service the CLI calls.

use std::time::Instant;

use perennial::services::import::{import_csv, RowError};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{location, table_rows, text, TestApp};

/// Good rows, bad rows of each kind, an update of an existing contact, a quoted multi-line
/// cell, a short row (refused whole) and a column that matches no property.
const MIXED: &str = "email,firstname,lastname,Renewal date,seats,favourite colour
ann@example.com,Ann,Archer,2027-01-15,3,blue
bad-email,Bob,Baker,,,
cid@example.com,Cid,Carter,2027-02-30,,
dee@example.com,Dee,Dunn,,lots,
EXISTING@example.com,Eve,Updated,,,
,NoEmail,Person,,,
\"fay@example.com\",\"Fay\",\"Multi
Line\",,2,
gus@example.com,Gus
";

fn expected_errors() -> Vec<(u64, &'static str)> {
    vec![
        (3, "Email: \"bad-email\" is not a valid email address."),
        (
            4,
            "Renewal date: \"2027-02-30\" is not a valid date (YYYY-MM-DD)",
        ),
        (5, "Seats: \"lots\" is not a number"),
        (7, "Email: a row needs an email address."),
        (
            10,
            "this row has 2 values but the header has 6 columns; nothing of it was imported",
        ),
    ]
}

async fn with_properties() -> (TestApp, String) {
    let (app, token) = TestApp::ready().await;
    for (name, label, ft) in [
        ("renewal_date", "Renewal date", "date"),
        ("seats", "Seats", "number"),
    ] {
        let (s, _) = app
            .api_post(
                "/properties",
                &token,
                json!({"name": name, "label": label, "field_type": ft}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, _) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "existing@example.com", "properties": {"firstname": "Evelyn", "lastname": "Old", "seats": 7}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    (app, token)
}

async fn contact(app: &TestApp, token: &str, email: &str) -> serde_json::Value {
    let (_, found) = app
        .api_get(&format!("/contacts?email={email}"), token)
        .await;
    found["contacts"][0].clone()
}

#[tokio::test]
async fn the_import_page_imports_good_rows_and_reports_bad_ones_by_line() {
    let (app, token) = with_properties().await;
    let list = app.get_html("/contacts").await;
    assert!(
        list.contains("href=\"/contacts/import\""),
        "the contacts page links to the import"
    );
    let res = app
        .post_multipart(
            "/contacts/import",
            "/contacts/import",
            "file",
            "customers.csv",
            MIXED.as_bytes(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let status = location(&res);
    assert!(status.starts_with("/contacts/import/"), "{status}");
    let html = app.wait_for_import(&status).await;
    assert_eq!(
        text(&html, "h1").as_deref(),
        Some("Import of customers.csv")
    );
    assert_eq!(
        text(&html, ".import-summary").as_deref(),
        Some("3 of 8 rows imported (2 created, 1 updated); 5 rejected.")
    );
    let rows = table_rows(&html);
    let want: Vec<Vec<String>> = expected_errors()
        .into_iter()
        .map(|(l, r)| vec![l.to_string(), r.to_string()])
        .collect();
    assert_eq!(rows, want);
    assert_eq!(
        text(&html, ".ignored-columns").as_deref(),
        Some("Ignored columns (no property has this name or label): favourite colour")
    );

    // Good rows are in, with typed values; the existing contact was updated, not duplicated,
    // and its values not in the file are kept.
    let ann = contact(&app, &token, "ann@example.com").await;
    assert_eq!(
        ann["properties"],
        json!({"firstname": "Ann", "lastname": "Archer", "renewal_date": "2027-01-15", "seats": 3})
    );
    let eve = contact(&app, &token, "existing@example.com").await;
    assert_eq!(
        eve["properties"],
        json!({"firstname": "Eve", "lastname": "Updated", "seats": 7})
    );
    assert_eq!(
        contact(&app, &token, "fay@example.com").await["properties"]["lastname"],
        "Multi\nLine"
    );
    // A short row is refused whole: none of its values is saved.
    for bad in ["cid@example.com", "dee@example.com", "gus@example.com"] {
        assert!(
            contact(&app, &token, bad).await.is_null(),
            "{bad} was not imported"
        );
    }
    let list = app.get_html("/contacts").await;
    assert_eq!(
        text(&list, ".page-head .muted").as_deref(),
        Some("3 contacts")
    );
}

#[tokio::test]
async fn an_upload_without_the_csrf_token_is_refused_and_imports_nothing() {
    let (app, token) = with_properties().await;
    let res = app
        .post_multipart_with_token(
            "/contacts/import",
            "forged",
            "file",
            "x.csv",
            b"email\nmallory@example.com\n",
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(contact(&app, &token, "mallory@example.com").await.is_null());
    assert_eq!(
        app.get("/contacts/import/1").await.status(),
        StatusCode::NOT_FOUND,
        "no import was started"
    );
}

#[tokio::test]
async fn an_empty_upload_or_a_file_without_known_columns_is_explained() {
    let (app, _) = TestApp::ready().await;
    let res = app
        .post_multipart(
            "/contacts/import",
            "/contacts/import",
            "file",
            "empty.csv",
            b"",
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        text(&html, "#file-error").as_deref(),
        Some("Choose a CSV file to import.")
    );

    let res = app
        .post_multipart(
            "/contacts/import",
            "/contacts/import",
            "file",
            "odd.csv",
            b"colour,size\nred,XL\n",
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.wait_for_import(&location(&res)).await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "1");
    assert!(
        rows[0][1].contains("no column matches a contact property"),
        "{:?}",
        rows[0]
    );
}

#[tokio::test]
async fn the_import_service_reports_lines_counts_and_progress() {
    let (app, _) = with_properties().await;
    let pool = perennial::db::connect(&app.database_url, 2).expect("db");
    // A spreadsheet export: byte-order mark and CRLF line endings.
    let file = format!("\u{feff}{}", MIXED.replace('\n', "\r\n"));
    let mut calls = Vec::new();
    let report = import_csv(&pool, "mixed.csv", file.as_bytes(), |done, total| {
        calls.push((done, total))
    })
    .expect("import");
    assert_eq!(
        (
            report.total,
            report.imported,
            report.created,
            report.updated
        ),
        (8, 3, 2, 1)
    );
    let want: Vec<RowError> = expected_errors()
        .into_iter()
        .map(|(line, reason)| RowError {
            line,
            reason: reason.into(),
        })
        .collect();
    assert_eq!(report.errors, want);
    assert_eq!(report.ignored_columns, ["favourite colour"]);
    assert_eq!(calls.last(), Some(&(8, 8)));

    // Importing the same file again updates instead of duplicating.
    let again = import_csv(&pool, "mixed.csv", file.as_bytes(), |_, _| {}).expect("import");
    assert_eq!(
        (again.created, again.updated, again.errors.len()),
        (0, 3, 5)
    );

    // Progress is reported batch by batch.
    let mut big = String::from("email,firstname\n");
    for i in 0..1200 {
        big.push_str(&format!("p{i}@example.com,P{i}\n"));
    }
    let mut calls = Vec::new();
    let report = import_csv(&pool, "big.csv", big.as_bytes(), |done, total| {
        calls.push((done, total))
    })
    .expect("import");
    assert_eq!(report.created, 1200);
    // The first batch has 500 rows; later ones are sized by how fast they commit.
    assert_eq!(calls.first(), Some(&(500, 1200)), "{calls:?}");
    assert_eq!(calls.last(), Some(&(1200, 1200)), "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
}

/// A million-contact account is built from files like this one. Run with
/// `cargo test --release --test api -- --ignored --nocapture import_of_100k_rows`.
#[tokio::test]
#[ignore = "performance check; run in release mode"]
async fn import_of_100k_rows_takes_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let pool =
        perennial::db::connect(&dir.path().join("perf.db").display().to_string(), 2).expect("db");
    {
        let mut conn = pool.get().unwrap();
        perennial::services::demo::ensure_property(&mut conn, "birthday", "Birthday", "date")
            .unwrap();
        perennial::services::demo::ensure_property(
            &mut conn,
            "renewal_date",
            "Renewal date",
            "date",
        )
        .unwrap();
        perennial::services::demo::ensure_property(&mut conn, "seats", "Seats", "number").unwrap();
    }
    let n = 100_000;
    let mut csv =
        String::from("email,firstname,lastname,lifecyclestage,birthday,renewal_date,seats\n");
    for i in 0..n {
        csv.push_str(&format!(
            "person{i}@example.com,First{i},Last{},customer,19{:02}-{:02}-{:02},2027-{:02}-{:02},{}\n",
            i % 977,
            50 + i % 50,
            1 + i % 12,
            1 + i % 28,
            1 + i % 12,
            1 + i % 28,
            i % 40
        ));
    }
    let (started, cpu) = (Instant::now(), thread_cpu_seconds());
    let report = import_csv(&pool, "perf.csv", csv.as_bytes(), |_, _| {}).expect("import");
    let (first, first_cpu) = (started.elapsed(), thread_cpu_seconds() - cpu);
    assert_eq!((report.created, report.errors.len()), (n, 0));
    let (started, cpu) = (Instant::now(), thread_cpu_seconds());
    let report = import_csv(&pool, "perf.csv", csv.as_bytes(), |_, _| {}).expect("import");
    let (second, second_cpu) = (started.elapsed(), thread_cpu_seconds() - cpu);
    assert_eq!((report.updated, report.errors.len()), (n, 0));
    // CPU time is printed beside wall time: on a shared machine the wall time says more about
    // the neighbours than about the import.
    println!(
        "import of {n} rows (6 values each): creating {first:.2?} (CPU {first_cpu:.2} s), \
         re-importing unchanged {second:.2?} (CPU {second_cpu:.2} s)"
    );
    assert!(
        first_cpu < 30.0 && second_cpu < 30.0,
        "import is too slow: {first:?} / {second:?}"
    );
}

#[tokio::test]
async fn the_import_page_explains_the_columns_and_has_a_labelled_file_input() {
    let (app, _) = TestApp::ready().await;
    let html = app.get_html("/contacts/import").await;
    assert_eq!(
        text(&html, "label[for=f-file]").as_deref(),
        Some("CSV file")
    );
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(text(&html, "section.card p")
        .unwrap()
        .contains("Rows are matched to existing contacts by email"));
}

/// CPU seconds used by this thread so far (Linux; 0 elsewhere).
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::test]
async fn an_import_cut_off_by_a_restart_says_so_instead_of_refreshing_forever() {
    let (app, _) = TestApp::ready().await;
    // A job left "running" by a server that stopped mid-import.
    let pool = perennial::db::connect(&app.database_url, 1).expect("db");
    {
        use diesel::RunQueryDsl;
        let mut conn = pool.get().unwrap();
        diesel::sql_query(
            "INSERT INTO import_jobs (id, filename, state, total_rows, processed_rows, created_at)
             VALUES (77, 'big.csv', 'running', 100000, 42000, '2026-11-28T12:00:00.000Z')",
        )
        .execute(&mut conn)
        .unwrap();
    }
    let html = app.get_html("/contacts/import/77").await;
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "no endless refresh"
    );
    let msg = text(&html, ".import-interrupted").expect("explained");
    assert!(msg.contains("stopped before it finished"), "{msg}");
    assert!(msg.contains("42000 of 100000 rows"), "{msg}");
}
