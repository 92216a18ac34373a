//! Contact writes in batches: `POST /contacts/batch` and each chunk of a CSV import.
//!
//! The same upsert by email as a single write ([`super::upsert_validated`]), set-based
//! per batch instead of row by row. Written one input at a time, an upsert is five to seven
//! statements (find by email, insert or read the contact and its values, one write per value,
//! the touch, the events); on PostgreSQL each is a round trip, and that, not the database's
//! work, was the import's time (measured: 922 rows/s). Here a batch:
//!
//! 1. reads the contacts its emails name in one query (on PostgreSQL locking them in id
//!    order, so concurrent batches queue instead of deadlocking), their values in a second,
//!    and, when a workflow is on, their list memberships and enrollments (which triggers
//!    read) in a third and fourth;
//! 2. inserts every contact it creates in one statement (PostgreSQL; ids from the sequence);
//! 3. applies the inputs in order to those contacts as it keeps them in memory, holding the
//!    value writes, touches, events and (PostgreSQL) the enrollments triggers make in the
//!    batch's [`crate::db::deferred::Scope`], which writes them with one statement per table
//!    before the commit;
//! 4. lets the workflow engine react to each input exactly as to a single write. A contact's
//!    enrollments read in step 1 serve its first input only; for a later input of the same
//!    contact the engine reads them again (after writing what is held), since the first may
//!    have enrolled or unenrolled it.
//!
//! What a user sees is the same as the inputs written one by one in order: the same email
//! twice updates the contact the first one created (or found), and the later values win.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{react, validate, write_values, Change, ContactError, ContactInput, Written};
use crate::clock::now_text;
use crate::db::models::contact::{Contact, ContactRecord};
use crate::db::models::enrollment::{Enrollment, Membership};
use crate::db::models::property::Catalog;
use crate::db::models::ContactId;
use crate::db::DbConnection;
use crate::domain::errors::FieldError;
use crate::engine::context::ContactSnapshot;
use crate::engine::triggers::{EngineCtx, Source};

/// One validated input: the email it is upserted by (`None`: always a new contact) and the
/// value changes.
pub type Row = (Option<String>, Vec<Change>);

/// A contact of the batch as the batch has left it so far.
struct Kept {
    record: ContactRecord,
    lists: HashSet<i64>,
    /// Its enrollments as read with the batch, until its first input is written; after that
    /// the engine reads them (that input may have enrolled or unenrolled it).
    enrollments: Option<Vec<Membership>>,
}

impl Kept {
    /// A contact as read (or just created), before its values and the rest are filled in.
    fn new(contact: Contact) -> Kept {
        Kept {
            record: ContactRecord {
                contact,
                values: BTreeMap::new(),
            },
            lists: HashSet::new(),
            enrollments: None,
        }
    }
}

/// Upserts `rows` by email, in order, inside the caller's write transaction and contact
/// batch scope (`Scope::contact_batch`, flushed by the caller before it commits); one result
/// per row, in order. `ctx` is the workflows that are on, loaded once by the caller.
pub fn upsert_rows(
    conn: &mut DbConnection,
    catalog: &Catalog,
    ctx: &EngineCtx,
    rows: &[Row],
) -> Result<Vec<Written>, ContactError> {
    let now = now_text();
    let emails: Vec<&str> = rows.iter().filter_map(|(e, _)| e.as_deref()).collect();
    let mut kept: Vec<Kept> = Vec::with_capacity(rows.len());
    let mut by_email: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for contact in Contact::find_by_emails(conn, &emails)? {
        if let Some(e) = &contact.email {
            by_email.insert(Contact::email_key(conn, e), kept.len());
        }
        kept.push(Kept::new(contact));
    }
    read_values_and_lists(conn, catalog, ctx, &mut kept)?;

    // Which kept contact each row writes; the contacts no row finds are created, once per
    // email, in the order of their first row.
    let mut target = Vec::with_capacity(rows.len());
    let mut new_emails: Vec<Option<&str>> = Vec::new();
    let mut first_new = Vec::new();
    for (email, _) in rows {
        let next_new = kept.len() + new_emails.len();
        let i = match email.as_deref().map(|e| Contact::email_key(conn, e)) {
            // Remembered at once, so a later row of the same email finds this new contact.
            Some(key) => *by_email.entry(key).or_insert(next_new),
            None => next_new,
        };
        if i == next_new {
            first_new.push(target.len());
            new_emails.push(email.as_deref());
        }
        target.push(i);
    }
    kept.extend(
        Contact::insert_many(conn, &new_emails, &now)?
            .into_iter()
            .map(Kept::new),
    );
    let creates: HashSet<usize> = first_new.into_iter().collect();

    let mut out = Vec::with_capacity(rows.len());
    for (n, ((_, changes), &i)) in rows.iter().zip(&target).enumerate() {
        let created = creates.contains(&n);
        let Kept {
            record,
            lists,
            enrollments,
        } = &mut kept[i];
        let known_enrollments = enrollments.take();
        let id = ContactId(record.contact.id);
        let applied = write_values(conn, id, &mut record.values, changes)?;
        if !created && !applied.is_empty() {
            Contact::touch(conn, id, &now)?;
            record.contact.updated_at.clone_from(&now);
        }
        if created || !applied.is_empty() {
            let after = ContactSnapshot {
                id: id.0,
                email: record.contact.email.clone(),
                values: record.values.clone(),
                lists: lists.clone(),
            };
            let known = known_enrollments.as_deref();
            react(conn, ctx, created, &applied, &after, Source::User, known)?;
        }
        out.push(Written {
            record: record.clone(),
            created,
            changes: applied,
        });
    }
    Ok(out)
}

