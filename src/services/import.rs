//! CSV import (page and CLI): columns map to properties by header (internal name or label),
//! each row is validated on its own, valid rows are upserted by email in batched transactions,
//! and invalid rows are reported with their line number without stopping the others.
//!
//! A file whose header feeds one property from two columns is refused whole (nothing is
//! imported); a row with more or fewer values than the header has columns is refused whole
//! (none of its values is saved). A page import is a job (`db::models::import_job`): each
//! batch commits its rows together with the job's progress and an undo record per contact, so
//! a job cut off by a crash is marked stopped and can be resumed from the first uncommitted
//! row or rolled back.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::models::import_job::{self, Change, ImportJob};
use crate::db::{DbConnection, DbPool};
use crate::domain::errors::FieldError;
use crate::services::contacts::{self, Catalog, ContactError, ContactInput, Written};

/// Rows in an import's first transaction. Later ones are sized by how long the last one took
/// ([`next_batch_size`]).
const FIRST_BATCH: usize = 500;

/// Bounds of a batch's rows, and the time a batch aims to commit in. A bigger transaction
/// writes each page it changes once instead of once per batch (SQLite's WAL; measured: 50,000
/// rows went from 12,000 to 17,000–18,000 rows/s with batches of 2,000 instead of 500), but
/// SQLite runs one writer at a time: while a batch runs, the worker and every other write
/// wait for it. So a batch grows while it commits well inside the aim and shrinks when it
/// takes much longer (workflows that are on make each row several times dearer).
const MIN_BATCH: usize = 100;
const MAX_BATCH: usize = 5000;
const BATCH_AIM: std::time::Duration = std::time::Duration::from_millis(200);

/// Undo records read at a time when an import is rolled back.
const UNDO_PAGE: i64 = 500;

/// The rows of the next batch, from the last one's size and how long it took.
fn next_batch_size(last: usize, took: std::time::Duration) -> usize {
    if took < BATCH_AIM / 2 {
        (last * 2).min(MAX_BATCH)
    } else if took > BATCH_AIM * 2 {
        (last / 2).max(MIN_BATCH)
    } else {
        last
    }
}

/// At most this many rejected rows are kept in a job's report (the count goes on).
const MAX_KEPT_ERRORS: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportReport {
    pub total: u64,
    pub imported: u64,
    pub created: u64,
    pub updated: u64,
    pub errors: Vec<RowError>,
    /// Rejected rows past the first kept ones (page imports keep at most 1,000).
    #[serde(default)]
    pub more_errors: u64,
    pub ignored_columns: Vec<String>,
}

/// The 1-based line on which a record starts, from its byte offset. The csv crate's own
/// `Position::line` lags by one for files with CRLF line endings (spreadsheet exports), so
/// lines are counted here; offsets only grow, so the count is incremental.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    newlines: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            counted_to: 0,
            newlines: 0,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let byte = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if byte > self.counted_to {
            self.newlines += self.bytes[self.counted_to..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.counted_to = byte;
        }
        // With CRLF a record's offset is the `\n` ending the previous line.
        let on_terminator = u64::from(self.bytes.get(byte) == Some(&b'\n'));
        1 + self.newlines + on_terminator
    }
}

/// Which property each column feeds; `None` for columns that match no property. Two columns
/// feeding one property are refused (which value would win?), naming both.
fn map_headers(
    catalog: &Catalog,
    headers: &csv::StringRecord,
) -> Result<Vec<Option<String>>, String> {
    let columns: Vec<Option<String>> = headers
        .iter()
        .map(|h| {
            let h = clean_header(h);
            catalog
                .properties
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(h) || p.label.eq_ignore_ascii_case(h))
                .map(|p| p.name.clone())
        })
        .collect();
    for (i, c) in columns.iter().enumerate() {
        let Some(name) = c else { continue };
        if let Some(j) = columns[..i].iter().position(|d| d.as_ref() == Some(name)) {
            let label = catalog
                .get(name)
                .map_or(name.as_str(), |p| p.label.as_str());
            return Err(format!(
                "columns {} (“{}”) and {} (“{}”) both hold {label}: keep one of them. Nothing was imported.",
                j + 1,
                clean_header(headers.get(j).unwrap_or("")),
                i + 1,
                clean_header(headers.get(i).unwrap_or("")),
            ));
        }
    }
    Ok(columns)
}

