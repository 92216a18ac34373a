//! Strict validation of a workflow definition (DESIGN §7), in two levels:
//!
//! * [`parse_definition`]: the JSON has the definition's shape (unknown fields, missing
//!   fields, bad enum values, wrong types), with the path of the first offending field.
//! * [`validate`]: every rule that makes a definition unsaveable (bad dates and times,
//!   unknown properties, lists and workflows, delays that do not fit the start type, …).
//!   The API answers 422 with these; the editor shows each next to its field.
//! * [`publish_problems`]: what blocks "Turn on" but may be saved as a draft (an email with no
//!   subject, a webhook with no URL, …) **plus** every [`validate`] error, so a stored
//!   definition whose property, list or workflow was deleted since shows all its issues.
//!
//! Field paths: `name`, `start.date`, `steps[1].subject`, `steps[2].yes[0].value`,
//! `triggers.filter_groups[0][1].property`, `settings.execution_window.start`, …
//!
//! Editor card anchors ([`Problem::card`]): `name`, `start` (the date card, incl. Repeat
//! annually), `trigger` (enrollment triggers and re-enrollment), `steps` (the flow as a
//! whole), `step-{i}` for top-level step `i` (0-based, as in `steps[i]`), `step-{i}-yes-{j}` /
//! `step-{i}-no-{j}` for steps inside a branch, and `settings`.

use chrono::NaiveTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::definition::{
    DateUnit, Definition, EventTrigger, ExecutionWindow, Filter, Notifications, Reenroll, Settings,
    Start, Step, Suppression, TimeUnit, Triggers, Weekday, When,
};
pub use super::errors::FieldError;
use super::filter::{check_filter, Catalog, FieldType, PropertyInfo, EMAIL_PROPERTY};
use super::values::{looks_like_email, normalize_value, parse_iso_date};

pub const MAX_NAME_CHARS: usize = 200;
/// The furthest a date delay may reach from the date: 3650 days (weeks count 7).
pub const MAX_DATE_DELAY_DAYS: u64 = 3650;
pub const MAX_CATCH_UP_HOURS: u32 = 8760;
/// The longest plain delay (blank workflows), in minutes: 3650 days.
pub const MAX_DELAY_MINUTES: u64 = 3650 * 24 * 60;
pub const MAX_TASK_DUE_DAYS: u32 = 3650;
pub const MAX_CAMPAIGN_CHARS: usize = 200;

/// Something that blocks turning the workflow on, located in the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
    /// Anchor id of the editor card to open (see the module doc).
    pub card: String,
}

/// Strict `HH:MM` (or `HH:MM:SS`), 24-hour: `09:00`, `23:59`, `09:00:30`; not `9:00`, `24:00`.
/// The same parser the scheduler uses, so what validates is what runs.
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    super::schedule::parse_time_of_day(s)
}

