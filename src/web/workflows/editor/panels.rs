//! The panel of the open card: what each panel shows, which panel the query string opens
//! (filled from the stored definition), and building the trigger, date, name, pick-a-step and
//! step panels.

use super::canvas::arm_words;
use super::show::{EditorQuery, Loaded, Sample};
use crate::domain::definition::{Definition, Start, Step, Weekday};
use crate::domain::errors::{Errors, FieldError};
use crate::domain::values::FieldType;
use crate::web::workflows::forms_common::{
    card_place, Choice, FormValues, ListRef, Lookups, StepPath,
};
use crate::web::workflows::forms_events;
use crate::web::workflows::forms_filters::{self, GroupRows};
use crate::web::workflows::forms_steps::{self, step_type, StepType, STEP_TYPES};

pub struct TriggerPanel {
    pub v: FormValues,
    pub errors: Errors,
    pub general: Vec<String>,
    pub properties: Vec<Choice>,
    pub builtin_label: String,
    /// Event triggers (kept as they are when this panel saves).
    pub event_triggers: usize,
    /// "When an event occurs" rows, plus a blank one.
    pub events: Vec<forms_events::EventRow>,
    /// Built-in event names and custom ones seen before (a datalist).
    pub event_names: Vec<String>,
    /// Operators of refinement filters: the internal value and its words.
    pub operators: Vec<Choice>,
}

pub struct StartPanel {
    pub v: FormValues,
    pub errors: Errors,
    pub general: Vec<String>,
    pub specific: bool,
    pub date_properties: Vec<Choice>,
}

/// The goal panel: its filter rows are drawn by the filter editor.
pub struct GoalPanel {
    pub errors: Errors,
    pub general: Vec<String>,
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
    /// Set property value on a dropdown or checkbox: its values by label (a select).
    pub value_options: Vec<Choice>,
    pub preview: Option<Preview>,
    pub tokens: Vec<Choice>,
    /// Steps on the Yes and No paths of a branch (the Met and Timed out paths of a wait).
    pub yes_count: usize,
    pub no_count: usize,
    /// A random split's path rows, then one blank row to add a path.
    pub split_rows: Vec<SplitRow>,
    /// Built-in event names and custom ones seen before (a wait's event datalist).
    pub event_names: Vec<String>,
}

/// One path row of a random split's panel.
pub struct SplitRow {
    pub k: usize,
    pub name: String,
    pub percent: String,
    pub remove: bool,
    /// Steps on this path now (0 for a new row).
    pub steps: usize,
    pub blank: bool,
    pub err_name: Option<String>,
    pub err_percent: Option<String>,
}

