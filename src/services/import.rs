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
        .map(|(h, _)| h.trim().trim_start_matches('\u{feff}').to_string())
        .filter(|h| !h.is_empty())
        .collect();
    if !columns.iter().any(Option::is_some) {
        report.errors.push(RowError {
            line: 1,
            reason:
                "no column matches a contact property (use internal names such as email, firstname)"
                    .into(),
        });
        return Ok(report);
    }
    // Rows are parsed up front (cheap) so progress knows the total.
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
    let total = rows.len() as u64;
    report.total = total;
    for chunk in rows.chunks(BATCH) {
        let mut batch_errors = Vec::new();
        let mut created = 0;
        let mut updated = 0;
        crate::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
            // Trigger evaluation needs the active workflows: loaded once per batch, not per row.
            let engine = crate::engine::triggers::EngineCtx::load(conn, &catalog)?;
            for (line, rec) in chunk {
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        batch_errors.push(RowError {
                            line: *line,
                            reason: format!("unreadable row: {e}"),
                        });
                        continue;
                    }
                };
                let mut input = ContactInput::default();
                for (cell, column) in rec.iter().zip(&columns) {
                    if let Some(name) = column {
                        if !cell.is_empty() {
                            input
                                .properties
                                .push((name.clone(), Value::String(cell.to_string())));
                        }
                    }
                }
                let (email, changes) = match contacts::validate(&catalog, &input, "") {
                    Ok(v) => v,
                    Err(errs) => {
                        batch_errors.push(RowError {
                            line: *line,
                            reason: describe(&catalog, &errs),
                        });
                        continue;
                    }
                };
                let email = email.flatten();
                if email.is_none() {
                    batch_errors.push(RowError {
                        line: *line,
                        reason: describe(
                            &catalog,
                            &[FieldError::new("email", "a row needs an email address.")],
                        ),
                    });
                    continue;
                }
                match contacts::upsert_validated_with(
                    conn,
                    &catalog,
                    email.as_deref(),
                    &changes,
                    Some(&engine),
                ) {
                    Ok(w) if w.created => created += 1,
                    Ok(_) => updated += 1,
                    Err(ContactError::Invalid(errs)) => batch_errors.push(RowError {
                        line: *line,
                        reason: describe(&catalog, &errs),
                    }),
                    Err(ContactError::NotFound) => batch_errors.push(RowError {
                        line: *line,
                        reason: "contact vanished".into(),
                    }),
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

#[cfg(test)]
mod tests {
    use super::LineCounter;

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
