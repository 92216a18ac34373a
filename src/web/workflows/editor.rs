//! The editor (`/workflows/{id}`): the workflow drawn as a vertical flow of cards with **+**
//! between them, and the panel of the chosen card on the left. Works without JavaScript: the
//! open panel is chosen by the query string (`?panel=trigger`, `?panel=step-2-yes-0`,
//! `?panel=add&after=2&arm=2-yes&type=send_email`) and every panel is a plain form.
//!
//! Every save goes through `services::drafts::save_edit`: a new revision while the workflow is
//! off, unpublished changes (reviewed on Review and update) while it is on. When
//! validation refuses it, the page is drawn again with the panel as submitted, each message
//! beside its input, and status 422; nothing is saved.

use std::collections::BTreeMap;

use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use chrono::Utc;
use diesel::SqliteConnection;
use serde::Deserialize;

use super::forms_common::{
    card_place, problem_link, strip_path, Choice, FormValues, ListRef, Lookups, MappedErrors,
    ProblemLink, StepPath,
};
use super::forms_filters::{self, FilterEditor, GroupRows};
use super::forms_steps::{self, step_type, StepType, STEP_TYPES};
use super::header::WorkflowHeader;
use crate::db::models::workflow::Workflow;
use crate::db::models::WorkflowId;
use crate::domain::definition::{Definition, Start, Step, Weekday};
use crate::domain::errors::{Errors, FieldError};
use crate::domain::validate::Problem;
use crate::domain::values::FieldType;
use crate::services::drafts::Saved;
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(r"/workflows/{id:\d+}", web::get().to(show))
        .route(r"/workflows/{id:\d+}/trigger", web::post().to(save_trigger))
        .route(r"/workflows/{id:\d+}/start", web::post().to(save_start))
        .route(r"/workflows/{id:\d+}/recur", web::post().to(save_recur))
        .route(r"/workflows/{id:\d+}/name", web::post().to(save_name))
        .route(r"/workflows/{id:\d+}/steps", web::post().to(add_step))
        .route(
            r"/workflows/{id:\d+}/steps/{path}",
            web::post().to(edit_step),
        )
        .route(
            r"/workflows/{id:\d+}/steps/{path}/delete",
            web::post().to(delete_step),
        )
        .route(
            r"/workflows/{id:\d+}/steps/{path}/move",
            web::post().to(move_step),
        );
}

// ---------------------------------------------------------------------------------------------
// What a request loads.

/// The contact whose values fill an email preview.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub values: BTreeMap<String, String>,
}

/// The first contact that has a first name.
fn sample_contact(conn: &mut SqliteConnection) -> anyhow::Result<Option<Sample>> {
    use crate::db::schema::{contact_values, properties};
    use diesel::prelude::*;
    let id: Option<i64> = contact_values::table
        .inner_join(properties::table.on(properties::id.eq(contact_values::property_id)))
        .filter(properties::name.eq("firstname"))
        .filter(contact_values::value.ne(""))
        .order(contact_values::contact_id.asc())
        .select(contact_values::contact_id)
        .first(conn)
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    let catalog = crate::services::contacts::Catalog::load(conn)?;
    let rec = crate::services::contacts::load(conn, &catalog, crate::db::models::ContactId(id))?;
    Ok(rec.map(|r| {
        let mut values = r.values.clone();
        if let Some(e) = &r.contact.email {
            values.insert("email".into(), e.clone());
        }
        Sample {
            name: r.display_name(),
            values,
        }
    }))
}

struct Loaded {
    wf: Workflow,
    def: Definition,
    header: WorkflowHeader,
    lookups: Lookups,
    problems: Vec<Problem>,
    sample: Option<Sample>,
    /// Built-in event names, then custom ones seen before.
    event_names: Vec<String>,
}

fn load(conn: &mut SqliteConnection, id: i64) -> anyhow::Result<Option<Loaded>> {
    let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
        return Ok(None);
    };
    let header = WorkflowHeader::load(conn, &wf, "edit")?;
    // A live workflow is edited through its unpublished changes.
    let wf = crate::services::drafts::working(conn, wf)?;
    let def = wf.parsed()?;
    let lookups = Lookups::load(conn)?;
    let problems = svc::problems(conn, &wf)?;
    let sample = sample_contact(conn)?;
    let mut event_names: Vec<String> = crate::domain::events::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    event_names.extend(crate::db::models::event::ContactEvent::custom_names(conn)?);
    Ok(Some(Loaded {
        wf,
        def,
        header,
        lookups,
        problems,
        sample,
        event_names,
    }))
}

