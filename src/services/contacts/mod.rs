//! The contact write path. Forms, the JSON API, CSV import and workflow actions all create and
//! change contacts through here, so validation and the workflow engine's hooks are identical
//! whatever the source.

use std::collections::BTreeMap;

use crate::db::DbConnection;
use serde_json::Value;

use crate::clock::now_text;
pub use crate::db::models::contact::ValueChange;
use crate::db::models::contact::{Contact, ContactRecord};
use crate::db::models::enrollment::Membership;
pub use crate::db::models::property::Catalog;
use crate::db::models::ContactId;
use crate::domain::errors::FieldError;
use crate::domain::events as ev;
use crate::domain::values::{looks_like_email, normalize_property_value, numeric_mirror};
use crate::engine::context::ContactSnapshot;
use crate::engine::events::{self, Pending};
pub use crate::engine::triggers::Source;

pub mod batch;
pub mod group;
use crate::engine::triggers::{self, Delta, EngineCtx};
pub use batch::{upsert_batch, BatchInput};

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("contact not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ContactError {
    fn from(e: diesel::result::Error) -> Self {
        ContactError::Internal(e.into())
    }
}

/// One validated value change: `None` clears.
#[derive(Debug, Clone)]
pub struct Change {
    pub property_id: i64,
    pub name: String,
    pub value: Option<String>,
    pub num: Option<f64>,
}

/// A requested write: `email` `None` leaves it untouched; `Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub email: Option<Option<String>>,
    pub properties: Vec<(String, Value)>,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub record: ContactRecord,
    pub created: bool,
    pub changes: Vec<ValueChange>,
}

/// A validated write: the email change (`None` untouched, `Some(None)` removed) and the
/// value changes.
pub type Validated = (Option<Option<String>>, Vec<Change>);

/// Validates every value against its property; collects all errors (the form shows each next
/// to its field). `field_prefix` is `properties.` for the API and empty for forms.
pub fn validate(
    catalog: &Catalog,
    input: &ContactInput,
    field_prefix: &str,
) -> Result<Validated, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    let mut email = input.email.clone();
    for (name, raw) in &input.properties {
        let field = format!("{field_prefix}{name}");
        let Some(prop) = catalog.get(name) else {
            errors.push(FieldError::new(
                field,
                format!("There is no property named \"{name}\"."),
            ));
            continue;
        };
        if prop.is_email() {
            match raw {
                Value::String(s) => email = Some(Some(s.clone())),
                Value::Null => email = Some(None),
                _ => errors.push(FieldError::new(field, "Email must be text.")),
            }
            continue;
        }
        match normalize_property_value(&prop.name, prop.kind(), &prop.option_list(), raw) {
            Ok(value) => changes.push(Change {
                property_id: prop.id,
                name: prop.name.clone(),
                num: value
                    .as_deref()
                    .and_then(|v| numeric_mirror(prop.kind(), v)),
                value,
            }),
            Err(msg) => errors.push(FieldError::new(field, format!("{}: {msg}", prop.label))),
        }
    }
    let email = match email {
        Some(Some(e)) if e.trim().is_empty() => Some(None),
        Some(Some(e)) if !looks_like_email(&e) => {
            errors.push(FieldError::new(
                "email",
                format!("\"{e}\" is not a valid email address."),
            ));
            None
        }
        Some(Some(e)) => Some(Some(e.trim().to_string())),
        other => other,
    };
    if errors.is_empty() {
        Ok((email, changes))
    } else {
        Err(errors)
    }
}

fn duplicate_email(email: &str) -> ContactError {
    ContactError::Invalid(vec![FieldError::new(
        "email",
        format!("Another contact already has the email {email}."),
    )])
}

/// Creates a contact (refusing a duplicate email).
pub fn create(
    conn: &mut DbConnection,
    catalog: &Catalog,
    input: &ContactInput,
    field_prefix: &str,
) -> Result<Written, ContactError> {
    let (email, changes) = validate(catalog, input, field_prefix).map_err(ContactError::Invalid)?;
    let email = email.flatten();
    crate::db::write_transaction(conn, |conn| {
        if let Some(e) = &email {
            if Contact::find_by_email(conn, e)?.is_some() {
                return Err(duplicate_email(e));
            }
        }
        write_new(conn, catalog, email.as_deref(), &changes)
    })
}

