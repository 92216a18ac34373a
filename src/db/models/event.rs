//! Contact events: what happened to a contact, built-in or posted by another system.

use crate::db::prepared::{At, Param};
use crate::db::types::Ts;
use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use crate::db::schema::contact_events;

pub const BUILTIN: &str = "builtin";
pub const CUSTOM: &str = "custom";

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = contact_events)]
pub struct ContactEvent {
    pub id: i64,
    pub contact_id: i64,
    pub name: String,
    pub source: String,
    pub occurred_at: String,
    pub properties: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = contact_events)]
pub struct NewContactEvent {
    pub contact_id: i64,
    pub name: String,
    pub source: &'static str,
    #[diesel(serialize_as = Ts)]
    pub occurred_at: String,
    pub properties: String,
    #[diesel(serialize_as = Ts)]
    pub created_at: String,
}

/// Local methods
impl ContactEvent {
    /// The event `e` as stored with the id `id`.
    pub fn of(id: i64, e: &NewContactEvent) -> ContactEvent {
        ContactEvent {
            id,
            contact_id: e.contact_id,
            name: e.name.clone(),
            source: e.source.to_string(),
            occurred_at: e.occurred_at.clone(),
            properties: e.properties.clone(),
            created_at: e.created_at.clone(),
        }
    }

    pub fn properties_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.properties).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// Database methods
impl ContactEvent {
    /// Inserts events and returns them with their ids (in order).
    pub fn insert_all(
        conn: &mut DbConnection,
        events: &[NewContactEvent],
    ) -> anyhow::Result<Vec<ContactEvent>> {
        // A contact batch on PostgreSQL holds them with their ids (`db::deferred`).
        if let Some(ids) = crate::db::deferred::hold_contact_events(conn, events)
            .context("recording contact events")?
        {
            return Ok(events
                .iter()
                .zip(ids)
                .map(|(e, id)| ContactEvent::of(id, e))
                .collect());
        }
        // Events held by a worker batch go first, so ids keep the order events happened in.
        crate::db::deferred::flush(conn).context("recording contact events")?;
        events
            .iter()
            .map(|e| {
                let id = match conn {
                    DbConnection::Sqlite(_) => {
                        ContactEvent::write(conn, e).context("recording contact events")?;
                        super::last_rowid(conn).context("reading the event's id")?
                    }
                    DbConnection::Postgres(c) => diesel::insert_into(contact_events::table)
                        .values(e.clone())
                        .returning(contact_events::id)
                        .get_result::<i64>(c)
                        .context("recording contact events")?,
                };
                Ok(ContactEvent::of(id, e))
            })
            .collect()
    }

    /// Inserts one event. A fixed statement, and no `RETURNING`: SQLite runs that as a
    /// trigger-like multi-row write and so journals every page it changes inside the
    /// caller's transaction (a fifth of the worker's time, measured).
    pub fn insert(conn: &mut DbConnection, e: &NewContactEvent) -> anyhow::Result<()> {
        if crate::db::deferred::hold_contact_event(conn, e).context("recording contact events")? {
            // Held by a worker batch: written before it commits (`db::deferred`).
            return Ok(());
        }
        ContactEvent::write(conn, e).context("recording contact events")
    }

    /// Writes one event now.
    pub(crate) fn write(conn: &mut DbConnection, e: &NewContactEvent) -> QueryResult<()> {
        crate::fixed_sql!(
            "INSERT INTO contact_events
                (contact_id, name, source, occurred_at, properties, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
            ContactEvent::params(e),
        )
        .execute(conn)?;
        Ok(())
    }

    /// An event's values in the column order of the insert above (and of `db::deferred`'s).
    pub(crate) fn params(e: &NewContactEvent) -> [Param<'_>; 6] {
        [
            e.contact_id.into(),
            e.name.as_str().into(),
            e.source.into(),
            At::some(e.occurred_at.as_str()).into(),
            e.properties.as_str().into(),
            At::some(e.created_at.as_str()).into(),
        ]
    }

    /// A contact's events, newest first (keyset: ids below `before`).
    pub fn of_contact(
        conn: &mut DbConnection,
        contact_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<ContactEvent>> {
        let mut q = contact_events::table
            .filter(contact_events::contact_id.eq(contact_id))
            .order(contact_events::id.desc())
            .limit(limit)
            .select(ContactEvent::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(contact_events::id.lt(b));
        }
        q.load(conn).context("loading contact events")
    }

    /// Custom event names seen so far (for the trigger panel).
    pub fn custom_names(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
        contact_events::table
            // Spelled out, not bound, so the partial index `contact_events_custom_names`
            // (`WHERE source = 'custom'`) applies.
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "contact_events.source = 'custom'",
            ))
            .select(contact_events::name)
            .distinct()
            .order(contact_events::name.asc())
            .limit(500)
            .load(conn)
            .context("listing custom event names")
    }
}