/// A minimal check of a webhook URL: `http(s)://host[:port][/path…]`, no whitespace.
pub fn check_http_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL cannot contain spaces.".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("Use an http:// or https:// URL.")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("The URL's host is not valid.")?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("The URL's host is not valid.".into());
        }
        (host, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("The URL needs a host, e.g. https://example.com/hook.".into());
    }
    if !host_port.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("The URL's host is not valid.".into());
    }
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535)
        {
            return Err("The URL's port is not valid.".into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsing with a path to the offending field.

/// Parses a definition; a failure names the first offending field by its path.
pub fn parse_definition(json: &Value) -> Result<Definition, FieldError> {
    match Definition::deserialize(json) {
        Ok(def) => Ok(def),
        Err(_) => Err(locate(json, Shape::Definition, "")),
    }
}

/// The typed parts of the definition, so a failure can be narrowed to the deepest part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Definition,
    Start,
    Triggers,
    Reenroll,
    Steps,
    Step,
    FilterGroups,
    FilterGroup,
    Filter,
    EventTriggers,
    EventTrigger,
    Settings,
    ExecutionWindow,
    Suppression,
    Notifications,
    Weekdays,
    Strings,
    Ids,
    Weekday,
    Str,
    Id,
    /// A field checked only as part of its parent.
    Leaf,
}

fn try_parse<T: DeserializeOwned>(v: &Value) -> Result<(), serde_json::Error> {
    T::deserialize(v).map(|_| ())
}

impl Shape {
    fn check(self, v: &Value) -> Result<(), serde_json::Error> {
        match self {
            Shape::Definition => try_parse::<Definition>(v),
            Shape::Start => try_parse::<Start>(v),
            Shape::Triggers => try_parse::<Triggers>(v),
            Shape::Reenroll => try_parse::<Reenroll>(v),
            Shape::Steps => try_parse::<Vec<Step>>(v),
            Shape::Step => try_parse::<Step>(v),
            Shape::FilterGroups => try_parse::<Vec<Vec<Filter>>>(v),
            Shape::FilterGroup => try_parse::<Vec<Filter>>(v),
            Shape::Filter => try_parse::<Filter>(v),
            Shape::EventTriggers => try_parse::<Vec<EventTrigger>>(v),
            Shape::EventTrigger => try_parse::<EventTrigger>(v),
            Shape::Settings => try_parse::<Settings>(v),
            Shape::ExecutionWindow => try_parse::<ExecutionWindow>(v),
            Shape::Suppression => try_parse::<Suppression>(v),
            Shape::Notifications => try_parse::<Notifications>(v),
            Shape::Weekdays => try_parse::<Vec<Weekday>>(v),
            Shape::Strings => try_parse::<Vec<String>>(v),
            Shape::Ids => try_parse::<Vec<i64>>(v),
            Shape::Weekday => try_parse::<Weekday>(v),
            Shape::Str => try_parse::<String>(v),
            Shape::Id => try_parse::<i64>(v),
            Shape::Leaf => Ok(()),
        }
    }

    fn element(self) -> Option<Shape> {
        match self {
            Shape::Steps => Some(Shape::Step),
            Shape::FilterGroups => Some(Shape::FilterGroup),
            Shape::FilterGroup => Some(Shape::Filter),
            Shape::EventTriggers => Some(Shape::EventTrigger),
            Shape::Weekdays => Some(Shape::Weekday),
            Shape::Strings => Some(Shape::Str),
            Shape::Ids => Some(Shape::Id),
            _ => None,
        }
    }

    fn is_struct(self) -> bool {
        matches!(
            self,
            Shape::Definition
                | Shape::Start
                | Shape::Triggers
                | Shape::Reenroll
                | Shape::Step
                | Shape::Filter
                | Shape::EventTrigger
                | Shape::Settings
                | Shape::ExecutionWindow
                | Shape::Suppression
                | Shape::Notifications
        )
    }

    fn is_tagged(self) -> bool {
        matches!(self, Shape::Start | Shape::Step)
    }

    fn child(self, key: &str, tag: Option<&str>) -> Shape {
        match (self, key, tag) {
            (Shape::Definition, "start", _) => Shape::Start,
            (Shape::Definition, "triggers", _) => Shape::Triggers,
            (Shape::Definition, "reenroll", _) => Shape::Reenroll,
            (Shape::Definition, "steps", _) => Shape::Steps,
            (Shape::Definition, "settings", _) => Shape::Settings,
            (Shape::Triggers | Shape::Suppression, "filter_groups", _) => Shape::FilterGroups,
            (Shape::Triggers, "events", _) => Shape::EventTriggers,
            (Shape::EventTrigger, "filters", _) => Shape::FilterGroup,
            (Shape::Reenroll, "on_properties", _) => Shape::Strings,
            (Shape::Step, "condition", Some("branch")) => Shape::FilterGroups,
            (Shape::Step, "yes" | "no", Some("branch")) => Shape::Steps,
            (Shape::Step, "days", Some("delay_until")) => Shape::Weekdays,
            (Shape::Step, "recipients", Some("internal_notification")) => Shape::Strings,
            (Shape::Settings, "execution_window", _) => Shape::ExecutionWindow,
            (Shape::Settings, "suppression", _) => Shape::Suppression,
            (Shape::Settings, "notifications", _) => Shape::Notifications,
            (Shape::Settings, "pause_dates", _) => Shape::Strings,
            (Shape::Settings, "unenroll_from_workflows", _) => Shape::Ids,
            (Shape::ExecutionWindow, "days", _) => Shape::Weekdays,
            (Shape::Suppression, "list_ids", _) => Shape::Ids,
            (Shape::Notifications, "recipients", _) => Shape::Strings,
            _ => Shape::Leaf,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "definition".to_string()
    } else {
        path.to_string()
    }
}

/// The name between the first pair of backticks after `prefix`, e.g. `missing field `x``.
fn backticked_after<'m>(msg: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = msg.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// serde's wording made readable: quotes instead of backticks, plain type names.
fn humanize(msg: &str) -> String {
    let mut s = msg
        .replace('`', "\"")
        .replace("expected u32", "expected a whole number (0 or more)")
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
        .replace("invalid type: map", "invalid type: object")
        .replace("invalid type: sequence", "invalid type: list");
    for prefix in ["expected struct ", "expected internally tagged enum "] {
        if let Some(at) = s.find(prefix) {
            s.truncate(at);
            s.push_str("expected an object");
        }
    }
    let mut out: String = s
        .chars()
        .take(1)
        .flat_map(char::to_uppercase)
        .chain(s.chars().skip(1))
        .collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Narrows a parse failure of `v` as `shape` to the deepest offending field.
fn locate(v: &Value, shape: Shape, path: &str) -> FieldError {
    let err = match shape.check(v) {
        Ok(()) => return FieldError::new(field_name(path), "Is not valid."),
        Err(e) => e,
    };
    if let Some(elem) = shape.element() {
        let Some(items) = v.as_array() else {
            return FieldError::new(field_name(path), humanize(&err.to_string()));
        };
        for (i, item) in items.iter().enumerate() {
            if elem.check(item).is_err() {
                return locate(item, elem, &format!("{path}[{i}]"));
            }
        }
        return FieldError::new(field_name(path), humanize(&err.to_string()));
    }
    if !shape.is_struct() {
        return FieldError::new(field_name(path), humanize(&err.to_string()));
    }
    let Some(obj) = v.as_object() else {
        // serde would also read a struct from a list; say what is meant instead.
        let kind = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "list",
            Value::Object(_) => "object",
        };
        return FieldError::new(
            field_name(path),
            format!("Invalid type: {kind}, expected an object."),
        );
    };

    let mut tag = None;
    if shape.is_tagged() {
        let type_path = join(path, "type");
        match obj.get("type") {
            None => return FieldError::new(type_path, "Is required."),
            Some(Value::String(t)) => {
                let probe = Value::Object(Map::from_iter([(
                    "type".to_string(),
                    Value::from(t.as_str()),
                )]));
                if let Err(e) = shape.check(&probe) {
                    let msg = e.to_string();
                    if msg.starts_with("unknown variant") {
                        return FieldError::new(type_path, humanize(&msg));
                    }
                }
                tag = Some(t.as_str());
            }
            Some(_) => return FieldError::new(type_path, "Must be a string."),
        }
    }

    // 1. Structured children parse on their own: descend into the first that fails.
    for (key, child) in obj {
        let cs = shape.child(key, tag);
        if cs != Shape::Leaf && !child.is_null() && cs.check(child).is_err() {
            return locate(child, cs, &join(path, key));
        }
    }
    // 2. Leaf fields: an object with only that field (and the tag) fails for another reason
    //    than missing fields exactly when that field is at fault.
    for (key, child) in obj {
        if tag.is_some() && key == "type" {
            continue;
        }
        let mut probe = Map::new();
        if let Some(t) = tag {
            probe.insert("type".into(), Value::from(t));
        }
        probe.insert(key.clone(), child.clone());
        if let Err(e) = shape.check(&Value::Object(probe)) {
            let msg = e.to_string();
            if !msg.starts_with("missing field") {
                return FieldError::new(join(path, key), humanize(&msg));
            }
        }
    }
    // 3. What is left is about this object itself.
    let msg = err.to_string();
    if let Some(name) = backticked_after(&msg, "missing field ") {
        return FieldError::new(join(path, name), "Is required.");
    }
    if let Some(name) = backticked_after(&msg, "unknown field ") {
        return FieldError::new(join(path, name), humanize(&msg));
    }
    FieldError::new(field_name(path), humanize(&msg))
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// Every error that makes the definition unsaveable, in document order.
pub fn validate(def: &Definition, catalog: &Catalog) -> Vec<FieldError> {
    check(def, catalog)
        .into_iter()
        .filter(|f| f.blocks_save)
        .map(|f| FieldError::new(f.field, f.message))
        .collect()
}

/// Everything that blocks "Turn on": the [`validate`] errors and the draft-only problems, in
/// document order.
pub fn publish_problems(def: &Definition, catalog: &Catalog) -> Vec<Problem> {
    check(def, catalog)
        .into_iter()
        .map(|f| Problem {
            field: f.field,
            message: f.message,
            card: f.card,
        })
        .collect()
}

struct Finding {
    field: String,
    message: String,
    card: String,
    blocks_save: bool,
}

struct Checker<'a> {
    catalog: &'a Catalog,
    date_centred: bool,
    found: Vec<Finding>,
}

fn check(def: &Definition, catalog: &Catalog) -> Vec<Finding> {
    let mut c = Checker {
        catalog,
        date_centred: def.start.is_date_centred(),
        found: Vec::new(),
    };
    c.name(&def.name);
    c.start(def);
    c.groups(
        &def.triggers.filter_groups,
        "triggers.filter_groups",
        "trigger",
    );
    c.event_triggers(&def.triggers.events);
    c.reenroll(&def.reenroll);
    c.steps_overall(&def.steps);
    c.steps(&def.steps, "steps", "step");
    c.settings(&def.settings);
    c.found
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn has_action(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Branch { yes, no, .. } => has_action(yes) || has_action(no),
        s => !s.is_delay(),
    })
}

impl<'a> Checker<'a> {
    fn error(&mut self, card: &str, field: impl Into<String>, message: impl Into<String>) {
        self.push(card, field.into(), message.into(), true);
    }

    fn problem(&mut self, card: &str, field: impl Into<String>, message: impl Into<String>) {
        self.push(card, field.into(), message.into(), false);
    }

    fn push(&mut self, card: &str, field: String, message: String, blocks_save: bool) {
        self.found.push(Finding {
            field,
            message,
            card: card.to_string(),
            blocks_save,
        });
    }

    /// Every `{{ … }}` in a personalised text must be the token of an existing property: a typo
    /// would otherwise send an email with a hole in it (DESIGN §4, issue 13).
    fn tokens(&mut self, card: &str, field: &str, text: &str) {
        let catalog = self.catalog;
        let known = |name: &str| catalog.property(name).is_some();
        for placeholder in crate::domain::tokens::placeholders(text) {
            if let Some(message) = crate::domain::tokens::problem(placeholder, &known) {
                self.error(card, field, message);
            }
        }
    }

    /// The property, or an error at `field` when it does not exist.
    fn property(&mut self, card: &str, field: &str, name: &str) -> Option<&'a PropertyInfo> {
        let catalog = self.catalog;
        let p = catalog.property(name);
        if p.is_none() {
            let message = if name.trim().is_empty() {
                "Choose a property.".to_string()
            } else {
                format!("There is no property named \"{name}\" (it may have been deleted).")
            };
            self.error(card, field, message);
        }
        p
    }

    fn list(&mut self, card: &str, field: &str, id: i64) {
        if !self.catalog.has_list(id) {
            self.error(
                card,
                field,
                format!("There is no list with id {id} (it may have been deleted)."),
            );
        }
    }

    fn workflow(&mut self, card: &str, field: &str, id: i64) {
        if !self.catalog.has_workflow(id) {
            self.error(
                card,
                field,
                format!("There is no workflow with id {id} (it may have been deleted)."),
            );
        }
    }

    fn time_of_day(&mut self, card: &str, field: &str, s: &str) {
        if parse_time_of_day(s).is_none() {
            self.error(
                card,
                field,
                format!("\"{s}\" is not a time of day; use HH:MM, 24-hour (e.g. 09:00)."),
            );
        }
    }

    fn name(&mut self, name: &str) {
        if name.trim().is_empty() {
            self.error("name", "name", "Give the workflow a name.");
        } else if name.chars().count() > MAX_NAME_CHARS {
            self.error(
                "name",
                "name",
                format!("A name has at most {MAX_NAME_CHARS} characters."),
            );
        }
    }

    fn start(&mut self, def: &Definition) {
        match &def.start {
            Start::Blank => {
                if def.recur_annually {
                    self.error(
                        "start",
                        "recur_annually",
                        "Repeat annually needs a date-centred workflow (a specific date or a contact date property).",
                    );
                }
            }
            Start::SpecificDate { date } => {
                if parse_iso_date(date.trim()).is_none() || date.trim() != date {
                    self.error(
                        "start",
                        "start.date",
                        format!("\"{date}\" is not a valid date (YYYY-MM-DD)."),
                    );
                }
            }
            Start::ContactDateProperty { property } => {
                let Some(p) = self.property("start", "start.property", property) else {
                    return;
                };
                if p.field_type != FieldType::Date {
                    let message = if p.name == "date_of_birth" {
                        format!(
                            "{} (date_of_birth) is single-line text and its type cannot be changed, \
                             so a workflow cannot be centred on it. Create a custom date-picker \
                             property (e.g. birthday) and choose it instead.",
                            p.label
                        )
                    } else {
                        format!(
                            "{} is a {} property; a workflow can only be centred on a date-picker property.",
                            p.label,
                            p.field_type.label()
                        )
                    };
                    self.error("start", "start.property", message);
                }
            }
        }
    }

    fn groups(&mut self, groups: &[Vec<Filter>], prefix: &str, card: &str) {
        for (g, group) in groups.iter().enumerate() {
            if group.is_empty() {
                self.error(
                    card,
                    format!("{prefix}[{g}]"),
                    "This filter group is empty: add a filter or remove the group.",
                );
            }
            for (i, filter) in group.iter().enumerate() {
                if let Err((part, message)) = check_filter(filter, self.catalog) {
                    self.error(
                        card,
                        format!("{prefix}[{g}][{i}].{}", part.as_str()),
                        message,
                    );
                }
            }
        }
    }

    fn event_triggers(&mut self, events: &[EventTrigger]) {
        for (t, trigger) in events.iter().enumerate() {
            let prefix = format!("triggers.events[{t}]");
            if !super::events::valid_name(trigger.name.trim()) {
                self.error(
                    "trigger",
                    format!("{prefix}.name"),
                    "Name the event: letters, digits, _ - . or : (at most 100 characters).",
                );
            }
            for (i, filter) in trigger.filters.iter().enumerate() {
                let on_event = filter
                    .property
                    .as_deref()
                    .is_some_and(|p| p.starts_with(super::events::EVENT_PREFIX));
                if on_event {
                    if let Err(message) = super::events::check_event_filter(filter) {
                        let part = if message.contains("value") {
                            "value"
                        } else if message.contains("list") {
                            "operator"
                        } else {
                            "property"
                        };
                        self.error("trigger", format!("{prefix}.filters[{i}].{part}"), message);
                    }
                } else if let Err((part, message)) = check_filter(filter, self.catalog) {
                    self.error(
                        "trigger",
                        format!("{prefix}.filters[{i}].{}", part.as_str()),
                        message,
                    );
                }
            }
        }
    }

    fn reenroll(&mut self, r: &Reenroll) {
        for (k, name) in r.on_properties.iter().enumerate() {
            self.property("trigger", &format!("reenroll.on_properties[{k}]"), name);
        }
        if r.enabled && r.on_properties.is_empty() && !r.on_events {
            self.problem(
                "trigger",
                "reenroll.on_properties",
                "Choose the properties whose change re-enrolls a contact, or turn re-enrollment off.",
            );
        }
    }

    fn steps_overall(&mut self, steps: &[Step]) {
        if self.date_centred {
            match steps.first() {
                None => self.error(
                    "steps",
                    "steps",
                    "A date-centred workflow starts with the date delay \"Execute next action on…\".",
                ),
                Some(Step::DateDelay { .. }) => {}
                Some(_) => self.error(
                    "step-0",
                    "steps[0]",
                    "The first step of a date-centred workflow must be the date delay \"Execute next action on…\".",
                ),
            }
        }
        if !has_action(steps) {
            self.problem("steps", "steps", "Add at least one action.");
        }
    }

    fn steps(&mut self, steps: &[Step], path: &str, card_prefix: &str) {
        for (i, step) in steps.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let card = format!("{card_prefix}-{i}");
            self.step(step, &p, &card);
        }
    }

    fn step(&mut self, step: &Step, p: &str, card: &str) {
        let f = |name: &str| format!("{p}.{name}");
        match step {
            Step::DateDelay {
                when,
                amount,
                unit,
                time_of_day,
                zone: _,
            } => {
                if !self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date delay needs a date-centred workflow; use a delay instead.",
                    );
                    return;
                }
                match when {
                    When::On => {
                        if amount.is_some_and(|a| a != 0) {
                            self.error(card, f("amount"), "\"On the date\" takes no amount.");
                        }
                        // A unit beside "on" is harmless (the editor may keep the last choice).
                    }
                    When::Before | When::After => match amount {
                        None => self.error(card, f("amount"), "Enter how many days or weeks."),
                        Some(a) => {
                            let per = if *unit == Some(DateUnit::Weeks) { 7 } else { 1 };
                            if u64::from(*a) * per > MAX_DATE_DELAY_DAYS {
                                self.error(
                                    card,
                                    f("amount"),
                                    format!("At most {MAX_DATE_DELAY_DAYS} days (10 years) from the date."),
                                );
                            }
                        }
                    },
                }
                if let Some(t) = time_of_day {
                    self.time_of_day(card, &f("time_of_day"), t);
                }
            }
            Step::Delay { amount, unit } => {
                if self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date-centred workflow schedules with date delays; a delay of a set amount of time is for blank workflows.",
                    );
                    return;
                }
                let minutes = match unit {
                    TimeUnit::Minutes => 1,
                    TimeUnit::Hours => 60,
                    TimeUnit::Days => 24 * 60,
                    TimeUnit::Weeks => 7 * 24 * 60,
                };
                if *amount == 0 {
                    self.error(card, f("amount"), "Wait at least 1.");
                } else if u64::from(*amount) * minutes > MAX_DELAY_MINUTES {
                    self.error(
                        card,
                        f("amount"),
                        "A delay is at most 3650 days (10 years).",
                    );
                }
            }
            Step::DelayUntil { days, time_of_day } => {
                if self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date-centred workflow schedules with date delays; \"delay until a day\" is for blank workflows.",
                    );
                    return;
                }
                if days.is_empty() {
                    self.error(card, f("days"), "Choose at least one day.");
                }
                self.time_of_day(card, &f("time_of_day"), time_of_day);
            }
            Step::SetProperty { property, value } => {
                let field = f("property");
                if let Some(prop) = self.property(card, &field, property) {
                    match normalize_value(prop.field_type, &prop.options, value) {
                        Err(m) => self.error(card, f("value"), format!("{}.", m.trim_end_matches('.'))),
                        Ok(None) => self.error(
                            card,
                            f("value"),
                            "Enter the value to set (use \"Clear property value\" to remove a value).",
                        ),
                        Ok(Some(v)) => {
                            if prop.name == EMAIL_PROPERTY && !looks_like_email(&v) {
                                self.error(card, f("value"), format!("\"{v}\" is not a valid email address."));
                            }
                        }
                    }
                }
            }
            Step::CopyProperty { from, to } => {
                let from_ft = self
                    .property(card, &f("from"), from)
                    .map(|p| (p.field_type, p.label.clone()));
                let to_ft = self
                    .property(card, &f("to"), to)
                    .map(|p| (p.field_type, p.label.clone()));
                if let (Some((ff, fl)), Some((tf, tl))) = (from_ft, to_ft) {
                    if from == to {
                        self.error(card, f("to"), "Copy to a different property.");
                    } else if ff != tf && tf != FieldType::Text {
                        self.error(
                            card,
                            f("to"),
                            format!(
                                "Cannot copy {fl} ({}) into {tl} ({}); choose a property of the same type or a single-line text property.",
                                ff.label(),
                                tf.label()
                            ),
                        );
                    }
                }
            }
            Step::ClearProperty { property } => {
                self.property(card, &f("property"), property);
            }
            Step::AdjustProperty {
                property,
                amount: _,
            } => {
                if let Some(prop) = self.property(card, &f("property"), property) {
                    if prop.field_type != FieldType::Number {
                        let message = format!(
                            "{} is a {} property; only number properties can be increased or decreased.",
                            prop.label,
                            prop.field_type.label()
                        );
                        self.error(card, f("property"), message);
                    }
                }
            }
            Step::SendEmail { subject, body } => {
                if subject.trim().is_empty() {
                    self.problem(card, f("subject"), "Add a subject.");
                } else if subject.contains(['\r', '\n']) {
                    self.error(card, f("subject"), "A subject is a single line.");
                }
                if body.trim().is_empty() {
                    self.problem(card, f("body"), "Write the email.");
                }
                self.tokens(card, &f("subject"), subject);
                self.tokens(card, &f("body"), body);
            }
            Step::InternalNotification {
                message,
                recipients,
            } => {
                if message.trim().is_empty() {
                    self.problem(card, f("message"), "Write the notification.");
                }
                self.tokens(card, &f("message"), message);
                self.emails(card, &f("recipients"), recipients);
            }
            Step::CreateTask {
                title,
                notes,
                due_in_days,
            } => {
                if title.trim().is_empty() {
                    self.problem(card, f("title"), "Give the task a title.");
                }
                self.tokens(card, &f("title"), title);
                if let Some(notes) = notes {
                    self.tokens(card, &f("notes"), notes);
                }
                if due_in_days.is_some_and(|d| d > MAX_TASK_DUE_DAYS) {
                    self.error(
                        card,
                        f("due_in_days"),
                        format!("At most {} ahead.", plural(MAX_TASK_DUE_DAYS.into(), "day")),
                    );
                }
            }
            Step::AddToList { list_id } | Step::RemoveFromList { list_id } => {
                self.list(card, &f("list_id"), *list_id);
            }
            Step::Webhook { url, secret: _ } => {
                if url.trim().is_empty() {
                    self.problem(card, f("url"), "Enter the URL to send the webhook to.");
                } else if let Err(m) = check_http_url(url) {
                    self.error(card, f("url"), m);
                }
            }
            Step::Branch { condition, yes, no } => {
                if condition.is_empty() {
                    self.problem(
                        card,
                        f("condition"),
                        "Add at least one condition to the branch.",
                    );
                }
                self.groups(condition, &f("condition"), card);
                self.steps(yes, &f("yes"), &format!("{card}-yes"));
                self.steps(no, &f("no"), &format!("{card}-no"));
            }
            Step::EnrollInWorkflow { workflow_id } | Step::UnenrollFromWorkflow { workflow_id } => {
                self.workflow(card, &f("workflow_id"), *workflow_id);
            }
        }
    }

    fn emails(&mut self, card: &str, prefix: &str, emails: &[String]) {
        for (k, e) in emails.iter().enumerate() {
            if !looks_like_email(e) {
                self.error(
                    card,
                    format!("{prefix}[{k}]"),
                    format!("\"{e}\" is not a valid email address."),
                );
            }
        }
    }

    fn settings(&mut self, s: &Settings) {
        let card = "settings";
        if let Some(tz) = &s.time_zone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                self.error(
                    card,
                    "settings.time_zone",
                    format!("\"{tz}\" is not a time zone name (IANA, e.g. Europe/Oslo)."),
                );
            }
        }
        if let Some(w) = &s.execution_window {
            if w.days.is_empty() {
                self.error(
                    card,
                    "settings.execution_window.days",
                    "Choose at least one day.",
                );
            }
            self.time_of_day(card, "settings.execution_window.start", &w.start);
            self.time_of_day(card, "settings.execution_window.end", &w.end);
            if let (Some(a), Some(b)) = (parse_time_of_day(&w.start), parse_time_of_day(&w.end)) {
                if a >= b {
                    self.error(
                        card,
                        "settings.execution_window.end",
                        "The window must end after it starts.",
                    );
                }
            }
        }
        for (k, d) in s.pause_dates.iter().enumerate() {
            if parse_iso_date(d).is_none() {
                self.error(
                    card,
                    format!("settings.pause_dates[{k}]"),
                    format!("\"{d}\" is not a valid date (YYYY-MM-DD)."),
                );
            }
        }
        if s.catch_up_hours > MAX_CATCH_UP_HOURS {
            self.error(
                card,
                "settings.catch_up_hours",
                format!("At most {MAX_CATCH_UP_HOURS} hours (one year)."),
            );
        }
        self.groups(
            &s.suppression.filter_groups,
            "settings.suppression.filter_groups",
            card,
        );
        for (k, id) in s.suppression.list_ids.iter().enumerate() {
            self.list(card, &format!("settings.suppression.list_ids[{k}]"), *id);
        }
        for (k, id) in s.unenroll_from_workflows.iter().enumerate() {
            self.workflow(card, &format!("settings.unenroll_from_workflows[{k}]"), *id);
        }
        if s.campaign
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CAMPAIGN_CHARS)
        {
            self.error(
                card,
                "settings.campaign",
                format!("A campaign name has at most {MAX_CAMPAIGN_CHARS} characters."),
            );
        }
        self.emails(
            card,
            "settings.notifications.recipients",
            &s.notifications.recipients,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::PropertyInfo;
    use serde_json::json;

    const EXAMPLE: &str = r#"{ "name": "Renewal reminder",
      "start": { "type": "contact_date_property", "property": "renewal_date" },
      "recur_annually": true,
      "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]],
                    "manual_only": false },
      "reenroll": { "enabled": false, "on_properties": [] },
      "steps": [
        { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
        { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi {{ contact.firstname }}" },
        { "type": "date_delay", "when": "on", "time_of_day": "08:00", "zone": "contact" },
        { "type": "set_property", "property": "renewal_notice", "value": "sent" } ],
      "settings": { "time_zone": "Europe/Oslo", "feb29": "feb28",
        "execution_window": { "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00" },
        "pause_dates": [], "catch_up_hours": 24, "unenroll_when_unmet": false,
        "suppression": { "filter_groups": [], "list_ids": [] }, "unenroll_from_workflows": [] } }"#;

    fn prop(id: i64, name: &str, label: &str, ft: FieldType, options: &[&str]) -> PropertyInfo {
        PropertyInfo {
            id,
            name: name.into(),
            label: label.into(),
            field_type: ft,
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            properties: vec![
                prop(1, "renewal_date", "Renewal date", FieldType::Date, &[]),
                prop(2, "renewal_notice", "Renewal notice", FieldType::Text, &[]),
                prop(
                    3,
                    "lifecyclestage",
                    "Lifecycle stage",
                    FieldType::Enum,
                    &["lead", "customer"],
                ),
                prop(4, "email", "Email", FieldType::Text, &[]),
                prop(5, "date_of_birth", "Birth date", FieldType::Text, &[]),
                prop(6, "score", "Score", FieldType::Number, &[]),
                prop(7, "last_seen", "Last seen", FieldType::Datetime, &[]),
                prop(8, "birthday", "Birthday", FieldType::Date, &[]),
                prop(9, "vip", "VIP", FieldType::Bool, &[]),
                prop(10, "firstname", "First name", FieldType::Text, &[]),
            ],
            list_ids: vec![1, 2],
            workflow_ids: vec![7],
        }
    }

    fn example() -> Value {
        serde_json::from_str(EXAMPLE).unwrap()
    }

    fn blank() -> Value {
        json!({ "name": "Welcome", "start": { "type": "blank" },
                "steps": [{ "type": "send_email", "subject": "Hi", "body": "Welcome" }] })
    }

    /// Sets (or, with "<remove>", removes) the value at a JSON pointer; an array index equal
    /// to the length appends.
    fn edit(mut v: Value, pointer: &str, new: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match v
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"))
        {
            Value::Object(m) => {
                if new == json!("<remove>") {
                    m.remove(key);
                } else {
                    m.insert(key.to_string(), new);
                }
            }
            Value::Array(a) => {
                let i: usize = key.parse().unwrap();
                if i == a.len() {
                    a.push(new);
                } else {
                    a[i] = new;
                }
            }
            other => panic!("cannot edit inside {other}"),
        }
        v
    }

    fn edits(base: Value, changes: &[(&str, Value)]) -> Value {
        changes
            .iter()
            .fold(base, |v, (p, new)| edit(v, p, new.clone()))
    }

    fn ex(changes: &[(&str, Value)]) -> Value {
        edits(example(), changes)
    }

    fn bl(changes: &[(&str, Value)]) -> Value {
        edits(blank(), changes)
    }

    fn parsed(v: &Value) -> Definition {
        parse_definition(v).unwrap_or_else(|e| panic!("should parse: {e}\n{v}"))
    }

    fn a_branch() -> Value {
        json!({ "type": "branch",
                "condition": [[{ "property": "score", "operator": "gt", "value": 10 }]],
                "yes": [{ "type": "add_to_list", "list_id": 1 }],
                "no": [{ "type": "branch",
                         "condition": [[{ "operator": "in_list", "value": 2 }]],
                         "yes": [{ "type": "remove_from_list", "list_id": 2 }] }] })
    }

    #[test]
    fn design_example_validates_clean() {
        let def = parsed(&example());
        assert_eq!(validate(&def, &catalog()), vec![]);
        assert_eq!(publish_problems(&def, &catalog()), vec![]);
    }

    #[test]
    fn each_rule_reports_its_field() {
        let long_name = "x".repeat(201);
        let cases: Vec<(Value, &str, &str)> = vec![
            // name
            (
                ex(&[("/name", json!(""))]),
                "name",
                "Give the workflow a name",
            ),
            (
                ex(&[("/name", json!("   "))]),
                "name",
                "Give the workflow a name",
            ),
            (ex(&[("/name", json!(long_name))]), "name", "at most 200"),
            // start
            (
                ex(&[(
                    "/start",
                    json!({"type": "specific_date", "date": "2021-02-30"}),
                )]),
                "start.date",
                "not a valid date (YYYY-MM-DD)",
            ),
            (
                ex(&[(
                    "/start",
                    json!({"type": "specific_date", "date": "2021-2-3"}),
                )]),
                "start.date",
                "not a valid date",
            ),
            (
                ex(&[("/start", json!({"type": "specific_date", "date": ""}))]),
                "start.date",
                "not a valid date",
            ),
            (
                ex(&[("/start/property", json!("renewal"))]),
                "start.property",
                "no property named \"renewal\"",
            ),
            (
                ex(&[("/start/property", json!("date_of_birth"))]),
                "start.property",
                "custom date-picker property (e.g. birthday)",
            ),
            (
                ex(&[("/start/property", json!("date_of_birth"))]),
                "start.property",
                "single-line text",
            ),
            (
                ex(&[("/start/property", json!("renewal_notice"))]),
                "start.property",
                "Single-line text property",
            ),
            (
                ex(&[("/start/property", json!("last_seen"))]),
                "start.property",
                "date-picker",
            ),
            // date-centred flow
            (
                ex(&[("/steps", json!([]))]),
                "steps",
                "starts with the date delay",
            ),
            (
                ex(&[(
                    "/steps/0",
                    json!({"type": "send_email", "subject": "s", "body": "b"}),
                )]),
                "steps[0]",
                "first step",
            ),
            (
                ex(&[(
                    "/steps/4",
                    json!({"type": "delay", "amount": 2, "unit": "days"}),
                )]),
                "steps[4]",
                "blank workflows",
            ),
            (
                ex(&[(
                    "/steps/4",
                    json!({"type": "delay_until", "days": ["mon"], "time_of_day": "09:00"}),
                )]),
                "steps[4]",
                "blank workflows",
            ),
            (
                ex(&[(
                    "/steps/4",
                    json!({"type": "branch", "condition": [[{"property": "vip", "operator": "known"}]],
                                      "yes": [{"type": "delay", "amount": 1, "unit": "hours"}]}),
                )]),
                "steps[4].yes[0]",
                "blank workflows",
            ),
            // blank workflows
            (
                bl(&[("/steps/0", json!({"type": "date_delay", "when": "on"}))]),
                "steps[0]",
                "A date delay needs a date-centred workflow",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "branch", "condition": [[{"property": "vip", "operator": "known"}]],
                                      "no": [{"type": "date_delay", "when": "on"}]}),
                )]),
                "steps[1].no[0]",
                "date delay needs a date-centred workflow",
            ),
            (
                bl(&[("/recur_annually", json!(true))]),
                "recur_annually",
                "Repeat annually needs a date-centred workflow",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "delay", "amount": 0, "unit": "minutes"}),
                )]),
                "steps[1].amount",
                "at least 1",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "delay", "amount": 3651, "unit": "days"}),
                )]),
                "steps[1].amount",
                "at most 3650 days",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "delay", "amount": 522, "unit": "weeks"}),
                )]),
                "steps[1].amount",
                "at most 3650 days",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "delay_until", "days": [], "time_of_day": "09:00"}),
                )]),
                "steps[1].days",
                "at least one day",
            ),
            (
                bl(&[(
                    "/steps/1",
                    json!({"type": "delay_until", "days": ["sat"], "time_of_day": "25:00"}),
                )]),
                "steps[1].time_of_day",
                "HH:MM",
            ),
            // date delays
            (
                ex(&[("/steps/2/amount", json!(3))]),
                "steps[2].amount",
                "takes no amount",
            ),
            (
                ex(&[("/steps/0/amount", json!("<remove>"))]),
                "steps[0].amount",
                "how many days or weeks",
            ),
            (
                ex(&[("/steps/0/amount", json!(3651))]),
                "steps[0].amount",
                "At most 3650 days",
            ),
            (
                ex(&[
                    ("/steps/0/amount", json!(522)),
                    ("/steps/0/unit", json!("weeks")),
                ]),
                "steps[0].amount",
                "At most 3650 days",
            ),
            (
                ex(&[
                    ("/steps/0/when", json!("after")),
                    ("/steps/0/amount", json!(4000)),
                ]),
                "steps[0].amount",
                "At most 3650 days",
            ),
            (
                ex(&[("/steps/0/time_of_day", json!("9:00"))]),
                "steps[0].time_of_day",
                "HH:MM",
            ),
            (
                ex(&[("/steps/1/body", json!("Hi {{ contact.no_such_property }}"))]),
                "steps[1].body",
                "no contact property named “no_such_property”",
            ),
            (
                ex(&[("/steps/1/subject", json!("{{ contact.firstname | upper }}"))]),
                "steps[1].subject",
                "not a personalization token",
            ),
            (
                ex(&[("/steps/0/time_of_day", json!("24:00"))]),
                "steps[0].time_of_day",
                "HH:MM",
            ),
            (
                ex(&[("/steps/0/time_of_day", json!("09:60"))]),
                "steps[0].time_of_day",
                "HH:MM",
            ),
            (
                ex(&[("/steps/2/time_of_day", json!("08:00:61"))]),
                "steps[2].time_of_day",
                "HH:MM",
            ),
            (
                ex(&[("/steps/2/time_of_day", json!(""))]),
                "steps[2].time_of_day",
                "HH:MM",
            ),
            // trigger filters
            (
                ex(&[("/triggers/filter_groups/0/0/property", json!("stage"))]),
                "triggers.filter_groups[0][0].property",
                "no property named \"stage\"",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/property", json!("<remove>"))]),
                "triggers.filter_groups[0][0].property",
                "Choose a property",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "renewal_notice", "operator": "gt", "value": "a"}),
                )]),
                "triggers.filter_groups[0][1].operator",
                "does not apply",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "score", "operator": "contains", "value": "1"}),
                )]),
                "triggers.filter_groups[0][1].operator",
                "does not apply",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "score", "operator": "before", "value": "today"}),
                )]),
                "triggers.filter_groups[0][1].operator",
                "does not apply",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "vip", "operator": "contains", "value": "t"}),
                )]),
                "triggers.filter_groups[0][1].operator",
                "does not apply",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/value", json!("<remove>"))]),
                "triggers.filter_groups[0][0].value",
                "Enter a value",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/value", json!("vip"))]),
                "triggers.filter_groups[0][0].value",
                "not one of the options",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "renewal_date", "operator": "before", "value": "2021-13-01"}),
                )]),
                "triggers.filter_groups[0][1].value",
                "not a date",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "renewal_date", "operator": "after", "value": "today+x"}),
                )]),
                "triggers.filter_groups[0][1].value",
                "relative date",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "score", "operator": "gt", "value": "ten"}),
                )]),
                "triggers.filter_groups[0][1].value",
                "not a number",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/0/1",
                    json!({"property": "renewal_date", "operator": "known", "value": "x"}),
                )]),
                "triggers.filter_groups[0][1].value",
                "takes no value",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/1",
                    json!([{"operator": "in_list", "value": 99}]),
                )]),
                "triggers.filter_groups[1][0].value",
                "no list with id 99",
            ),
            (
                ex(&[(
                    "/triggers/filter_groups/1",
                    json!([{"property": "vip", "operator": "in_list", "value": 1}]),
                )]),
                "triggers.filter_groups[1][0].property",
                "takes no property",
            ),
            (
                ex(&[("/triggers/filter_groups/1", json!([]))]),
                "triggers.filter_groups[1]",
                "empty",
            ),
            // re-enrollment
            (
                ex(&[("/reenroll/on_properties", json!(["score", "nope"]))]),
                "reenroll.on_properties[1]",
                "no property named \"nope\"",
            ),
            // actions
            (
                ex(&[("/steps/3/property", json!("notice"))]),
                "steps[3].property",
                "no property named \"notice\"",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "set_property", "property": "score", "value": "lots"}),
                )]),
                "steps[3].value",
                "not a number",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "set_property", "property": "renewal_date", "value": "2026-02-30"}),
                )]),
                "steps[3].value",
                "not a valid date (YYYY-MM-DD)",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "set_property", "property": "lifecyclestage", "value": "vip"}),
                )]),
                "steps[3].value",
                "not one of the options",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "set_property", "property": "vip", "value": "maybe"}),
                )]),
                "steps[3].value",
                "not true or false",
            ),
            (
                ex(&[("/steps/3/value", json!(null))]),
                "steps[3].value",
                "Clear property value",
            ),
            (
                ex(&[("/steps/3/value", json!(""))]),
                "steps[3].value",
                "Enter the value",
            ),
            (
                ex(&[("/steps/3/value", json!({"a": 1}))]),
                "steps[3].value",
                "single value",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "set_property", "property": "email", "value": "not-an-email"}),
                )]),
                "steps[3].value",
                "not a valid email",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "copy_property", "from": "nope", "to": "renewal_notice"}),
                )]),
                "steps[3].from",
                "no property named",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "copy_property", "from": "score", "to": "nope"}),
                )]),
                "steps[3].to",
                "no property named",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "copy_property", "from": "score", "to": "score"}),
                )]),
                "steps[3].to",
                "different property",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "copy_property", "from": "score", "to": "birthday"}),
                )]),
                "steps[3].to",
                "Cannot copy Score (Number) into Birthday (Date picker)",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "clear_property", "property": "nope"}),
                )]),
                "steps[3].property",
                "no property named",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "adjust_property", "property": "renewal_notice", "amount": 1}),
                )]),
                "steps[3].property",
                "only number properties",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "adjust_property", "property": "nope", "amount": -1.5}),
                )]),
                "steps[3].property",
                "no property named",
            ),
            (
                ex(&[("/steps/3", json!({"type": "add_to_list", "list_id": 99}))]),
                "steps[3].list_id",
                "no list with id 99",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "remove_from_list", "list_id": 98}),
                )]),
                "steps[3].list_id",
                "no list with id 98",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "enroll_in_workflow", "workflow_id": 99}),
                )]),
                "steps[3].workflow_id",
                "no workflow with id 99",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "unenroll_from_workflow", "workflow_id": 99}),
                )]),
                "steps[3].workflow_id",
                "no workflow with id 99",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "webhook", "url": "ftp://example.com/x"}),
                )]),
                "steps[3].url",
                "http:// or https://",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "webhook", "url": "example.com/hook"}),
                )]),
                "steps[3].url",
                "http:// or https://",
            ),
            (
                ex(&[("/steps/3", json!({"type": "webhook", "url": "https://"}))]),
                "steps[3].url",
                "needs a host",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "webhook", "url": "https://exa mple.com"}),
                )]),
                "steps[3].url",
                "spaces",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "webhook", "url": "https://example.com:99999/x"}),
                )]),
                "steps[3].url",
                "port",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "webhook", "url": "https://ex<ample>.com/"}),
                )]),
                "steps[3].url",
                "host",
            ),
            (
                ex(&[("/steps/1/subject", json!("Hi\r\nBcc: all@example.com"))]),
                "steps[1].subject",
                "single line",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "internal_notification", "message": "m", "recipients": ["ops@example.com", "bob"]}),
                )]),
                "steps[3].recipients[1]",
                "not a valid email",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "create_task", "title": "Call", "due_in_days": 4000}),
                )]),
                "steps[3].due_in_days",
                "At most 3650 days",
            ),
            // branches, with nested paths
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/condition/0/0/property", json!("nope")),
                ]),
                "steps[3].condition[0][0].property",
                "no property named",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/yes/0/list_id", json!(50)),
                ]),
                "steps[3].yes[0].list_id",
                "no list with id 50",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/yes/0/list_id", json!(51)),
                ]),
                "steps[3].no[0].yes[0].list_id",
                "no list with id 51",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/condition/0/0/value", json!(52)),
                ]),
                "steps[3].no[0].condition[0][0].value",
                "no list with id 52",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    (
                        "/steps/3/yes/0",
                        json!({"type": "set_property", "property": "score", "value": "x"}),
                    ),
                ]),
                "steps[3].yes[0].value",
                "not a number",
            ),
            // settings
            (
                ex(&[("/settings/time_zone", json!("Mars/Olympus"))]),
                "settings.time_zone",
                "not a time zone name",
            ),
            (
                ex(&[("/settings/time_zone", json!(""))]),
                "settings.time_zone",
                "not a time zone name",
            ),
            (
                ex(&[("/settings/execution_window/days", json!([]))]),
                "settings.execution_window.days",
                "at least one day",
            ),
            (
                ex(&[("/settings/execution_window/start", json!("9:00"))]),
                "settings.execution_window.start",
                "HH:MM",
            ),
            (
                ex(&[("/settings/execution_window/end", json!("17"))]),
                "settings.execution_window.end",
                "HH:MM",
            ),
            (
                ex(&[("/settings/execution_window/end", json!("08:00"))]),
                "settings.execution_window.end",
                "end after it starts",
            ),
            (
                ex(&[("/settings/execution_window/end", json!("09:00"))]),
                "settings.execution_window.end",
                "end after it starts",
            ),
            (
                ex(&[("/settings/pause_dates", json!(["2026-12-24", "2026-02-30"]))]),
                "settings.pause_dates[1]",
                "not a valid date",
            ),
            (
                ex(&[("/settings/catch_up_hours", json!(8761))]),
                "settings.catch_up_hours",
                "At most 8760",
            ),
            (
                ex(&[(
                    "/settings/suppression/filter_groups",
                    json!([[{"property": "nope", "operator": "known"}]]),
                )]),
                "settings.suppression.filter_groups[0][0].property",
                "no property named",
            ),
            (
                ex(&[(
                    "/settings/suppression/filter_groups",
                    json!([[{"property": "score", "operator": "after", "value": "today"}]]),
                )]),
                "settings.suppression.filter_groups[0][0].operator",
                "does not apply",
            ),
            (
                ex(&[("/settings/suppression/filter_groups", json!([[]]))]),
                "settings.suppression.filter_groups[0]",
                "empty",
            ),
            (
                ex(&[("/settings/suppression/list_ids", json!([1, 99]))]),
                "settings.suppression.list_ids[1]",
                "no list with id 99",
            ),
            (
                ex(&[("/settings/unenroll_from_workflows", json!([99]))]),
                "settings.unenroll_from_workflows[0]",
                "no workflow with id 99",
            ),
            (
                ex(&[("/settings/campaign", json!("c".repeat(201)))]),
                "settings.campaign",
                "at most 200",
            ),
            (
                ex(&[("/settings/notifications", json!({"recipients": ["x@"]}))]),
                "settings.notifications.recipients[0]",
                "not a valid email",
            ),
        ];
        let cat = catalog();
        for (json, field, fragment) in cases {
            let def = parsed(&json);
            let errors = validate(&def, &cat);
            assert_eq!(
                errors.len(),
                1,
                "{field}: expected exactly one error, got {errors:#?}"
            );
            assert_eq!(errors[0].field, field, "{errors:#?}");
            assert!(
                errors[0].message.contains(fragment),
                "{field}: {:?} lacks {fragment:?}",
                errors[0].message
            );
            let problems = publish_problems(&def, &cat);
            assert!(
                problems
                    .iter()
                    .any(|p| p.field == field && p.message == errors[0].message),
                "{field}: {problems:#?}"
            );
        }
    }

    #[test]
    fn allowed_variations_validate_clean() {
        let cases: Vec<Value> = vec![
            ex(&[(
                "/start",
                json!({"type": "specific_date", "date": "2024-02-29"}),
            )]),
            ex(&[
                ("/start/property", json!("birthday")),
                ("/recur_annually", json!(false)),
            ]),
            ex(&[("/steps/2/amount", json!(0))]),
            ex(&[("/steps/0/amount", json!(0))]),
            ex(&[("/steps/0/amount", json!(3650))]),
            ex(&[
                ("/steps/0/amount", json!(521)),
                ("/steps/0/unit", json!("weeks")),
            ]),
            ex(&[
                ("/steps/0/time_of_day", json!("<remove>")),
                ("/steps/0/unit", json!("<remove>")),
            ]),
            ex(&[("/steps/0/time_of_day", json!("23:59"))]),
            ex(&[("/steps/0/time_of_day", json!("00:00"))]),
            ex(&[("/triggers/filter_groups", json!([]))]),
            ex(&[(
                "/triggers/filter_groups/1",
                json!([
                {"property": "renewal_date", "operator": "before", "value": "today+7"},
                {"property": "renewal_date", "operator": "after", "value": "today-30"},
                {"property": "last_seen", "operator": "gt", "value": "2026-01-01T10:00:00+01:00"},
                {"property": "score", "operator": "lt", "value": "12.5"},
                {"property": "vip", "operator": "eq", "value": true},
                {"property": "email", "operator": "contains", "value": "@example.com"},
                {"property": "renewal_notice", "operator": "unknown"},
                {"property": "renewal_notice", "operator": "known", "value": null},
                {"operator": "in_list", "value": "2"},
                {"operator": "in_list", "value": 1, "property": ""}]),
            )]),
            ex(&[(
                "/reenroll",
                json!({"enabled": true, "on_properties": ["renewal_date"]}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "set_property", "property": "score", "value": "12"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "set_property", "property": "lifecyclestage", "value": "Customer"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "copy_property", "from": "score", "to": "renewal_notice"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "copy_property", "from": "renewal_date", "to": "birthday"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "clear_property", "property": "renewal_notice"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "adjust_property", "property": "score", "amount": -2}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "webhook", "url": "https://hooks.example.com:8443/p?q=1#f", "secret": "s"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "webhook", "url": "HTTP://127.0.0.1/x"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "webhook", "url": "http://[::1]:8080/"}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "internal_notification", "message": "m", "recipients": ["ops@example.com"]}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "create_task", "title": "Call", "notes": "n", "due_in_days": 3650}),
            )]),
            ex(&[(
                "/steps/3",
                json!({"type": "enroll_in_workflow", "workflow_id": 7}),
            )]),
            ex(&[("/steps/3", a_branch())]),
            ex(&[(
                "/steps/4",
                json!({"type": "date_delay", "when": "after", "amount": 2, "unit": "weeks"}),
            )]),
            ex(&[
                ("/settings/time_zone", json!("<remove>")),
                ("/settings/execution_window", json!("<remove>")),
            ]),
            ex(&[
                ("/settings/catch_up_hours", json!(8760)),
                ("/settings/pause_dates", json!(["2026-12-24"])),
            ]),
            ex(&[
                (
                    "/settings/suppression",
                    json!({"filter_groups": [[{"operator": "in_list", "value": 2}]], "list_ids": [1]}),
                ),
                ("/settings/unenroll_from_workflows", json!([7])),
            ]),
            ex(&[
                ("/settings/execution_window/days", json!(["sat", "sun"])),
                ("/settings/execution_window/end", json!("09:01")),
            ]),
            blank(),
            bl(&[
                (
                    "/steps/1",
                    json!({"type": "delay", "amount": 3650, "unit": "days"}),
                ),
                (
                    "/steps/2",
                    json!({"type": "delay_until", "days": ["mon"], "time_of_day": "07:30"}),
                ),
                (
                    "/steps/3",
                    json!({"type": "send_email", "subject": "Again", "body": "b"}),
                ),
            ]),
        ];
        let cat = catalog();
        for json in cases {
            let def = parsed(&json);
            assert_eq!(validate(&def, &cat), vec![], "{json}");
            assert_eq!(publish_problems(&def, &cat), vec![], "{json}");
        }
    }

    #[test]
    fn draft_problems_block_publishing_but_not_saving() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                ex(&[("/steps/1/subject", json!(""))]),
                "steps[1].subject",
                "step-1",
            ),
            (
                ex(&[("/steps/1/body", json!("  "))]),
                "steps[1].body",
                "step-1",
            ),
            (
                ex(&[("/steps/3", json!({"type": "webhook", "url": ""}))]),
                "steps[3].url",
                "step-3",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "internal_notification", "message": ""}),
                )]),
                "steps[3].message",
                "step-3",
            ),
            (
                ex(&[("/steps/3", json!({"type": "create_task", "title": " "}))]),
                "steps[3].title",
                "step-3",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    (
                        "/steps/3/yes/0",
                        json!({"type": "send_email", "subject": "", "body": "b"}),
                    ),
                ]),
                "steps[3].yes[0].subject",
                "step-3-yes-0",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/yes/0", json!({"type": "webhook", "url": ""})),
                ]),
                "steps[3].no[0].yes[0].url",
                "step-3-no-0-yes-0",
            ),
            (
                ex(&[("/steps/3", a_branch()), ("/steps/3/condition", json!([]))]),
                "steps[3].condition",
                "step-3",
            ),
            (
                ex(&[("/steps", json!([{"type": "date_delay", "when": "on"}]))]),
                "steps",
                "steps",
            ),
            (
                ex(&[(
                    "/steps",
                    json!([{"type": "date_delay", "when": "on"},
                                   {"type": "branch", "condition": [[{"property": "vip", "operator": "known"}]]}]),
                )]),
                "steps",
                "steps",
            ),
            (bl(&[("/steps", json!([]))]), "steps", "steps"),
            (
                ex(&[("/reenroll/enabled", json!(true))]),
                "reenroll.on_properties",
                "trigger",
            ),
        ];
        let cat = catalog();
        for (json, field, card) in cases {
            let def = parsed(&json);
            assert_eq!(validate(&def, &cat), vec![], "{field} must still save");
            let problems = publish_problems(&def, &cat);
            assert_eq!(problems.len(), 1, "{problems:#?}");
            assert_eq!(
                (problems[0].field.as_str(), problems[0].card.as_str()),
                (field, card),
                "{problems:#?}"
            );
        }
    }

    #[test]
    fn deleted_references_fail_validation_and_surface_as_problems_with_their_card() {
        let json = ex(&[
            ("/steps/1/subject", json!("")),
            ("/steps/3", a_branch()),
            ("/settings/suppression/list_ids", json!([2])),
        ]);
        let def = parsed(&json);
        assert_eq!(validate(&def, &catalog()), vec![]);
        // Later: lifecyclestage, score and list 2 are deleted.
        let mut cat = catalog();
        cat.properties
            .retain(|p| p.name != "lifecyclestage" && p.name != "score");
        cat.list_ids.retain(|l| *l != 2);
        let errors: Vec<String> = validate(&def, &cat).into_iter().map(|e| e.field).collect();
        assert_eq!(
            errors,
            [
                "triggers.filter_groups[0][0].property",
                "steps[3].condition[0][0].property",
                "steps[3].no[0].condition[0][0].value",
                "steps[3].no[0].yes[0].list_id",
                "settings.suppression.list_ids[0]",
            ]
        );
        let problems: Vec<(String, String)> = publish_problems(&def, &cat)
            .into_iter()
            .map(|p| (p.field, p.card))
            .collect();
        let expect = [
            ("triggers.filter_groups[0][0].property", "trigger"),
            ("steps[1].subject", "step-1"),
            ("steps[3].condition[0][0].property", "step-3"),
            ("steps[3].no[0].condition[0][0].value", "step-3-no-0"),
            ("steps[3].no[0].yes[0].list_id", "step-3-no-0-yes-0"),
            ("settings.suppression.list_ids[0]", "settings"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(problems, expect);

        let mut cat = catalog();
        cat.properties.retain(|p| p.name != "renewal_date");
        let problems = publish_problems(&def, &cat);
        assert_eq!(
            (problems[0].field.as_str(), problems[0].card.as_str()),
            ("start.property", "start")
        );
    }

    #[test]
    fn errors_come_in_document_order() {
        let json = ex(&[
            ("/name", json!("")),
            ("/start/property", json!("date_of_birth")),
            ("/triggers/filter_groups/0/0/property", json!("nope")),
            ("/steps/0/time_of_day", json!("9")),
            ("/steps/3/value", json!(null)),
            ("/settings/time_zone", json!("Nowhere")),
        ]);
        let fields: Vec<String> = validate(&parsed(&json), &catalog())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "start.property",
                "triggers.filter_groups[0][0].property",
                "steps[0].time_of_day",
                "steps[3].value",
                "settings.time_zone"
            ]
        );
    }

    #[test]
    fn parse_errors_name_the_field() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!([1]), "definition", "expected an object"),
            (
                ex(&[("/recur_anually", json!(true))]),
                "recur_anually",
                "Unknown field \"recur_anually\"",
            ),
            (ex(&[("/name", json!(5))]), "name", "Invalid type"),
            (ex(&[("/name", json!("<remove>"))]), "name", "Is required"),
            (ex(&[("/start", json!("<remove>"))]), "start", "Is required"),
            (
                ex(&[("/start/type", json!("<remove>"))]),
                "start.type",
                "Is required",
            ),
            (
                ex(&[("/start/type", json!("sometime"))]),
                "start.type",
                "Unknown variant \"sometime\"",
            ),
            (
                ex(&[("/start", json!({"type": "specific_date"}))]),
                "start.date",
                "Is required",
            ),
            (
                ex(&[("/start", json!({"type": "specific_date", "date": 20240101}))]),
                "start.date",
                "Invalid type",
            ),
            (
                ex(&[("/start/extra", json!(1))]),
                "start.extra",
                "Unknown field",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/operator", json!("equals"))]),
                "triggers.filter_groups[0][0].operator",
                "Unknown variant \"equals\"",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/operator", json!("<remove>"))]),
                "triggers.filter_groups[0][0].operator",
                "Is required",
            ),
            (
                ex(&[("/triggers/filter_groups/0/0/negate", json!(true))]),
                "triggers.filter_groups[0][0].negate",
                "Unknown field",
            ),
            (
                ex(&[("/triggers/filter_groups/0", json!({"property": "x"}))]),
                "triggers.filter_groups[0]",
                "expected a list",
            ),
            (
                ex(&[("/triggers/groups", json!([]))]),
                "triggers.groups",
                "Unknown field",
            ),
            (
                ex(&[("/reenroll/on_properties", json!(["a", 3]))]),
                "reenroll.on_properties[1]",
                "Invalid type",
            ),
            (
                ex(&[("/steps/1/subjekt", json!("x"))]),
                "steps[1].subjekt",
                "Unknown field \"subjekt\", expected \"subject\" or \"body\"",
            ),
            (
                ex(&[("/steps/1/subject", json!("<remove>"))]),
                "steps[1].subject",
                "Is required",
            ),
            (
                ex(&[("/steps/1/type", json!("send_mail"))]),
                "steps[1].type",
                "Unknown variant \"send_mail\"",
            ),
            (
                ex(&[("/steps/1/type", json!("<remove>"))]),
                "steps[1].type",
                "Is required",
            ),
            (
                ex(&[("/steps/1/type", json!(3))]),
                "steps[1].type",
                "Must be a string",
            ),
            (
                ex(&[("/steps/1", json!("send_email"))]),
                "steps[1]",
                "Invalid type",
            ),
            (
                ex(&[("/steps/0/when", json!("sometimes"))]),
                "steps[0].when",
                "Unknown variant \"sometimes\"",
            ),
            (
                ex(&[("/steps/0/amount", json!("30"))]),
                "steps[0].amount",
                "expected a whole number (0 or more)",
            ),
            (
                ex(&[("/steps/0/amount", json!(-1))]),
                "steps[0].amount",
                "Invalid value",
            ),
            (
                ex(&[("/steps/0/unit", json!("months"))]),
                "steps[0].unit",
                "Unknown variant \"months\"",
            ),
            (
                ex(&[("/steps/2/zone", json!("contact_tz"))]),
                "steps[2].zone",
                "Unknown variant",
            ),
            (
                ex(&[("/steps/3/value", json!("<remove>"))]),
                "steps[3].value",
                "Is required",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/condition/0/0/operator", json!("<remove>")),
                ]),
                "steps[3].condition[0][0].operator",
                "Is required",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/yes/0/list_id", json!("two")),
                ]),
                "steps[3].no[0].yes[0].list_id",
                "expected a whole number",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/yes/0/colour", json!("red")),
                ]),
                "steps[3].no[0].yes[0].colour",
                "Unknown field",
            ),
            (
                ex(&[
                    ("/steps/3", a_branch()),
                    ("/steps/3/no/0/condition", json!("<remove>")),
                ]),
                "steps[3].no[0].condition",
                "Is required",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "adjust_property", "property": "score", "amount": "1"}),
                )]),
                "steps[3].amount",
                "expected a number",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "delay_until", "days": ["mon", "xyz"], "time_of_day": "09:00"}),
                )]),
                "steps[3].days[1]",
                "Unknown variant \"xyz\"",
            ),
            (
                ex(&[(
                    "/steps/3",
                    json!({"type": "internal_notification", "message": "m", "recipients": "ops@example.com"}),
                )]),
                "steps[3].recipients",
                "expected a list",
            ),
            (
                ex(&[("/settings/catch_up_hours", json!("x"))]),
                "settings.catch_up_hours",
                "Invalid type",
            ),
            (
                ex(&[("/settings/feb29", json!("feb30"))]),
                "settings.feb29",
                "Unknown variant",
            ),
            (
                ex(&[("/settings/execution_window/days/1", json!("tues"))]),
                "settings.execution_window.days[1]",
                "Unknown variant \"tues\"",
            ),
            (
                ex(&[("/settings/execution_window/start", json!("<remove>"))]),
                "settings.execution_window.start",
                "Is required",
            ),
            (
                ex(&[("/settings/execution_window", json!(true))]),
                "settings.execution_window",
                "expected an object",
            ),
            (
                ex(&[("/settings/suppression/list_ids", json!(["a"]))]),
                "settings.suppression.list_ids[0]",
                "Invalid type",
            ),
            (
                ex(&[(
                    "/settings/suppression/filter_groups",
                    json!([[{"operator": "in"}]]),
                )]),
                "settings.suppression.filter_groups[0][0].operator",
                "Unknown variant",
            ),
            (
                ex(&[("/settings/unenroll_from_workflows", json!([1.5]))]),
                "settings.unenroll_from_workflows[0]",
                "Invalid type",
            ),
            (
                ex(&[("/settings/notifications", json!({"recipients": [1]}))]),
                "settings.notifications.recipients[0]",
                "Invalid type",
            ),
            (
                ex(&[("/settings/notifications", json!({"on_review": true}))]),
                "settings.notifications.on_review",
                "Unknown field",
            ),
            (
                ex(&[("/settings/timezone", json!("UTC"))]),
                "settings.timezone",
                "Unknown field",
            ),
            (
                ex(&[("/settings", json!(null))]),
                "settings",
                "Invalid type",
            ),
        ];
        for (json, field, fragment) in cases {
            let err = parse_definition(&json).expect_err(field);
            assert_eq!(err.field, field, "{err:?}");
            assert!(
                err.message.contains(fragment),
                "{field}: {:?} lacks {fragment:?}",
                err.message
            );
        }
        assert!(parse_definition(&example()).is_ok());
        assert!(parse_definition(&blank()).is_ok());
    }

    #[test]
    fn times_of_day_are_strict() {
        for (s, ok) in [
            ("09:00", true),
            ("00:00", true),
            ("23:59", true),
            ("9:00", false),
            ("09:0", false),
            ("24:00", false),
            ("12:60", false),
            ("09:00:00", true),
            ("09:00:60", false),
            ("09.00", false),
            ("+9:00", false),
            ("", false),
            ("١٢:٠٠", false),
        ] {
            assert_eq!(parse_time_of_day(s).is_some(), ok, "{s}");
        }
        assert_eq!(parse_time_of_day("07:05"), NaiveTime::from_hms_opt(7, 5, 0));
    }

    #[test]
    fn webhook_urls_are_checked_minimally() {
        for (url, ok) in [
            ("https://example.com", true),
            ("https://example.com/", true),
            ("http://localhost:8080/hook", true),
            ("https://user:pw@example.com/x", true),
            ("https://[2001:db8::1]/x", true),
            ("https://hooks.example.com/a?b=c#d", true),
            ("HTTPS://EXAMPLE.COM", true),
            ("ftp://example.com", false),
            ("mailto:a@b.c", false),
            ("https:/example.com", false),
            ("https://", false),
            ("https:///path", false),
            ("https://:80/", false),
            ("https://example.com:0/", false),
            ("https://example.com:/", false),
            ("https://example.com:65536/", false),
            ("https://exa mple.com", false),
            ("https://example.com/\n", false),
            ("https://[zz::1]/", false),
            ("https://[::1/", false),
        ] {
            assert_eq!(
                check_http_url(url).is_ok(),
                ok,
                "{url}: {:?}",
                check_http_url(url)
            );
        }
    }
}