/// Saves a new revision (or, for a live workflow, unpublished changes); validation errors come
/// back as data.
fn try_save(
    conn: &mut SqliteConnection,
    id: i64,
    def: &Definition,
    author: &str,
) -> anyhow::Result<Result<Saved, Vec<FieldError>>> {
    match crate::services::drafts::save_edit(conn, WorkflowId(id), def, author, Utc::now()) {
        Ok(wf) => Ok(Ok(wf)),
        Err(WorkflowError::Invalid(errors)) => Ok(Err(errors)),
        Err(WorkflowError::NotFound) => Err(anyhow::anyhow!("workflow {id} disappeared")),
        Err(WorkflowError::Problems(_)) => {
            Err(anyhow::anyhow!("unexpected publish problems on save"))
        }
        Err(WorkflowError::Internal(e)) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The canvas.

/// One thing drawn on the canvas, in order. Branches open and close around their two arms,
/// so any depth is drawn from one flat list.
pub struct CanvasItem {
    /// card | add | branch_open | arm_open | arm_close | branch_close | end
    pub kind: &'static str,
    /// trigger | date | delay | action | branch
    pub card_kind: &'static str,
    pub card: String,
    pub href: String,
    pub icon: &'static str,
    pub eyebrow: String,
    pub title: String,
    pub lines: Vec<String>,
    /// A built-in line shown first (the "[property] is known" trigger).
    pub builtin: String,
    pub selected: bool,
    pub issues: usize,
    pub arm: &'static str,
    pub label: String,
    /// For the date card: the Repeat annually checkbox.
    pub recur: Option<bool>,
}

impl CanvasItem {
    fn blank(kind: &'static str) -> CanvasItem {
        CanvasItem {
            kind,
            card_kind: "",
            card: String::new(),
            href: String::new(),
            icon: "",
            eyebrow: String::new(),
            title: String::new(),
            lines: Vec::new(),
            builtin: String::new(),
            selected: false,
            issues: 0,
            arm: "",
            label: String::new(),
            recur: None,
        }
    }
}

struct CanvasCtx<'a> {
    id: i64,
    def: &'a Definition,
    lookups: &'a Lookups,
    problems: &'a [Problem],
    /// The open card, or `add:{arm}:{after}` for a + being used.
    selected: String,
}

impl CanvasCtx<'_> {
    fn issues(&self, card: &str) -> usize {
        self.problems.iter().filter(|p| p.card == card).count()
    }

    fn add(&self, list: &ListRef, after: isize, label: String) -> CanvasItem {
        let arm = list.slug();
        let mut href = format!("/workflows/{}?panel=add&after={after}", self.id);
        if !arm.is_empty() {
            href.push_str(&format!("&arm={arm}"));
        }
        href.push_str("#panel");
        let mut item = CanvasItem::blank("add");
        item.selected = self.selected == format!("add:{arm}:{after}");
        item.href = href;
        item.label = label;
        item
    }

    fn steps(&self, items: &mut Vec<CanvasItem>, steps: &[Step], list: &ListRef) {
        let date_centred = self.def.start.is_date_centred();
        let top = list.branch.is_none();
        if !(top && date_centred) {
            let label = if top {
                "Add a step at the start".to_string()
            } else {
                format!("Add a step at the start of {}", arm_words(list))
            };
            items.push(self.add(list, -1, label));
        }
        for (i, step) in steps.iter().enumerate() {
            let path = list.at(i);
            let card = path.card();
            let first_date_delay =
                top && i == 0 && date_centred && matches!(step, Step::DateDelay { .. });
            let s = forms_steps::summarize(step, &self.def.start, self.lookups, first_date_delay);
            let mut item = CanvasItem::blank("card");
            item.card_kind = s.kind;
            item.href = format!("/workflows/{}?panel={card}#panel", self.id);
            item.icon = s.icon;
            item.eyebrow = card_place(&card);
            item.title = s.title;
            item.lines = s.lines;
            item.selected = self.selected == card;
            item.issues = self.issues(&card);
            item.card = card;
            items.push(item);
            if let Step::Branch { yes, no, .. } = step {
                items.push(CanvasItem::blank("branch_open"));
                for (arm_yes, arm_steps) in [(true, yes), (false, no)] {
                    let arm = ListRef {
                        branch: Some((path.clone(), arm_yes)),
                    };
                    let mut open = CanvasItem::blank("arm_open");
                    open.arm = if arm_yes { "Yes" } else { "No" };
                    items.push(open);
                    self.steps(items, arm_steps, &arm);
                    items.push(CanvasItem::blank("arm_close"));
                }
                items.push(CanvasItem::blank("branch_close"));
            }
            let label = format!(
                "Add a step after {}",
                card_place(&path.card()).to_lowercase()
            );
            items.push(self.add(list, i as isize, label));
        }
    }
}

fn arm_words(list: &ListRef) -> String {
    match &list.branch {
        Some((p, yes)) => format!(
            "the {} path of {}",
            if *yes { "Yes" } else { "No" },
            card_place(&p.card()).to_lowercase()
        ),
        None => "the workflow".into(),
    }
}

fn trigger_lines(def: &Definition, lookups: &Lookups) -> (String, Vec<String>) {
    let builtin = match &def.start {
        Start::ContactDateProperty { property } => {
            format!("{} is known", lookups.property_label(property))
        }
        _ => String::new(),
    };
    // Triggers this editor does not draw (kept as they are when the panel saves).
    if def.triggers.manual_only {
        // What enrolls a contact, in words: only a person (the filters are kept, unused).
        return (
            builtin,
            vec!["Enroll manually only: contacts enter only when you enroll them (Test page or a contact’s page)".to_string()],
        );
    }
    let groups = &def.triggers.filter_groups;
    let mut lines = if !groups.is_empty() {
        let mut lines = forms_steps::condition_lines(groups, lookups);
        // The filter groups narrow the built-in trigger shown above them.
        if !builtin.is_empty() && lines.len() > 1 {
            lines.insert(0, "and any of:".to_string());
        } else if let (false, Some(first)) = (builtin.is_empty(), lines.first_mut()) {
            *first = format!("and {first}");
        }
        lines
    } else if !builtin.is_empty() {
        vec![format!(
            "Enrolls every contact whose {builtin} (no other filters)"
        )]
    } else {
        Vec::new()
    };
    for t in &def.triggers.events {
        let refined = if t.filters.is_empty() {
            String::new()
        } else {
            format!(" ({} filters)", t.filters.len())
        };
        let words = format!("When “{}” occurs{refined}", t.name);
        lines.push(if lines.is_empty() {
            words
        } else {
            format!("or {words}")
        });
    }
    if lines.is_empty() {
        lines.push("Manual enrollment only".to_string());
    }
    if def.reenroll.on_events {
        lines.push("Re-enrolls every time an event trigger occurs".to_string());
    }
    if def.reenroll.enabled {
        let names: Vec<String> = def
            .reenroll
            .on_properties
            .iter()
            .map(|p| lookups.property_label(p))
            .collect();
        lines.push(if names.is_empty() {
            "Re-enrollment on (choose properties)".to_string()
        } else {
            format!("Re-enrolls when {} changes", names.join(", "))
        });
    }
    (builtin, lines)
}

