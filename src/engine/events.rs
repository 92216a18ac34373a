//! Recording contact events and firing event-based triggers (issue 7).

use crate::db::DbConnection;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::context::{ContactSnapshot, WorkflowCtx};
use super::enroll::{self, event, EnrollOutcome, Why};
use super::triggers::Source;
use crate::clock::{fmt_instant, parse_instant};
use crate::db::models::enrollment::Enrollment;
use crate::db::models::event::{ContactEvent, NewContactEvent};
use crate::db::models::history;
use crate::db::models::ContactId;
use crate::domain::events::{self as ev, Occurrence};
use crate::domain::filter::Catalog;

/// An event about to be recorded.
pub struct Pending {
    pub name: String,
    /// The event's properties: a JSON object's text.
    pub properties: String,
    pub occurred_at: DateTime<Utc>,
    pub source: &'static str,
}

impl Pending {
    /// A built-in event. Its properties are serialized straight to text, without building a
    /// `serde_json::Value` first (on the write path there is one `property_changed` per changed
    /// value; that building showed as a twentieth of the worker's profile, though removing it
    /// moved the measured throughput by less than the run-to-run noise).
    pub fn builtin(name: &str, properties: impl serde::Serialize, now: DateTime<Utc>) -> Pending {
        let text = serde_json::to_string(&properties)
            .ok()
            .filter(|t| t.starts_with('{'))
            .unwrap_or_else(|| "{}".to_string());
        Pending {
            name: name.to_string(),
            properties: text,
            occurred_at: now,
            source: crate::db::models::event::BUILTIN,
        }
    }
}

/// The properties of a `property_changed` event.
#[derive(serde::Serialize)]
pub struct PropertyChanged<'a> {
    pub property: &'a str,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
}

/// The properties of `workflow_enrolled` and `workflow_completed` events.
#[derive(serde::Serialize)]
pub struct WorkflowCycle<'a> {
    pub workflow_id: i64,
    pub workflow_name: &'a str,
    pub cycle_year: i32,
}

/// Stores events for one contact and returns them with their ids (to fire triggers with).
pub fn record(
    conn: &mut DbConnection,
    contact_id: i64,
    events: Vec<Pending>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<ContactEvent>> {
    ContactEvent::insert_all(conn, &rows(contact_id, events, now))
}

/// Stores events for one contact when nothing will fire on them: their ids are not read back.
pub fn record_quiet(
    conn: &mut DbConnection,
    contact_id: i64,
    events: Vec<Pending>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for row in rows(contact_id, events, now) {
        ContactEvent::insert(conn, &row)?;
    }
    Ok(())
}

fn rows(contact_id: i64, events: Vec<Pending>, now: DateTime<Utc>) -> Vec<NewContactEvent> {
    let now_s = fmt_instant(now);
    events
        .into_iter()
        .map(|p| NewContactEvent {
            contact_id,
            name: p.name,
            source: p.source,
            occurred_at: fmt_instant(p.occurred_at),
            properties: p.properties,
            created_at: now_s.clone(),
        })
        .collect()
}

/// What firing event triggers needs: the workflows that are on and the catalog their
/// refinement filters are read with. Passed down to where the engine itself records events
/// (`workflow_enrolled`, `workflow_completed`, `email_sent`), so those fire triggers too.
#[derive(Clone, Copy)]
pub struct Listeners<'a> {
    pub workflows: &'a [WorkflowCtx],
    pub catalog: &'a Catalog,
}

/// Records one event the engine itself caused and fires the event triggers listening for it.
/// Its id is read back only when some workflow listens for an event of that name.
pub fn record_and_fire(
    conn: &mut DbConnection,
    on: Listeners,
    contact: &ContactSnapshot,
    pending: Pending,
    source: Source,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let listening = on.workflows.iter().any(|w| {
        w.def
            .triggers
            .events
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(&pending.name))
    }) || super::goals::any_waits_for(on.workflows, &pending.name);
    if !listening {
        return record_quiet(conn, contact.id, vec![pending], now);
    }
    let recorded = record(conn, contact.id, vec![pending], now)?;
    fire(
        conn,
        on.workflows,
        on.catalog,
        contact,
        &recorded,
        source,
        now,
    )
}

/// How deep events may set off enrollments that record events that set off enrollments
/// (workflow A's completion enrolls into B, whose enrollment enrolls into C, …). Workflows
/// without steps complete at once, so two of them listening for each other's events would
/// otherwise recurse forever.
pub const MAX_CHAIN: u32 = 8;