/// The upsert inside the caller's transaction (an event posted for a new contact, the demo
/// data). Many upserts at once go through [`batch::upsert_rows`] instead, and so do the API's
/// single upserts ([`group`]).
pub fn upsert_validated(
    conn: &mut DbConnection,
    catalog: &Catalog,
    email: Option<&str>,
    changes: &[Change],
) -> Result<Written, ContactError> {
    if let Some(e) = email {
        if let Some(existing) = Contact::find_by_email(conn, e)? {
            return write_existing(
                conn,
                catalog,
                ContactId(existing.id),
                None,
                changes,
                Source::User,
            );
        }
    }
    write_new(conn, catalog, email, changes)
}

/// Updates an existing contact; `email` in the input may change it (refusing a duplicate).
pub fn update(
    conn: &mut DbConnection,
    catalog: &Catalog,
    id: ContactId,
    input: &ContactInput,
    field_prefix: &str,
) -> Result<Written, ContactError> {
    let (email, changes) = validate(catalog, input, field_prefix).map_err(ContactError::Invalid)?;
    crate::db::write_transaction(conn, |conn| {
        write_existing(conn, catalog, id, email, &changes, Source::User)
    })
}

/// Applies changes to a contact inside the caller's transaction (used by workflow actions,
/// which name themselves as the source so they cannot re-trigger their own workflow).
///
/// `known` is the contact as it stands in this transaction (the worker's batch read it and
/// keeps it exact), so nothing is read again; the contact after the write is returned with
/// what changed. Email changes go through [`update`], never through here.
pub fn apply_changes(
    conn: &mut DbConnection,
    known: &ContactSnapshot,
    changes: &[Change],
    source: Source,
    ctx: &EngineCtx,
) -> Result<(ContactSnapshot, Vec<ValueChange>), ContactError> {
    let id = ContactId(known.id);
    let mut after = known.clone();
    let applied = write_values(conn, id, &mut after.values, changes)?;
    if applied.is_empty() {
        return Ok((after, applied));
    }
    Contact::touch(conn, id, &now_text())?;
    react(conn, ctx, false, &applied, &after, source, None)?;
    Ok((after, applied))
}

/// Writes the value changes that change something into the contact's values (by name, as
/// they stand in this transaction) and returns them.
fn write_values(
    conn: &mut DbConnection,
    id: ContactId,
    values: &mut BTreeMap<String, String>,
    changes: &[Change],
) -> anyhow::Result<Vec<ValueChange>> {
    let mut applied = Vec::new();
    for c in changes {
        let old = values.get(&c.name).cloned();
        if old == c.value {
            continue;
        }
        match &c.value {
            Some(v) => {
                Contact::put_value(conn, id, c.property_id, v, c.num, old.is_some())?;
                values.insert(c.name.clone(), v.clone());
            }
            None => {
                Contact::clear_value(conn, id, c.property_id)?;
                values.remove(&c.name);
            }
        }
        applied.push(ValueChange {
            property_id: c.property_id,
            name: c.name.clone(),
            old,
            new: c.value.clone(),
        });
    }
    Ok(applied)
}

fn write_new(
    conn: &mut DbConnection,
    catalog: &Catalog,
    email: Option<&str>,
    changes: &[Change],
) -> Result<Written, ContactError> {
    let now = now_text();
    let contact = Contact::insert(conn, email, &now)?;
    let id = ContactId(contact.id);
    let mut values = BTreeMap::new();
    let mut applied = Vec::new();
    for c in changes {
        if let Some(v) = &c.value {
            let exists = values.contains_key(&c.name);
            Contact::put_value(conn, id, c.property_id, v, c.num, exists)?;
            values.insert(c.name.clone(), v.clone());
            applied.push(ValueChange {
                property_id: c.property_id,
                name: c.name.clone(),
                old: None,
                new: Some(v.clone()),
            });
        }
    }
    let written = Written {
        record: ContactRecord { contact, values },
        created: true,
        changes: applied,
    };
    after_write(conn, catalog, &written, Source::User)?;
    Ok(written)
}