/// Event triggers (the triggers other than filter groups).
fn other_triggers(def: &Definition) -> usize {
    def.triggers.events.len()
}

fn start_title(start: &Start, lookups: &Lookups) -> String {
    match start {
        Start::Blank => String::new(),
        Start::SpecificDate { date } => format!("Specific date: {date}"),
        Start::ContactDateProperty { property } => {
            format!(
                "Contact date property: {}",
                lookups.property_label(property)
            )
        }
    }
}

fn canvas(c: &CanvasCtx) -> Vec<CanvasItem> {
    let mut items = Vec::new();
    let (builtin, lines) = trigger_lines(c.def, c.lookups);
    let mut trigger = CanvasItem::blank("card");
    trigger.card_kind = "trigger";
    trigger.card = "trigger".into();
    trigger.href = format!("/workflows/{}?panel=trigger#panel", c.id);
    trigger.icon = "⚑";
    trigger.eyebrow = "Enrollment trigger".into();
    trigger.title = if c.def.is_manual_only() && !c.def.triggers.manual_only {
        "Configure triggers".into()
    } else {
        "Contact enrollment triggers".into()
    };
    trigger.lines = lines;
    trigger.builtin = builtin;
    trigger.selected = c.selected == "trigger";
    trigger.issues = c.issues("trigger");
    items.push(trigger);
    if c.def.start.is_date_centred() {
        items.push(CanvasItem::blank("line"));
        let mut date = CanvasItem::blank("card");
        date.card_kind = "date";
        date.card = "start".into();
        date.href = format!("/workflows/{}?panel=start#panel", c.id);
        date.icon = "▦";
        date.eyebrow = "Date".into();
        date.title = start_title(&c.def.start, c.lookups);
        date.lines = vec![if c.def.recur_annually {
            "Repeats every year on the same day and month".to_string()
        } else {
            "Runs once".to_string()
        }];
        date.selected = c.selected == "start";
        date.issues = c.issues("start");
        date.recur = Some(c.def.recur_annually);
        items.push(date);
        items.push(CanvasItem::blank("line"));
    }
    c.steps(&mut items, &c.def.steps, &ListRef::top());
    items.push(CanvasItem::blank("end"));
    items
}

// ---------------------------------------------------------------------------------------------
// Panels.

pub struct TriggerPanel {
    pub v: FormValues,
    pub errors: Errors,
    pub general: Vec<String>,
    pub properties: Vec<Choice>,
    pub builtin_label: String,
    /// Event triggers (kept as they are when this panel saves).
    pub event_triggers: usize,
    /// "When an event occurs" rows, plus a blank one.
    pub events: Vec<super::forms_events::EventRow>,
    /// Built-in event names and custom ones seen before (a datalist).
    pub event_names: Vec<String>,
    pub operators: Vec<&'static str>,
}

pub struct StartPanel {
    pub v: FormValues,
    pub errors: Errors,
    pub general: Vec<String>,
    pub specific: bool,
    pub date_properties: Vec<Choice>,
}

pub struct NamePanel {
    pub v: FormValues,
    pub errors: Errors,
}

pub struct Preview {
    pub contact: String,
    pub subject: String,
    pub body: String,
}

pub struct StepPanel {
    pub v: FormValues,
    pub errors: Errors,
    pub general: Vec<String>,
    pub step_type: &'static str,
    pub type_label: &'static str,
    pub title: String,
    /// "Step 3 · Send email", for the panel's eyebrow when editing.
    pub place: String,
    pub help: &'static str,
    /// Where the form posts.
    pub action: String,
    /// Adding: the hidden `after` and `arm`.
    pub adding: bool,
    pub after: isize,
    pub arm: String,
    /// Editing: the step's path (for delete and move) and what may be done with it.
    pub path: String,
    pub can_delete: bool,
    pub can_move_up: bool,
    pub can_move_down: bool,
    pub first_date_delay: bool,
    pub anchor: String,
    pub properties: Vec<Choice>,
    pub number_properties: Vec<Choice>,
    pub lists: Vec<Choice>,
    pub workflows: Vec<Choice>,
    pub weekdays: Vec<Choice>,
    pub value_hint: &'static str,
    pub preview: Option<Preview>,
    pub tokens: Vec<Choice>,
    pub yes_count: usize,
    pub no_count: usize,
}

impl StepPanel {
    pub fn date_units(&self) -> Vec<Choice> {
        vec![Choice::new("days", "Days"), Choice::new("weeks", "Weeks")]
    }

    pub fn time_units(&self) -> Vec<Choice> {
        ["minutes", "hours", "days", "weeks"]
            .into_iter()
            .map(|u| {
                let mut label = u.to_string();
                label[..1].make_ascii_uppercase();
                Choice::new(u, label)
            })
            .collect()
    }

    pub fn body_hint(&self) -> &'static str {
        "Personalise with tokens such as {{ contact.firstname }}; a property without a value \
         renders as nothing."
    }

    pub fn message_hint(&self) -> &'static str {
        "Shown in the in-app inbox. Tokens such as {{ contact.email }} work here too."
    }
}

pub struct PickGroup {
    pub name: &'static str,
    pub types: Vec<PickType>,
}

pub struct PickType {
    pub label: &'static str,
    pub help: &'static str,
    pub href: String,
}

pub struct PickPanel {
    pub groups: Vec<PickGroup>,
    pub place: String,
}

