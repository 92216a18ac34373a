//! Step panels: which step types there are, a step as form values and back, and the words on
//! each card.
//!
//! Form convention (one step per form, flat names): `when`, `amount`, `unit`, `time_of_day`,
//! `zone_contact` (date delay); `amount`, `unit` (delay); `days` (repeated), `time_of_day`
//! (delay until); `property`, `value`; `from`, `to`; `direction` (increase|decrease) and
//! `amount` (adjust); `subject`, `body`; `message`, `recipients` (comma- or line-separated);
//! `title`, `notes`, `due_in_days`; `list_id`; `url`, `secret`; `workflow_id`; and the filter
//! groups of `forms_filters` for a branch's conditions.

use super::forms_common::{strip_path, without_index, FormValues, Lookups, MappedErrors};
use super::forms_filters::{self, describe, Converted};
use crate::domain::definition::{
    DateUnit, Start, Step, TimeUnit, Weekday, When, ZoneChoice, DEFAULT_TIME_OF_DAY,
};
use crate::domain::errors::FieldError;
use crate::domain::values::FieldType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Avail {
    Any,
    DateCentred,
    Blank,
}

#[derive(Debug, Clone, Copy)]
pub struct StepType {
    pub name: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub help: &'static str,
    pub avail: Avail,
}

pub const STEP_TYPES: [StepType; 16] = [
    StepType {
        name: "date_delay",
        label: "Date delay",
        group: "Delays",
        help: "Wait until a day on, before or after the date, at a time of day.",
        avail: Avail::DateCentred,
    },
    StepType {
        name: "delay",
        label: "Delay for a set amount of time",
        group: "Delays",
        help: "Wait minutes, hours, days or weeks.",
        avail: Avail::Blank,
    },
    StepType {
        name: "delay_until",
        label: "Delay until a day of the week",
        group: "Delays",
        help: "Wait until the next chosen weekday at a time of day.",
        avail: Avail::Blank,
    },
    StepType {
        name: "set_property",
        label: "Set property value",
        group: "Contact properties",
        help: "Give a contact property a value.",
        avail: Avail::Any,
    },
    StepType {
        name: "copy_property",
        label: "Copy property value",
        group: "Contact properties",
        help: "Copy one property's value into another.",
        avail: Avail::Any,
    },
    StepType {
        name: "clear_property",
        label: "Clear property value",
        group: "Contact properties",
        help: "Remove a property's value.",
        avail: Avail::Any,
    },
    StepType {
        name: "adjust_property",
        label: "Increase or decrease a number",
        group: "Contact properties",
        help: "Add to or subtract from a number property.",
        avail: Avail::Any,
    },
    StepType {
        name: "send_email",
        label: "Send email",
        group: "Communication",
        help: "Email the contact, personalised with their properties.",
        avail: Avail::Any,
    },
    StepType {
        name: "internal_notification",
        label: "Send internal notification",
        group: "Communication",
        help: "Tell your team in the in-app inbox and/or by email.",
        avail: Avail::Any,
    },
    StepType {
        name: "create_task",
        label: "Create task",
        group: "Communication",
        help: "Add a task to the Tasks page.",
        avail: Avail::Any,
    },
    StepType {
        name: "add_to_list",
        label: "Add to static list",
        group: "Lists",
        help: "Add the contact to a static list.",
        avail: Avail::Any,
    },
    StepType {
        name: "remove_from_list",
        label: "Remove from static list",
        group: "Lists",
        help: "Remove the contact from a static list.",
        avail: Avail::Any,
    },
    StepType {
        name: "enroll_in_workflow",
        label: "Enroll in another workflow",
        group: "Workflows",
        help: "Enroll the contact in another workflow.",
        avail: Avail::Any,
    },
    StepType {
        name: "unenroll_from_workflow",
        label: "Unenroll from another workflow",
        group: "Workflows",
        help: "End the contact's enrollment in another workflow.",
        avail: Avail::Any,
    },
    StepType {
        name: "branch",
        label: "If/then branch",
        group: "Logic and integrations",
        help: "Split contacts into a Yes and a No path by their properties or lists.",
        avail: Avail::Any,
    },
    StepType {
        name: "webhook",
        label: "Send a webhook",
        group: "Logic and integrations",
        help: "POST the contact as signed JSON to a URL.",
        avail: Avail::Any,
    },
];