fn clean_header(h: &str) -> &str {
    h.trim().trim_start_matches('\u{feff}')
}

/// "Seats: \"lots\" is not a number": each message names the property by its label, as the
/// column header a person wrote usually does.
fn describe(catalog: &Catalog, errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            let label = catalog
                .get(&e.field)
                .map_or(e.field.as_str(), |p| p.label.as_str());
            if e.message.starts_with(&format!("{label}:")) {
                e.message.clone()
            } else {
                format!("{label}: {}", e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A file read up front: the columns and every row with its line.
struct Parsed {
    columns: Vec<Option<String>>,
    ignored_columns: Vec<String>,
    rows: Vec<(u64, Result<csv::StringRecord, csv::Error>)>,
}

/// Reads the header and the rows, or says why the file as a whole cannot be imported.
fn parse(catalog: &Catalog, bytes: &[u8]) -> Result<Parsed, RowError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader.headers().cloned().map_err(|e| RowError {
        line: 1,
        reason: format!("the header row could not be read: {e}"),
    })?;
    let columns = map_headers(catalog, &headers).map_err(|reason| RowError { line: 1, reason })?;
    if !columns.iter().any(Option::is_some) {
        return Err(RowError {
            line: 1,
            reason:
                "no column matches a contact property (use internal names such as email, firstname)"
                    .into(),
        });
    }
    let ignored_columns = headers
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(h, _)| clean_header(h).to_string())
        .filter(|h| !h.is_empty())
        .collect();
    let mut lines = LineCounter::new(bytes);
    let mut rows = Vec::new();
    let mut last_line = 1;
    for rec in reader.records() {
        let position = match &rec {
            Ok(r) => r.position(),
            Err(e) => e.position(),
        };
        let line = position.map_or(last_line + 1, |p| lines.line_at(p.byte()));
        last_line = line;
        rows.push((line, rec));
    }
    Ok(Parsed {
        columns,
        ignored_columns,
        rows,
    })
}

/// The contact input of one row, or why the row is refused whole.
fn row_input(
    catalog: &Catalog,
    columns: &[Option<String>],
    rec: &Result<csv::StringRecord, csv::Error>,
) -> Result<(Option<String>, Vec<contacts::Change>), String> {
    let rec = rec.as_ref().map_err(|e| format!("unreadable row: {e}"))?;
    if rec.len() != columns.len() {
        return Err(format!(
            "this row has {} values but the header has {} columns; nothing of it was imported",
            rec.len(),
            columns.len()
        ));
    }
    let mut input = ContactInput::default();
    for (cell, column) in rec.iter().zip(columns) {
        if let Some(name) = column {
            if !cell.is_empty() {
                input
                    .properties
                    .push((name.clone(), Value::String(cell.to_string())));
            }
        }
    }
    let (email, changes) =
        contacts::validate(catalog, &input, "").map_err(|errs| describe(catalog, &errs))?;
    match email.flatten() {
        Some(email) => Ok((Some(email), changes)),
        None => Err(describe(
            catalog,
            &[FieldError::new("email", "a row needs an email address.")],
        )),
    }
}

/// What the undo record of a written contact holds.
fn undo_of(w: &Written) -> Change {
    let before: serde_json::Map<String, Value> = w
        .changes
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.old.clone().map(Value::String).unwrap_or(Value::Null),
            )
        })
        .collect();
    Change {
        contact_id: w.record.contact.id,
        created: w.created,
        before_values: Value::Object(before).to_string(),
    }
}

/// A page import's job, recorded in each batch's transaction.
struct Tracking {
    job_id: i64,
}