/// Which panel is open and with what input.
enum PanelState {
    None,
    Trigger {
        rows: Vec<GroupRows>,
        v: FormValues,
        errors: Vec<FieldError>,
        general: Vec<String>,
        extra_group: bool,
    },
    Start {
        v: FormValues,
        errors: Vec<FieldError>,
        general: Vec<String>,
    },
    Name {
        v: FormValues,
        errors: Vec<FieldError>,
    },
    Step {
        target: Target,
        type_name: &'static str,
        v: FormValues,
        errors: Vec<FieldError>,
        general: Vec<String>,
    },
    Pick {
        list: ListRef,
        after: isize,
    },
}

#[derive(Clone)]
enum Target {
    Edit(StepPath),
    Add { list: ListRef, after: isize },
}

#[derive(Template)]
#[template(path = "workflows/editor.html")]
struct EditorPage {
    ctx: Ctx,
    header: WorkflowHeader,
    id: i64,
    canvas: Vec<CanvasItem>,
    problems: Vec<ProblemLink>,
    /// Errors outside the open panel that blocked this save.
    elsewhere: Vec<ProblemLink>,
    invalid: bool,
    panel_open: bool,
    trigger: Option<TriggerPanel>,
    start: Option<StartPanel>,
    name_panel: Option<NamePanel>,
    step: Option<StepPanel>,
    pick: Option<PickPanel>,
    filters: Option<FilterEditor>,
}

fn weekday_choices() -> Vec<Choice> {
    Weekday::ALL
        .into_iter()
        .map(|d| Choice::new(d.as_str(), d.label()))
        .collect()
}

fn token_choices(lookups: &Lookups) -> Vec<Choice> {
    lookups
        .catalog
        .properties
        .iter()
        .map(|p| Choice::new(format!("{{{{ contact.{} }}}}", p.name), p.label.clone()))
        .collect()
}

fn preview(v: &FormValues, sample: Option<&Sample>) -> Option<Preview> {
    let sample = sample?;
    let look = |name: &str| sample.values.get(name).cloned();
    Some(Preview {
        contact: sample.name.clone(),
        subject: crate::domain::tokens::render(v.get("subject"), &look),
        body: crate::domain::tokens::render(v.get("body"), &look),
    })
}

fn builtin_trigger(def: &Definition, lookups: &Lookups) -> Option<String> {
    match &def.start {
        Start::ContactDateProperty { property } => {
            Some(format!("{} is known", lookups.property_label(property)))
        }
        _ => None,
    }
}

fn trigger_form(def: &Definition) -> FormValues {
    let mut v = FormValues::default();
    super::forms_events::to_form(&def.triggers.events, def.reenroll.on_events, &mut v);
    if def.triggers.manual_only {
        v.set("manual_only", "1");
    }
    if def.reenroll.enabled {
        v.set("reenroll_enabled", "1");
    }
    for p in &def.reenroll.on_properties {
        v.push("reenroll_properties", p.clone());
    }
    v
}

fn start_form(def: &Definition) -> FormValues {
    let mut v = FormValues::default();
    match &def.start {
        Start::SpecificDate { date } => v.set("date", date.clone()),
        Start::ContactDateProperty { property } => v.set("property", property.clone()),
        Start::Blank => {}
    }
    if def.recur_annually {
        v.set("recur_annually", "1");
    }
    v
}

/// The panel the query string asks for, filled from the stored definition.
fn panel_from_query(def: &Definition, q: &EditorQuery) -> PanelState {
    let panel = q.panel.as_deref().unwrap_or("");
    match panel {
        "trigger" => PanelState::Trigger {
            rows: forms_filters::rows_from_groups(&def.triggers.filter_groups),
            v: trigger_form(def),
            errors: vec![],
            general: vec![],
            extra_group: false,
        },
        "start" if def.start.is_date_centred() => PanelState::Start {
            v: start_form(def),
            errors: vec![],
            general: vec![],
        },
        "name" => {
            let mut v = FormValues::default();
            v.set("name", def.name.clone());
            PanelState::Name { v, errors: vec![] }
        }
        "add" => {
            let Some(list) = ListRef::parse(q.arm.as_deref().unwrap_or("")) else {
                return PanelState::None;
            };
            if list.get(&def.steps).is_none() {
                return PanelState::None;
            }
            let after = q.after.unwrap_or(-1);
            match q.r#type.as_deref().and_then(step_type) {
                Some(t) if t.available(def.start.is_date_centred()) => PanelState::Step {
                    target: Target::Add { list, after },
                    type_name: t.name,
                    v: forms_steps::defaults(t.name),
                    errors: vec![],
                    general: vec![],
                },
                _ => PanelState::Pick { list, after },
            }
        }
        p => match p.strip_prefix("step-").and_then(StepPath::parse) {
            Some(path) => match path.get(&def.steps) {
                Some(step) => {
                    let mut v = forms_steps::to_form(step);
                    if let Step::Branch { condition, .. } = step {
                        push_filter_rows(&mut v, &forms_filters::rows_from_groups(condition));
                    }
                    PanelState::Step {
                        target: Target::Edit(path),
                        type_name: type_static(step.type_name()),
                        v,
                        errors: vec![],
                        general: vec![],
                    }
                }
                None => PanelState::None,
            },
            None => PanelState::None,
        },
    }
}

/// Branch conditions travel in the step's form values as filter rows.
fn push_filter_rows(v: &mut FormValues, rows: &[GroupRows]) {
    for g in rows {
        for r in &g.rows {
            v.push(&format!("{}_property", r.key), r.property.clone());
            v.push(&format!("{}_operator", r.key), r.operator.clone());
            v.push(&format!("{}_value", r.key), r.value.clone());
        }
    }
}

fn type_static(name: &str) -> &'static str {
    step_type(name).map(|t| t.name).unwrap_or("unknown")
}