fn write_existing(
    conn: &mut DbConnection,
    catalog: &Catalog,
    id: ContactId,
    email: Option<Option<String>>,
    changes: &[Change],
    source: Source,
) -> Result<Written, ContactError> {
    let Some(mut contact) = Contact::find(conn, id)? else {
        return Err(ContactError::NotFound);
    };
    let mut values: BTreeMap<String, String> = Contact::values(conn, id)?
        .into_iter()
        .filter_map(|(pid, v)| catalog.by_id(pid).map(|p| (p.name.clone(), v)))
        .collect();
    let mut applied = Vec::new();
    if let Some(new_email) = email {
        if new_email.as_deref().map(str::to_lowercase)
            != contact.email.as_deref().map(str::to_lowercase)
        {
            if let Some(e) = &new_email {
                if Contact::find_by_email(conn, e)?.is_some_and(|c| c.id != contact.id) {
                    return Err(duplicate_email(e));
                }
            }
            Contact::set_email(conn, id, new_email.as_deref())?;
            if let Some(p) = catalog.get("email") {
                applied.push(ValueChange {
                    property_id: p.id,
                    name: "email".into(),
                    old: contact.email.clone(),
                    new: new_email.clone(),
                });
            }
            contact.email = new_email;
        }
    }
    applied.extend(write_values(conn, id, &mut values, changes)?);
    if !applied.is_empty() {
        let now = now_text();
        Contact::touch(conn, id, &now)?;
        contact.updated_at = now;
    }
    let written = Written {
        record: ContactRecord { contact, values },
        created: false,
        changes: applied,
    };
    after_write(conn, catalog, &written, source)?;
    Ok(written)
}

/// Loads one contact with its values by name (see [`ContactRecord::load`]).
pub fn load(
    conn: &mut DbConnection,
    catalog: &Catalog,
    id: ContactId,
) -> anyhow::Result<Option<ContactRecord>> {
    ContactRecord::load(conn, catalog, id)
}

/// Where the workflow engine learns of every contact write (same transaction).
fn after_write(
    conn: &mut DbConnection,
    catalog: &Catalog,
    written: &Written,
    source: Source,
) -> Result<(), ContactError> {
    if !written.created && written.changes.is_empty() {
        return Ok(());
    }
    let ctx = &EngineCtx::load(conn, catalog)?;
    let after = if ctx.workflows.is_empty() || written.created {
        // Only the events are recorded, or the contact is new (in no list yet): list
        // memberships are not read.
        ContactSnapshot {
            id: written.record.contact.id,
            email: written.record.contact.email.clone(),
            values: written.record.values.clone(),
            lists: Default::default(),
        }
    } else {
        ContactSnapshot::from_record(conn, &written.record)?
    };
    react(
        conn,
        ctx,
        written.created,
        &written.changes,
        &after,
        source,
        None,
    )
}

/// Records the write's built-in events, then lets every workflow that is on react to it.
fn react(
    conn: &mut DbConnection,
    ctx: &EngineCtx,
    created: bool,
    changes: &[ValueChange],
    after: &ContactSnapshot,
    source: Source,
    enrollments: Option<&[Membership]>,
) -> Result<(), ContactError> {
    let now = chrono::Utc::now();
    // Built-in events, for the contact's timeline and for event triggers. A new contact's
    // initial values ride on its `contact_created` event; they are also recorded one by one as
    // `property_changed` only when a workflow that is on listens for that event (an import of
    // 100,000 contacts would otherwise write 700,000 event rows nobody reads as triggers).
    let contact_id = after.id;
    let listens_for_changes = ctx.workflows.iter().any(|w| {
        w.def
            .triggers
            .events
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(ev::PROPERTY_CHANGED))
    });
    let mut pending = Vec::with_capacity(changes.len() + 1);
    if created {
        let values: serde_json::Map<String, serde_json::Value> = after
            .values
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        pending.push(Pending::builtin(
            ev::CONTACT_CREATED,
            serde_json::json!({ "email": after.email, "properties": values }),
            now,
        ));
    }
    if !created || listens_for_changes {
        for c in changes {
            pending.push(Pending::builtin(
                ev::PROPERTY_CHANGED,
                events::PropertyChanged {
                    property: &c.name,
                    old: c.old.as_deref(),
                    new: c.new.as_deref(),
                },
                now,
            ));
        }
    }
    // Event ids are read back only when a workflow that is on listens for events.
    let listening = events::any_listen(&ctx.workflows);
    let recorded = if listening {
        events::record(conn, contact_id, pending, now)?
    } else {
        events::record_quiet(conn, contact_id, pending, now)?;
        vec![]
    };
    if ctx.workflows.is_empty() {
        return Ok(());
    }
    let before = (!created).then(|| after.before(changes));
    let changed: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
    let delta = Delta {
        before: before.as_ref(),
        after,
        changed: &changed,
        enrollments,
    };
    triggers::evaluate(conn, &ctx.workflows, &ctx.catalog, &delta, source, now)?;
    events::fire(
        conn,
        &ctx.workflows,
        &ctx.catalog,
        after,
        &recorded,
        source,
        now,
    )?;
    Ok(())
}
