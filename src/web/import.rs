//! CSV import page: upload, background import with progress, report of rejected rows; an
//! import cut off by a crash is shown as stopped, with Resume and Roll back.

use std::collections::BTreeSet;

use actix_multipart::Multipart;
use actix_session::SessionExt;
use actix_web::{web, HttpRequest};
use askama::Template;
use futures_util::StreamExt;

use super::extract::{CsrfForm, Ctx, SignedIn};
use super::{render, render_invalid, see_other, session, WebError, WebResult};
use crate::db::models::import_job::{self, ImportJob};
use crate::domain::errors::{Errors, FieldError};
use crate::services::import::{self as service, RowError, StoredReport};
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

/// Uploads larger than this are refused with 413 and a message (the CLI has no limit).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

fn too_large() -> WebError {
    WebError::PayloadTooLarge(format!(
        "The file is larger than {} MB, more than the import page takes. Nothing was imported; split the file, or run `perennial import-contacts FILE` on the server.",
        MAX_UPLOAD / (1024 * 1024)
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/import", web::get().to(form))
        .route("/contacts/import", web::post().to(upload))
        .route("/contacts/import/{id}", web::get().to(status))
        .route("/contacts/import/{id}/resume", web::post().to(resume))
        .route("/contacts/import/{id}/rollback", web::post().to(roll_back));
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
            // Shown on pages and stored: no control characters (a NUL cannot be stored).
            let clean: String = f.chars().filter(|c| !c.is_control()).take(200).collect();
            if !clean.trim().is_empty() {
                filename = clean;
            }
        }
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| WebError::BadRequest(format!("upload: {e}")))?;
            if data.len() + chunk.len() > MAX_UPLOAD {
                return Err(too_large());
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
    // A declared size over the cap is refused before anything is read.
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD + 64 * 1024) {
        return Err(too_large());
    }
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
    let pool = state.pool.clone();
    let job_id = web::block(move || service::start_job(&pool, &filename, &bytes))
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("starting an import: {e}")))??;
    spawn_job(&state, job_id);
    Ok(see_other(&format!("/contacts/import/{job_id}")))
}

/// Runs a job off the request thread; the status page shows its progress.
fn spawn_job(state: &web::Data<AppState>, job_id: i64) {
    let pool = state.pool.clone();
    let guard = RunningGuard::start(state.clone(), job_id);
    std::thread::spawn(move || {
        let _guard = guard;
        let progress_pool = pool.clone();
        // After each batch: wake the worker for what it enrolled.
        let result = service::run_job(&pool, job_id, None, |_, _| progress_pool.work_committed());
        if let Err(e) = result {
            // The job stays "running" until the status page (or a restart) marks it stopped:
            // then it can be resumed or rolled back.
            tracing::error!(job = job_id, error = %crate::telemetry::chain(&e), "an import stopped with an error");
        }
    });
}

#[derive(Template)]
#[template(path = "contacts/import_status.html")]
struct StatusPage {
    ctx: Ctx,
    id: i64,
    filename: String,
    running: bool,
    /// Cut off before it finished (the server stopped mid-import): resume or roll back.
    interrupted: bool,
    /// The file is still kept, so the import can resume.
    resumable: bool,
    total: i64,
    processed: i64,
    imported: i64,
    percent: i64,
    created: u64,
    updated: u64,
    errors: Vec<RowError>,
    more_errors: u64,
    /// Rejected rows, listed or not.
    rejected: u64,
    ignored_columns: String,
    rolled_back: Option<service::RollBack>,
}

async fn status(user: SignedIn, state: web::Data<AppState>, path: web::Path<i64>) -> WebResult {
    let id = path.into_inner();
    let here: Vec<i64> = running(&state).iter().copied().collect();
    let found = crate::db::run(&state.pool, move |conn| {
        // A job nobody runs any more is marked stopped in the database, not only here.
        service::stop_dead_jobs(conn, &here)?;
        let job = ImportJob::find(conn, id)?;
        let resumable = match &job {
            Some(j) if j.state == import_job::STOPPED => ImportJob::content(conn, id)?.is_some(),
            _ => false,
        };
        Ok(job.map(|j| (j, resumable)))
    })
    .await?;
    let Some((job, resumable)) = found else {
        return Err(WebError::NotFound);
    };
    let report = StoredReport::parse(&job.errors);
    render(&StatusPage {
        ctx: user.ctx("contacts"),
        id,
        running: job.state == import_job::RUNNING,
        interrupted: job.state == import_job::STOPPED,
        resumable,
        filename: job.filename,
        total: job.total_rows,
        processed: job.processed_rows,
        imported: job.imported_rows,
        percent: if job.total_rows > 0 {
            job.processed_rows * 100 / job.total_rows
        } else {
            0
        },
        created: report.created,
        updated: report.updated,
        rejected: report.errors.len() as u64 + report.more_errors,
        errors: report.errors,
        more_errors: report.more_errors,
        ignored_columns: report.ignored_columns.join(", "),
        rolled_back: report.rolled_back,
    })
}

async fn resume(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    let pool = state.pool.clone();
    let claimed = web::block(move || service::claim_for_resume(&pool, id))
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("resuming an import: {e}")))??;
    if claimed {
        tracing::info!(job = id, by = user.user_id, "import resumed");
        spawn_job(&state, id);
    } else {
        user.set_flash(
            "error",
            "This import is not stopped any more: nothing to resume.",
        );
    }
    Ok(see_other(&format!("/contacts/import/{id}")))
}

/// "1 contact", "3 contacts".
fn contacts(n: u64) -> String {
    if n == 1 {
        "1 contact".into()
    } else {
        format!("{n} contacts")
    }
}

async fn roll_back(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let id = path.into_inner();
    let pool = state.pool.clone();
    let guard = RunningGuard::start(state.clone(), id);
    let done = web::block(move || {
        let _guard = guard;
        service::roll_back(&pool, id)
    })
    .await
    .map_err(|e| WebError::Internal(anyhow::anyhow!("rolling back an import: {e}")))??;
    match done {
        Some(d) => {
            tracing::info!(
                job = id,
                by = user.user_id,
                deleted = d.deleted,
                restored = d.restored,
                "import rolled back"
            );
            user.set_flash(
                "success",
                format!(
                    "Import rolled back: {} it created {} deleted and {} it updated {} their earlier values again.",
                    contacts(d.deleted),
                    if d.deleted == 1 { "was" } else { "were" },
                    contacts(d.restored),
                    if d.restored == 1 { "has" } else { "have" },
                ),
            );
        }
        None => user.set_flash(
            "error",
            "This import is not stopped: nothing was rolled back.",
        ),
    }
    Ok(see_other(&format!("/contacts/import/{id}")))
}