fn pick_panel(id: i64, def: &Definition, list: &ListRef, after: isize) -> PickPanel {
    let date_centred = def.start.is_date_centred();
    let mut groups: Vec<PickGroup> = Vec::new();
    let arm = list.slug();
    for t in STEP_TYPES.iter().filter(|t| t.available(date_centred)) {
        let mut href = format!("/workflows/{id}?panel=add&after={after}&type={}", t.name);
        if !arm.is_empty() {
            href.push_str(&format!("&arm={arm}"));
        }
        href.push_str("#panel");
        let pt = PickType {
            label: t.label,
            help: t.help,
            href,
        };
        match groups.iter_mut().find(|g| g.name == t.group) {
            Some(g) => g.types.push(pt),
            None => groups.push(PickGroup {
                name: t.group,
                types: vec![pt],
            }),
        }
    }
    let place = if after < 0 {
        match &list.branch {
            None => "At the start of the workflow".to_string(),
            Some(_) => format!("At the start of {}", arm_words(list)),
        }
    } else {
        format!(
            "After {}",
            card_place(&list.at(after as usize).card()).to_lowercase()
        )
    };
    PickPanel { groups, place }
}

fn step_panel(
    loaded: &Loaded,
    target: &Target,
    t: &'static StepType,
    v: FormValues,
    errors: Vec<FieldError>,
    general: Vec<String>,
) -> StepPanel {
    let id = loaded.wf.id;
    let def = &loaded.def;
    let lookups = &loaded.lookups;
    let date_centred = def.start.is_date_centred();
    let (adding, after, arm, path, action) = match target {
        Target::Add { list, after } => (
            true,
            *after,
            list.slug(),
            String::new(),
            format!("/workflows/{id}/steps"),
        ),
        Target::Edit(p) => (
            false,
            0,
            String::new(),
            p.slug(),
            format!("/workflows/{id}/steps/{}", p.slug()),
        ),
    };
    let (first_date_delay, can_move_up, can_move_down, yes_count, no_count) = match target {
        Target::Edit(p) => {
            let len = p.list().get(&def.steps).map(|l| l.len()).unwrap_or(0);
            let i = p.index();
            let first = date_centred && p.is_top() && i == 0 && t.name == "date_delay";
            // The first step of a date-centred workflow stays the date delay.
            let fixed_top = date_centred && p.is_top();
            let up = i > 0 && !(fixed_top && i == 1);
            let down = i + 1 < len && !(fixed_top && i == 0);
            let (y, n) = match p.get(&def.steps) {
                Some(Step::Branch { yes, no, .. }) => (yes.len(), no.len()),
                _ => (0, 0),
            };
            (first, up, down, y, n)
        }
        Target::Add { .. } => (false, false, false, 0, 0),
    };
    let title = if first_date_delay {
        "Execute next action on…".to_string()
    } else {
        t.label.to_string()
    };
    let place = match target {
        Target::Edit(p) if first_date_delay => format!("{} · {}", card_place(&p.card()), t.label),
        Target::Edit(p) => card_place(&p.card()),
        Target::Add { .. } => String::new(),
    };
    let value_hint = forms_steps::field_type_hint(
        lookups
            .catalog
            .property(v.trimmed("property"))
            .map(|p| p.field_type),
    );
    let preview = if t.name == "send_email" {
        preview(&v, loaded.sample.as_ref())
    } else {
        None
    };
    StepPanel {
        errors: Errors(errors),
        general,
        step_type: t.name,
        type_label: t.label,
        title,
        place,
        help: t.help,
        action,
        adding,
        after,
        arm,
        path,
        can_delete: !adding && !first_date_delay,
        can_move_up,
        can_move_down,
        first_date_delay,
        anchor: forms_steps::anchor_words(&def.start, lookups),
        properties: lookups.property_choices(),
        number_properties: lookups.property_choices_of(FieldType::Number),
        lists: lookups.list_choices(),
        workflows: lookups.workflow_choices(id),
        weekdays: weekday_choices(),
        value_hint,
        preview,
        tokens: token_choices(lookups),
        yes_count,
        no_count,
        v,
    }
}

fn selected_of(state: &PanelState) -> String {
    match state {
        PanelState::None | PanelState::Name { .. } => String::new(),
        PanelState::Trigger { .. } => "trigger".into(),
        PanelState::Start { .. } => "start".into(),
        PanelState::Step {
            target: Target::Edit(p),
            ..
        } => p.card(),
        PanelState::Step {
            target: Target::Add { list, after },
            ..
        }
        | PanelState::Pick { list, after } => format!("add:{}:{after}", list.slug()),
    }
}