pub fn step_type(name: &str) -> Option<&'static StepType> {
    STEP_TYPES.iter().find(|t| t.name == name)
}

impl StepType {
    pub fn available(&self, date_centred: bool) -> bool {
        match self.avail {
            Avail::Any => true,
            Avail::DateCentred => date_centred,
            Avail::Blank => !date_centred,
        }
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.as_str() == s)
}

fn date_unit_str(u: Option<DateUnit>) -> &'static str {
    match u {
        Some(DateUnit::Weeks) => "weeks",
        _ => "days",
    }
}

fn time_unit_str(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::Minutes => "minutes",
        TimeUnit::Hours => "hours",
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    }
}

fn when_str(w: When) -> &'static str {
    match w {
        When::On => "on",
        When::Before => "before",
        When::After => "after",
    }
}

/// A number as people type it: `5`, `2.5` (no trailing `.0`).
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The inputs of a new step of `type_name` before the user changes anything.
pub fn defaults(type_name: &str) -> FormValues {
    let mut v = FormValues::default();
    v.set("type", type_name);
    match type_name {
        "date_delay" => {
            v.set("when", "on");
            v.set("amount", "");
            v.set("unit", "days");
            v.set("time_of_day", DEFAULT_TIME_OF_DAY);
        }
        "delay" => {
            v.set("amount", "1");
            v.set("unit", "days");
        }
        "delay_until" => {
            v.set("days", "mon");
            v.set("time_of_day", DEFAULT_TIME_OF_DAY);
        }
        "adjust_property" => {
            v.set("direction", "increase");
            v.set("amount", "1");
        }
        _ => {}
    }
    v
}

/// A stored step as the inputs of its panel.
pub fn to_form(step: &Step) -> FormValues {
    let mut v = FormValues::default();
    v.set("type", step.type_name());
    match step {
        Step::DateDelay {
            when,
            amount,
            unit,
            time_of_day,
            zone,
        } => {
            v.set("when", when_str(*when));
            v.set("amount", amount.map(|a| a.to_string()).unwrap_or_default());
            v.set("unit", date_unit_str(*unit));
            v.set(
                "time_of_day",
                time_of_day.as_deref().unwrap_or(DEFAULT_TIME_OF_DAY),
            );
            if *zone == Some(ZoneChoice::Contact) {
                v.set("zone_contact", "1");
            }
        }
        Step::Delay { amount, unit } => {
            v.set("amount", amount.to_string());
            v.set("unit", time_unit_str(*unit));
        }
        Step::DelayUntil { days, time_of_day } => {
            for d in days {
                v.push("days", d.as_str());
            }
            v.set("time_of_day", time_of_day.clone());
        }
        Step::SetProperty { property, value } => {
            v.set("property", property.clone());
            v.set("value", forms_filters::value_text(Some(value)));
        }
        Step::CopyProperty { from, to } => {
            v.set("from", from.clone());
            v.set("to", to.clone());
        }
        Step::ClearProperty { property } => v.set("property", property.clone()),
        Step::AdjustProperty { property, amount } => {
            v.set("property", property.clone());
            v.set(
                "direction",
                if *amount < 0.0 {
                    "decrease"
                } else {
                    "increase"
                },
            );
            v.set("amount", number_text(amount.abs()));
        }
        Step::SendEmail { subject, body } => {
            v.set("subject", subject.clone());
            v.set("body", body.clone());
        }
        Step::InternalNotification {
            message,
            recipients,
        } => {
            v.set("message", message.clone());
            v.set("recipients", recipients.join(", "));
        }
        Step::CreateTask {
            title,
            notes,
            due_in_days,
        } => {
            v.set("title", title.clone());
            v.set("notes", notes.clone().unwrap_or_default());
            v.set(
                "due_in_days",
                due_in_days.map(|d| d.to_string()).unwrap_or_default(),
            );
        }
        Step::AddToList { list_id } | Step::RemoveFromList { list_id } => {
            v.set("list_id", list_id.to_string())
        }
        Step::Webhook { url, secret } => {
            v.set("url", url.clone());
            v.set("secret", secret.clone().unwrap_or_default());
        }
        Step::Branch { .. } => {}
        Step::EnrollInWorkflow { workflow_id } | Step::UnenrollFromWorkflow { workflow_id } => {
            v.set("workflow_id", workflow_id.to_string())
        }
    }
    v
}

