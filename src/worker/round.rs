//! One worker round's shared state: what a round loads once (catalog, workflows, account
//! time zone) and what its batch transaction reads up front for all its jobs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use super::execute::{already_done, insert_done, mark_done};
use super::WorkerConfig;
use crate::clock::{fmt_instant, parse_instant};
use crate::db::models::contact::Contact;
use crate::db::models::enrollment::Enrollment;
use crate::db::models::{ContactId, WorkflowId};
use crate::db::sql::worker as sql;
use crate::domain::filter;
use crate::engine::context::{ContactSnapshot, WorkflowCtx};
use crate::engine::triggers::EngineCtx;
use crate::services::contacts::Catalog;

/// Everything a round needs, loaded once per round rather than once per job.
pub struct RoundCtx {
    pub props: Catalog,
    pub engine: EngineCtx,
    /// Workflows by id (shared, never cloned per job).
    pub workflows: HashMap<i64, Arc<WorkflowCtx>>,
    pub account_tz: chrono_tz::Tz,
    /// The account's email pacing (a workflow's own replaces it), read once per round.
    pub account_pacing: Option<crate::domain::definition::Pacing>,
    pub config: WorkerConfig,
    /// What the batch transaction read up front (see [`BatchCache`]); `None` outside it.
    pub(super) batch: Option<BatchCache>,
}

/// Read once per batch, inside the batch's write transaction, instead of once per job: the
/// contacts of the claimed jobs and the recorded runs of their steps. Only this transaction
/// writes while it lasts, and a job changes only its own contact, so an entry stays exact:
/// a job that changes its contact leaves the new snapshot here for a later job of the same
/// contact, and a job that fails (its savepoint rolled back) drops its entries.
#[derive(Default)]
pub(super) struct BatchCache {
    contacts: HashMap<i64, ContactSnapshot>,
    /// Enrollments whose step runs were read, and which of those steps are done.
    runs_read: HashSet<i64>,
    done: HashSet<(i64, String)>,
    /// Steps of those enrollments with any recorded run (done, started or failed).
    recorded: HashSet<(i64, String)>,
    /// Contacts whose jobs have started in this batch. A job changes only its own contact's
    /// enrollments, so the claimed record of a job whose contact is not here is exact.
    started: HashSet<i64>,
    /// Email pacing's count: the Outbox times of each batch contact's emails since
    /// `emails_since`, read with the batch when pacing applies to any of its jobs (one query,
    /// not one per email); the batch's own emails are added as they are kept.
    emails_since: Option<DateTime<Utc>>,
    emails: HashMap<i64, Vec<DateTime<Utc>>>,
    /// The contacts whose emails `emails` holds (all the batch's, less those of failed jobs).
    emails_read: HashSet<i64>,
}

impl RoundCtx {
    pub fn load(conn: &mut DbConnection, config: &WorkerConfig) -> anyhow::Result<RoundCtx> {
        let props = Catalog::load(conn)?;
        let mut engine = EngineCtx::load(conn, &props)?;
        if engine.catalog.properties.is_empty() {
            // No workflow is on: filters (branches, re-checks) still need the catalog.
            engine.catalog = crate::engine::context::domain_catalog(conn, &props)?;
        }
        let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
        let account_pacing = crate::db::models::app_setting::account_pacing(conn)?;
        let workflows = engine
            .workflows
            .iter()
            .map(|w| (w.id(), Arc::new(w.clone())))
            .collect();
        Ok(RoundCtx {
            props,
            engine,
            workflows,
            account_tz,
            account_pacing,
            config: config.clone(),
            batch: None,
        })
    }

    /// The workflow (on or off) of a job.
    pub fn workflow(
        &mut self,
        conn: &mut DbConnection,
        id: i64,
    ) -> anyhow::Result<Option<Arc<WorkflowCtx>>> {
        if let Some(w) = self.workflows.get(&id) {
            return Ok(Some(w.clone()));
        }
        let w = WorkflowCtx::load(conn, WorkflowId(id))?.map(Arc::new);
        if let Some(w) = &w {
            self.workflows.insert(id, w.clone());
        }
        Ok(w)
    }

    /// The domain catalog (lists and workflows included) even when no workflow is on.
    pub fn catalog(&mut self, conn: &mut DbConnection) -> anyhow::Result<&filter::Catalog> {
        if self.engine.catalog.properties.is_empty() {
            self.engine.catalog = crate::engine::context::domain_catalog(conn, &self.props)?;
        }
        Ok(&self.engine.catalog)
    }

    /// Reads the contacts and step runs of a batch's jobs: five queries for the whole batch
    /// (a sixth, the Outbox, when email pacing applies to any of them).
    pub(super) fn prefetch(
        &mut self,
        conn: &mut DbConnection,
        jobs: &[Enrollment],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut cache = BatchCache::default();
        let mut ids: Vec<i64> = jobs.iter().map(|e| e.contact_id).collect();
        ids.sort_unstable();
        ids.dedup();
        // Sized once: growing them row by row rehashed each map several times per batch.
        cache.contacts.reserve(ids.len());
        cache.started.reserve(ids.len());
        cache.runs_read.reserve(jobs.len());
        for c in sql::contacts_of(conn, &ids)? {
            cache.contacts.insert(
                c.id,
                ContactSnapshot {
                    id: c.id,
                    email: c.email,
                    ..Default::default()
                },
            );
        }
        // The same values `services::contacts::load` gives: those of known properties, by name.
        for (cid, pid, value) in Contact::values_for(conn, &ids)? {
            if let (Some(c), Some(p)) = (cache.contacts.get_mut(&cid), self.props.by_id(pid)) {
                c.values.insert(p.name.clone(), value);
            }
        }
        for (cid, lid) in sql::list_memberships_of(conn, &ids)? {
            if let Some(c) = cache.contacts.get_mut(&cid) {
                c.lists.insert(lid);
            }
        }
        let enrollment_ids: Vec<i64> = jobs.iter().map(|e| e.id).collect();
        for (enrollment, step, state) in sql::step_runs_of(conn, &enrollment_ids)? {
            if state == "done" {
                cache.done.insert((enrollment, step.clone()));
            }
            cache.recorded.insert((enrollment, step));
        }
        cache.runs_read.extend(enrollment_ids);
        if let Some(days) = self.longest_pacing_window(jobs) {
            let since = now - chrono::Duration::days(i64::from(days));
            for (cid, at) in sql::emails_sent_to_many(conn, &ids, &fmt_instant(since))? {
                if let Some(t) = parse_instant(&at) {
                    cache.emails.entry(cid).or_default().push(t);
                }
            }
            cache.emails_since = Some(since);
            cache.emails_read.extend(ids.iter().copied());
        }
        self.batch = Some(cache);
        Ok(())
    }