fn page(
    user: &SignedIn,
    loaded: Loaded,
    state: PanelState,
    elsewhere: Vec<FieldError>,
) -> EditorPage {
    let id = loaded.wf.id;
    let selected = selected_of(&state);
    let canvas = canvas(&CanvasCtx {
        id,
        def: &loaded.def,
        lookups: &loaded.lookups,
        problems: &loaded.problems,
        selected,
    });
    let problems = loaded
        .problems
        .iter()
        .map(|p| problem_link(id, &p.field, &p.message, Some(&p.card)))
        .collect();
    let elsewhere: Vec<ProblemLink> = elsewhere
        .iter()
        .map(|e| problem_link(id, &e.field, &e.message, None))
        .collect();
    let mut p = EditorPage {
        ctx: user.ctx("workflows"),
        header: WorkflowHeader {
            id: loaded.header.id,
            name: loaded.header.name.clone(),
            start_label: loaded.header.start_label,
            is_on: loaded.header.is_on,
            revision: loaded.header.revision,
            enrolled: loaded.header.enrolled.clone(),
            progress: loaded.header.progress.clone(),
            progress_percent: loaded.header.progress_percent,
            draft: loaded.header.draft,
            tab: loaded.header.tab,
        },
        id,
        canvas,
        problems,
        invalid: false,
        elsewhere,
        panel_open: true,
        trigger: None,
        start: None,
        name_panel: None,
        step: None,
        pick: None,
        filters: None,
    };
    let lookups = &loaded.lookups;
    match state {
        PanelState::None => p.panel_open = false,
        PanelState::Trigger {
            rows,
            v,
            errors,
            general,
            extra_group,
        } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            let errors = Errors(errors);
            let builtin = builtin_trigger(&loaded.def, lookups);
            p.filters = Some(forms_filters::editor(
                &rows,
                lookups,
                &errors,
                extra_group,
                builtin.clone(),
            ));
            p.trigger = Some(TriggerPanel {
                events: super::forms_events::rows(&v),
                event_names: loaded.event_names.clone(),
                operators: crate::domain::definition::Operator::ALL
                    .iter()
                    .filter(|o| **o != crate::domain::definition::Operator::InList)
                    .map(|o| o.as_str())
                    .collect(),
                v,
                errors,
                general,
                properties: lookups.property_choices(),
                builtin_label: builtin.unwrap_or_default(),
                event_triggers: other_triggers(&loaded.def),
            });
        }
        PanelState::Start { v, errors, general } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            p.start = Some(StartPanel {
                v,
                errors: Errors(errors),
                general,
                specific: matches!(loaded.def.start, Start::SpecificDate { .. }),
                date_properties: lookups
                    .catalog
                    .date_properties()
                    .map(|d| Choice::new(d.name.clone(), d.label.clone()))
                    .collect(),
            });
        }
        PanelState::Name { v, errors } => {
            p.invalid = !errors.is_empty();
            p.name_panel = Some(NamePanel {
                v,
                errors: Errors(errors),
            });
        }
        PanelState::Step {
            target,
            type_name,
            v,
            errors,
            general,
        } => {
            p.invalid = !errors.is_empty() || !general.is_empty();
            let Some(t) = step_type(type_name) else {
                p.panel_open = false;
                return p;
            };
            let errs = Errors(errors.clone());
            if type_name == "branch" {
                let rows = forms_filters::rows_from_form(&v);
                let extra = v.is("action", "add_group");
                p.filters = Some(forms_filters::editor(&rows, lookups, &errs, extra, None));
            }
            p.step = Some(step_panel(&loaded, &target, t, v, errors, general));
        }
        PanelState::Pick { list, after } => {
            p.pick = Some(pick_panel(id, &loaded.def, &list, after));
        }
    }
    p
}

fn respond(p: &EditorPage, status: StatusCode) -> WebResult {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(p.render()?))
}

// ---------------------------------------------------------------------------------------------
// Handlers.

