//! CSV import (page and CLI): columns map to properties by header (internal name or label),
//! each row is validated on its own, valid rows are upserted by email in batched transactions,
//! and invalid rows are reported with their line number without stopping the others.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::DbPool;
use crate::domain::errors::FieldError;
use crate::services::contacts::{self, Catalog, ContactError, ContactInput};

const BATCH: usize = 500;

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
    pub ignored_columns: Vec<String>,
}

/// Which property each column feeds; `None` for columns that match no property.
fn map_headers(catalog: &Catalog, headers: &csv::StringRecord) -> Vec<Option<String>> {
    headers
        .iter()
        .map(|h| {
            let h = h.trim().trim_start_matches('\u{feff}');
            catalog
                .properties
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(h) || p.label.eq_ignore_ascii_case(h))
                .map(|p| p.name.clone())
        })
        .collect()
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
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
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            report.errors.push(RowError {
                line: 1,
                reason: format!("the header row could not be read: {e}"),
            });
            return Ok(report);
        }
    };
    let columns = map_headers(&catalog, &headers);
    report.ignored_columns = headers
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(h, _)| h.to_string())
        .collect();
    if !columns.iter().any(Option::is_some) {
        report.errors.push(RowError {
            line: 1,
            reason: "no column matches a contact property (use internal names such as email, firstname)".into(),
        });
        return Ok(report);
    }
    // Rows are parsed up front (cheap) so progress knows the total.
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position().map(|p| p.line()))
            .unwrap_or(i as u64 + 2);
        rows.push((line, rec));
    }
    let total = rows.len() as u64;
    report.total = total;
    for chunk in rows.chunks(BATCH) {
        let mut batch_errors = Vec::new();
        let mut created = 0;
        let mut updated = 0;
        conn.immediate_transaction::<_, anyhow::Error, _>(|conn| {
            for (line, rec) in chunk {
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        batch_errors.push(RowError { line: *line, reason: format!("unreadable row: {e}") });
                        continue;
                    }
                };
                let mut input = ContactInput::default();
                for (cell, column) in rec.iter().zip(&columns) {
                    if let Some(name) = column {
                        if !cell.is_empty() {
                            input.properties.push((name.clone(), Value::String(cell.to_string())));
                        }
                    }
                }
                let (email, changes) = match contacts::validate(&catalog, &input, "") {
                    Ok(v) => v,
                    Err(errs) => {
                        batch_errors.push(RowError { line: *line, reason: describe(&errs) });
                        continue;
                    }
                };
                let email = email.flatten();
                if email.is_none() {
                    batch_errors.push(RowError { line: *line, reason: "email: a row needs an email address".into() });
                    continue;
                }
                match contacts::upsert_validated(conn, &catalog, email.as_deref(), &changes) {
                    Ok(w) if w.created => created += 1,
                    Ok(_) => updated += 1,
                    Err(ContactError::Invalid(errs)) => {
                        batch_errors.push(RowError { line: *line, reason: describe(&errs) })
                    }
                    Err(ContactError::NotFound) => {
                        batch_errors.push(RowError { line: *line, reason: "contact vanished".into() })
                    }
                    Err(ContactError::Internal(e)) => return Err(e),
                }
            }
            Ok(())
        })?;
        report.created += created;
        report.updated += updated;
        report.imported += created + updated;
        report.errors.extend(batch_errors);
        progress(report.imported + report.errors.len() as u64, total);
    }
    Ok(report)
}
