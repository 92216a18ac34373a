//! What workflows leave for people: emails kept in the Outbox, tasks, and inbox
//! notifications. Pages read them newest first by id (keyset pagination: `before` an id).

use anyhow::Context;
use diesel::prelude::*;

use crate::db::schema::{notifications, outbox, tasks};
use crate::db::types::Ts;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRecord {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub delivery: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct TaskRecord {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub title: String,
    pub notes: String,
    pub due_date: Option<String>,
    pub done: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRecord {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub message: String,
    pub read_at: Option<String>,
    pub created_at: String,
}

/// Which tasks a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFilter {
    Open,
    Done,
    All,
}

/// Database methods
impl OutboxRecord {
    /// Up to `limit` emails with ids below `before`, newest first.
    pub fn page(
        conn: &mut DbConnection,
        before: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<OutboxRecord>> {
        let mut query = outbox::table
            .order(outbox::id.desc())
            .limit(limit)
            .select(OutboxRecord::as_select())
            .into_boxed();
        if let Some(b) = before {
            query = query.filter(outbox::id.lt(b));
        }
        query.load(conn).context("loading the Outbox")
    }
}

/// Database methods
impl TaskRecord {
    pub fn page(
        conn: &mut DbConnection,
        show: TaskFilter,
        before: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<TaskRecord>> {
        let mut query = tasks::table
            .order(tasks::id.desc())
            .limit(limit)
            .select(TaskRecord::as_select())
            .into_boxed();
        match show {
            TaskFilter::Open => query = query.filter(tasks::done.eq(false)),
            TaskFilter::Done => query = query.filter(tasks::done.eq(true)),
            TaskFilter::All => {}
        }
        if let Some(b) = before {
            query = query.filter(tasks::id.lt(b));
        }
        query.load(conn).context("loading tasks")
    }

    /// Marks a task done (or open again); false when there is no such task.
    pub fn set_done(conn: &mut DbConnection, id: i64, done: bool) -> anyhow::Result<bool> {
        let n = diesel::update(tasks::table.find(id))
            .set(tasks::done.eq(done))
            .execute(conn)
            .context("updating the task")?;
        Ok(n > 0)
    }
}

/// Database methods
impl NotificationRecord {
    pub fn page(
        conn: &mut DbConnection,
        before: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<NotificationRecord>> {
        let mut query = notifications::table
            .order(notifications::id.desc())
            .limit(limit)
            .select(NotificationRecord::as_select())
            .into_boxed();
        if let Some(b) = before {
            query = query.filter(notifications::id.lt(b));
        }
        query.load(conn).context("loading the inbox")
    }

    pub fn unread_count(conn: &mut DbConnection) -> anyhow::Result<i64> {
        notifications::table
            .filter(notifications::read_at.is_null())
            .count()
            .get_result(conn)
            .context("counting unread notifications")
    }

    /// Marks one notification read at `now`; false when there is no such notification.
    pub fn mark_read(conn: &mut DbConnection, id: i64, now: &str) -> anyhow::Result<bool> {
        let exists = notifications::table
            .find(id)
            .select(notifications::id)
            .first::<i64>(conn)
            .optional()?
            .is_some();
        diesel::update(
            notifications::table
                .find(id)
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(Ts::of(now)))
        .execute(conn)
        .context("marking the notification read")?;
        Ok(exists)
    }

    /// Marks every unread notification read at `now`; returns how many.
    pub fn mark_all_read(conn: &mut DbConnection, now: &str) -> anyhow::Result<usize> {
        diesel::update(notifications::table.filter(notifications::read_at.is_null()))
            .set(notifications::read_at.eq(Ts::of(now)))
            .execute(conn)
            .context("marking notifications read")
    }
}
