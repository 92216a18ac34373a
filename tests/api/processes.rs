//! Several processes on one database: work that one process at a time should do.

use chrono::Utc;
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::TestApp;
use crate::workflows_api::with_properties;

#[tokio::test]
async fn the_hourly_trigger_check_runs_in_one_process_at_a_time() {
    let (app, token) = TestApp::ready().await;
    with_properties(&app, &token).await;
    let in_40_days = (Utc::now() + chrono::Duration::days(40))
        .format("%Y-%m-%d")
        .to_string();
    app.api_post(
        "/contacts",
        &token,
        json!({"email": "later@example.com", "properties": {"renewal_date": in_40_days}}),
    )
    .await;
    let def = json!({"name": "Renewing soon", "start": {"type": "blank"},
        "triggers": {"filter_groups": [[{"property": "renewal_date", "operator": "before", "value": "today+30"}]]},
        "steps": [{"type": "send_email", "subject": "Soon", "body": "x"}]});
    app.publish_workflow(&token, def, true).await;

    let mut other = app.db();
    let mut mine = app.db();
    let backend = perennial::db::Backend::of(&mine);
    // Another worker process is in the middle of its check (PostgreSQL: it holds the lock).
    if backend == perennial::db::Backend::Postgres {
        other
            .batch_execute(&format!(
                "SELECT pg_advisory_lock({})",
                perennial::db::locks::TRIGGER_SWEEP
            ))
            .expect("lock");
    }
    let later = Utc::now() + chrono::Duration::days(15);
    let n = perennial::engine::backfill::sweep(&mut mine, later).expect("sweep");
    match backend {
        perennial::db::Backend::Postgres => {
            assert_eq!(n, 0, "skipped: the other process does it");
            other
                .batch_execute(&format!(
                    "SELECT pg_advisory_unlock({})",
                    perennial::db::locks::TRIGGER_SWEEP
                ))
                .expect("unlock");
            let n = perennial::engine::backfill::sweep(&mut mine, later).expect("sweep");
            assert_eq!(n, 1, "free again: this one checks");
        }
        perennial::db::Backend::Sqlite => assert_eq!(n, 1, "one process: always checks"),
    }
}
