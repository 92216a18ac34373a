//! Actions that reach outside (webhooks; email when SMTP is configured) run outside the
//! database transaction, bracketed by a durable "started" record: a crash between sending and
//! committing is detected on restart and the action is not repeated (never sent twice).

use crate::db::DbConnection;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::execute::{mark_done, process, step_at, ExternalJob, RoundCtx};
use super::WorkerConfig;
use crate::clock::fmt_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::history;
use crate::db::models::{ContactId, EnrollmentId};
use crate::db::sql::worker as sql;
use crate::domain::definition::Step;
use crate::domain::tokens;
use crate::engine::context::ContactSnapshot;
use crate::engine::enroll::{event, local_rfc3339};

pub fn is_external(step: &Step, config: &WorkerConfig) -> bool {
    match step {
        Step::Webhook { .. } => true,
        Step::SendEmail { .. } => config.smtp_url.is_some(),
        _ => false,
    }
}

enum Begin {
    /// Another worker moved on, or the step already ran: nothing to send (but maybe a next
    /// external step to run).
    Skip(Option<ExternalJob>),
    Send,
}

/// Runs an external action: record the start, send, record the outcome and advance; then the
/// enrollment's next step too when it is an external action as well (advancing leases it to
/// this worker, so it would otherwise wait for the lease to run out).
pub fn run(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    job: ExternalJob,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut next = run_one(conn, ctx, job, now)?;
    while let Some(job) = next.take() {
        next = run_one(conn, ctx, job, Utc::now())?;
    }
    Ok(())
}

fn run_one(
    conn: &mut DbConnection,
    ctx: &mut RoundCtx,
    job: ExternalJob,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ExternalJob>> {
    let owner = ctx.config.worker_id.clone();
    let begin = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        // Fenced: only the worker holding the lease writes (another may have taken the job
        // over after the lease ran out).
        if !sql::holds_lease(conn, job.enrollment_id, &job.path, &owner)? {
            return Ok(Begin::Skip(None));
        }
        let Some(e) = Enrollment::find(conn, EnrollmentId(job.enrollment_id))? else {
            return Ok(Begin::Skip(None));
        };
        let state = sql::step_run_state(conn, e.id, &job.path)?;
        match state.as_deref() {
            Some("done") => Ok(Begin::Skip(process(conn, ctx, e.id, now)?)),
            Some(_) => {
                // Started before a crash and never finished: it may have been sent. Not
                // repeating it is the only way to guarantee "never twice".
                let Some(wf) = ctx.workflow(conn, e.workflow_id)? else {
                    return Ok(Begin::Skip(None));
                };
                mark_done(
                    conn,
                    e.id,
                    &job.path,
                    "outcome unknown after a restart",
                    now,
                )?;
                crate::monitoring::jobs::failed(None);
                history::record(conn, &[event(&wf, Some(e.id), e.contact_id, now, history::ACTION_FAILED, Some(job.path.clone()),
                    "the worker stopped while this action was running; its outcome is unknown and it is not repeated, so it can never run twice".into())])?;
                Ok(Begin::Skip(process(conn, ctx, e.id, now)?))
            }
            None => {
                sql::start_step_run(conn, e.id, &job.path, &fmt_instant(now))?;
                Ok(Begin::Send)
            }
        }
    })?;
    if let Begin::Skip(next) = begin {
        return Ok(next);
    }
    let Some(e) = Enrollment::find(conn, EnrollmentId(job.enrollment_id))? else {
        return Ok(None);
    };
    let Some(wf) = ctx.workflow(conn, e.workflow_id)? else {
        return Ok(None);
    };
    let Some(contact) = ContactSnapshot::load(conn, &ctx.props, ContactId(e.contact_id))? else {
        return Ok(None);
    };
    let Some(step) = step_at(&wf.def.steps, &job.path).cloned() else {
        return Ok(None);
    };
    // The guard's allowed hosts, read fresh for each call (Settings > Webhooks).
    let policy = match &step {
        Step::Webhook { .. } => super::guard::Policy::load(conn)?,
        _ => super::guard::Policy::default(),
    };
    let outcome = perform(&step, &ctx.config, &policy, &wf.row.name, &e, &contact, now);
    let due = e
        .next_due_at
        .as_deref()
        .and_then(crate::clock::parse_instant);
    crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        let mut next = None;
        if !sql::holds_lease(conn, e.id, &job.path, &owner)? {
            tracing::warn!(
                enrollment = e.id,
                step = %job.path,
                "lease lost while the action ran (another worker took the job over); its outcome is not recorded twice"
            );
            return Ok(None);
        }
        match outcome {
            Ok(result) => {
                crate::monitoring::jobs::executed(due);
                mark_done(conn, e.id, &job.path, &result, now)?;
                if let Step::SendEmail { subject, .. } = &step {
                    crate::engine::events::record_and_fire(
                        conn,
                        ctx.listeners(),
                        &contact,
                        crate::engine::events::Pending::builtin(
                            crate::domain::events::EMAIL_SENT,
                            serde_json::json!({ "workflow_id": wf.id(), "subject": subject, "delivery": "smtp" }),
                            now,
                        ),
                        crate::engine::triggers::Source::Workflow(wf.id()),
                        now,
                    )?;
                }
                history::record(
                    conn,
                    &[event(
                        &wf,
                        Some(e.id),
                        e.contact_id,
                        now,
                        history::ACTION_EXECUTED,
                        Some(job.path.clone()),
                        result,
                    )],
                )?;
                next = process(conn, ctx, e.id, now)?;
            }
            Err(Failure {
                message: error,
                retry,
            }) => {
                crate::monitoring::jobs::failed(due);
                let attempt = e.attempts + 1;
                if !retry {
                    // Refused before anything was sent: trying again changes nothing.
                    mark_done(conn, e.id, &job.path, &format!("failed: {error}"), now)?;
                    history::record(
                        conn,
                        &[event(
                            &wf,
                            Some(e.id),
                            e.contact_id,
                            now,
                            history::ACTION_FAILED,
                            Some(job.path.clone()),
                            format!("{error}; not retried"),
                        )],
                    )?;
                    next = process(conn, ctx, e.id, now)?;
                } else if attempt < ctx.config.max_attempts {
                    let wait = ctx.config.retry_base * 2u32.saturating_pow((attempt - 1) as u32);
                    let retry_at =
                        now + ChronoDuration::from_std(wait).unwrap_or(ChronoDuration::seconds(30));
                    sql::retry_step_later(conn, e.id, &job.path, attempt, &fmt_instant(retry_at))?;
                    history::record(
                        conn,
                        &[event(
                            &wf,
                            Some(e.id),
                            e.contact_id,
                            now,
                            history::ACTION_FAILED,
                            Some(job.path.clone()),
                            format!(
                                "{error}; attempt {attempt} of {}, next retry at {}",
                                ctx.config.max_attempts,
                                local_rfc3339(retry_at, &wf)
                            ),
                        )],
                    )?;
                    crate::notifier::mark();
                } else {
                    mark_done(conn, e.id, &job.path, &format!("failed: {error}"), now)?;
                    history::record(
                        conn,
                        &[event(
                            &wf,
                            Some(e.id),
                            e.contact_id,
                            now,
                            history::ACTION_FAILED,
                            Some(job.path.clone()),
                            format!("{error}; gave up after {attempt} attempts"),
                        )],
                    )?;
                    if wf.def.settings.notifications.on_review_needed {
                        sql::add_notification(
                            conn,
                            wf.id(),
                            e.contact_id,
                            &format!("Workflow “{}” needs review: a {} action failed after {attempt} attempts ({error}).", wf.row.name, step.type_name()),
                            &fmt_instant(now),
                        )?;
                    }
                    next = process(conn, ctx, e.id, now)?;
                }
            }
        }
        Ok(next)
    })
}

