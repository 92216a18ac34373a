//! CSV import page: upload, background import with progress, report of rejected rows.

use crate::db::types::Ts;
use std::collections::BTreeSet;

use actix_multipart::Multipart;
use actix_session::SessionExt;
use actix_web::{web, HttpRequest};
use anyhow::Context;
use askama::Template;
use diesel::prelude::*;
use futures_util::StreamExt;

use super::extract::{Ctx, SignedIn};
use super::{render, render_invalid, see_other, session, WebError, WebResult};
use crate::clock::now_text;
use crate::db::schema::import_jobs;
use crate::domain::errors::{Errors, FieldError};
use crate::services::import::{import_csv, ImportReport, RowError};
use crate::state::AppState;

/// Marks a job as running in this app until dropped (also when the thread panics). A job the
/// database still calls "running" that is not marked was cut off — the server stopped (or
/// the import thread died) mid-import — and its page says so instead of refreshing forever.
struct RunningGuard {
    state: web::Data<AppState>,
    job_id: i64,
}

impl RunningGuard {
    fn start(state: web::Data<AppState>, job_id: i64) -> RunningGuard {
        running(&state).insert(job_id);
        RunningGuard { state, job_id }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        running(&self.state).remove(&self.job_id);
    }
}

fn running(state: &AppState) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
    state
        .imports_running
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the finished job keeps in `import_jobs.errors`: the rejected rows and, beside them,
/// the counts and the columns that matched no property. Older rows hold a bare JSON array of
/// errors, which still reads.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct StoredReport {
    #[serde(default)]
    created: u64,
    #[serde(default)]
    updated: u64,
    #[serde(default)]
    errors: Vec<RowError>,
    #[serde(default)]
    ignored_columns: Vec<String>,
}

impl StoredReport {
    fn of(report: ImportReport) -> StoredReport {
        StoredReport {
            created: report.created,
            updated: report.updated,
            errors: report.errors,
            ignored_columns: report.ignored_columns,
        }
    }

    fn parse(json: &str) -> StoredReport {
        serde_json::from_str::<StoredReport>(json)
            .or_else(|_| {
                serde_json::from_str::<Vec<RowError>>(json).map(|errors| StoredReport {
                    errors,
                    ..StoredReport::default()
                })
            })
            .unwrap_or_default()
    }
}

/// Uploads larger than this are refused with a message (the CLI has no limit).
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/import", web::get().to(form))
        .route("/contacts/import", web::post().to(upload))
        .route("/contacts/import/{id}", web::get().to(status));
}

#[derive(Template)]
#[template(path = "contacts/import.html")]
struct ImportPage {
    ctx: Ctx,
    errors: Errors,
}

async fn form(user: SignedIn) -> WebResult {
    render(&ImportPage {
        ctx: user.ctx("contacts"),
        errors: Errors::default(),
    })
}

/// Reads the multipart upload: the CSRF field and the file.
async fn read_upload(mut payload: Multipart) -> Result<(String, String, Vec<u8>), WebError> {
    let mut token = String::new();
    let mut filename = String::from("upload.csv");
    let mut bytes = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| WebError::BadRequest(format!("upload: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        if let Some(f) = field.content_disposition().and_then(|cd| cd.get_filename()) {
            filename = f.to_string();
        }
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| WebError::BadRequest(format!("upload: {e}")))?;
            if data.len() + chunk.len() > MAX_UPLOAD {
                return Err(WebError::BadRequest(
                    "the file is larger than 64 MB; use `perennial import-contacts` instead".into(),
                ));
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => token = String::from_utf8_lossy(&data).to_string(),
            "file" => bytes = data,
            _ => {}
        }
    }
    Ok((token, filename, bytes))
}

