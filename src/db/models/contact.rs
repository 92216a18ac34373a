//! Contacts and their property values.

use crate::db::prepared::At;
use crate::db::types::Ts;
use std::collections::{BTreeMap, HashMap};

use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;

use super::ContactId;
use crate::db::schema::{contact_values, contacts};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: i64,
    pub email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A contact with its values by property name (canonical text).
#[derive(Debug, Clone)]
pub struct ContactRecord {
    pub contact: Contact,
    pub values: BTreeMap<String, String>,
}

/// Local methods
impl ContactRecord {
    pub fn id(&self) -> ContactId {
        ContactId(self.contact.id)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        if name == "email" {
            return self.contact.email.as_deref();
        }
        self.values.get(name).map(String::as_str)
    }

    /// "Ada Lovelace", or the email, or "Contact 12".
    pub fn display_name(&self) -> String {
        let first = self.value("firstname").unwrap_or("");
        let last = self.value("lastname").unwrap_or("");
        let name = format!("{first} {last}").trim().to_string();
        if !name.is_empty() {
            name
        } else if let Some(e) = &self.contact.email {
            e.clone()
        } else {
            format!("Contact {}", self.contact.id)
        }
    }
}

/// Database methods
impl Contact {
    // Lookups by a unique key load without `.first()`: diesel binds its `LIMIT` as a
    // parameter, and SQLite (3.47+) re-prepares a statement whose bound LIMIT changes on every
    // execution, so `.first()` defeats the statement cache. These run once per row of an
    // import, so that matters (see the 100,000-row import test).
    pub fn find(conn: &mut DbConnection, id: ContactId) -> anyhow::Result<Option<Contact>> {
        // On the backend's own connection (also below): see `Enrollment::find`.
        let rows: Vec<Contact> = crate::on_backend!(conn, |c| contacts::table
            .filter(contacts::id.eq(id.0))
            .select(Contact::as_select())
            .load(c))
        .context("loading contact")?;
        Ok(rows.into_iter().next())
    }

    /// The contact with this email (case-insensitive: the column is `COLLATE NOCASE`).
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> anyhow::Result<Option<Contact>> {
        let rows: Vec<Contact> = crate::on_backend!(conn, |c| contacts::table
            .filter(contacts::email.eq(email.trim()))
            .select(Contact::as_select())
            .load(c))
        .context("loading contact by email")?;
        Ok(rows.into_iter().next())
    }

