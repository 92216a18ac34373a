//! A workflow definition in words, for people: trigger filter groups, the date, each delay and
//! action, and the settings. Used by Review and publish, Test and History.

use std::collections::HashMap;

use crate::db::DbConnection;
use serde_json::Value;

use crate::db::models::list::List;
use crate::db::models::workflow::Workflow;
use crate::domain::definition::{
    DateUnit, Definition, EventTrigger, Feb29Rule, Filter, Operator, Settings, Start, Step,
    TimeUnit, When, ZoneChoice, DEFAULT_TIME_OF_DAY,
};
use crate::domain::values::FieldType;
use crate::services::contacts::Catalog;

/// Labels of properties, lists and workflows, loaded once per page.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// name → (label, type, dropdown options)
    pub properties: Vec<(String, String, FieldType, Vec<String>)>,
    pub lists: HashMap<i64, String>,
    pub workflows: HashMap<i64, String>,
}

impl Names {
    pub fn load(conn: &mut DbConnection) -> anyhow::Result<Names> {
        let catalog = Catalog::load(conn)?;
        Ok(Names {
            properties: catalog
                .properties
                .iter()
                .map(|p| (p.name.clone(), p.label.clone(), p.kind(), p.option_list()))
                .collect(),
            lists: List::all(conn)?
                .into_iter()
                .map(|(l, _)| (l.id, l.name))
                .collect(),
            workflows: Workflow::all(conn, None)?
                .into_iter()
                .map(|w| (w.id, w.name))
                .collect(),
        })
    }

    fn property(&self, name: &str) -> Option<&(String, String, FieldType, Vec<String>)> {
        self.properties.iter().find(|p| p.0 == name)
    }

    /// "Renewal date", or `“ghost” (deleted property)`.
    pub fn property_label(&self, name: &str) -> String {
        match self.property(name) {
            Some(p) => p.1.clone(),
            None => format!("“{name}” (deleted property)"),
        }
    }

    pub fn list_label(&self, id: i64) -> String {
        match self.lists.get(&id) {
            Some(n) => format!("“{n}”"),
            None => format!("{id} (deleted list)"),
        }
    }

    pub fn workflow_label(&self, id: i64) -> String {
        match self.workflows.get(&id) {
            Some(n) => format!("“{n}”"),
            None => format!("{id} (deleted workflow)"),
        }
    }
}

/// A filter operand as people read it: strings quoted, numbers and booleans plain.
fn operand(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(no value)".to_string(),
        Some(Value::String(s)) => format!("“{s}”"),
        Some(other) => other.to_string(),
    }
}

/// A value of a property as people read it: a dropdown option by its label ("Marketing
/// qualified lead", not `marketingqualifiedlead`), a checkbox as Yes/No, else [`operand`].
fn value_words(v: Option<&Value>, ft: Option<FieldType>) -> String {
    use crate::domain::labels::{bool_label, option_label};
    match (ft, v) {
        (Some(FieldType::Enum), Some(Value::String(s))) => format!("“{}”", option_label(s)),
        (Some(FieldType::Bool), Some(Value::Bool(b))) => {
            bool_label(if *b { "true" } else { "false" }).to_string()
        }
        (Some(FieldType::Bool), Some(Value::String(s))) => bool_label(s).to_string(),
        _ => operand(v),
    }
}

impl Names {
    /// The stored value of a property as people read it (dropdown labels, Yes/No).
    pub fn value_label(&self, property: &str, value: &str) -> String {
        match self.property(property).map(|p| p.2) {
            Some(FieldType::Enum) => crate::domain::labels::option_label(value),
            Some(FieldType::Bool) => crate::domain::labels::bool_label(value).to_string(),
            _ => value.to_string(),
        }
    }
}