/// The step the form describes, or the problems reading it (by input name). `existing` is the
/// step being edited: its branch paths are kept, and values typed unchanged keep their JSON.
pub struct Parsed {
    pub step: Option<Step>,
    pub errors: Vec<FieldError>,
    /// For a branch: which condition row each filter came from.
    pub condition: Option<Converted>,
}

fn err(errors: &mut Vec<FieldError>, field: &str, message: &str) {
    errors.push(FieldError::new(field, message));
}

fn whole_number(
    v: &FormValues,
    name: &str,
    errors: &mut Vec<FieldError>,
    missing: &str,
) -> Option<u32> {
    let t = v.trimmed(name);
    if t.is_empty() {
        err(errors, name, missing);
        return None;
    }
    match t.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            err(
                errors,
                name,
                &format!("\"{t}\" is not a whole number (0 or more)."),
            );
            None
        }
    }
}

fn id_choice(
    v: &FormValues,
    name: &str,
    errors: &mut Vec<FieldError>,
    missing: &str,
) -> Option<i64> {
    let t = v.trimmed(name);
    if t.is_empty() {
        err(errors, name, missing);
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            err(errors, name, missing);
            None
        }
    }
}

pub fn from_form(
    type_name: &str,
    v: &FormValues,
    lookups: &Lookups,
    existing: Option<&Step>,
) -> Parsed {
    let mut errors = Vec::new();
    let mut condition = None;
    let text = |name: &str| v.get(name).to_string();
    let step = match type_name {
        "date_delay" => {
            let when = match v.trimmed("when") {
                "on" => Some(When::On),
                "before" => Some(When::Before),
                "after" => Some(When::After),
                _ => {
                    err(&mut errors, "when", "Choose on, before or after the date.");
                    None
                }
            };
            let unit = match v.trimmed("unit") {
                "weeks" => DateUnit::Weeks,
                _ => DateUnit::Days,
            };
            let (old_time, old_zone, unit_was_implicit) = match existing {
                Some(Step::DateDelay {
                    time_of_day,
                    zone,
                    unit,
                    when,
                    ..
                }) => (
                    Some(time_of_day.clone()),
                    *zone,
                    unit.is_none() && *when != When::On,
                ),
                _ => (None, None, false),
            };
            let (amount, unit) = match when {
                Some(When::On) | None => (None, None),
                Some(_) => {
                    let amount =
                        whole_number(v, "amount", &mut errors, "Enter how many days or weeks.");
                    // A stored before/after without a unit means days; keep it absent.
                    let unit = if unit_was_implicit && unit == DateUnit::Days {
                        None
                    } else {
                        Some(unit)
                    };
                    (amount, unit)
                }
            };
            let typed = v.trimmed("time_of_day").to_string();
            let time_of_day = match old_time {
                Some(None) if typed == DEFAULT_TIME_OF_DAY || typed.is_empty() => None,
                _ if typed.is_empty() => None,
                _ => Some(typed),
            };
            let zone = if v.checked("zone_contact") {
                Some(ZoneChoice::Contact)
            } else if old_zone == Some(ZoneChoice::Workflow) {
                Some(ZoneChoice::Workflow)
            } else {
                None
            };
            when.map(|when| Step::DateDelay {
                when,
                amount,
                unit,
                time_of_day,
                zone,
            })
        }
        "delay" => {
            let amount = whole_number(v, "amount", &mut errors, "Enter how long to wait.");
            let unit = match v.trimmed("unit") {
                "minutes" => Some(TimeUnit::Minutes),
                "hours" => Some(TimeUnit::Hours),
                "days" => Some(TimeUnit::Days),
                "weeks" => Some(TimeUnit::Weeks),
                _ => {
                    err(&mut errors, "unit", "Choose minutes, hours, days or weeks.");
                    None
                }
            };
            match (amount, unit) {
                (Some(amount), Some(unit)) => Some(Step::Delay { amount, unit }),
                _ => None,
            }
        }
        "delay_until" => {
            let mut days = Vec::new();
            for d in v.all("days") {
                match weekday(d) {
                    Some(w) if !days.contains(&w) => days.push(w),
                    Some(_) => {}
                    None => err(&mut errors, "days", "Choose days of the week."),
                }
            }
            let time = v.trimmed("time_of_day");
            if time.is_empty() {
                err(&mut errors, "time_of_day", "Enter a time of day (HH:MM).");
            }
            Some(Step::DelayUntil {
                days,
                time_of_day: time.to_string(),
            })
        }
        "set_property" => {
            let property = v.trimmed("property").to_string();
            let ft = lookups.catalog.property(&property).map(|p| p.field_type);
            let original = match existing {
                Some(Step::SetProperty { property: p, value }) if *p == property => Some(value),
                _ => None,
            };
            let value = forms_filters::keep_or_convert(original, ft, v.get("value"));
            Some(Step::SetProperty { property, value })
        }
        "copy_property" => Some(Step::CopyProperty {
            from: v.trimmed("from").to_string(),
            to: v.trimmed("to").to_string(),
        }),
        "clear_property" => Some(Step::ClearProperty {
            property: v.trimmed("property").to_string(),
        }),
        "adjust_property" => {
            let t = v.trimmed("amount");
            let amount = match t.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Some(x),
                _ if t.is_empty() => {
                    err(
                        &mut errors,
                        "amount",
                        "Enter the amount to add or subtract.",
                    );
                    None
                }
                _ => {
                    err(
                        &mut errors,
                        "amount",
                        &format!("\"{t}\" is not a positive number."),
                    );
                    None
                }
            };
            let sign = if v.trimmed("direction") == "decrease" {
                -1.0
            } else {
                1.0
            };
            amount.map(|a| Step::AdjustProperty {
                property: v.trimmed("property").to_string(),
                amount: sign * a,
            })
        }
        "send_email" => Some(Step::SendEmail {
            subject: text("subject"),
            body: text("body"),
        }),
        "internal_notification" => Some(Step::InternalNotification {
            message: text("message"),
            recipients: v
                .get("recipients")
                .split([',', ';', '\n', '\r', ' ', '\t'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }),
        "create_task" => {
            let due = v.trimmed("due_in_days");
            let due_in_days = if due.is_empty() {
                None
            } else {
                whole_number(v, "due_in_days", &mut errors, "")
            };
            let notes = text("notes");
            Some(Step::CreateTask {
                title: text("title"),
                notes: Some(notes).filter(|n| !n.trim().is_empty()),
                due_in_days,
            })
        }
        "add_to_list" => id_choice(v, "list_id", &mut errors, "Choose a list.")
            .map(|list_id| Step::AddToList { list_id }),
        "remove_from_list" => id_choice(v, "list_id", &mut errors, "Choose a list.")
            .map(|list_id| Step::RemoveFromList { list_id }),
        "webhook" => {
            let secret = v.get("secret").to_string();
            Some(Step::Webhook {
                url: v.trimmed("url").to_string(),
                secret: Some(secret).filter(|s| !s.is_empty()),
            })
        }
        "branch" => {
            let (original, yes, no) = match existing {
                Some(Step::Branch { condition, yes, no }) => {
                    (condition.clone(), yes.clone(), no.clone())
                }
                _ => (Vec::new(), Vec::new(), Vec::new()),
            };
            let rows = forms_filters::rows_from_form(v);
            let c = forms_filters::to_filters(&rows, lookups, &original);
            errors.extend(c.errors.iter().cloned());
            let step = Step::Branch {
                condition: c.groups.clone(),
                yes,
                no,
            };
            condition = Some(c);
            Some(step)
        }
        "enroll_in_workflow" => id_choice(v, "workflow_id", &mut errors, "Choose a workflow.")
            .map(|workflow_id| Step::EnrollInWorkflow { workflow_id }),
        "unenroll_from_workflow" => id_choice(v, "workflow_id", &mut errors, "Choose a workflow.")
            .map(|workflow_id| Step::UnenrollFromWorkflow { workflow_id }),
        other => {
            err(
                &mut errors,
                "type",
                &format!("Unknown step type \"{other}\"."),
            );
            None
        }
    };
    Parsed {
        step: if errors.is_empty() { step } else { None },
        errors,
        condition,
    }
}

/// Splits validation errors into those of the step at `prefix` (renamed to its inputs) and the
/// rest.
pub fn map_errors(
    errors: &[FieldError],
    prefix: &str,
    condition: Option<&Converted>,
) -> MappedErrors {
    let mut out = MappedErrors::default();
    for e in errors {
        let Some(local) = strip_path(&e.field, prefix) else {
            out.elsewhere.push(e.clone());
            continue;
        };
        if local.is_empty() || local == "type" || local == "condition" {
            out.general.push(e.message.clone());
        } else if local.starts_with("yes[") || local.starts_with("no[") {
            out.elsewhere.push(e.clone());
        } else if let Some(rest) = local.strip_prefix("condition") {
            match condition.and_then(|c| c.input_for(rest)) {
                Some(input) => out.local.push(FieldError::new(input, e.message.clone())),
                None => out.general.push(e.message.clone()),
            }
        } else {
            let name = match without_index(local) {
                "zone" => "zone_contact",
                other => other,
            };
            out.local.push(FieldError::new(name, e.message.clone()));
        }
    }
    out
}

/// What a card shows: a title and a line or two.
pub struct Summary {
    pub title: String,
    pub lines: Vec<String>,
    /// delay | action | branch (card colour).
    pub kind: &'static str,
    pub icon: &'static str,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "the date", "24 December", "Renewal date".
pub fn anchor_words(start: &Start, lookups: &Lookups) -> String {
    match start {
        Start::Blank => "the date".into(),
        Start::SpecificDate { date } => date.clone(),
        Start::ContactDateProperty { property } => lookups.property_label(property),
    }
}

fn quote(s: &str) -> String {
    let s = s.trim();
    let short: String = s.chars().take(80).collect();
    if short.len() < s.len() {
        format!("“{short}…”")
    } else {
        format!("“{short}”")
    }
}

pub fn summarize(step: &Step, start: &Start, lookups: &Lookups, first_date_delay: bool) -> Summary {
    let action = |title: &str, lines: Vec<String>, icon| Summary {
        title: title.to_string(),
        lines,
        kind: "action",
        icon,
    };
    match step {
        Step::DateDelay {
            when,
            amount,
            unit,
            time_of_day,
            zone,
        } => {
            let anchor = anchor_words(start, lookups);
            let time = time_of_day.as_deref().unwrap_or(DEFAULT_TIME_OF_DAY);
            let n = u64::from(amount.unwrap_or(0));
            let span = match unit {
                Some(DateUnit::Weeks) => plural(n, "week", "weeks"),
                _ => plural(n, "day", "days"),
            };
            let mut line = match when {
                When::On => format!("On {anchor} at {time}"),
                When::Before => format!("{span} before {anchor} at {time}"),
                When::After => format!("{span} after {anchor} at {time}"),
            };
            if *zone == Some(ZoneChoice::Contact) {
                line.push_str(" (contact's time zone)");
            }
            Summary {
                title: if first_date_delay {
                    "Execute next action on…".into()
                } else {
                    "Date delay".into()
                },
                lines: vec![line],
                kind: "delay",
                icon: "◷",
            }
        }
        Step::Delay { amount, unit } => {
            let n = u64::from(*amount);
            let span = match unit {
                TimeUnit::Minutes => plural(n, "minute", "minutes"),
                TimeUnit::Hours => plural(n, "hour", "hours"),
                TimeUnit::Days => plural(n, "day", "days"),
                TimeUnit::Weeks => plural(n, "week", "weeks"),
            };
            Summary {
                title: "Delay".into(),
                lines: vec![format!("Wait {span}")],
                kind: "delay",
                icon: "◷",
            }
        }
        Step::DelayUntil { days, time_of_day } => {
            let names: Vec<&str> = days.iter().map(|d| &d.label()[..3]).collect();
            let which = if names.is_empty() {
                "any day".to_string()
            } else {
                names.join(", ")
            };
            Summary {
                title: "Delay until a day".into(),
                lines: vec![format!("Until {which} at {time_of_day}")],
                kind: "delay",
                icon: "◷",
            }
        }
        Step::SetProperty { property, value } => action(
            "Set property value",
            vec![format!(
                "Set {} to {}",
                lookups.property_label(property),
                quote(&forms_filters::value_text(Some(value)))
            )],
            "✎",
        ),
        Step::CopyProperty { from, to } => action(
            "Copy property value",
            vec![format!(
                "Copy {} to {}",
                lookups.property_label(from),
                lookups.property_label(to)
            )],
            "⧉",
        ),
        Step::ClearProperty { property } => action(
            "Clear property value",
            vec![format!("Clear {}", lookups.property_label(property))],
            "⌫",
        ),
        Step::AdjustProperty { property, amount } => action(
            if *amount < 0.0 {
                "Decrease a number"
            } else {
                "Increase a number"
            },
            vec![format!(
                "{} {} by {}",
                if *amount < 0.0 {
                    "Decrease"
                } else {
                    "Increase"
                },
                lookups.property_label(property),
                number_text(amount.abs())
            )],
            "±",
        ),
        Step::SendEmail { subject, .. } => action(
            "Send email",
            vec![if subject.trim().is_empty() {
                "No subject yet".to_string()
            } else {
                quote(subject)
            }],
            "✉",
        ),
        Step::InternalNotification {
            message,
            recipients,
        } => {
            let mut lines = vec![if message.trim().is_empty() {
                "No message yet".to_string()
            } else {
                quote(message)
            }];
            lines.push(if recipients.is_empty() {
                "In-app inbox".to_string()
            } else {
                format!("In-app inbox and {}", recipients.join(", "))
            });
            action("Internal notification", lines, "✦")
        }
        Step::CreateTask {
            title, due_in_days, ..
        } => {
            let mut lines = vec![if title.trim().is_empty() {
                "No title yet".to_string()
            } else {
                quote(title)
            }];
            if let Some(d) = due_in_days {
                lines.push(format!("Due in {}", plural(u64::from(*d), "day", "days")));
            }
            action("Create task", lines, "☑")
        }
        Step::AddToList { list_id } => action(
            "Add to static list",
            vec![format!("Add to “{}”", lookups.list_name(*list_id))],
            "☰",
        ),
        Step::RemoveFromList { list_id } => action(
            "Remove from static list",
            vec![format!("Remove from “{}”", lookups.list_name(*list_id))],
            "☰",
        ),
        Step::Webhook { url, .. } => action(
            "Send a webhook",
            vec![if url.trim().is_empty() {
                "No URL yet".to_string()
            } else {
                format!("POST {url}")
            }],
            "⇄",
        ),
        Step::Branch { condition, .. } => {
            let lines = if condition.is_empty() {
                vec!["No conditions yet".to_string()]
            } else {
                condition_lines(condition, lookups)
            };
            Summary {
                title: "If/then branch".into(),
                lines,
                kind: "branch",
                icon: "◇",
            }
        }
        Step::EnrollInWorkflow { workflow_id } => action(
            "Enroll in another workflow",
            vec![format!(
                "Enroll in “{}”",
                lookups.workflow_name(*workflow_id)
            )],
            "↪",
        ),
        Step::UnenrollFromWorkflow { workflow_id } => action(
            "Unenroll from another workflow",
            vec![format!(
                "Unenroll from “{}”",
                lookups.workflow_name(*workflow_id)
            )],
            "↩",
        ),
    }
}

/// Each group on a line: "A and B", then "or C".
pub fn condition_lines(
    groups: &[Vec<crate::domain::definition::Filter>],
    lookups: &Lookups,
) -> Vec<String> {
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let parts: Vec<String> = group.iter().map(|f| describe(f, lookups)).collect();
            let line = parts.join(" and ");
            if g == 0 {
                capitalize(&line)
            } else {
                format!("or {line}")
            }
        })
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The hint under a set-property value, by the property's type.
pub fn field_type_hint(ft: Option<FieldType>) -> &'static str {
    match ft {
        Some(FieldType::Number) => "A number, e.g. 42 or 3.5.",
        Some(FieldType::Date) => "A date, YYYY-MM-DD.",
        Some(FieldType::Datetime) => "A date and time, e.g. 2026-05-01T09:30:00Z.",
        Some(FieldType::Bool) => "true or false.",
        Some(FieldType::Enum) => "One of the property's options.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookups() -> Lookups {
        use crate::domain::filter::{Catalog, PropertyInfo};
        let prop = |id, name: &str, ft| PropertyInfo {
            id,
            name: name.into(),
            label: name.into(),
            field_type: ft,
            options: vec![],
        };
        Lookups {
            catalog: Catalog {
                properties: vec![
                    prop(1, "firstname", FieldType::Text),
                    prop(2, "score", FieldType::Number),
                ],
                list_ids: vec![7],
                workflow_ids: vec![3],
            },
            lists: vec![(7, "VIP".into())],
            workflows: vec![(3, "Other".into())],
        }
    }

    #[test]
    fn every_stored_step_round_trips_through_its_form() {
        let steps = json!([
            {"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00"},
            {"type": "date_delay", "when": "on", "time_of_day": "08:00", "zone": "contact"},
            {"type": "date_delay", "when": "after", "amount": 2},
            {"type": "delay", "amount": 3, "unit": "hours"},
            {"type": "delay_until", "days": ["mon", "fri"], "time_of_day": "10:30"},
            {"type": "set_property", "property": "score", "value": 5},
            {"type": "set_property", "property": "firstname", "value": "Ada"},
            {"type": "copy_property", "from": "firstname", "to": "score"},
            {"type": "clear_property", "property": "firstname"},
            {"type": "adjust_property", "property": "score", "amount": -2.5},
            {"type": "send_email", "subject": "Hi", "body": "Hi {{ contact.firstname }}"},
            {"type": "internal_notification", "message": "m", "recipients": ["a@b.co", "c@d.co"]},
            {"type": "create_task", "title": "Call", "notes": "n", "due_in_days": 3},
            {"type": "create_task", "title": "Call"},
            {"type": "add_to_list", "list_id": 7},
            {"type": "remove_from_list", "list_id": 7},
            {"type": "webhook", "url": "https://example.com/h", "secret": "s"},
            {"type": "branch", "condition": [[{"property": "score", "operator": "gt", "value": 3}]],
             "yes": [{"type": "clear_property", "property": "firstname"}], "no": []},
            {"type": "enroll_in_workflow", "workflow_id": 3},
            {"type": "unenroll_from_workflow", "workflow_id": 3}
        ]);
        let steps: Vec<Step> = serde_json::from_value(steps).unwrap();
        for step in &steps {
            let mut v = to_form(step);
            if let Step::Branch { condition, .. } = step {
                // The branch panel renders its conditions as filter rows.
                for g in forms_filters::rows_from_groups(condition) {
                    for r in g.rows {
                        v.push(&format!("{}_property", r.key), r.property);
                        v.push(&format!("{}_operator", r.key), r.operator);
                        v.push(&format!("{}_value", r.key), r.value);
                    }
                }
            }
            let parsed = from_form(step.type_name(), &v, &lookups(), Some(step));
            assert!(parsed.errors.is_empty(), "{step:?}: {:?}", parsed.errors);
            assert_eq!(parsed.step.as_ref(), Some(step));
        }
    }

    #[test]
    fn on_the_date_omits_amount_and_unit() {
        let mut v = defaults("date_delay");
        v.set("amount", "5");
        let p = from_form("date_delay", &v, &lookups(), None);
        assert_eq!(
            serde_json::to_value(p.step.unwrap()).unwrap(),
            json!({"type": "date_delay", "when": "on", "time_of_day": "09:00"})
        );
        v.set("when", "before");
        v.set("amount", "30");
        let p = from_form("date_delay", &v, &lookups(), None);
        assert_eq!(
            serde_json::to_value(p.step.unwrap()).unwrap(),
            json!({"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00"})
        );
        v.set("amount", "x");
        let p = from_form("date_delay", &v, &lookups(), None);
        assert_eq!(p.errors[0].field, "amount");
    }

    #[test]
    fn validation_errors_map_to_inputs() {
        let errors = vec![
            FieldError::new("steps[2].subject", "Add a subject."),
            FieldError::new("steps[2].recipients[1]", "bad"),
            FieldError::new("steps[2]", "whole"),
            FieldError::new("steps[1].url", "elsewhere"),
            FieldError::new("steps[2].yes[0].url", "nested"),
        ];
        let m = map_errors(&errors, "steps[2]", None);
        let local: Vec<&str> = m.local.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(local, ["subject", "recipients"]);
        assert_eq!(m.general, ["whole"]);
        assert_eq!(m.elsewhere.len(), 2);
    }
}
