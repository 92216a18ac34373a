//! Enrollments: one record per (workflow, contact, cycle). The record is also the job: it
//! points at the next step and when it is due, and carries the worker's lease.

use crate::db::prepared::At;
use crate::db::types::{DayText, OptDay, OptTs, Ts};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::{ContactId, EnrollmentId, WorkflowId};
use crate::db::schema::enrollments;

pub const ACTIVE: &str = "active";

/// How many times this process has ended (or deleted) enrollments, on any connection. The
/// worker reads it around an action: unchanged, the action cannot have ended its own
/// enrollment, so the record need not be read again. Only one write transaction runs at a
/// time, so a change made by another thread can only cause a needless re-read, never a miss.
static ENDED: AtomicU64 = AtomicU64::new(0);

/// See [`ENDED`].
pub fn ended_count() -> u64 {
    ENDED.load(Ordering::SeqCst)
}

/// Every statement that ends or deletes enrollments calls this (see [`ENDED`]).
pub fn note_ended() {
    ENDED.fetch_add(1, Ordering::SeqCst);
}
pub const COMPLETED: &str = "completed";
/// The reason of an enrollment that ended because its contact met the goal (a conversion).
pub const GOAL_MET: &str = "goal met";
pub const UNENROLLED: &str = "unenrolled";

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    pub id: i64,
    pub workflow_id: i64,
    pub contact_id: i64,
    pub cycle_year: i32,
    pub status: String,
    pub revision: i32,
    pub anchor_date: Option<String>,
    pub next_step: Option<String>,
    pub next_due_at: Option<String>,
    pub lease_until: Option<String>,
    pub attempts: i32,
    pub reason: Option<String>,
    pub enrolled_at: String,
    pub ended_at: Option<String>,
    pub last_run_at: Option<String>,
    /// The worker holding `lease_until` (an external action running outside its batch).
    pub lease_owner: Option<String>,
}

/// The status constant equal to `status`, if it is one (a held row keeps only those).
fn static_status(status: &str) -> Option<&'static str> {
    [ACTIVE, COMPLETED, UNENROLLED]
        .into_iter()
        .find(|s| *s == status)
}

/// Which workflows a contact is or was enrolled in: what trigger evaluation asks on every
/// contact write, without reading (or sorting) whole records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub id: EnrollmentId,
    pub workflow_id: i64,
    pub active: bool,
}

impl Membership {
    /// A membership from its row's id, workflow and status.
    fn of(id: i64, workflow_id: i64, status: &str) -> Membership {
        Membership {
            id: EnrollmentId(id),
            workflow_id,
            active: status == ACTIVE,
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollments)]
pub struct NewEnrollment<'a> {
    pub workflow_id: i64,
    pub contact_id: i64,
    pub cycle_year: i32,
    pub status: &'a str,
    pub revision: i32,
    #[diesel(serialize_as = OptDay)]
    pub anchor_date: Option<String>,
    pub next_step: Option<String>,
    #[diesel(serialize_as = OptTs)]
    pub next_due_at: Option<String>,
    pub reason: Option<String>,
    #[diesel(serialize_as = Ts)]
    pub enrolled_at: String,
    #[diesel(serialize_as = OptTs)]
    pub ended_at: Option<String>,
}

/// Local methods
impl Enrollment {
    pub fn id(&self) -> EnrollmentId {
        EnrollmentId(self.id)
    }

    pub fn is_active(&self) -> bool {
        self.status == ACTIVE
    }

    /// The top-level step index of the next step ("3/yes/0" → 3).
    pub fn next_top_level(&self) -> Option<usize> {
        self.next_step
            .as_deref()
            .and_then(|p| p.split('/').next())
            .and_then(|s| s.parse().ok())
    }
}

/// Database methods
impl Enrollment {
    /// Inserts an enrollment and returns it as stored. On SQLite a fixed statement and the
    /// id read back with `last_insert_rowid()`, not `RETURNING`: SQLite runs a `RETURNING`
    /// insert like a multi-row write, journalling every page it changes, and diesel builds
    /// its text anew each call (together a third of a batch upsert's time, measured with
    /// `perf` on `perennial-bench --only api`).
    pub fn insert(conn: &mut DbConnection, new: &NewEnrollment) -> anyhow::Result<Enrollment> {
        crate::db::deferred::flush_before_new_enrollment(conn)?;
        // Inside a contact batch on PostgreSQL: held and written with the batch.
        let held = match static_status(new.status) {
            Some(status) => crate::db::deferred::hold_enrollment(conn, |id| {
                crate::db::deferred::EnrollmentInsert {
                    id,
                    row: NewEnrollment {
                        status,
                        ..new.clone()
                    },
                }
            })
            .context("taking an id for an enrollment")?,
            None => None,
        };
        let id = match (held, conn) {
            (Some(id), _) => id,
            (None, conn) => Enrollment::write_new(conn, new)?,
        };
        Ok(Enrollment {
            id,
            workflow_id: new.workflow_id,
            contact_id: new.contact_id,
            cycle_year: new.cycle_year,
            status: new.status.to_string(),
            revision: new.revision,
            anchor_date: new.anchor_date.clone(),
            next_step: new.next_step.clone(),
            next_due_at: new.next_due_at.clone(),
            lease_until: None,
            attempts: 0,
            reason: new.reason.clone(),
            enrolled_at: new.enrolled_at.clone(),
            ended_at: new.ended_at.clone(),
            last_run_at: None,
            lease_owner: None,
        })
    }

