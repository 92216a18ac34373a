//! CSV import (issue 16, item 4): a file of `--import-rows` rows through the app's import
//! (`services::import::import_csv`, what the Import page's job runs once the upload is in),
//! half of them updates of existing contacts (stage and renewal date) and half new contacts
//! with five properties, as the API stage's load. Whatever workflows the earlier stages left
//! on are evaluated for every row, as they are for an upsert.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::STAGES;
use crate::{say, BenchArgs, Report};
use perennial::db::DbPool;
use perennial::services::demo::{FIRST_NAMES, LAST_NAMES};

/// The CSV text: a header and `rows` rows; updates take the emails of `existing`.
fn file(rows: i64, existing: &[String], today: chrono::NaiveDate) -> String {
    let mut rng = StdRng::seed_from_u64(16);
    let mut out = String::from("email,firstname,lastname,lifecyclestage,birthday,renewal_date\n");
    for i in 0..rows {
        let stage = STAGES[rng.gen_range(0..STAGES.len())];
        let renewal = (today + chrono::Duration::days(rng.gen_range(-30..400))).format("%Y-%m-%d");
        if i % 2 == 0 && !existing.is_empty() {
            let email = &existing[rng.gen_range(0..existing.len())];
            out.push_str(&format!("{email},,,{stage},,{renewal}\n"));
            continue;
        }
        let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
        let birthday = format!(
            "{}-{:02}-{:02}",
            1950 + rng.gen_range(0..55),
            1 + rng.gen_range(0..12),
            1 + rng.gen_range(0..28)
        );
        out.push_str(&format!(
            "import{i}@bench.example,{first},{last},{stage},{birthday},{renewal}\n"
        ));
    }
    out
}

/// Imports the file and reports rows per second.
pub fn run(pool: &DbPool, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use perennial::db::schema::workflows;
    let mut conn = pool.get()?;
    let existing = crate::api::existing_emails(&mut conn, args.contacts)?;
    let on: i64 = workflows::table
        .filter(workflows::status.eq(perennial::db::models::workflow::STATUS_ON))
        .count()
        .get_result(&mut conn)?;
    drop(conn);
    let text = file(args.import_rows, &existing, chrono::Utc::now().date_naive());
    say(format!(
        "import: a CSV file of {} rows ({:.1} MB), half updates, {on} workflows on…",
        args.import_rows,
        text.len() as f64 / 1_048_576.0
    ));
    let t = Instant::now();
    let done =
        perennial::services::import::import_csv(pool, "bench.csv", text.as_bytes(), |_, _| {})?;
    let secs = t.elapsed().as_secs_f64();
    if let Some(e) = done.errors.first() {
        anyhow::bail!("the import refused line {}: {}", e.line, e.reason);
    }
    let per_s = done.imported as f64 / secs.max(1e-9);
    say(format!(
        "import: {per_s:.0} rows/s ({} created, {} updated in {secs:.2} s)",
        done.created, done.updated
    ));
    report.figure("import_rows_per_s", per_s);
    report.figure("import_workflows_on", on as f64);
    report.row(
        &format!("CSV import, {} rows, {on} workflows on", args.import_rows),
        format!("{secs:.2} s ({per_s:.0} rows/s)"),
        "≥ 50,000 rows/s",
    );
    Ok(())
}
