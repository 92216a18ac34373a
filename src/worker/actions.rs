//! Internal actions, run inside the worker's transaction: property changes go through the same
//! write path as a user's edit (so they can trigger other workflows), messages go to the
//! Outbox, the inbox and the Tasks page.

use crate::db::DbConnection;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::Value;

use super::execute::RoundCtx;
use crate::clock::fmt_instant;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::list::List;
use crate::db::models::{ContactId, ListId, WorkflowId};
use crate::db::sql::worker as sql;
use crate::domain::definition::Step;
use crate::domain::filter::{Catalog, ContactView};
use crate::domain::tokens;
use crate::domain::values::{canonical_number, normalize_property_value, numeric_mirror};
use crate::engine::context::{ContactSnapshot, WorkflowCtx};
use crate::engine::enroll::{self, EnrollOutcome, Why};
use crate::engine::triggers::{self, Delta, Source};
use crate::services::contacts::{self, Change, ContactError};

#[derive(Debug, Clone)]
pub struct ActionFailure {
    pub message: String,
}

impl From<anyhow::Error> for ActionFailure {
    fn from(e: anyhow::Error) -> Self {
        ActionFailure {
            message: crate::telemetry::chain(&e),
        }
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, ActionFailure> {
    Err(ActionFailure {
        message: message.into(),
    })
}

/// Runs one internal action. Returns what happened (history `action_executed`) and, when the
/// action wrote the contact's values, the contact as it now is (so the worker need not read it
/// again).
pub fn execute(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    step: &Step,
    now: DateTime<Utc>,
) -> Result<(String, Option<ContactSnapshot>), ActionFailure> {
    let mut fresh = None;
    let text = run(conn, ctx, &mut fresh, wf, e, contact, step, now)?;
    Ok((text, fresh))
}

/// Whether running this step can change the contact (its values, email or lists).
pub fn may_change_contact(step: &Step) -> bool {
    matches!(
        step,
        Step::SetProperty { .. }
            | Step::CopyProperty { .. }
            | Step::ClearProperty { .. }
            | Step::AdjustProperty { .. }
            | Step::AddToList { .. }
            | Step::RemoveFromList { .. }
    )
}

#[allow(clippy::too_many_arguments)]
fn run(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    fresh: &mut Option<ContactSnapshot>,
    wf: &WorkflowCtx,
    e: &Enrollment,
    contact: &ContactSnapshot,
    step: &Step,
    now: DateTime<Utc>,
) -> Result<String, ActionFailure> {
    let catalog = &ctx.engine.catalog;
    let look = |name: &str| contact.value(name).map(str::to_string);
    let source = Source::Workflow(wf.id());
    match step {
        Step::SetProperty { property, value } => {
            let changed = set_value(conn, ctx, fresh, contact, property, value, source)?;
            Ok(format!(
                "set {property} to {}{}",
                display(value),
                unchanged_note(changed)
            ))
        }
        Step::CopyProperty { from, to } => match contact.value(from) {
            Some(v) => {
                let changed = set_value(
                    conn,
                    ctx,
                    fresh,
                    contact,
                    to,
                    &Value::String(v.to_string()),
                    source,
                )?;
                Ok(format!(
                    "copied {from} ({v}) to {to}{}",
                    unchanged_note(changed)
                ))
            }
            None => Ok(format!("{from} is empty: nothing copied to {to}")),
        },
        Step::ClearProperty { property } => {
            let changed = set_value(conn, ctx, fresh, contact, property, &Value::Null, source)?;
            Ok(format!("cleared {property}{}", unchanged_note(changed)))
        }
        Step::AdjustProperty { property, amount } => {
            let current = contact
                .value(property)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            let next = current + amount;
            let text = canonical_number(next);
            set_value(
                conn,
                ctx,
                fresh,
                contact,
                property,
                &Value::String(text.clone()),
                source,
            )?;
            Ok(format!(
                "{property}: {} → {text}",
                canonical_number(current)
            ))
        }
        Step::SendEmail { subject, body } => {
            let Some(to) = contact.email.clone() else {
                return fail("the contact has no email address");
            };
            let subject = tokens::render(subject, &look);
            let body = tokens::render(body, &look);
            sql::keep_email(
                conn,
                &sql::KeptEmail {
                    workflow_id: wf.id(),
                    enrollment_id: e.id,
                    contact_id: e.contact_id,
                    recipient: &to,
                    subject: &subject,
                    body: &body,
                    created_at: &fmt_instant(now),
                },
            )
            .map_err(anyhow::Error::from)?;
            crate::engine::events::record_and_fire(
                conn,
                ctx.listeners(),
                contact,
                crate::engine::events::Pending::builtin(
                    crate::domain::events::EMAIL_SENT,
                    serde_json::json!({ "workflow_id": wf.id(), "subject": subject, "delivery": "outbox" }),
                    now,
                ),
                Source::Workflow(wf.id()),
                now,
            )?;
            Ok(format!(
                "email “{subject}” to {to} kept in the Outbox (no SMTP configured)"
            ))
        }
        Step::InternalNotification {
            message,
            recipients,
        } => {
            let text = tokens::render(message, &look);
            sql::add_notification(conn, wf.id(), e.contact_id, &text, &fmt_instant(now))
                .map_err(anyhow::Error::from)?;
            let to = if recipients.is_empty() {
                String::new()
            } else {
                format!(" (for {})", recipients.join(", "))
            };
            Ok(format!("notification “{text}” added to the inbox{to}"))
        }
        Step::CreateTask {
            title,
            notes,
            due_in_days,
        } => {
            let title = tokens::render(title, &look);
            let due = due_in_days.map(|d| {
                (now.with_timezone(&wf.tz).date_naive() + ChronoDuration::days(i64::from(d)))
                    .format("%Y-%m-%d")
                    .to_string()
            });
            sql::add_task(
                conn,
                wf.id(),
                e.contact_id,
                &title,
                &notes
                    .as_deref()
                    .map(|n| tokens::render(n, &look))
                    .unwrap_or_default(),
                due.as_deref(),
                &fmt_instant(now),
            )
            .map_err(anyhow::Error::from)?;
            Ok(format!(
                "task “{title}” created{}",
                due.map(|d| format!(", due {d}")).unwrap_or_default()
            ))
        }
        Step::AddToList { list_id } | Step::RemoveFromList { list_id } => {
            let add = matches!(step, Step::AddToList { .. });
            let Some(list) = List::find(conn, ListId(*list_id))? else {
                return fail(format!("list {list_id} no longer exists"));
            };
            let changed = if add {
                List::add_member(conn, ListId(*list_id), ContactId(e.contact_id))?
            } else {
                List::remove_member(conn, ListId(*list_id), ContactId(e.contact_id))?
            };
            if changed {
                list_changed(conn, ctx, catalog, contact, *list_id, add, source, now)?;
            }
            let verb = if add { "added to" } else { "removed from" };
            Ok(format!(
                "{verb} list “{}”{}",
                list.name,
                unchanged_note(changed)
            ))
        }
        Step::EnrollInWorkflow { workflow_id } => {
            if *workflow_id == wf.id() {
                return Ok(
                    "skipped to prevent a loop: a workflow cannot enroll into itself".into(),
                );
            }
            let Some(target) = WorkflowCtx::load(conn, WorkflowId(*workflow_id))? else {
                return fail(format!("workflow {workflow_id} no longer exists"));
            };
            if !target.row.is_on() {
                return fail(format!("workflow “{}” is off", target.row.name));
            }
            match enroll::enroll(
                conn,
                &target,
                contact,
                ctx.listeners(),
                Why::Action(wf.id()),
                now,
            )? {
                EnrollOutcome::Enrolled(_) => {
                    Ok(format!("enrolled in workflow “{}”", target.row.name))
                }
                EnrollOutcome::Refused(r) => Ok(format!(
                    "not enrolled in workflow “{}”: {r}",
                    target.row.name
                )),
            }
        }
        Step::UnenrollFromWorkflow { workflow_id } => {
            let Some(target) = WorkflowCtx::load(conn, WorkflowId(*workflow_id))? else {
                return fail(format!("workflow {workflow_id} no longer exists"));
            };
            match Enrollment::active_for(conn, WorkflowId(*workflow_id), ContactId(e.contact_id))? {
                Some(active) => {
                    enroll::unenroll(
                        conn,
                        &target,
                        &active,
                        &format!("unenrolled by an action of workflow “{}”", wf.row.name),
                        now,
                    )?;
                    Ok(format!("unenrolled from workflow “{}”", target.row.name))
                }
                None => Ok(format!(
                    "not enrolled in workflow “{}”: nothing to do",
                    target.row.name
                )),
            }
        }
        Step::Webhook { .. }
        | Step::DateDelay { .. }
        | Step::Delay { .. }
        | Step::DelayUntil { .. }
        | Step::Branch { .. }
        | Step::WaitUntil { .. }
        | Step::RandomSplit { .. } => {
            fail(format!("{} is not an internal action", step.type_name()))
        }
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn unchanged_note(changed: bool) -> &'static str {
    if changed {
        ""
    } else {
        " (already so: no change)"
    }
}

/// Sets (or with `Null`, clears) one property through the contacts write path.
fn set_value(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    fresh: &mut Option<ContactSnapshot>,
    contact: &ContactSnapshot,
    property: &str,
    value: &Value,
    source: Source,
) -> Result<bool, ActionFailure> {
    if property == "email" {
        let input = contacts::ContactInput {
            email: Some(value.as_str().map(str::to_string)),
            properties: vec![],
        };
        return match contacts::update(conn, &ctx.props, ContactId(contact.id), &input, "") {
            Ok(w) => {
                *fresh = Some(after(contact, &w));
                Ok(!w.changes.is_empty())
            }
            Err(ContactError::Invalid(errs)) => {
                fail(errs.first().map(|e| e.message.clone()).unwrap_or_default())
            }
            Err(ContactError::NotFound) => fail("the contact no longer exists"),
            Err(ContactError::Internal(e)) => Err(e.into()),
        };
    }
    let Some(prop) = ctx.props.get(property).cloned() else {
        return fail(format!("the property {property} no longer exists"));
    };
    let normalized = normalize_property_value(&prop.name, prop.kind(), &prop.option_list(), value)
        .or_else(|m| fail(format!("{}: {m}", prop.label)))?;
    let change = Change {
        property_id: prop.id,
        name: prop.name.clone(),
        num: normalized
            .as_deref()
            .and_then(|v| numeric_mirror(prop.kind(), v)),
        value: normalized,
    };
    match contacts::apply_changes(conn, contact, &[change], source, &ctx.engine) {
        Ok((written, changes)) => {
            *fresh = Some(written);
            Ok(!changes.is_empty())
        }
        Err(ContactError::Invalid(errs)) => {
            fail(errs.first().map(|e| e.message.clone()).unwrap_or_default())
        }
        Err(ContactError::NotFound) => fail("the contact no longer exists"),
        Err(ContactError::Internal(e)) => Err(e.into()),
    }
}

/// The contact after a write of its values: the written record (every value, by name, as
/// `services::contacts::load` reads them) with the lists it was in (a value write leaves them).
fn after(before: &ContactSnapshot, w: &contacts::Written) -> ContactSnapshot {
    ContactSnapshot {
        id: w.record.contact.id,
        email: w.record.contact.email.clone(),
        values: w.record.values.clone(),
        lists: before.lists.clone(),
    }
}

/// List membership is a trigger input too.
#[allow(clippy::too_many_arguments)]
fn list_changed(
    conn: &mut DbConnection,
    ctx: &RoundCtx,
    catalog: &Catalog,
    before: &ContactSnapshot,
    list_id: i64,
    added: bool,
    source: Source,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut after = before.clone();
    if added {
        after.lists.insert(list_id);
    } else {
        after.lists.remove(&list_id);
    }
    let changed = vec![crate::domain::watch::list_input(list_id)];
    let delta = Delta {
        before: Some(before),
        after: &after,
        changed: &changed,
        enrollments: None,
    };
    triggers::evaluate(conn, &ctx.engine.workflows, catalog, &delta, source, now)?;
    let name = if added {
        crate::domain::events::LIST_ADDED
    } else {
        crate::domain::events::LIST_REMOVED
    };
    let recorded = crate::engine::events::record(
        conn,
        before.id,
        vec![crate::engine::events::Pending::builtin(
            name,
            serde_json::json!({ "list_id": list_id }),
            now,
        )],
        now,
    )?;
    crate::engine::events::fire(
        conn,
        &ctx.engine.workflows,
        catalog,
        &after,
        &recorded,
        source,
        now,
    )
}