    /// Inserts one enrollment now and reads back its id. On SQLite a fixed statement and
    /// `last_insert_rowid()`, not `RETURNING` (see the note on [`Enrollment::insert`]).
    fn write_new(conn: &mut DbConnection, new: &NewEnrollment) -> anyhow::Result<i64> {
        let id = match conn {
            DbConnection::Postgres(c) => diesel::insert_into(enrollments::table)
                .values(new.clone())
                .returning(enrollments::id)
                .get_result::<i64>(c)
                .context("inserting enrollment")?,
            DbConnection::Sqlite(_) => {
                crate::fixed_sql!(
                    "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status,
                        revision, anchor_date, next_step, next_due_at, reason, enrolled_at,
                        ended_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        new.workflow_id,
                        new.contact_id,
                        i64::from(new.cycle_year),
                        new.status,
                        i64::from(new.revision),
                        new.anchor_date.as_deref(),
                        new.next_step.as_deref(),
                        At(new.next_due_at.as_deref()),
                        new.reason.as_deref(),
                        At::some(new.enrolled_at.as_str()),
                        At(new.ended_at.as_deref()),
                    ],
                )
                .execute(conn)
                .context("inserting enrollment")?;
                super::last_rowid(conn).context("reading the enrollment's id")?
            }
        };
        Ok(id)
    }

    /// Writes an enrollment held by a contact batch, with its id (`db::deferred`).
    pub(crate) fn write_held(
        conn: &mut DbConnection,
        e: &crate::db::deferred::EnrollmentInsert,
    ) -> QueryResult<()> {
        diesel::insert_into(enrollments::table)
            .values((enrollments::id.eq(e.id), e.row.clone()))
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, id: EnrollmentId) -> anyhow::Result<Option<Enrollment>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        // `get_result` rather than `.first()`: a primary-key lookup needs no LIMIT, and a bound
        // LIMIT makes SQLite re-prepare the statement on every call (see `db::models::contact`).
        // On the backend's own connection (here and below): through the multi-backend
        // connection diesel writes the statement's text again on every call to find it in its
        // cache (a sixth of a batch upsert's time went to that, measured with perf).
        crate::on_backend!(conn, |c| enrollments::table
            .find(id.0)
            .select(Enrollment::as_select())
            .get_result(c))
        .optional()
        .context("loading enrollment")
    }

    pub fn active_for(
        conn: &mut DbConnection,
        workflow: WorkflowId,
        contact: ContactId,
    ) -> anyhow::Result<Option<Enrollment>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        crate::on_backend!(conn, |c| enrollments::table
            .filter(enrollments::workflow_id.eq(workflow.0))
            .filter(enrollments::contact_id.eq(contact.0))
            // Not a bound 'active': see `StatusActive` (a bound status re-prepares every time).
            .filter(enrollments::status.eq(crate::db::queries::StatusActive))
            .select(Enrollment::as_select())
            // At most one row (unique index `enrollments_one_active`): no LIMIT needed.
            .get_result(c))
        .optional()
        .context("loading active enrollment")
    }

    /// Every enrollment of a contact, in no particular order, as [`Membership`]s.
    pub fn memberships_of(
        conn: &mut DbConnection,
        contact: ContactId,
    ) -> anyhow::Result<Vec<Membership>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        let rows: Vec<(i64, i64, String)> = crate::on_backend!(conn, |c| enrollments::table
            .filter(enrollments::contact_id.eq(contact.0))
            .select((
                enrollments::id,
                enrollments::workflow_id,
                enrollments::status,
            ))
            .load(c))
        .context("loading the contact's enrollments")?;
        Ok(rows
            .into_iter()
            .map(|(id, workflow_id, status)| Membership::of(id, workflow_id, &status))
            .collect())
    }

    /// Every enrollment of these contacts as `(contact_id, membership)`, in no particular
    /// order: a contact batch reads them once for all its existing contacts.
    pub fn memberships_of_many(
        conn: &mut DbConnection,
        contacts: &[i64],
    ) -> anyhow::Result<Vec<(i64, Membership)>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        let rows: Vec<(i64, i64, i64, String)> = enrollments::table
            .filter(enrollments::contact_id.eq_any(contacts))
            .select((
                enrollments::contact_id,
                enrollments::id,
                enrollments::workflow_id,
                enrollments::status,
            ))
            .load(conn)
            .context("loading the contacts' enrollments")?;
        Ok(rows
            .into_iter()
            .map(|(contact_id, id, workflow_id, status)| {
                (contact_id, Membership::of(id, workflow_id, &status))
            })
            .collect())
    }

    pub fn for_workflow(
        conn: &mut DbConnection,
        workflow: WorkflowId,
        contact: Option<ContactId>,
        limit: i64,
    ) -> anyhow::Result<Vec<Enrollment>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        let mut q = enrollments::table
            .filter(enrollments::workflow_id.eq(workflow.0))
            .order(enrollments::id.desc())
            .limit(limit)
            .select(Enrollment::as_select())
            .into_boxed();
        if let Some(c) = contact {
            q = q.filter(enrollments::contact_id.eq(c.0));
        }
        q.load(conn).context("listing enrollments")
    }

    pub fn count_active(conn: &mut DbConnection, workflow: WorkflowId) -> anyhow::Result<i64> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        enrollments::table
            .filter(enrollments::workflow_id.eq(workflow.0))
            .filter(enrollments::status.eq(crate::db::queries::StatusActive))
            .count()
            .get_result(conn)
            .context("counting enrollments")
    }

    /// Moves the pointer to the next step (or clears it). `lease`: held until then by that
    /// worker (an external action about to run outside the batch); `None` releases any lease.
    pub fn point_at(
        conn: &mut DbConnection,
        id: EnrollmentId,
        step: Option<&str>,
        due: Option<&str>,
        last_run_at: Option<&str>,
        lease: Option<(&str, &str)>,
    ) -> anyhow::Result<()> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        let (lease_until, owner) = match lease {
            Some((until, owner)) => (Some(until), Some(owner)),
            None => (None, None),
        };
        crate::fixed_sql!(
            "UPDATE enrollments SET next_step = ?, next_due_at = ?, lease_until = ?,
                lease_owner = ?, attempts = 0, last_run_at = ? WHERE id = ?",
            [step, At(due), At(lease_until), owner, At(last_run_at), id.0],
        )
        .execute(conn)
        .context("moving enrollment to its next step")?;
        Ok(())
    }

    /// A worker job's last write, the move of its own enrollment to its next step (no lease):
    /// inside a batch, held and written with it (`db::deferred::Move` says why that is safe
    /// only for this write).
    pub fn move_with_batch(
        conn: &mut DbConnection,
        id: EnrollmentId,
        step: Option<&str>,
        due: Option<&str>,
        last_run_at: Option<&str>,
    ) -> anyhow::Result<()> {
        let row = crate::db::deferred::Move {
            enrollment_id: id.0,
            step: step.map(str::to_string),
            due: due.map(str::to_string),
            last_run_at: last_run_at.map(str::to_string),
        };
        match crate::db::deferred::hold_move(row) {
            Some(row) => {
                Enrollment::write_move(conn, &row).context("moving enrollment to its next step")
            }
            None => Ok(()),
        }
    }

    /// Moves an enrollment to its next step now, unleased.
    pub(crate) fn write_move(
        conn: &mut DbConnection,
        m: &crate::db::deferred::Move,
    ) -> QueryResult<()> {
        crate::fixed_sql!(
            "UPDATE enrollments SET next_step = ?, next_due_at = ?, lease_until = NULL,
                lease_owner = NULL, attempts = 0, last_run_at = ? WHERE id = ?",
            [
                m.step.as_deref(),
                At(m.due.as_deref()),
                At(m.last_run_at.as_deref()),
                m.enrollment_id
            ],
        )
        .execute(conn)?;
        Ok(())
    }

    /// A contact's newest enrollments (at most `limit`) with their workflows: the contact
    /// page's memberships.
    pub fn with_workflows_of_contact(
        conn: &mut DbConnection,
        contact: ContactId,
        limit: i64,
    ) -> anyhow::Result<Vec<(crate::db::models::workflow::Workflow, Enrollment)>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        use crate::db::models::workflow::Workflow;
        use crate::db::schema::workflows;
        enrollments::table
            .inner_join(workflows::table)
            .filter(enrollments::contact_id.eq(contact.0))
            .order(enrollments::id.desc())
            .limit(limit)
            .select((Workflow::as_select(), Enrollment::as_select()))
            .load(conn)
            .context("loading workflow memberships")
    }

    /// The ids of the workflows a contact was ever enrolled in, ascending.
    pub fn workflow_ids_of_contact(
        conn: &mut DbConnection,
        contact: ContactId,
    ) -> anyhow::Result<Vec<i64>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        let mut ids: Vec<i64> = enrollments::table
            .filter(enrollments::contact_id.eq(contact.0))
            .select(enrollments::workflow_id)
            .distinct()
            .load(conn)
            .context("loading the contact's workflows")?;
        ids.sort_unstable();
        Ok(ids)
    }

    /// The first `limit` active enrollments of a workflow, oldest first.
    pub fn active_of_workflow(
        conn: &mut DbConnection,
        id: WorkflowId,
        limit: i64,
    ) -> anyhow::Result<Vec<Enrollment>> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        enrollments::table
            .filter(enrollments::workflow_id.eq(id.0))
            .filter(enrollments::status.eq(crate::db::queries::StatusActive))
            .order(enrollments::id.asc())
            .limit(limit)
            .select(Enrollment::as_select())
            .load(conn)
            .context("loading the workflow's active enrollments")
    }

    /// The cycle's date changed while enrolled: the pointer moves to `step`, due at `due`,
    /// in the (possibly new) cycle of `anchor_date`; any lease is released.
    pub fn replan_cycle(
        conn: &mut DbConnection,
        id: EnrollmentId,
        anchor_date: &str,
        cycle_year: i32,
        step: &str,
        due: &str,
    ) -> anyhow::Result<()> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        diesel::update(enrollments::table.find(id.0))
            .set((
                enrollments::anchor_date.eq(DayText::of(anchor_date)),
                enrollments::cycle_year.eq(cycle_year),
                enrollments::next_step.eq(step),
                enrollments::next_due_at.eq(Ts::of(due)),
                enrollments::lease_until.eq(None::<Ts>),
                enrollments::lease_owner.eq(None::<String>),
            ))
            .execute(conn)
            .context("re-planning enrollment")?;
        Ok(())
    }

    /// The workflow was edited: the enrollment follows `revision`, its pointer at `step`
    /// due at `due`.
    pub fn follow_revision(
        conn: &mut DbConnection,
        id: EnrollmentId,
        revision: i32,
        step: &str,
        due: &str,
    ) -> anyhow::Result<()> {
        crate::db::deferred::flush_before_enrollments(conn)?;
        diesel::update(enrollments::table.find(id.0))
            .set((
                enrollments::revision.eq(revision),
                enrollments::next_step.eq(step),
                enrollments::next_due_at.eq(Ts::of(due)),
            ))
            .execute(conn)
            .context("moving enrollment to the new revision")?;
        Ok(())
    }

    /// Ends an enrollment (completed or unenrolled) with a reason. Inside a worker batch the
    /// end is held and written with the batch (`db::deferred::Finish` says why that is safe).
    pub fn finish(
        conn: &mut DbConnection,
        id: EnrollmentId,
        status: &str,
        reason: &str,
        at: &str,
    ) -> anyhow::Result<()> {
        let status = match status {
            COMPLETED => COMPLETED,
            UNENROLLED => UNENROLLED,
            other => anyhow::bail!("an enrollment cannot end as {other:?}"),
        };
        note_ended();
        let row = crate::db::deferred::Finish {
            enrollment_id: id.0,
            status,
            reason: reason.to_string(),
            at: at.to_string(),
        };
        match crate::db::deferred::hold_finish(row) {
            None => Ok(()),
            Some(row) => {
                crate::db::deferred::flush_before_enrollments(conn)?;
                Enrollment::write_finish(conn, &row).context("ending enrollment")
            }
        }
    }

    /// Ends an enrollment now.
    pub(crate) fn write_finish(
        conn: &mut DbConnection,
        f: &crate::db::deferred::Finish,
    ) -> QueryResult<()> {
        // The status is part of the text (see `db::prepared`): one statement per status.
        if f.status == COMPLETED {
            crate::fixed_sql!(
                "UPDATE enrollments SET status = 'completed', reason = ?, ended_at = ?,
                    next_step = NULL, next_due_at = NULL, lease_until = NULL WHERE id = ?",
                [f.reason.as_str(), At::some(f.at.as_str()), f.enrollment_id]
            )
            .execute(conn)?;
        } else {
            crate::fixed_sql!(
                "UPDATE enrollments SET status = 'unenrolled', reason = ?, ended_at = ?,
                    next_step = NULL, next_due_at = NULL, lease_until = NULL WHERE id = ?",
                [f.reason.as_str(), At::some(f.at.as_str()), f.enrollment_id]
            )
            .execute(conn)?;
        }
        Ok(())
    }
}