#[derive(Deserialize)]
struct EditorQuery {
    panel: Option<String>,
    after: Option<isize>,
    arm: Option<String>,
    r#type: Option<String>,
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<EditorQuery>,
) -> WebResult {
    let id = path.into_inner();
    let loaded = crate::db::run(&state.pool, move |conn| load(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    let panel = panel_from_query(&loaded.def, &query);
    respond(&page(&user, loaded, panel, vec![]), StatusCode::OK)
}

/// What a form post ends in: back to the canvas, or the page again with the panel as typed.
enum Outcome {
    Saved {
        to: String,
        message: String,
    },
    Refused {
        to: String,
        message: String,
    },
    Page {
        loaded: Box<Loaded>,
        state: PanelState,
        elsewhere: Vec<FieldError>,
        status: StatusCode,
    },
    NotFound,
}

fn finish(user: &SignedIn, outcome: Outcome) -> WebResult {
    match outcome {
        Outcome::Saved { to, message } => {
            user.set_flash("success", message);
            Ok(see_other(&to))
        }
        Outcome::Refused { to, message } => {
            user.set_flash("error", message);
            Ok(see_other(&to))
        }
        Outcome::Page {
            loaded,
            state,
            elsewhere,
            status,
        } => respond(&page(user, *loaded, state, elsewhere), status),
        Outcome::NotFound => Err(WebError::NotFound),
    }
}

fn saved(saved: &Saved, what: &str, anchor: &str) -> Outcome {
    Outcome::Saved {
        to: format!("/workflows/{}{anchor}", saved.workflow().id),
        message: saved_message(saved, what),
    }
}

/// "Renamed. Saved as revision 4." — or, for a live workflow, where the change waits.
pub fn saved_message(saved: &Saved, what: &str) -> String {
    match saved {
        Saved::Revision(wf) => format!("{what} Saved as revision {}.", wf.revision),
        Saved::Draft(_) => format!(
            "{what} Saved as an unpublished change: enrolled contacts still follow the live version until you choose Review and update."
        ),
    }
}

fn form_values(form: Vec<(String, String)>) -> FormValues {
    FormValues(
        form.into_iter()
            .filter(|(k, _)| k != "csrf_token")
            .collect(),
    )
}

/// The page again, 422, with the panel as typed.
fn invalid(loaded: Loaded, state: PanelState, elsewhere: Vec<FieldError>) -> Outcome {
    Outcome::Page {
        loaded: Box::new(loaded),
        state,
        elsewhere,
        status: StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn save_trigger(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let rows = forms_filters::rows_from_form(&v);
        if v.is("action", "add_group") {
            return Ok(Outcome::Page {
                loaded: Box::new(loaded),
                state: PanelState::Trigger {
                    rows,
                    v,
                    errors: vec![],
                    general: vec![],
                    extra_group: true,
                },
                elsewhere: vec![],
                status: StatusCode::OK,
            });
        }
        let conv =
            forms_filters::to_filters(&rows, &loaded.lookups, &loaded.def.triggers.filter_groups);
        if !conv.errors.is_empty() {
            let errors = conv.errors.clone();
            let state = PanelState::Trigger {
                rows,
                v,
                errors,
                general: vec![],
                extra_group: false,
            };
            return Ok(invalid(loaded, state, vec![]));
        }
        let mut def = loaded.def.clone();
        def.triggers.filter_groups = conv.groups.clone();
        let (events, event_origin) = super::forms_events::from_form(&v);
        def.triggers.events = events;
        def.triggers.manual_only = v.checked("manual_only");
        def.reenroll.on_events = v.checked("reenroll_on_events");
        // Only what this panel shows changes; anything else in the triggers is kept.
        def.reenroll.enabled = v.checked("reenroll_enabled");
        def.reenroll.on_properties = v
            .all("reenroll_properties")
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Enrollment triggers updated.", "#card-trigger")),
            Err(errors) => {
                let mut m = MappedErrors::default();
                for e in errors {
                    if let Some(input) = super::forms_events::input_for(&e.field, &event_origin) {
                        m.local.push(FieldError::new(input, e.message));
                    } else if let Some(rest) = e.field.strip_prefix("triggers.filter_groups") {
                        match conv.input_for(rest) {
                            Some(input) => m.local.push(FieldError::new(input, e.message)),
                            None => m.general.push(e.message),
                        }
                    } else if strip_path(&e.field, "reenroll.on_properties").is_some()
                        || e.field.starts_with("reenroll.on_properties[")
                    {
                        m.local
                            .push(FieldError::new("reenroll_properties", e.message));
                    } else if e.field.starts_with("reenroll") {
                        m.general.push(e.message);
                    } else {
                        m.elsewhere.push(e);
                    }
                }
                let state = PanelState::Trigger {
                    rows,
                    v,
                    errors: m.local,
                    general: m.general,
                    extra_group: false,
                };
                Ok(invalid(loaded, state, m.elsewhere))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

async fn save_start(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        let mut errors = Vec::new();
        match &mut def.start {
            Start::Blank => {
                return Ok(Outcome::Refused {
                    to: format!("/workflows/{id}"),
                    message: "A blank workflow has no date to change.".into(),
                })
            }
            Start::SpecificDate { date } => {
                *date = v.trimmed("date").to_string();
                if date.is_empty() {
                    errors.push(FieldError::new("date", "Choose the date of the event."));
                }
            }
            Start::ContactDateProperty { property } => {
                *property = v.trimmed("property").to_string();
                if property.is_empty() {
                    errors.push(FieldError::new(
                        "property",
                        "Choose a contact date property.",
                    ));
                }
            }
        }
        def.recur_annually = v.checked("recur_annually");
        if !errors.is_empty() {
            let state = PanelState::Start {
                v,
                errors,
                general: vec![],
            };
            return Ok(invalid(loaded, state, vec![]));
        }
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Date updated.", "#card-start")),
            Err(errors) => {
                let mut m = MappedErrors::default();
                for e in errors {
                    match e.field.as_str() {
                        "start.date" => m.local.push(FieldError::new("date", e.message)),
                        "start.property" => m.local.push(FieldError::new("property", e.message)),
                        "recur_annually" => {
                            m.local.push(FieldError::new("recur_annually", e.message))
                        }
                        _ => m.elsewhere.push(e),
                    }
                }
                let state = PanelState::Start {
                    v,
                    errors: m.local,
                    general: m.general,
                };
                Ok(invalid(loaded, state, m.elsewhere))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

/// The Repeat annually checkbox on the date card.
async fn save_recur(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        def.recur_annually = v.checked("recur_annually");
        if def.recur_annually == loaded.def.recur_annually {
            return Ok(Outcome::Saved {
                to: format!("/workflows/{id}#card-start"),
                message: "Nothing changed.".into(),
            });
        }
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(
                &wf,
                if def.recur_annually {
                    "Repeat annually is on."
                } else {
                    "Repeat annually is off."
                },
                "#card-start",
            )),
            Err(errors) => Ok(Outcome::Refused {
                to: format!("/workflows/{id}#card-start"),
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}

async fn save_name(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = loaded.def.clone();
        def.name = v.trimmed("name").to_string();
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, "Renamed.", "")),
            Err(errors) => {
                let (local, elsewhere): (Vec<FieldError>, Vec<FieldError>) =
                    errors.into_iter().partition(|e| e.field == "name");
                Ok(invalid(
                    loaded,
                    PanelState::Name { v, errors: local },
                    elsewhere,
                ))
            }
        }
    })
    .await?;
    finish(&user, outcome)
}

/// A flash message for a refused delete, move or checkbox change.
fn refusal(errors: &[FieldError]) -> String {
    match errors.first() {
        Some(e) => format!(
            "Nothing was changed: {} ({})",
            e.message,
            card_place(&super::forms_common::card_of(&e.field))
        ),
        None => "Nothing was changed.".into(),
    }
}

/// Saves one step (added or edited) from its panel.
fn save_step(
    conn: &mut SqliteConnection,
    id: i64,
    author: &str,
    target: Target,
    type_name: &str,
    v: FormValues,
) -> anyhow::Result<Outcome> {
    let Some(loaded) = load(conn, id)? else {
        return Ok(Outcome::NotFound);
    };
    let existing = match &target {
        Target::Edit(p) => match p.get(&loaded.def.steps) {
            Some(s) => Some(s.clone()),
            None => return Ok(Outcome::NotFound),
        },
        Target::Add { list, .. } => {
            if list.get(&loaded.def.steps).is_none() {
                return Ok(Outcome::NotFound);
            }
            None
        }
    };
    let type_name = match &existing {
        Some(s) => type_static(s.type_name()),
        None => match step_type(type_name) {
            Some(t) => t.name,
            None => {
                return Ok(Outcome::Refused {
                    to: format!("/workflows/{id}"),
                    message: format!("There is no step type \"{type_name}\"."),
                })
            }
        },
    };
    let re_render =
        |loaded: Loaded, v: FormValues, errors, general, elsewhere, status| Outcome::Page {
            loaded: Box::new(loaded),
            state: PanelState::Step {
                target: target.clone(),
                type_name,
                v,
                errors,
                general,
            },
            elsewhere,
            status,
        };
    if v.is("action", "preview") || v.is("action", "add_group") {
        return Ok(re_render(loaded, v, vec![], vec![], vec![], StatusCode::OK));
    }
    let parsed = forms_steps::from_form(type_name, &v, &loaded.lookups, existing.as_ref());
    let Some(step) = parsed.step else {
        return Ok(re_render(
            loaded,
            v,
            parsed.errors,
            vec![],
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let mut def = loaded.def.clone();
    let path = match &target {
        Target::Edit(p) => {
            let Some(list) = p.list().get_mut(&mut def.steps) else {
                return Ok(Outcome::NotFound);
            };
            match list.get_mut(p.index()) {
                Some(slot) => *slot = step,
                None => return Ok(Outcome::NotFound),
            }
            p.clone()
        }
        Target::Add { list, after } => {
            let Some(steps) = list.get_mut(&mut def.steps) else {
                return Ok(Outcome::NotFound);
            };
            let at = usize::try_from(after.saturating_add(1))
                .unwrap_or(0)
                .min(steps.len());
            steps.insert(at, step);
            list.at(at)
        }
    };
    let label = step_type(type_name).map(|t| t.label).unwrap_or("Step");
    match try_save(conn, id, &def, author)? {
        Ok(wf) => {
            let what = match &target {
                Target::Edit(_) => format!("Updated “{label}”."),
                Target::Add { .. } => format!("Added “{label}”."),
            };
            Ok(saved(&wf, &what, &format!("#card-{}", path.card())))
        }
        Err(errors) => {
            let m = forms_steps::map_errors(&errors, &path.def_path(), parsed.condition.as_ref());
            Ok(re_render(
                loaded,
                v,
                m.local,
                m.general,
                m.elsewhere,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

async fn add_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path.into_inner();
    let author = user.email.clone();
    let v = form_values(form);
    let list = ListRef::parse(v.get("arm"))
        .ok_or_else(|| WebError::BadRequest("unknown place to add the step".into()))?;
    let after = match v.trimmed("after") {
        "" => isize::MAX - 1,
        a => a
            .parse::<isize>()
            .map_err(|_| WebError::BadRequest("unknown place to add the step".into()))?,
    };
    let type_name = v.trimmed("type").to_string();
    let outcome = crate::db::run(&state.pool, move |conn| {
        save_step(
            conn,
            id,
            &author,
            Target::Add { list, after },
            &type_name,
            v,
        )
    })
    .await?;
    finish(&user, outcome)
}

async fn edit_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let author = user.email.clone();
    let v = form_values(form);
    let type_name = v.trimmed("type").to_string();
    let outcome = crate::db::run(&state.pool, move |conn| {
        save_step(conn, id, &author, Target::Edit(step_path), &type_name, v)
    })
    .await?;
    finish(&user, outcome)
}

async fn delete_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let author = user.email.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = wf.parsed()?;
        let Some(step) = step_path.get(&def.steps) else {
            return Ok(Outcome::NotFound);
        };
        let label = step_type(step.type_name())
            .map(|t| t.label)
            .unwrap_or("Step");
        if def.start.is_date_centred() && step_path == StepPath::top(0) {
            return Ok(Outcome::Refused {
                to: format!("/workflows/{id}?panel=step-0#panel"),
                message: "The delay “Execute next action on…” cannot be deleted: it schedules \
                          the first action from the date. Change when it runs instead."
                    .into(),
            });
        }
        let Some(list) = step_path.list().get_mut(&mut def.steps) else {
            return Ok(Outcome::NotFound);
        };
        list.remove(step_path.index());
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(&wf, &format!("Deleted “{label}”."), "#canvas")),
            Err(errors) => Ok(Outcome::Refused {
                to: format!("/workflows/{id}?panel={}#panel", step_path.card()),
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}

#[derive(Deserialize)]
struct MoveForm {
    dir: String,
}

async fn move_step(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> WebResult {
    let (id, slug) = path.into_inner();
    let step_path = StepPath::parse(&slug).ok_or(WebError::NotFound)?;
    let up = match form.dir.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(WebError::BadRequest("dir is up or down".into())),
    };
    let author = user.email.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(wf) = Workflow::find(conn, WorkflowId(id))? else {
            return Ok(Outcome::NotFound);
        };
        let mut def = wf.parsed()?;
        let date_centred = def.start.is_date_centred();
        let i = step_path.index();
        let Some(list) = step_path.list().get_mut(&mut def.steps) else {
            return Ok(Outcome::NotFound);
        };
        if i >= list.len() {
            return Ok(Outcome::NotFound);
        }
        let back = format!("/workflows/{id}?panel={}#panel", step_path.card());
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        let Some(j) = j.filter(|j| *j < list.len()) else {
            return Ok(Outcome::Refused {
                to: back,
                message: format!(
                    "This step is already the {} one.",
                    if up { "first" } else { "last" }
                ),
            });
        };
        if date_centred && step_path.is_top() && (i == 0 || j == 0) {
            return Ok(Outcome::Refused {
                to: back,
                message: "The first step stays the delay “Execute next action on…”: it \
                          schedules the first action from the date."
                    .into(),
            });
        }
        list.swap(i, j);
        let moved = step_path.sibling(j);
        match try_save(conn, id, &def, &author)? {
            Ok(wf) => Ok(saved(
                &wf,
                &format!("Moved {}.", if up { "up" } else { "down" }),
                &format!("#card-{}", moved.card()),
            )),
            Err(errors) => Ok(Outcome::Refused {
                to: back,
                message: refusal(&errors),
            }),
        }
    })
    .await?;
    finish(&user, outcome)
}