    /// The longest "per days" of the email pacing that applies to any of these jobs'
    /// workflows (their own, else the account's), if any counts emails.
    fn longest_pacing_window(&self, jobs: &[Enrollment]) -> Option<u32> {
        let account = self.account_pacing.as_ref();
        jobs.iter()
            .filter_map(|e| {
                let own = self
                    .workflows
                    .get(&e.workflow_id)
                    .and_then(|w| w.def.settings.pacing.as_ref());
                own.or(account)
                    .filter(|p| crate::domain::pacing::is_active(p) && p.max_emails.is_some())
                    .and_then(|p| p.per_days)
            })
            .max()
    }

    /// The contact's emails since `since`, from the batch's read when it covers that window;
    /// `None`: not read with the batch (ask the database).
    pub(super) fn emails_sent_since(
        &self,
        contact_id: i64,
        since: DateTime<Utc>,
    ) -> Option<Vec<DateTime<Utc>>> {
        let b = self.batch.as_ref()?;
        if b.emails_since.is_none_or(|s| s > since) || !b.emails_read.contains(&contact_id) {
            return None;
        }
        Some(
            b.emails
                .get(&contact_id)
                .map(|v| v.iter().copied().filter(|t| *t >= since).collect())
                .unwrap_or_default(),
        )
    }

    /// An email kept in the Outbox by a job of this batch counts for the contact's later ones.
    pub(super) fn note_email(&mut self, contact_id: i64, at: DateTime<Utc>) {
        if let Some(b) = self.batch.as_mut() {
            if b.emails_since.is_some() {
                b.emails.entry(contact_id).or_default().push(at);
            }
        }
    }

    /// The workflows that are on, for the event triggers of events the engine records.
    pub fn listeners(&self) -> crate::engine::events::Listeners<'_> {
        crate::engine::events::Listeners {
            workflows: &self.engine.workflows,
            catalog: &self.engine.catalog,
        }
    }

    /// Notes that a job of this contact starts; whether it is the batch's first for it.
    pub(super) fn start_contact(&mut self, contact_id: i64) -> bool {
        self.batch
            .as_mut()
            .is_some_and(|b| b.started.insert(contact_id))
    }

    /// A contact as filters see it: from the batch cache, else from the database.
    pub(super) fn take_contact(
        &mut self,
        conn: &mut DbConnection,
        id: i64,
    ) -> anyhow::Result<Option<ContactSnapshot>> {
        if let Some(c) = self.batch.as_mut().and_then(|b| b.contacts.remove(&id)) {
            return Ok(Some(c));
        }
        ContactSnapshot::load(conn, &self.props, ContactId(id))
    }

    /// Leaves a job's final view of its contact for later jobs of the batch.
    pub(super) fn keep_contact(&mut self, contact: ContactSnapshot) {
        if let Some(b) = self.batch.as_mut() {
            b.contacts.insert(contact.id, contact);
        }
    }

    /// A failed job's savepoint was rolled back: forget what it may have cached.
    pub(super) fn forget(&mut self, e: &Enrollment) {
        if let Some(b) = self.batch.as_mut() {
            // The contact's emails are asked of the database again, so an email the
            // rolled-back savepoint kept is not counted.
            b.contacts.remove(&e.contact_id);
            b.emails.remove(&e.contact_id);
            b.emails_read.remove(&e.contact_id);
            b.runs_read.remove(&e.id);
        }
    }

    /// Whether this step already ran (recorded as done) for this enrollment.
    pub(super) fn already_done(
        &self,
        conn: &mut DbConnection,
        enrollment: i64,
        path: &str,
    ) -> anyhow::Result<bool> {
        match &self.batch {
            Some(b) if b.runs_read.contains(&enrollment) => {
                Ok(b.done.contains(&(enrollment, path.to_string())))
            }
            _ => already_done(conn, enrollment, path),
        }
    }

    pub(super) fn mark_done(
        &mut self,
        conn: &mut DbConnection,
        enrollment: i64,
        path: &str,
        result: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        // Known to have no run yet (read with the batch): insert without looking first.
        let fresh = self.batch.as_ref().is_some_and(|b| {
            b.runs_read.contains(&enrollment)
                && !b.recorded.contains(&(enrollment, path.to_string()))
        });
        if fresh {
            insert_done(conn, enrollment, path, result, now)?;
        } else {
            mark_done(conn, enrollment, path, result, now)?;
        }
        if let Some(b) = self.batch.as_mut() {
            b.done.insert((enrollment, path.to_string()));
            b.recorded.insert((enrollment, path.to_string()));
        }
        Ok(())
    }
}