/// What an operator reads like for a property of this type.
pub fn operator_words(op: Operator, ft: Option<FieldType>) -> &'static str {
    let datey = matches!(ft, Some(FieldType::Date | FieldType::Datetime));
    match op {
        Operator::Eq if datey => "is on",
        Operator::Eq => "is",
        Operator::Neq => "is not",
        Operator::Contains => "contains",
        Operator::Known => "is known",
        Operator::Unknown => "is unknown",
        Operator::Gt if datey => "is after",
        Operator::Gt => "is greater than",
        Operator::Lt if datey => "is before",
        Operator::Lt => "is less than",
        Operator::Before => "is before",
        Operator::After => "is after",
        Operator::InList => "is a member of list",
        Operator::WithinNextDays => "is within the next",
        Operator::WithinLastDays => "is within the last",
    }
}

/// Operator labels for a select that does not know the property's type.
pub fn operator_label(op: Operator) -> &'static str {
    match op {
        Operator::Eq => "is equal to",
        Operator::Neq => "is not equal to",
        Operator::Contains => "contains",
        Operator::Known => "is known (has any value)",
        Operator::Unknown => "is unknown (has no value)",
        Operator::Gt => "is greater than (numbers, dates)",
        Operator::Lt => "is less than (numbers, dates)",
        Operator::Before => "is before (dates)",
        Operator::After => "is after (dates)",
        Operator::InList => "is a member of list",
        Operator::WithinNextDays => "is within the next N days (dates)",
        Operator::WithinLastDays => "is within the last N days (dates)",
    }
}

