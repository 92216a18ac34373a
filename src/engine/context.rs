//! What the engine needs in hand: a workflow with its parsed definition and time zone, and a
//! contact's values and list memberships.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::db::models::contact::ContactRecord;
use crate::db::models::list::List;
use crate::db::models::workflow::Workflow;
use crate::db::models::ContactId;
use crate::domain::definition::{Definition, Start, Step};
use crate::domain::filter::ContactView;
use crate::domain::schedule::{self, Zones};
use crate::domain::values::parse_iso_date;
use crate::domain::watch::Watched;

/// A workflow and its parsed definition (parsed once per revision, then cached).
#[derive(Debug, Clone)]
pub struct WorkflowCtx {
    pub row: Workflow,
    pub def: Arc<Definition>,
    /// The workflow's zone: its own setting, else the account's.
    pub tz: Tz,
    /// The contact inputs its enrollment decision reads (writes that change none skip it).
    pub watched: Arc<Watched>,
}

/// Keyed by the definition text's hash too: the id and revision alone are not unique when
/// one process serves several databases (tests, the benchmark).
type Cache = Mutex<HashMap<(i64, i32, u64), (Arc<Definition>, Arc<Watched>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl WorkflowCtx {
    pub fn new(row: Workflow, account_tz: Tz) -> anyhow::Result<WorkflowCtx> {
        let key = (row.id, row.revision, {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            row.definition.hash(&mut h);
            h.finish()
        });
        let cached = cache().lock().ok().and_then(|c| c.get(&key).cloned());
        let (def, watched) = match cached {
            Some(d) => d,
            None => {
                let def = row.parsed()?;
                let watched = Arc::new(Watched::of(&def));
                let d = (Arc::new(def), watched);
                if let Ok(mut c) = cache().lock() {
                    if c.len() > 10_000 {
                        c.clear();
                    }
                    c.insert(key, d.clone());
                }
                d
            }
        };
        let tz = schedule::workflow_zone(&def, account_tz);
        Ok(WorkflowCtx {
            row,
            def,
            tz,
            watched,
        })
    }

    pub fn load(
        conn: &mut DbConnection,
        id: crate::db::models::WorkflowId,
    ) -> anyhow::Result<Option<WorkflowCtx>> {
        let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
        match Workflow::find(conn, id)? {
            Some(row) => Ok(Some(WorkflowCtx::new(row, account_tz)?)),
            None => Ok(None),
        }
    }

    /// Every workflow that is on.
    pub fn active(conn: &mut DbConnection) -> anyhow::Result<Vec<WorkflowCtx>> {
        let account_tz = crate::db::models::app_setting::account_time_zone(conn)?;
        Workflow::active(conn)?
            .into_iter()
            .map(|row| WorkflowCtx::new(row, account_tz))
            .collect()
    }

    pub fn id(&self) -> i64 {
        self.row.id
    }

    /// The property whose value anchors the schedule, for contact-date-property workflows.
    pub fn date_property(&self) -> Option<&str> {
        match &self.def.start {
            Start::ContactDateProperty { property } => Some(property),
            _ => None,
        }
    }

    /// The contact's anchor date: the workflow's date, the contact's date value, or nothing
    /// (blank workflows). `Err(NoAnchor)` when a date-centred workflow has no usable date.
    pub fn anchor_for(&self, contact: &dyn ContactView) -> Result<Option<NaiveDate>, NoAnchor> {
        match &self.def.start {
            Start::Blank => Ok(None),
            Start::SpecificDate { date } => parse_iso_date(date).map(Some).ok_or(NoAnchor),
            Start::ContactDateProperty { property } => contact
                .value(property)
                .and_then(parse_iso_date)
                .map(Some)
                .ok_or(NoAnchor),
        }
    }

    pub fn zones_for(&self, contact: &dyn ContactView) -> Zones {
        Zones {
            workflow: self.tz,
            contact: contact.value("timezone").and_then(schedule::parse_zone),
        }
    }

    /// When the step at `path` is due for an enrollment of this cycle (`anchor_date`, the
    /// cycle's anchor), given the step before it ran at `prev`. A contact waiting at a
    /// wait-until step (`…/wait`) is due when the wait times out.
    pub fn due_of(
        &self,
        anchor_date: Option<&str>,
        contact: &dyn ContactView,
        path: &str,
        prev: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let zones = self.zones_for(contact);
        if crate::domain::paths::is_waiting(path) {
            let Some(Step::WaitUntil { timeout, .. }) =
                crate::domain::paths::step_at(&self.def.steps, path)
            else {
                return None;
            };
            return Some(schedule::add_delay(
                prev,
                timeout.amount,
                timeout.unit,
                zones.workflow,
            ));
        }
        let (list, last) = crate::domain::paths::list_of(&self.def.steps, path)?;
        let ctx = schedule::PlanContext {
            settings: &self.def.settings,
            anchor: anchor_date.and_then(parse_iso_date),
            zones,
        };
        schedule::plan_steps(list, &ctx, last, Some(prev), prev)
            .into_iter()
            .find(|s| s.index == last)
            .map(|s| s.due_at)
    }
}

/// A date-centred workflow without a usable date for a contact: not enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoAnchor;

/// A contact as filters see it: values by property name and list memberships.
#[derive(Debug, Clone, Default)]
pub struct ContactSnapshot {
    pub id: i64,
    pub email: Option<String>,
    pub values: BTreeMap<String, String>,
    pub lists: HashSet<i64>,
}

impl ContactView for ContactSnapshot {
    fn value(&self, property: &str) -> Option<&str> {
        if property == "email" {
            return self.email.as_deref();
        }
        self.values.get(property).map(String::as_str)
    }

    fn in_list(&self, list_id: i64) -> bool {
        self.lists.contains(&list_id)
    }
}

impl ContactSnapshot {
    pub fn from_record(
        conn: &mut DbConnection,
        rec: &ContactRecord,
    ) -> anyhow::Result<ContactSnapshot> {
        Ok(ContactSnapshot {
            id: rec.contact.id,
            email: rec.contact.email.clone(),
            values: rec.values.clone(),
            lists: List::lists_of(conn, ContactId(rec.contact.id))?
                .into_iter()
                .collect(),
        })
    }

    pub fn load(
        conn: &mut DbConnection,
        catalog: &crate::db::models::property::Catalog,
        id: ContactId,
    ) -> anyhow::Result<Option<ContactSnapshot>> {
        match crate::db::models::contact::ContactRecord::load(conn, catalog, id)? {
            Some(rec) => Ok(Some(ContactSnapshot::from_record(conn, &rec)?)),
            None => Ok(None),
        }
    }
}

/// The catalog filters and validation need: properties, list ids, workflow ids.
pub fn domain_catalog(
    conn: &mut DbConnection,
    props: &crate::db::models::property::Catalog,
) -> anyhow::Result<crate::domain::filter::Catalog> {
    use crate::domain::filter::PropertyInfo;
    Ok(crate::domain::filter::Catalog {
        properties: props
            .properties
            .iter()
            .map(|p| PropertyInfo {
                id: p.id,
                name: p.name.clone(),
                label: p.label.clone(),
                field_type: p.kind(),
                options: p.option_list(),
            })
            .collect(),
        list_ids: List::ids(conn)?,
        workflow_ids: Workflow::ids(conn)?,
    })
}

impl ContactSnapshot {
    /// The same contact before a write, from the list of value changes.
    pub fn before(&self, changes: &[crate::db::models::contact::ValueChange]) -> ContactSnapshot {
        let mut old = self.clone();
        for c in changes {
            if c.name == "email" {
                old.email = c.old.clone();
                continue;
            }
            match &c.old {
                Some(v) => old.values.insert(c.name.clone(), v.clone()),
                None => old.values.remove(&c.name),
            };
        }
        old
    }
}
