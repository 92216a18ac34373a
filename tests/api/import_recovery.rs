//! Issue 16, items 13 and 15: CSV files with a broken shape or bad values get errors naming
//! the row and column with nothing half-saved; an import cut off by a crash is "stopped" in
//! the database and can be resumed or rolled back from its page; the CSV export neutralizes
//! formulas.

use diesel::RunQueryDsl;
use perennial::services::import::{import_csv, run_job, start_job};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{location, text, TestApp};

async fn app_with_dates() -> (TestApp, String) {
    let (app, token) = TestApp::ready().await;
    let (s, _) = app
        .api_post(
            "/properties",
            &token,
            json!({"name": "renewal_date", "label": "Renewal date", "field_type": "date"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    (app, token)
}

async fn count_contacts(app: &TestApp, token: &str, email: &str) -> usize {
    let (_, found) = app
        .api_get(&format!("/contacts?email={email}"), token)
        .await;
    found["contacts"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_file_with_two_email_columns_is_refused_whole() {
    let (app, token) = app_with_dates().await;
    let pool = perennial::db::connect(&app.database_url, 2).unwrap();
    let file = "email,firstname,Email\nann@example.com,Ann,other@example.com\n";
    let report = import_csv(&pool, "two.csv", file.as_bytes(), |_, _| {}).unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.errors.len(), 1);
    let e = &report.errors[0];
    assert_eq!(e.line, 1);
    assert!(
        e.reason.contains("columns 1 (“email”) and 3 (“Email”)")
            && e.reason.contains("Nothing was imported"),
        "{}",
        e.reason
    );
    assert_eq!(count_contacts(&app, &token, "ann@example.com").await, 0);
}

#[tokio::test]
async fn short_and_long_rows_year_zero_and_nul_characters_are_rejected_by_row_and_column() {
    let (app, token) = app_with_dates().await;
    let pool = perennial::db::connect(&app.database_url, 2).unwrap();
    let file = "email,firstname,Renewal date
ok@example.com,Ok,2027-01-01
short@example.com,Short
long@example.com,Long,2027-01-01,extra
zero@example.com,Zero,0000-05-01
nul@example.com,N\0ul,
";
    let report = import_csv(&pool, "bad.csv", file.as_bytes(), |_, _| {}).unwrap();
    let errors: Vec<(u64, String)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.reason.clone()))
        .collect();
    assert_eq!(report.imported, 1, "{errors:#?}");
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert_eq!(errors[0].0, 3);
    assert!(
        errors[0]
            .1
            .contains("2 values but the header has 3 columns"),
        "{errors:#?}"
    );
    assert_eq!(errors[1].0, 4);
    assert!(
        errors[1]
            .1
            .contains("4 values but the header has 3 columns"),
        "{errors:#?}"
    );
    assert_eq!(errors[2].0, 5);
    assert!(
        errors[2].1.starts_with("Renewal date:") && errors[2].1.contains("0000"),
        "{errors:#?}"
    );
    assert_eq!(errors[3].0, 6);
    assert!(
        errors[3].1.starts_with("First name:") && errors[3].1.contains("NUL"),
        "{errors:#?}"
    );
    // Nothing of a rejected row was saved.
    for email in ["short", "long", "zero", "nul"] {
        assert_eq!(
            count_contacts(&app, &token, &format!("{email}@example.com")).await,
            0,
            "{email}"
        );
    }
    // The same values through the API and a form are refused too.
    let (s, body) = app
        .api_post(
            "/contacts",
            &token,
            json!({"email": "z@example.com", "properties": {"renewal_date": "0000-05-01"}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "properties.renewal_date");
    let res = app
        .post_form(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "bad\0name")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(page.contains("NUL") && page.contains("name"), "{page}");
}

/// 1,200 rows: new contacts, and one update of a contact that exists (in the first batch).
fn big_file() -> String {
    let mut f = String::from("email,firstname\nexisting@example.com,Changed\n");
    for i in 1..1200 {
        f.push_str(&format!("c{i}@example.com,Row{i}\n"));
    }
    f
}

/// A job that committed one batch (500 rows), then its process died: it says "running", its
/// owner is gone and its last batch is ten minutes old.
async fn crashed_job(app: &TestApp) -> i64 {
    let pool = perennial::db::connect(&app.database_url, 2).unwrap();
    let file = big_file();
    let id = start_job(&pool, "big.csv", file.as_bytes()).unwrap();
    let p = pool.clone();
    tokio::task::spawn_blocking(move || run_job(&p, id, Some(1), |_, _| {}))
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.db();
    diesel::sql_query("UPDATE import_jobs SET owner = 'crashed-1', beat_at = $1 WHERE id = $2")
        .bind::<perennial::db::types::Instant, _>(perennial::clock::fmt_instant(
            chrono::Utc::now() - chrono::Duration::minutes(10),
        ))
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(&mut *conn)
        .unwrap();
    id
}

fn job_state(app: &TestApp, id: i64) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
    }
    let mut conn = app.db();
    diesel::sql_query("SELECT state FROM import_jobs WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .get_result::<Row>(&mut *conn)
        .unwrap()
        .state
}

async fn with_existing(app: &TestApp, token: &str) {
    let (s, _) = app
        .api_post(
            "/contacts",
            token,
            json!({"email": "existing@example.com", "properties": {"firstname": "Original"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a_crashed_import_is_stopped_in_the_database_and_resumes_where_it_was_cut() {
    let (app, token) = TestApp::ready().await;
    with_existing(&app, &token).await;
    let id = crashed_job(&app).await;
    assert_eq!(job_state(&app, id), "running");
    // A server starting on the database marks it stopped, before anyone looks.
    let other = crate::helpers::spawn_app_with(|c| c.database_url = app.database_url.clone()).await;
    assert_eq!(job_state(&app, id), "stopped");
    drop(other);

    let html = app.get_html(&format!("/contacts/import/{id}")).await;
    assert!(!html.contains("http-equiv=\"refresh\""));
    let msg = text(&html, ".import-interrupted").expect("explained");
    assert!(msg.contains("500 of 1200 rows"), "{msg}");
    assert!(html.contains("Resume import") && html.contains("Roll back"));
    assert_eq!(count_contacts(&app, &token, "c499@example.com").await, 1);
    assert_eq!(count_contacts(&app, &token, "c500@example.com").await, 0);

    let res = app
        .post_form(
            &format!("/contacts/import/{id}"),
            &format!("/contacts/import/{id}/resume"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.wait_for_import(&location(&res)).await;
    assert_eq!(
        text(&html, ".import-summary").as_deref(),
        Some("1200 of 1200 rows imported (1199 created, 1 updated); 0 rejected.")
    );
    assert_eq!(job_state(&app, id), "done");
    assert_eq!(count_contacts(&app, &token, "c1199@example.com").await, 1);
    // A second resume finds nothing to do.
    let res = app
        .post_form(
            &format!("/contacts/import/{id}"),
            &format!("/contacts/import/{id}/resume"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_crashed_import_can_be_rolled_back_from_its_page() {
    let (app, token) = TestApp::ready().await;
    with_existing(&app, &token).await;
    let id = crashed_job(&app).await;
    let (_, before) = app
        .api_get("/contacts?email=existing@example.com", &token)
        .await;
    assert_eq!(before["contacts"][0]["properties"]["firstname"], "Changed");

    let html = app.get_html(&format!("/contacts/import/{id}")).await;
    assert!(html.contains("Roll back"));
    assert_eq!(job_state(&app, id), "stopped");
    let res = app
        .post_form(
            &format!("/contacts/import/{id}"),
            &format!("/contacts/import/{id}/rollback"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&location(&res)).await;
    let flash = crate::helpers::flash(&html).unwrap_or_default();
    assert!(
        flash.contains("499 contacts it created were deleted"),
        "{flash}"
    );
    assert!(flash.contains("1 contact it updated has"), "{flash}");
    assert!(text(&html, ".import-rolled-back").is_some());
    assert_eq!(job_state(&app, id), "rolled_back");
    assert_eq!(count_contacts(&app, &token, "c1@example.com").await, 0);
    let (_, after) = app
        .api_get("/contacts?email=existing@example.com", &token)
        .await;
    assert_eq!(after["contacts"][0]["properties"]["firstname"], "Original");
    // Nothing left to resume.
    assert!(!html.contains("Resume import"));
}

#[tokio::test]
async fn the_csv_export_lists_every_contact_and_neutralizes_formulas() {
    let (app, token) = TestApp::ready().await;
    for (email, first) in [
        ("ada@example.com", "Ada"),
        ("evil@example.com", "=HYPERLINK(\"http://x\")"),
        ("plus@example.com", "+1 555"),
        ("at@example.com", "@SUM(A1)"),
    ] {
        let (s, _) = app
            .api_post(
                "/contacts",
                &token,
                json!({"email": email, "properties": {"firstname": first}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let res = app.get("/contacts/export.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let first = headers.iter().position(|h| h == "firstname").unwrap();
    assert_eq!(&headers[0], "email");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    let cell = |email: &str| {
        rows.iter()
            .find(|r| &r[0] == email)
            .map(|r| r[first].to_string())
            .unwrap()
    };
    assert_eq!(cell("ada@example.com"), "Ada");
    assert_eq!(cell("evil@example.com"), "'=HYPERLINK(\"http://x\")");
    assert_eq!(cell("plus@example.com"), "'+1 555");
    assert_eq!(cell("at@example.com"), "'@SUM(A1)");
    // Signed-out visitors get the sign-in page, not the data.
    let res = app.fresh_client().get("/contacts/export.csv").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