thread_local! {
    static CHAIN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Counts one level of [`fire`] on this thread while it lives.
struct ChainLevel;

impl ChainLevel {
    fn enter() -> Option<ChainLevel> {
        CHAIN.with(|c| {
            if c.get() >= MAX_CHAIN {
                return None;
            }
            c.set(c.get() + 1);
            Some(ChainLevel)
        })
    }
}

impl Drop for ChainLevel {
    fn drop(&mut self) {
        CHAIN.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Whether any of these workflows listens for events at all — an event trigger, or a wait
/// until an event — so recording events must read their ids back and fire (skip the work
/// when none do).
pub fn any_listen(workflows: &[WorkflowCtx]) -> bool {
    workflows
        .iter()
        .any(|w| w.def.triggers.events_enroll() || super::goals::waits_for_any_event(&w.def.steps))
}

/// Fires the event triggers of every workflow that is on for these occurrences.
pub fn fire(
    conn: &mut DbConnection,
    workflows: &[WorkflowCtx],
    catalog: &Catalog,
    contact: &ContactSnapshot,
    events: &[ContactEvent],
    source: Source,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    // Contacts waiting for one of these events move on first (wait until, issue 17).
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    if names
        .iter()
        .any(|n| super::goals::any_waits_for(workflows, n))
    {
        super::goals::on_events(conn, Listeners { workflows, catalog }, contact, &names, now)?;
    }
    if !workflows.iter().any(|w| w.def.triggers.events_enroll()) {
        return Ok(());
    }
    let Some(_level) = ChainLevel::enter() else {
        tracing::warn!(
            contact = contact.id,
            "event triggers not fired: {MAX_CHAIN} events in a chain already set off enrollments"
        );
        return Ok(());
    };
    // Each event's properties are parsed once, not once per listening workflow.
    let parsed: Vec<(&ContactEvent, Map<String, Value>)> = events
        .iter()
        .map(|e| {
            let props = match e.properties_json() {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            (e, props)
        })
        .collect();
    for wf in workflows.iter().filter(|w| w.def.triggers.events_enroll()) {
        let today = now.with_timezone(&wf.tz).date_naive();
        for (e, props) in &parsed {
            // A workflow's own enrollment events never re-trigger it.
            if props.get("workflow_id").and_then(Value::as_i64) == Some(wf.id()) {
                continue;
            }
            let occurrence = Occurrence {
                name: &e.name,
                properties: props,
            };
            if !wf
                .def
                .triggers
                .events
                .iter()
                .any(|t| ev::matches(t, &occurrence, contact, catalog, today))
            {
                continue;
            }
            let at = parse_instant(&e.occurred_at).unwrap_or(now);
            let label = format!(
                "event “{}” (id {}, at {})",
                e.name,
                e.id,
                enroll::local_rfc3339(at, wf)
            );
            let active = Enrollment::active_for(
                conn,
                crate::db::models::WorkflowId(wf.id()),
                ContactId(contact.id),
            )?;
            if let Some(active) = active {
                history::record(
                    conn,
                    &[event(
                        wf,
                        Some(active.id),
                        contact.id,
                        now,
                        history::SKIPPED,
                        None,
                        format!("{label} ignored: the contact is still enrolled"),
                    )],
                )?;
                continue;
            }
            let enrolled_before = !Enrollment::for_workflow(
                conn,
                crate::db::models::WorkflowId(wf.id()),
                Some(ContactId(contact.id)),
                1,
            )?
            .is_empty();
            if enrolled_before && !wf.def.reenroll.on_events {
                history::record(conn, &[event(wf, None, contact.id, now, history::SKIPPED, None,
                    format!("{label} ignored: the contact was enrolled before and re-enrollment on events is off"))])?;
                continue;
            }
            if source == Source::Workflow(wf.id()) {
                history::record(conn, &[event(wf, None, contact.id, now, history::SKIPPED, None,
                    format!("{label} skipped to prevent a loop: it came from this workflow's own action"))])?;
                continue;
            }
            let why = Why::Event {
                name: e.name.clone(),
                id: e.id,
                at: enroll::local_rfc3339(at, wf),
                again: enrolled_before,
            };
            let on = Listeners { workflows, catalog };
            if let EnrollOutcome::Refused(reason) = enroll::enroll(conn, wf, contact, on, why, now)?
            {
                history::record(
                    conn,
                    &[event(
                        wf,
                        None,
                        contact.id,
                        now,
                        history::SKIPPED,
                        None,
                        format!("{label} did not enroll: {reason}"),
                    )],
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_chain_stops_at_its_bound_and_frees_its_levels() {
        let levels: Vec<ChainLevel> = (0..MAX_CHAIN).filter_map(|_| ChainLevel::enter()).collect();
        assert_eq!(levels.len(), MAX_CHAIN as usize);
        assert!(ChainLevel::enter().is_none(), "one more level is refused");
        drop(levels);
        assert!(
            ChainLevel::enter().is_some(),
            "levels are freed when the chain unwinds"
        );
    }
}