/// Fills in the values (by name, known properties only, as a single load gives them) and,
/// when a workflow is on, the list memberships and enrollments of the contacts read: one
/// query each.
fn read_values_and_lists(
    conn: &mut DbConnection,
    catalog: &Catalog,
    ctx: &EngineCtx,
    kept: &mut [Kept],
) -> anyhow::Result<()> {
    if kept.is_empty() {
        return Ok(());
    }
    let at: HashMap<i64, usize> = kept
        .iter()
        .enumerate()
        .map(|(i, k)| (k.record.contact.id, i))
        .collect();
    let ids: Vec<i64> = at.keys().copied().collect();
    for (cid, pid, value) in Contact::values_for(conn, &ids)? {
        if let (Some(&i), Some(p)) = (at.get(&cid), catalog.by_id(pid)) {
            kept[i].record.values.insert(p.name.clone(), value);
        }
    }
    if !ctx.workflows.is_empty() {
        for (cid, list) in crate::db::sql::worker::list_memberships_of(conn, &ids)? {
            if let Some(&i) = at.get(&cid) {
                kept[i].lists.insert(list);
            }
        }
        for k in kept.iter_mut() {
            k.enrollments = Some(Vec::new());
        }
        for (cid, m) in Enrollment::memberships_of_many(conn, &ids)? {
            if let Some(list) = at.get(&cid).and_then(|&i| kept[i].enrollments.as_mut()) {
                list.push(m);
            }
        }
    }
    Ok(())
}

/// An API input validated into a row (fields named `properties.<name>`, as `POST /contacts`
/// names them; an empty email is no email).
pub fn api_row(catalog: &Catalog, input: &ContactInput) -> Result<Row, Vec<FieldError>> {
    let (email, changes) = validate(catalog, input, "properties.")?;
    Ok((email.flatten(), changes))
}

/// How many times a batch runs when it keeps losing to concurrent writers (see
/// [`crate::db::is_retryable`]).
const BATCH_TRIES: u32 = 4;

/// One input of a batch as the caller read it: the input, or why it could not be read (a
/// field within that input; empty for the input as a whole).
pub type BatchInput = Result<ContactInput, FieldError>;

/// Upserts many contacts by email in ONE transaction (the API's `POST /contacts/batch`).
///
/// Every input is validated first; if any is bad nothing is written and the errors of every
/// bad input are returned, each named `{list}[{index}].{field}` (e.g.
/// `inputs[3].properties.seats`). Otherwise the inputs are upserted in order by
/// [`upsert_rows`], with the trigger context loaded once for the batch, as CSV import does. The same email twice: the inputs are applied in
/// order to the one contact, so the later input's values win and both results show that
/// contact as the batch left it.
pub fn upsert_batch(
    conn: &mut DbConnection,
    catalog: &Catalog,
    inputs: Vec<BatchInput>,
    list: &str,
) -> Result<Vec<Written>, ContactError> {
    let named = |i: usize, errs: Vec<FieldError>| {
        errs.into_iter().map(move |e| match e.field.as_str() {
            "" => FieldError::new(format!("{list}[{i}]"), e.message),
            f => FieldError::new(format!("{list}[{i}].{f}"), e.message),
        })
    };
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        match input
            .map_err(|e| vec![e])
            .and_then(|input| api_row(catalog, &input))
        {
            Ok(row) => valid.push(row),
            Err(errs) => errors.extend(named(i, errs)),
        }
    }
    if !errors.is_empty() {
        return Err(ContactError::Invalid(errors));
    }
    let mut written = write_rows(conn, catalog, &valid)?;
    // A contact written twice: every result shows it as it stands after the batch.
    let last: std::collections::HashMap<i64, ContactRecord> = written
        .iter()
        .map(|w| (w.record.contact.id, w.record.clone()))
        .collect();
    if last.len() < written.len() {
        for w in &mut written {
            if let Some(rec) = last.get(&w.record.contact.id) {
                w.record = rec.clone();
            }
        }
    }
    Ok(written)
}

/// Upserts validated `rows` in order in ONE write transaction of their own, with the
/// workflows that are on loaded once: the body of `POST /contacts/batch` and of a group of
/// single upserts ([`super::group`]). One result per row, each showing the contact
/// as that row left it. All or nothing; a transaction that lost to another writer (PostgreSQL:
/// a deadlock or a serialization failure) is run again, up to [`BATCH_TRIES`] times.
pub fn write_rows(
    conn: &mut DbConnection,
    catalog: &Catalog,
    rows: &[Row],
) -> Result<Vec<Written>, ContactError> {
    let attempt = |conn: &mut DbConnection| {
        crate::db::write_transaction(conn, |conn| {
            let ctx = EngineCtx::load(conn, catalog)?;
            let _held = crate::db::deferred::Scope::contact_batch();
            let out = upsert_rows(conn, catalog, &ctx, rows)?;
            crate::db::deferred::flush(conn).map_err(|e| ContactError::Internal(e.into()))?;
            Ok(out)
        })
    };
    let mut tries = 1;
    loop {
        match attempt(conn) {
            Err(ContactError::Internal(e))
                if tries < BATCH_TRIES && crate::db::is_retryable(&e) =>
            {
                tracing::info!(tries, error = %crate::telemetry::chain(&e), "contact batch ran into another writer; running it again");
                tries += 1;
            }
            other => return other,
        }
    }
}