/// Runs the rows from `skip` on in batches; each batch is one transaction. `stop_after`
/// stops after that many batches, as a crash would (tests).
#[allow(clippy::too_many_arguments)]
fn run_batches(
    conn: &mut DbConnection,
    catalog: &Catalog,
    parsed: &Parsed,
    skip: usize,
    report: &mut ImportReport,
    tracking: Option<&Tracking>,
    stop_after: Option<usize>,
    progress: &mut dyn FnMut(u64, u64),
) -> anyhow::Result<bool> {
    let total = report.total;
    let mut rest = parsed.rows.get(skip..).unwrap_or(&[]);
    let mut size = FIRST_BATCH;
    let mut n = 0;
    while !rest.is_empty() {
        if stop_after.is_some_and(|s| n >= s) {
            return Ok(false);
        }
        n += 1;
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        let started = std::time::Instant::now();
        let mut batch_errors = Vec::new();
        let (mut created, mut updated) = (0, 0);
        let before = report.imported + report.errors.len() as u64 + report.more_errors;
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            // Trigger evaluation needs the active workflows: loaded once per batch, not per row.
            let engine = crate::engine::triggers::EngineCtx::load(conn, catalog)?;
            // History and contact events written together before the commit (`db::deferred`).
            let _held = crate::db::deferred::Scope::contact_batch();
            let mut rows = Vec::with_capacity(chunk.len());
            for (line, rec) in chunk {
                match row_input(catalog, &parsed.columns, rec) {
                    Ok(row) => rows.push(row),
                    Err(reason) => batch_errors.push(RowError {
                        line: *line,
                        reason,
                    }),
                }
            }
            let mut undo = Vec::new();
            for w in contacts::batch::upsert_rows(conn, catalog, &engine, &rows)? {
                if w.created {
                    created += 1;
                } else {
                    updated += 1;
                }
                if tracking.is_some() && (w.created || !w.changes.is_empty()) {
                    undo.push(undo_of(&w));
                }
            }
            crate::db::deferred::flush(conn)?;
            if let Some(t) = tracking {
                let mut next = report.clone();
                next.add(created, updated, batch_errors.clone());
                let processed = before + chunk.len() as u64;
                ImportJob::record_batch(
                    conn,
                    t.job_id,
                    process_id(),
                    processed as i64,
                    next.imported as i64,
                    total as i64,
                    &StoredReport::of(&next).to_json(),
                    &undo,
                )?;
            }
            Ok(())
        })?;
        size = next_batch_size(size, started.elapsed());
        report.add(created, updated, batch_errors);
        progress(
            report.imported + report.errors.len() as u64 + report.more_errors,
            total,
        );
    }
    Ok(true)
}

impl ImportReport {
    fn add(&mut self, created: u64, updated: u64, errors: Vec<RowError>) {
        self.created += created;
        self.updated += updated;
        self.imported += created + updated;
        for e in errors {
            if self.errors.len() < MAX_KEPT_ERRORS {
                self.errors.push(e);
            } else {
                self.more_errors += 1;
            }
        }
    }
}

/// Imports a whole file; `progress(done, total)` is called after each batch.
pub fn import_csv(
    pool: &DbPool,
    _name: &str,
    bytes: &[u8],
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<ImportReport> {
    let mut conn = pool.get()?;
    let catalog = Catalog::load(&mut conn)?;
    let mut report = ImportReport::default();
    let parsed = match parse(&catalog, bytes) {
        Ok(p) => p,
        Err(e) => {
            report.errors.push(e);
            return Ok(report);
        }
    };
    report.ignored_columns = parsed.ignored_columns.clone();
    report.total = parsed.rows.len() as u64;
    run_batches(
        &mut conn,
        &catalog,
        &parsed,
        0,
        &mut report,
        None,
        None,
        &mut progress,
    )?;
    Ok(report)
}

/// What a job keeps in `import_jobs.errors`: the rejected rows and, beside them, the counts
/// and the columns that matched no property. Older rows hold a bare JSON array of errors,
/// which still reads.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct StoredReport {
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub updated: u64,
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// Rejected rows past the first [`MAX_KEPT_ERRORS`].
    #[serde(default)]
    pub more_errors: u64,
    #[serde(default)]
    pub ignored_columns: Vec<String>,
    /// After a roll-back: what it undid.
    #[serde(default)]
    pub rolled_back: Option<RollBack>,
}