    /// The existing contacts with these emails (a contact batch's lookup, one query). On
    /// PostgreSQL they are locked in id order until the transaction ends, so two batches
    /// writing the same contacts queue on the first one they share instead of deadlocking
    /// halfway (each holding rows the other needs); SQLite runs one writer at a time.
    pub fn find_by_emails(
        conn: &mut DbConnection,
        emails: &[&str],
    ) -> anyhow::Result<Vec<Contact>> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        macro_rules! by_email {
            () => {
                contacts::table
                    .filter(contacts::email.eq_any(emails))
                    .order(contacts::id.asc())
                    .select(Contact::as_select())
            };
        }
        match conn {
            DbConnection::Postgres(c) => by_email!().for_update().load(c),
            DbConnection::Sqlite(c) => by_email!().load(c),
        }
        .context("loading the batch's contacts by email")
    }

    /// The key under which this database takes two emails for the same contact, for matching
    /// in memory what [`Contact::find_by_emails`] found: SQLite's `NOCASE` folds ASCII letters
    /// only; PostgreSQL's `perennial_nocase` (ICU, secondary strength) ignores the case of
    /// every letter, which Unicode lower case gives (it also ignores rarer differences, such
    /// as full-width letters or "ß" against "ss", which this does not).
    pub fn email_key(conn: &DbConnection, email: &str) -> String {
        match conn {
            DbConnection::Postgres(_) => email.trim().to_lowercase(),
            DbConnection::Sqlite(_) => email.trim().to_ascii_lowercase(),
        }
    }

    /// Inserts one contact per email (`None`: a contact without one), in this order, created
    /// now; the contacts are returned in the same order. PostgreSQL takes the ids from the
    /// table's sequence and writes every row in one statement (one round trip for a whole
    /// batch, not one per contact); SQLite inserts them one by one (microseconds each).
    pub fn insert_many(
        conn: &mut DbConnection,
        emails: &[Option<&str>],
        now: &str,
    ) -> anyhow::Result<Vec<Contact>> {
        use diesel::sql_types::{Array, BigInt, Nullable, Text};
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let DbConnection::Postgres(c) = conn else {
            return emails
                .iter()
                .map(|e| Contact::insert(conn, *e, now))
                .collect();
        };
        let ids = crate::db::deferred::next_ids(c, "contacts", emails.len() as i64)
            .context("taking ids for new contacts")?;
        diesel::sql_query(
            "INSERT INTO contacts (id, email, created_at, updated_at)
             SELECT i, e, $3, $3
               FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(i, e, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Nullable<Text>>, _>(emails)
        .bind::<crate::db::types::Instant, _>(Ts::from(now))
        .execute(c)
        .context("inserting contacts")?;
        Ok(ids
            .into_iter()
            .zip(emails)
            .map(|(id, email)| Contact {
                id,
                email: email.map(str::to_string),
                created_at: now.to_string(),
                updated_at: now.to_string(),
            })
            .collect())
    }

    pub fn insert(
        conn: &mut DbConnection,
        email: Option<&str>,
        now: &str,
    ) -> anyhow::Result<Contact> {
        // On SQLite a fixed statement and `last_insert_rowid()`, not `RETURNING` (see
        // `Enrollment::insert`).
        let id = match conn {
            DbConnection::Postgres(c) => diesel::insert_into(contacts::table)
                .values((
                    contacts::email.eq(email),
                    contacts::created_at.eq(Ts::from(now)),
                    contacts::updated_at.eq(Ts::from(now)),
                ))
                .returning(contacts::id)
                .get_result::<i64>(c)
                .context("inserting contact")?,
            DbConnection::Sqlite(_) => {
                crate::fixed_sql!(
                    "INSERT INTO contacts (email, created_at, updated_at) VALUES (?, ?, ?)",
                    [email, At::some(now), At::some(now)],
                )
                .execute(conn)
                .context("inserting contact")?;
                super::last_rowid(conn).context("reading the contact's id")?
            }
        };
        Ok(Contact {
            id,
            email: email.map(str::to_string),
            created_at: now.to_string(),
            updated_at: now.to_string(),
        })
    }

    pub fn set_email(
        conn: &mut DbConnection,
        id: ContactId,
        email: Option<&str>,
    ) -> anyhow::Result<()> {
        diesel::update(contacts::table.find(id.0))
            .set(contacts::email.eq(email))
            .execute(conn)
            .context("updating contact email")?;
        Ok(())
    }

    pub fn touch(conn: &mut DbConnection, id: ContactId, now: &str) -> anyhow::Result<()> {
        let row = crate::db::deferred::Touch {
            contact_id: id.0,
            at: now.to_string(),
        };
        match crate::db::deferred::hold_touch(row) {
            // Held by a worker batch: written before it commits (`db::deferred`).
            None => Ok(()),
            Some(row) => Contact::write_touch(conn, &row).context("touching contact"),
        }
    }

    /// Moves a contact's "last modified" time now.
    pub(crate) fn write_touch(
        conn: &mut DbConnection,
        t: &crate::db::deferred::Touch,
    ) -> QueryResult<()> {
        crate::fixed_sql!(
            "UPDATE contacts SET updated_at = ? WHERE id = ?",
            [At::some(t.at.as_str()), t.contact_id],
        )
        .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConnection, id: ContactId) -> anyhow::Result<bool> {
        // Its enrollments go with it (ON DELETE CASCADE).
        super::enrollment::note_ended();
        let n = diesel::delete(contacts::table.find(id.0))
            .execute(conn)
            .context("deleting contact")?;
        Ok(n > 0)
    }

    /// The contacts with these ids (any order; unknown ids are left out).
    pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> anyhow::Result<Vec<Contact>> {
        contacts::table
            .filter(contacts::id.eq_any(ids))
            .select(Contact::as_select())
            .load(conn)
            .context("loading contacts")
    }

    /// The ids of the first `limit` contacts (by id); with a property, only those who have a
    /// value for it (the Test page's choices: contacts who have the workflow's date).
    pub fn first_ids(
        conn: &mut DbConnection,
        having_property: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<i64>> {
        match having_property {
            Some(p) => contact_values::table
                .filter(contact_values::property_id.eq(p))
                .select(contact_values::contact_id)
                .order(contact_values::contact_id.asc())
                .limit(limit)
                .load(conn),
            None => contacts::table
                .select(contacts::id)
                .order(contacts::id.asc())
                .limit(limit)
                .load(conn),
        }
        .context("listing contacts")
    }

    /// The first contact (by id) with a non-empty value for the property (an email preview's
    /// sample contact: the first one with a first name).
    pub fn first_with_value(
        conn: &mut DbConnection,
        property_id: i64,
    ) -> anyhow::Result<Option<ContactId>> {
        contact_values::table
            .filter(contact_values::property_id.eq(property_id))
            .filter(contact_values::value.ne(""))
            .order(contact_values::contact_id.asc())
            .select(contact_values::contact_id)
            .first(conn)
            .optional()
            .map(|id| id.map(ContactId))
            .context("finding a sample contact")
    }

    pub fn count(conn: &mut DbConnection) -> anyhow::Result<i64> {
        contacts::table
            .count()
            .get_result(conn)
            .context("counting contacts")
    }

    /// Values of one contact by property id.
    pub fn values(conn: &mut DbConnection, id: ContactId) -> anyhow::Result<HashMap<i64, String>> {
        crate::db::deferred::flush_before_values(conn)?;
        let rows: Vec<(i64, String)> = crate::on_backend!(conn, |c| contact_values::table
            .filter(contact_values::contact_id.eq(id.0))
            .select((contact_values::property_id, contact_values::value))
            .load(c))
        .context("loading contact values")?;
        Ok(rows.into_iter().collect())
    }

    /// The emails of many contacts in one query (the CSV export).
    pub fn emails_for(
        conn: &mut DbConnection,
        ids: &[i64],
    ) -> anyhow::Result<Vec<(i64, Option<String>)>> {
        contacts::table
            .filter(contacts::id.eq_any(ids))
            .select((contacts::id, contacts::email))
            .load(conn)
            .context("loading contact emails")
    }

    /// Values of many contacts in one query (no N+1 on list pages).
    pub fn values_for(
        conn: &mut DbConnection,
        ids: &[i64],
    ) -> anyhow::Result<Vec<(i64, i64, String)>> {
        crate::db::deferred::flush_before_values(conn)?;
        contact_values::table
            .filter(contact_values::contact_id.eq_any(ids))
            .select((
                contact_values::contact_id,
                contact_values::property_id,
                contact_values::value,
            ))
            .load(conn)
            .context("loading contact values")
    }

    /// Writes one value. `exists` says whether the contact has a value for this property now
    /// (callers read the contact's values first, so they know): an update or an insert, each
    /// kept prepared (diesel would prepare an `ON CONFLICT DO UPDATE` afresh each time; see
    /// `db::prepared`). Callers hold a write transaction, so nothing can slip in between.
    /// Inside a worker batch the write is held and made with the batch (`db::deferred`).
    pub fn put_value(
        conn: &mut DbConnection,
        id: ContactId,
        property_id: i64,
        value: &str,
        num: Option<f64>,
        exists: bool,
    ) -> anyhow::Result<()> {
        let row = crate::db::deferred::ValueWrite {
            contact_id: id.0,
            property_id,
            value: value.to_string(),
            num,
            exists,
        };
        match crate::db::deferred::hold_value(row) {
            None => Ok(()),
            Some(row) => Contact::write_value(conn, &row).context("writing contact value"),
        }
    }

    /// Writes one value now (see [`Contact::put_value`]).
    pub(crate) fn write_value(
        conn: &mut DbConnection,
        v: &crate::db::deferred::ValueWrite,
    ) -> QueryResult<()> {
        if v.exists {
            crate::fixed_sql!(
                "UPDATE contact_values SET value = ?, num = ?
                 WHERE contact_id = ? AND property_id = ?",
                [v.value.as_str(), v.num, v.contact_id, v.property_id],
            )
            .execute(conn)?;
            return Ok(());
        }
        crate::fixed_sql!(
            "INSERT INTO contact_values (contact_id, property_id, value, num) VALUES (?, ?, ?, ?)",
            [v.contact_id, v.property_id, v.value.as_str(), v.num],
        )
        .execute(conn)?;
        Ok(())
    }

    pub fn clear_value(
        conn: &mut DbConnection,
        id: ContactId,
        property_id: i64,
    ) -> anyhow::Result<()> {
        crate::db::deferred::flush_before_values(conn)?;
        diesel::delete(
            contact_values::table
                .filter(contact_values::contact_id.eq(id.0))
                .filter(contact_values::property_id.eq(property_id)),
        )
        .execute(conn)
        .context("clearing contact value")?;
        Ok(())
    }
}

/// What actually changed on a contact, for history and the workflow engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueChange {
    pub property_id: i64,
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl ContactRecord {
    /// One contact with its values by property name.
    pub fn load(
        conn: &mut DbConnection,
        catalog: &super::property::Catalog,
        id: ContactId,
    ) -> anyhow::Result<Option<ContactRecord>> {
        let Some(contact) = Contact::find(conn, id)? else {
            return Ok(None);
        };
        let values = Contact::values(conn, id)?
            .into_iter()
            .filter_map(|(pid, v)| catalog.by_id(pid).map(|p| (p.name.clone(), v)))
            .collect();
        Ok(Some(ContactRecord { contact, values }))
    }
}