async fn upload(
    user: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: Multipart,
) -> WebResult {
    let (token, filename, bytes) = read_upload(payload).await?;
    if !session::check_csrf(&req.get_session(), &token) {
        return Err(WebError::Forbidden("missing or invalid CSRF token".into()));
    }
    if bytes.is_empty() {
        return render_invalid(&ImportPage {
            ctx: user.ctx("contacts"),
            errors: vec![FieldError::new("file", "Choose a CSV file to import.")].into(),
        });
    }
    let name = filename.clone();
    let job_id: i64 = crate::db::run(&state.pool, move |conn| {
        diesel::insert_into(import_jobs::table)
            .values((
                import_jobs::filename.eq(&name),
                import_jobs::state.eq("running"),
                import_jobs::created_at.eq(Ts::from(now_text())),
            ))
            .returning(import_jobs::id)
            .get_result(conn)
            .context("recording import")
    })
    .await?;
    // The import runs off the request thread; the status page shows its progress.
    let pool = state.pool.clone();
    let guard = RunningGuard::start(state.clone(), job_id);
    std::thread::spawn(move || {
        let _guard = guard;
        let progress_pool = pool.clone();
        let result = import_csv(&pool, &filename, &bytes, |done, total| {
            // A batch just committed: wake the worker for what it enrolled.
            progress_pool.notifier().ring_if_marked();
            if let Ok(mut conn) = progress_pool.get() {
                let _ = diesel::update(import_jobs::table.find(job_id))
                    .set((
                        import_jobs::processed_rows.eq(done as i64),
                        import_jobs::total_rows.eq(total as i64),
                    ))
                    .execute(&mut conn);
            }
        });
        let Ok(mut conn) = pool.get() else {
            tracing::error!(
                job = job_id,
                "no database connection to record the end of an import"
            );
            return;
        };
        let (imported, total, stored) = match result {
            Ok(r) => (r.imported, r.total, StoredReport::of(r)),
            Err(e) => (
                0,
                0,
                StoredReport {
                    errors: vec![RowError {
                        line: 0,
                        reason: format!("the import stopped: {}", crate::telemetry::chain(&e)),
                    }],
                    ..StoredReport::default()
                },
            ),
        };
        let stored = serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into());
        // In the process's write turn, so a busy moment never leaves the job "running" (the
        // page would then call it interrupted although every row was imported).
        let finished =
            crate::db::write_transaction::<_, diesel::result::Error, _>(&mut conn, |conn| {
                diesel::update(import_jobs::table.find(job_id))
                    .set((
                        import_jobs::state.eq("done"),
                        import_jobs::imported_rows.eq(imported as i64),
                        import_jobs::total_rows.eq(total as i64),
                        import_jobs::processed_rows.eq(total as i64),
                        import_jobs::errors.eq(&stored),
                        import_jobs::finished_at.eq(Ts::from(now_text())),
                    ))
                    .execute(conn)
            });
        if let Err(e) = finished {
            tracing::error!(job = job_id, error = %e, "recording the end of an import failed");
        }
    });
    Ok(see_other(&format!("/contacts/import/{job_id}")))
}

#[derive(Template)]
#[template(path = "contacts/import_status.html")]
struct StatusPage {
    ctx: Ctx,
    filename: String,
    running: bool,
    /// The database says running, but no import of this process is working on it.
    interrupted: bool,
    total: i64,
    processed: i64,
    imported: i64,
    percent: i64,
    created: u64,
    updated: u64,
    errors: Vec<RowError>,
    ignored_columns: String,
}

async fn status(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = path.into_inner();
    let row: Option<(String, String, i64, i64, i64, String)> =
        crate::db::run(&state.pool, move |conn| {
            import_jobs::table
                .find(id)
                .select((
                    import_jobs::filename,
                    import_jobs::state,
                    import_jobs::total_rows,
                    import_jobs::processed_rows,
                    import_jobs::imported_rows,
                    import_jobs::errors,
                ))
                .first(conn)
                .optional()
                .context("loading import")
        })
        .await?;
    let Some((filename, state_s, total, processed, imported, errors)) = row else {
        return Err(WebError::NotFound);
    };
    let interrupted = state_s == "running" && !running(&state).contains(&id);
    let running = state_s == "running" && !interrupted;
    let report = StoredReport::parse(&errors);
    render(&StatusPage {
        ctx: user.ctx("contacts"),
        filename,
        running,
        interrupted,
        total,
        processed,
        imported,
        percent: if total > 0 {
            processed * 100 / total
        } else {
            0
        },
        created: report.created,
        updated: report.updated,
        errors: report.errors,
        ignored_columns: report.ignored_columns.join(", "),
    })
}