/// Why an external action did not succeed, and whether trying again later may help.
struct Failure {
    message: String,
    retry: bool,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            message,
            retry: true,
        }
    }
}

fn perform(
    step: &Step,
    config: &WorkerConfig,
    policy: &super::guard::Policy,
    workflow_name: &str,
    e: &Enrollment,
    contact: &ContactSnapshot,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let look = |name: &str| {
        use crate::domain::filter::ContactView;
        contact.value(name).map(str::to_string)
    };
    match step {
        Step::Webhook { url, secret } => {
            let body = serde_json::json!({
                "workflow_id": e.workflow_id,
                "workflow_name": workflow_name,
                "enrollment_id": e.id,
                "cycle_year": e.cycle_year,
                "step": e.next_step,
                "sent_at": fmt_instant(now),
                "contact": {
                    "id": contact.id,
                    "email": contact.email,
                    "properties": contact.values,
                },
            })
            .to_string();
            send_webhook(url, secret.as_deref(), &body, policy)
        }
        Step::SendEmail { subject, body } => {
            let Some(to) = contact.email.clone() else {
                return Err(String::from("the contact has no email address").into());
            };
            let subject = tokens::render(subject, &look);
            let body = tokens::render(body, &look);
            let url = config.smtp_url.clone().unwrap_or_default();
            send_smtp(&url, &config.smtp_from, &to, &subject, &body)?;
            Ok(format!("email “{subject}” sent to {to} over SMTP"))
        }
        other => Err(format!("{} is not an external action", other.type_name()).into()),
    }
}

/// `X-Perennial-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Webhook responses are read up to this size and then ignored.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

fn send_webhook(
    url: &str,
    secret: Option<&str>,
    body: &str,
    policy: &super::guard::Policy,
) -> Result<String, Failure> {
    let (resolver, refused) = super::guard::GuardResolver::new(policy.clone());
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(5)))
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .http_status_as_error(false)
        // No proxy from the environment: the guard must see the real destination.
        .proxy(None)
        // Each hop is resolved (and checked) again.
        .max_redirects(3)
        .max_response_header_size(16 * 1024)
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        resolver,
    );
    let mut req = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Perennial");
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        req = req.header("X-Perennial-Signature", signature(s, body));
    }
    let sent = req.send(body);
    if let Some(why) = refused.lock().ok().and_then(|mut r| r.take()) {
        return Err(Failure {
            message: why,
            retry: false,
        });
    }
    match sent {
        Ok(mut res) => {
            let status = res.status().as_u16();
            // Drain a bounded part of the body (a huge or endless answer is cut off).
            let _ = res
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BYTES)
                .read_to_vec();
            if res.status().is_success() {
                Ok(format!("webhook POST {url} answered {status}"))
            } else {
                Err(format!("webhook POST {url} answered {status}").into())
            }
        }
        Err(e) => Err(format!("webhook POST {url} failed: {e}").into()),
    }
}

fn send_smtp(url: &str, from: &str, to: &str, subject: &str, body: &str) -> Result<(), String> {
    use lettre::{Message, SmtpTransport, Transport};
    let message = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("bad sender address {from}: {e}"))?,
        )
        .to(to
            .parse()
            .map_err(|e| format!("bad recipient address {to}: {e}"))?)
        .subject(subject)
        .body(body.to_string())
        .map_err(|e| format!("building the email: {e}"))?;
    let transport = SmtpTransport::from_url(url)
        .map_err(|e| format!("bad PERENNIAL_SMTP_URL: {e}"))?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    transport
        .send(&message)
        .map(|_| ())
        .map_err(|e| format!("SMTP delivery failed: {e}"))
}