/// The path rows of a split as typed (`path{k}_…`), then a blank row.
fn split_rows(v: &FormValues, errors: &Errors, step: Option<&Step>) -> Vec<SplitRow> {
    let mut keys: Vec<usize> =
        v.0.iter()
            .filter_map(|(k, _)| k.strip_prefix("path")?.split_once('_')?.0.parse().ok())
            .collect();
    keys.sort_unstable();
    keys.dedup();
    let counts: Vec<usize> = match step {
        Some(Step::RandomSplit { paths, .. }) => paths.iter().map(|p| p.steps.len()).collect(),
        _ => Vec::new(),
    };
    let next = keys.last().map(|k| k + 1).unwrap_or(0);
    let mut rows: Vec<SplitRow> = keys
        .into_iter()
        .map(|k| SplitRow {
            k,
            name: v.get(&format!("path{k}_name")).to_string(),
            percent: v.get(&format!("path{k}_percent")).to_string(),
            remove: v.checked(&format!("path{k}_remove")),
            steps: counts.get(k).copied().unwrap_or(0),
            blank: false,
            err_name: errors.get(&format!("path{k}_name")).map(str::to_string),
            err_percent: errors.get(&format!("path{k}_percent")).map(str::to_string),
        })
        .collect();
    rows.push(SplitRow {
        k: next,
        name: String::new(),
        percent: String::new(),
        remove: false,
        steps: 0,
        blank: true,
        err_name: None,
        err_percent: None,
    });
    rows
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
        "Personalise with “Insert token” (e.g. {{ contact.firstname }}); a property without a \
         value renders as nothing."
    }

    pub fn message_hint(&self) -> &'static str {
        "Shown in the in-app inbox. Personalise it with “Insert token”."
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
pub(super) enum PanelState {
    None,
    Trigger {
        rows: Vec<GroupRows>,
        v: FormValues,
        errors: Vec<FieldError>,
        general: Vec<String>,
        extra_group: bool,
    },
    Goal {
        rows: Vec<GroupRows>,
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
pub(super) enum Target {
    Edit(StepPath),
    Add { list: ListRef, after: isize },
}

fn weekday_choices() -> Vec<Choice> {
    Weekday::ALL
        .into_iter()
        .map(|d| Choice::new(d.as_str(), d.label()))
        .collect()
}

/// The contact properties as tokens, by label (A–Z).
fn token_choices(lookups: &Lookups) -> Vec<Choice> {
    let mut out: Vec<Choice> = lookups
        .catalog
        .properties
        .iter()
        .map(|p| Choice::new(format!("{{{{ contact.{} }}}}", p.name), p.label.clone()))
        .collect();
    out.sort_by_key(|c| c.label.to_lowercase());
    out
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

pub(super) fn builtin_trigger(def: &Definition, lookups: &Lookups) -> Option<String> {
    match &def.start {
        Start::ContactDateProperty { property } => {
            Some(format!("{} is known", lookups.property_label(property)))
        }
        _ => None,
    }
}

fn trigger_form(def: &Definition) -> FormValues {
    let mut v = FormValues::default();
    forms_events::to_form(&def.triggers.events, def.reenroll.on_events, &mut v);
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
pub(super) fn panel_from_query(def: &Definition, q: &EditorQuery) -> PanelState {
    let panel = q.panel.as_deref().unwrap_or("");
    match panel {
        "trigger" => PanelState::Trigger {
            rows: forms_filters::rows_from_groups(&def.triggers.filter_groups),
            v: trigger_form(def),
            errors: vec![],
            general: vec![],
            extra_group: false,
        },
        "goal" => PanelState::Goal {
            rows: forms_filters::rows_from_groups(
                def.goal
                    .as_ref()
                    .map(|g| g.filter_groups.as_slice())
                    .unwrap_or(&[]),
            ),
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
                    if let Step::Branch { condition, .. } | Step::WaitUntil { condition, .. } = step
                    {
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
            if r.ignore_year {
                v.push(&format!("{}_ignore_year", r.key), "1");
            }
        }
    }
}

pub(super) fn type_static(name: &str) -> &'static str {
    step_type(name).map(|t| t.name).unwrap_or("unknown")
}

pub(super) fn pick_panel(id: i64, def: &Definition, list: &ListRef, after: isize) -> PickPanel {
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

pub(super) fn step_panel(
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
                Some(Step::WaitUntil { met, timed_out, .. }) => (met.len(), timed_out.len()),
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
    let value_options = match lookups.catalog.property(v.trimmed("property")) {
        Some(p) if p.field_type == FieldType::Enum => p
            .options
            .iter()
            .map(|o| Choice::new(o.clone(), crate::domain::labels::option_label(o)))
            .collect(),
        Some(p) if p.field_type == FieldType::Bool => {
            vec![Choice::new("true", "Yes"), Choice::new("false", "No")]
        }
        _ => Vec::new(),
    };
    let editing = match target {
        Target::Edit(p) => p.get(&def.steps),
        Target::Add { .. } => None,
    };
    let errors = Errors(errors);
    let split = if t.name == "random_split" {
        split_rows(&v, &errors, editing)
    } else {
        Vec::new()
    };
    let preview = if t.name == "send_email" {
        preview(&v, loaded.sample.as_ref())
    } else {
        None
    };
    StepPanel {
        errors,
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
        value_options,
        preview,
        tokens: token_choices(lookups),
        yes_count,
        no_count,
        split_rows: split,
        event_names: loaded.event_names.clone(),
        v,
    }
}

pub(super) fn selected_of(state: &PanelState) -> String {
    match state {
        PanelState::None | PanelState::Name { .. } => String::new(),
        PanelState::Trigger { .. } => "trigger".into(),
        PanelState::Goal { .. } => "goal".into(),
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