impl StoredReport {
    pub fn of(report: &ImportReport) -> StoredReport {
        StoredReport {
            created: report.created,
            updated: report.updated,
            errors: report.errors.clone(),
            more_errors: report.more_errors,
            ignored_columns: report.ignored_columns.clone(),
            rolled_back: None,
        }
    }

    pub fn parse(json: &str) -> StoredReport {
        serde_json::from_str::<StoredReport>(json)
            .or_else(|_| {
                serde_json::from_str::<Vec<RowError>>(json).map(|errors| StoredReport {
                    errors,
                    ..StoredReport::default()
                })
            })
            .unwrap_or_default()
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    fn report(&self, total: u64, ignored: Vec<String>) -> ImportReport {
        ImportReport {
            total,
            imported: self.created + self.updated,
            created: self.created,
            updated: self.updated,
            errors: self.errors.clone(),
            more_errors: self.more_errors,
            ignored_columns: ignored,
        }
    }
}

/// What a roll-back undid.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct RollBack {
    pub deleted: u64,
    pub restored: u64,
}

/// This process, as the owner of the imports it runs.
pub fn process_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use rand::RngCore;
        format!(
            "{}-{:08x}",
            std::process::id(),
            rand::rngs::OsRng.next_u32()
        )
    })
}

/// A running job whose last batch committed longer ago than this is presumed cut off.
pub const SILENT_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// Starts a page import: the job and its file are recorded, owned by this process.
pub fn start_job(pool: &DbPool, filename: &str, bytes: &[u8]) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    ImportJob::create(&mut conn, filename, bytes, process_id())
}

/// Marks the running jobs that nobody runs any more as stopped (at start-up, and when a
/// status page is opened): silent for [`SILENT_AFTER`], or owned by this process but not in
/// `running_here`.
pub fn stop_dead_jobs(conn: &mut DbConnection, running_here: &[i64]) -> anyhow::Result<Vec<i64>> {
    let cutoff = crate::clock::fmt_instant(chrono::Utc::now() - SILENT_AFTER);
    let dead = ImportJob::stop_dead(conn, &cutoff, process_id(), running_here)?;
    for id in &dead {
        tracing::warn!(job = id, "an import was cut off (the server stopped while it ran); it is marked stopped and can be resumed or rolled back");
    }
    Ok(dead)
}

/// Runs (or resumes) a job from its first uncommitted row to the end; `progress` after each
/// batch. `stop_after` batches: stop there, leaving the job running, as a crash would
/// (tests). A job whose file cannot be imported at all ends done with that one error.
pub fn run_job(
    pool: &DbPool,
    job_id: i64,
    stop_after: Option<usize>,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    let Some(job) = ImportJob::find(&mut conn, job_id)? else {
        anyhow::bail!("no import {job_id}");
    };
    let Some(bytes) = ImportJob::content(&mut conn, job_id)? else {
        anyhow::bail!("the file of import {job_id} is no longer kept");
    };
    let catalog = Catalog::load(&mut conn)?;
    let parsed = match parse(&catalog, &bytes) {
        Ok(p) => p,
        Err(e) => {
            let stored = StoredReport {
                errors: vec![e],
                ..StoredReport::default()
            };
            return ImportJob::finish(&mut conn, job_id, import_job::DONE, &stored.to_json(), 0, 0);
        }
    };
    let total = parsed.rows.len() as u64;
    let stored = StoredReport::parse(&job.errors);
    let mut report = stored.report(total, parsed.ignored_columns.clone());
    let skip = usize::try_from(job.processed_rows).unwrap_or(0);
    let tracking = Tracking { job_id };
    let finished = run_batches(
        &mut conn,
        &catalog,
        &parsed,
        skip,
        &mut report,
        Some(&tracking),
        stop_after,
        &mut progress,
    )?;
    if finished {
        ImportJob::finish(
            &mut conn,
            job_id,
            import_job::DONE,
            &StoredReport::of(&report).to_json(),
            report.imported as i64,
            total as i64,
        )?;
    }
    Ok(())
}

/// Takes over a stopped job to resume it: false when it is not stopped (any more).
pub fn claim_for_resume(pool: &DbPool, job_id: i64) -> anyhow::Result<bool> {
    let mut conn = pool.get()?;
    ImportJob::transition(
        &mut conn,
        job_id,
        import_job::STOPPED,
        import_job::RUNNING,
        process_id(),
    )
}