/// `Lifecycle stage is “customer”`, `member of list “VIP”`.
pub fn filter_words(f: &Filter, names: &Names) -> String {
    if f.operator == Operator::InList {
        let id = match &f.value {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        return match id {
            Some(id) => format!("member of list {}", names.list_label(id)),
            None => format!("member of list {}", operand(f.value.as_ref())),
        };
    }
    let name = f.property.as_deref().unwrap_or("");
    let (ft, label) = if name.starts_with(crate::domain::events::EVENT_PREFIX) {
        // A property of the event itself (event triggers' refinement filters).
        (None, name.to_string())
    } else {
        (
            names.property(name).map(|p| p.2),
            names.property_label(name),
        )
    };
    if f.operator.is_within() {
        let year = if f.ignore_year {
            " (ignoring the year)"
        } else {
            ""
        };
        let n = match &f.value {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            _ => "…".to_string(),
        };
        return format!("{label} {} {n} days{year}", operator_words(f.operator, ft));
    }
    if f.operator.takes_value() {
        format!(
            "{label} {} {}",
            operator_words(f.operator, ft),
            value_words(f.value.as_ref(), ft)
        )
    } else {
        format!("{label} {}", operator_words(f.operator, ft))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One line per group: the filters of a group joined by "and" (groups are OR-ed).
pub fn groups_words(groups: &[Vec<Filter>], names: &Names) -> Vec<String> {
    groups
        .iter()
        .map(|g| {
            if g.is_empty() {
                "(empty group)".to_string()
            } else {
                capitalise(
                    &g.iter()
                        .map(|f| filter_words(f, names))
                        .collect::<Vec<_>>()
                        .join(" and "),
                )
            }
        })
        .collect()
}

/// An event trigger: `When “Contact created” occurs and Lifecycle stage is “lead”`.
pub fn event_trigger_words(t: &EventTrigger, names: &Names) -> String {
    let event = match crate::domain::events::BUILTIN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&t.name))
    {
        Some((_, label)) => format!("“{}”", label.split(" (").next().unwrap_or(label)),
        None => format!("the custom event “{}”", t.name),
    };
    let mut out = format!("When {event} occurs");
    for f in &t.filters {
        out.push_str(" and ");
        out.push_str(&filter_words(f, names));
    }
    out
}

/// What the schedule is centred on, as a noun phrase: "Renewal date", "the date of event
/// (2026-05-01)".
pub fn date_subject(def: &Definition, names: &Names) -> String {
    match &def.start {
        Start::Blank => "the date".to_string(),
        Start::SpecificDate { date } => format!("the date of event ({date})"),
        Start::ContactDateProperty { property } => names.property_label(property),
    }
}

/// A description of the start: "Contact date property: Renewal date".
pub fn start_words(def: &Definition, names: &Names) -> String {
    match &def.start {
        Start::Blank => "Blank: no date; steps run one after the other from enrollment".into(),
        Start::SpecificDate { date } => format!("Specific date: {date}"),
        Start::ContactDateProperty { property } => format!(
            "Contact date property: {} ({property})",
            names.property_label(property)
        ),
    }
}

fn hhmm(t: &str) -> &str {
    t.get(..5).unwrap_or(t)
}

fn amount_unit(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// What a step type is called in menus and history: "Send email".
pub fn step_type_label(type_name: &str) -> &'static str {
    match type_name {
        "date_delay" => "Date delay",
        "delay" => "Delay",
        "delay_until" => "Delay until a day",
        "set_property" => "Set property value",
        "copy_property" => "Copy property value",
        "clear_property" => "Clear property value",
        "adjust_property" => "Increase or decrease a number",
        "send_email" => "Send email",
        "internal_notification" => "Internal notification",
        "create_task" => "Create task",
        "add_to_list" => "Add to static list",
        "remove_from_list" => "Remove from static list",
        "webhook" => "Webhook",
        "branch" => "If/then branch",
        "enroll_in_workflow" => "Enroll in another workflow",
        "unenroll_from_workflow" => "Unenroll from another workflow",
        "wait_until" => "Wait until",
        "random_split" => "Random split",
        _ => "Step",
    }
}

/// One step in words (a branch's own line; its paths are separate lines, see [`step_lines`]).
pub fn step_words(step: &Step, def: &Definition, names: &Names, tz_name: &str) -> String {
    match step {
        Step::DateDelay {
            when,
            amount,
            unit,
            time_of_day,
            zone,
        } => {
            let subject = date_subject(def, names);
            let time = hhmm(time_of_day.as_deref().unwrap_or(DEFAULT_TIME_OF_DAY));
            let zone = match zone {
                Some(ZoneChoice::Contact) => {
                    format!("the contact's time zone, else {tz_name}")
                }
                _ => tz_name.to_string(),
            };
            let n = amount.unwrap_or(0);
            let span = match unit.unwrap_or(DateUnit::Days) {
                DateUnit::Days => amount_unit(n, "day", "days"),
                DateUnit::Weeks => amount_unit(n, "week", "weeks"),
            };
            let day = match when {
                When::On => format!("On {subject}"),
                When::Before if n == 0 => format!("On {subject}"),
                When::After if n == 0 => format!("On {subject}"),
                When::Before => format!("{span} before {subject}"),
                When::After => format!("{span} after {subject}"),
            };
            let repeat = if def.recur_annually {
                ", every year"
            } else {
                ""
            };
            format!("{day} at {time} ({zone}){repeat}")
        }
        Step::Delay { amount, unit } => {
            let span = match unit {
                TimeUnit::Minutes => amount_unit(*amount, "minute", "minutes"),
                TimeUnit::Hours => amount_unit(*amount, "hour", "hours"),
                TimeUnit::Days => amount_unit(*amount, "day", "days"),
                TimeUnit::Weeks => amount_unit(*amount, "week", "weeks"),
            };
            format!("Wait {span}")
        }
        Step::DelayUntil { days, time_of_day } => {
            let days = days
                .iter()
                .map(|d| d.label())
                .collect::<Vec<_>>()
                .join(" or ");
            format!(
                "Wait until the next {days} at {} ({tz_name})",
                hhmm(time_of_day)
            )
        }
        Step::SetProperty { property, value } => format!(
            "Set {} to {}",
            names.property_label(property),
            value_words(Some(value), names.property(property).map(|p| p.2))
        ),
        Step::CopyProperty { from, to } => format!(
            "Copy {} to {}",
            names.property_label(from),
            names.property_label(to)
        ),
        Step::ClearProperty { property } => {
            format!("Clear {}", names.property_label(property))
        }
        Step::AdjustProperty { property, amount } => {
            if *amount < 0.0 {
                format!(
                    "Decrease {} by {}",
                    names.property_label(property),
                    number(-amount)
                )
            } else {
                format!(
                    "Increase {} by {}",
                    names.property_label(property),
                    number(*amount)
                )
            }
        }
        Step::SendEmail { subject, .. } => {
            if subject.trim().is_empty() {
                "Send email (no subject yet)".to_string()
            } else {
                format!("Send email “{subject}”")
            }
        }
        Step::InternalNotification {
            message,
            recipients,
        } => {
            let to = if recipients.is_empty() {
                "to the Inbox".to_string()
            } else {
                format!("to the Inbox and {}", recipients.join(", "))
            };
            format!("Send internal notification “{message}” {to}")
        }
        Step::CreateTask {
            title, due_in_days, ..
        } => match due_in_days {
            Some(d) => format!(
                "Create task “{title}”, due in {}",
                amount_unit(*d, "day", "days")
            ),
            None => format!("Create task “{title}”"),
        },
        Step::AddToList { list_id } => format!("Add to list {}", names.list_label(*list_id)),
        Step::RemoveFromList { list_id } => {
            format!("Remove from list {}", names.list_label(*list_id))
        }
        Step::Webhook { url, secret } => {
            let url = if url.trim().is_empty() {
                "(no URL yet)"
            } else {
                url.as_str()
            };
            if secret.as_deref().is_some_and(|s| !s.is_empty()) {
                format!("Send a signed webhook to {url}")
            } else {
                format!("Send a webhook to {url}")
            }
        }
        Step::Branch { condition, .. } => {
            let cond = groups_words(condition, names);
            if cond.is_empty() {
                "If/then branch (no condition yet)".to_string()
            } else {
                format!("If {}", cond.join(", or "))
            }
        }
        Step::EnrollInWorkflow { workflow_id } => {
            format!("Enroll in workflow {}", names.workflow_label(*workflow_id))
        }
        Step::UnenrollFromWorkflow { workflow_id } => {
            format!(
                "Unenroll from workflow {}",
                names.workflow_label(*workflow_id)
            )
        }
        Step::WaitUntil {
            condition,
            event,
            timeout,
            ..
        } => {
            let cond = groups_words(condition, names);
            let mut what = Vec::new();
            if !cond.is_empty() {
                what.push(cond.join(", or "));
            }
            if let Some(e) = event.as_deref().filter(|e| !e.trim().is_empty()) {
                what.push(format!("the event “{e}” happens"));
            }
            let what = if what.is_empty() {
                "(nothing chosen yet)".to_string()
            } else {
                what.join(", or ")
            };
            format!(
                "Wait until {what}, at most {}",
                timeout_words(timeout.amount, timeout.unit)
            )
        }
        Step::RandomSplit {
            paths,
            holdout_percent,
        } => {
            let mut parts: Vec<String> = paths
                .iter()
                .map(|p| format!("{} {}%", p.name, p.percent))
                .collect();
            if *holdout_percent > 0 {
                parts.push(format!("holdout {holdout_percent}% (gets nothing)"));
            }
            format!("Random split: {}", parts.join(", "))
        }
    }
}

fn timeout_words(n: u32, unit: crate::domain::definition::TimeUnit) -> String {
    use crate::domain::definition::TimeUnit;
    match unit {
        TimeUnit::Minutes => amount_unit(n, "minute", "minutes"),
        TimeUnit::Hours => amount_unit(n, "hour", "hours"),
        TimeUnit::Days => amount_unit(n, "day", "days"),
        TimeUnit::Weeks => amount_unit(n, "week", "weeks"),
    }
}

/// One line of the flattened step list.
#[derive(Debug, Clone)]
pub struct StepLine {
    /// "1", "4 › yes › 1"
    pub number: String,
    pub text: String,
    /// The editor card anchor (`step-3`, `step-3-yes-0`).
    pub card: String,
    pub depth: usize,
    pub is_delay: bool,
    /// "If yes:" / "If no:" headings inside a branch (no step of their own).
    pub heading: bool,
}

/// Every step in words, branches flattened with their paths indented.
pub fn step_lines(def: &Definition, names: &Names, tz_name: &str) -> Vec<StepLine> {
    let mut out = Vec::new();
    walk(&def.steps, def, names, tz_name, "", "step", 0, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(
    steps: &[Step],
    def: &Definition,
    names: &Names,
    tz_name: &str,
    number_prefix: &str,
    card_prefix: &str,
    depth: usize,
    out: &mut Vec<StepLine>,
) {
    for (i, step) in steps.iter().enumerate() {
        let number = format!("{number_prefix}{}", i + 1);
        let card = format!("{card_prefix}-{i}");
        out.push(StepLine {
            number: number.clone(),
            text: step_words(step, def, names, tz_name),
            card: card.clone(),
            depth,
            is_delay: step.is_delay(),
            heading: false,
        });
        for (path, steps) in step.arms() {
            let label = crate::domain::paths::arm_label(step, &path);
            {
                out.push(StepLine {
                    number: String::new(),
                    text: if steps.is_empty() {
                        format!("If {label}: nothing (the contact goes on)")
                    } else {
                        format!("If {label}:")
                    },
                    card: card.clone(),
                    depth: depth + 1,
                    is_delay: false,
                    heading: true,
                });
                walk(
                    steps,
                    def,
                    names,
                    tz_name,
                    &format!("{number} › {path} › "),
                    &format!("{card}-{path}"),
                    depth + 1,
                    out,
                );
            }
        }
    }
}

/// A history event's step path ("3/yes/0") as people count it ("4 › yes › 1").
pub fn step_path_label(path: &str) -> String {
    path.split('/')
        .map(|part| match part.parse::<usize>() {
            Ok(n) => (n + 1).to_string(),
            Err(_) => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

/// The step at a path ("3/yes/0") of a step list.
pub fn step_at<'a>(steps: &'a [Step], path: &str) -> Option<&'a Step> {
    crate::domain::paths::step_at(steps, path)
}

/// "Monday–Friday" for consecutive days, else "Monday, Wednesday".
fn days_words(days: &[crate::domain::definition::Weekday]) -> String {
    use crate::domain::definition::Weekday;
    let idx: Vec<usize> = Weekday::ALL
        .iter()
        .enumerate()
        .filter(|(_, d)| days.contains(d))
        .map(|(i, _)| i)
        .collect();
    if idx.len() == 7 {
        return "every day".to_string();
    }
    let consecutive = idx.len() > 2 && idx.windows(2).all(|w| w[1] == w[0] + 1);
    if consecutive {
        format!(
            "{}–{}",
            Weekday::ALL[idx[0]].label(),
            Weekday::ALL[idx[idx.len() - 1]].label()
        )
    } else {
        idx.iter()
            .map(|i| Weekday::ALL[*i].label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The settings as (label, value) lines.
pub fn settings_lines(
    s: &Settings,
    recurring: bool,
    account_tz: &str,
    names: &Names,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    out.push((
        "Time zone".into(),
        match &s.time_zone {
            Some(z) => z.clone(),
            None => format!("the account time zone ({account_tz})"),
        },
    ));
    out.push((
        "Actions may execute".into(),
        match &s.execution_window {
            None => "any day, at any time".into(),
            Some(w) => format!(
                "{}, {}–{}",
                days_words(&w.days),
                hhmm(&w.start),
                hhmm(&w.end)
            ),
        },
    ));
    out.push((
        "Pause dates".into(),
        if s.pause_dates.is_empty() {
            "none".into()
        } else {
            s.pause_dates.join(", ")
        },
    ));
    if recurring {
        out.push((
            "29 February in other years".into(),
            match s.feb29 {
                Feb29Rule::Feb28 => "28 February".into(),
                Feb29Rule::Mar1 => "1 March".into(),
            },
        ));
    }
    out.push((
        "Catch-up limit".into(),
        format!(
            "{} (an action overdue longer is skipped)",
            amount_unit(s.catch_up_hours, "hour", "hours")
        ),
    ));
    out.push((
        "Unenroll when criteria are no longer met".into(),
        if s.unenroll_when_unmet { "yes" } else { "no" }.into(),
    ));
    let mut sup: Vec<String> = groups_words(&s.suppression.filter_groups, names);
    sup.extend(
        s.suppression
            .list_ids
            .iter()
            .map(|l| format!("in list {}", names.list_label(*l))),
    );
    out.push((
        "Suppressed (never enrolled)".into(),
        if sup.is_empty() {
            "nobody".into()
        } else {
            sup.join("; or ")
        },
    ));
    if !s.unenroll_from_workflows.is_empty() {
        out.push((
            "When enrolled here, unenroll from".into(),
            s.unenroll_from_workflows
                .iter()
                .map(|w| names.workflow_label(*w))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(c) = s.campaign.as_deref().filter(|c| !c.trim().is_empty()) {
        out.push(("Campaign".into(), c.to_string()));
    }
    if let Some(p) = &s.pacing {
        out.push((
            "Email pacing".into(),
            format!(
                "this workflow's own: {}",
                crate::web::pacing_form::pacing_words(Some(p))
            ),
        ));
    }
    let n = &s.notifications;
    let mut notes = Vec::new();
    if n.on_review_needed {
        notes.push("when the workflow needs review".to_string());
    }
    if let Some(p) = n.enrollment_change_percent {
        notes.push(format!(
            "when enrollment changes by more than {p}% in a day"
        ));
    }
    out.push((
        "Notifications".into(),
        if notes.is_empty() {
            "none".into()
        } else if n.recipients.is_empty() {
            format!("{} (to the Inbox)", notes.join("; "))
        } else {
            format!(
                "{} (to the Inbox and {})",
                notes.join("; "),
                n.recipients.join(", ")
            )
        },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        Names {
            properties: vec![
                (
                    "renewal_date".into(),
                    "Renewal date".into(),
                    FieldType::Date,
                    vec![],
                ),
                (
                    "lifecyclestage".into(),
                    "Lifecycle stage".into(),
                    FieldType::Enum,
                    vec!["customer".into(), "marketingqualifiedlead".into()],
                ),
            ],
            lists: [(4, "VIP".to_string())].into_iter().collect(),
            workflows: HashMap::new(),
        }
    }

    fn def() -> Definition {
        serde_json::from_value(json!({ "name": "Renewal reminder",
          "start": { "type": "contact_date_property", "property": "renewal_date" },
          "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" },
                                            { "operator": "in_list", "value": 4 }]] },
          "steps": [
            { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
            { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi" },
            { "type": "branch", "condition": [[{ "property": "renewal_date", "operator": "known" }]],
              "yes": [{ "type": "clear_property", "property": "renewal_date" }] } ] }))
        .unwrap()
    }

    #[test]
    fn steps_read_as_sentences() {
        let lines = step_lines(&def(), &names(), "Europe/Oslo");
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "30 days before Renewal date at 09:00 (Europe/Oslo)",
                "Send email “Renewal in 30 days”",
                "If Renewal date is known",
                "If yes:",
                "Clear Renewal date",
                "If no: nothing (the contact goes on)",
            ]
        );
        assert_eq!(lines[4].number, "3 › yes › 1");
        assert_eq!(lines[4].card, "step-2-yes-0");
    }

    #[test]
    fn triggers_read_as_sentences() {
        let d = def();
        assert_eq!(
            groups_words(&d.triggers.filter_groups, &names()),
            ["Lifecycle stage is “Customer” and member of list “VIP”"]
        );
    }

    #[test]
    fn event_triggers_read_as_sentences() {
        let t: EventTrigger = serde_json::from_value(json!({ "name": "contact_created",
            "filters": [{ "property": "event.amount", "operator": "gt", "value": 100 }] }))
        .unwrap();
        assert_eq!(
            event_trigger_words(&t, &names()),
            "When “Contact created” occurs and event.amount is greater than 100"
        );
        let t: EventTrigger = serde_json::from_value(json!({ "name": "demo_booked" })).unwrap();
        assert_eq!(
            event_trigger_words(&t, &names()),
            "When the custom event “demo_booked” occurs"
        );
    }

    #[test]
    fn step_paths_count_from_one() {
        assert_eq!(step_path_label("3/yes/0"), "4 › yes › 1");
        let d = def();
        assert_eq!(
            step_at(&d.steps, "2/yes/0").map(|s| s.type_name()),
            Some("clear_property")
        );
        assert!(step_at(&d.steps, "2/no/0").is_none());
        assert!(step_at(&d.steps, "x").is_none());
    }
}
