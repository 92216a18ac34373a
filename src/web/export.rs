//! `GET /contacts/export.csv`: every contact with every property, one column per property
//! (internal names, so the file imports back), streamed page by page. A cell that a
//! spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) is written with a leading `'`, so opening the file never runs what a contact typed.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::extract::SignedIn;
use super::WebResult;
use crate::db::models::contact::Contact;
use crate::db::models::property::{Catalog, Property};
use crate::state::AppState;

const PAGE: i64 = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/export.csv", web::get().to(export));
}

/// A cell as a spreadsheet will show it, never run it.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn csv_line(cells: &[&str]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let safe: Vec<std::borrow::Cow<'_, str>> = cells.iter().map(|c| neutralize(c)).collect();
    let _ = w.write_record(safe.iter().map(|c| c.as_ref()));
    w.into_inner().unwrap_or_default()
}

/// One page of rows (newest first, ids below `before`), and the cursor of the next.
fn page(
    conn: &mut crate::db::DbConnection,
    columns: &[Property],
    before: Option<i64>,
) -> anyhow::Result<(Vec<u8>, Option<i64>)> {
    let ids = crate::db::queries::contact_page(conn, None, &[], before, None, PAGE)?;
    if ids.is_empty() {
        return Ok((Vec::new(), None));
    }
    let emails: std::collections::HashMap<i64, Option<String>> =
        Contact::emails_for(conn, &ids)?.into_iter().collect();
    let mut values: std::collections::HashMap<(i64, i64), String> = Default::default();
    for (contact, property, value) in Contact::values_for(conn, &ids)? {
        values.insert((contact, property), value);
    }
    let mut out = Vec::new();
    for id in &ids {
        let email = emails.get(id).cloned().flatten().unwrap_or_default();
        let mut cells: Vec<&str> = vec![email.as_str()];
        for p in columns {
            cells.push(values.get(&(*id, p.id)).map_or("", String::as_str));
        }
        out.extend(csv_line(&cells));
    }
    let next = (ids.len() as i64 == PAGE)
        .then(|| ids.iter().copied().min())
        .flatten();
    Ok((out, next))
}

async fn export(_user: SignedIn, state: web::Data<AppState>) -> WebResult {
    let columns: Vec<Property> = crate::db::run(&state.pool, |conn| {
        Ok(Catalog::load(conn)?
            .properties
            .into_iter()
            .filter(|p| !p.is_email())
            .collect())
    })
    .await?;
    let mut head: Vec<&str> = vec!["email"];
    head.extend(columns.iter().map(|p| p.name.as_str()));
    let first = csv_line(&head);
    let pool = state.pool.clone();
    // Pages are read one at a time as the client takes them.
    let stream = futures_util::stream::unfold(
        (Some(first), Some(None::<i64>)),
        move |(pending, cursor)| {
            let pool = pool.clone();
            let columns = columns.clone();
            async move {
                if let Some(bytes) = pending {
                    return Some((Ok(web::Bytes::from(bytes)), (None, cursor)));
                }
                let before = cursor?;
                match crate::db::run(&pool, move |conn| page(conn, &columns, before)).await {
                    Ok((bytes, next)) if !bytes.is_empty() => {
                        Some((Ok(web::Bytes::from(bytes)), (None, next.map(Some))))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        tracing::error!(error = %crate::telemetry::chain(&e), "CSV export failed");
                        Some((
                            Err(actix_web::error::ErrorInternalServerError("export failed")),
                            (None, None),
                        ))
                    }
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"contacts.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream))
}

#[cfg(test)]
mod tests {
    use super::neutralize;

    #[test]
    fn formula_cells_get_a_leading_quote() {
        for (cell, shown) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Ada", "Ada"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralize(cell), shown);
        }
    }
}