/// Undoes what a stopped job committed: the contacts it created are deleted, the ones it
/// updated get back the values they had before (the values the import replaced; later
/// changes by others to those values are overwritten). Ends the job as rolled back. `None`
/// when the job is not stopped.
pub fn roll_back(pool: &DbPool, job_id: i64) -> anyhow::Result<Option<RollBack>> {
    let mut conn = pool.get()?;
    // Claimed first, so a resume cannot start beside the roll-back.
    if !ImportJob::transition(
        &mut conn,
        job_id,
        import_job::STOPPED,
        import_job::RUNNING,
        process_id(),
    )? {
        return Ok(None);
    }
    let catalog = Catalog::load(&mut conn)?;
    let mut done = RollBack::default();
    let mut after = 0;
    loop {
        let changes = ImportJob::changes(&mut conn, job_id, after, UNDO_PAGE)?;
        let Some(last) = changes.last() else { break };
        after = last.contact_id;
        crate::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
            for c in &changes {
                let id = crate::db::models::ContactId(c.contact_id);
                if c.created {
                    if crate::db::models::contact::Contact::delete(conn, id)? {
                        done.deleted += 1;
                    }
                    continue;
                }
                let before: serde_json::Map<String, Value> =
                    serde_json::from_str(&c.before_values).unwrap_or_default();
                // Properties deleted since are left out; the rest is written back as it was.
                let input = ContactInput {
                    email: None,
                    properties: before
                        .into_iter()
                        .filter(|(name, _)| catalog.get(name).is_some())
                        .collect(),
                };
                match contacts::update(conn, &catalog, id, &input, "") {
                    Ok(_) => done.restored += 1,
                    Err(ContactError::NotFound) => {}
                    Err(ContactError::Invalid(errs)) => {
                        tracing::warn!(contact = c.contact_id, errors = ?errs, "an import roll-back could not restore a contact's values");
                    }
                    Err(ContactError::Internal(e)) => return Err(e),
                }
            }
            Ok(())
        })?;
    }
    let job = ImportJob::find(&mut conn, job_id)?;
    let mut stored = job
        .as_ref()
        .map(|j| StoredReport::parse(&j.errors))
        .unwrap_or_default();
    stored.rolled_back = Some(done.clone());
    let (imported, total) = job.map_or((0, 0), |j| (j.imported_rows, j.total_rows));
    ImportJob::finish(
        &mut conn,
        job_id,
        import_job::ROLLED_BACK,
        &stored.to_json(),
        imported,
        total,
    )?;
    pool.work_committed();
    Ok(Some(done))
}

#[cfg(test)]
mod tests {
    use super::{next_batch_size, LineCounter, MAX_BATCH, MIN_BATCH};

    #[test]
    fn a_batch_grows_while_it_commits_quickly_and_shrinks_when_slow_within_bounds() {
        use std::time::Duration;
        let ms = Duration::from_millis;
        let cases = [
            (500, ms(20), 1000),
            (4000, ms(20), MAX_BATCH),
            (MAX_BATCH, ms(1), MAX_BATCH),
            (1000, ms(150), 1000),
            (1000, ms(400), 1000),
            (1000, ms(900), 500),
            (150, ms(5000), MIN_BATCH),
        ];
        for (last, took, next) in cases {
            assert_eq!(next_batch_size(last, took), next, "{last} rows in {took:?}");
        }
    }

    #[test]
    fn lines_are_counted_for_lf_and_crlf_files() {
        // The csv crate reports a record's start as the byte after the previous record's
        // terminator; for CRLF that is the `\n`.
        let lf = b"email\nx\n\"m\nl\"\nz\n";
        let mut c = LineCounter::new(lf);
        assert_eq!([c.line_at(6), c.line_at(8), c.line_at(14)], [2, 3, 5]);
        let crlf = b"email\r\nx\r\n\"m\r\nl\"\r\nz\r\n";
        let mut c = LineCounter::new(crlf);
        assert_eq!([c.line_at(6), c.line_at(9), c.line_at(17)], [2, 3, 5]);
    }
}
