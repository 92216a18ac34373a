//! The words on each card of the canvas: a step's title, a line or two and its colour and
//! icon, the conditions of a branch or trigger in words, and the hint under a value input.

use super::form::number_text;
use crate::domain::definition::{
    DateUnit, Start, Step, TimeUnit, When, ZoneChoice, DEFAULT_TIME_OF_DAY,
};
use crate::domain::values::FieldType;
use crate::web::workflows::forms_common::Lookups;
use crate::web::workflows::forms_filters::{self, describe};

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
                quote(&value_label(
                    lookups,
                    property,
                    &forms_filters::value_text(Some(value))
                ))
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
        Step::WaitUntil {
            condition,
            event,
            timeout,
            ..
        } => {
            let mut lines = condition_lines(condition, lookups);
            if let Some(e) = event.as_deref().filter(|e| !e.trim().is_empty()) {
                lines.push(format!("or the event “{e}” happens"));
            }
            let (one, many) = match timeout.unit {
                crate::domain::definition::TimeUnit::Minutes => ("minute", "minutes"),
                crate::domain::definition::TimeUnit::Hours => ("hour", "hours"),
                crate::domain::definition::TimeUnit::Days => ("day", "days"),
                crate::domain::definition::TimeUnit::Weeks => ("week", "weeks"),
            };
            let unit = if timeout.amount == 1 { one } else { many };
            lines.push(format!(
                "At most {} {unit}, then the Timed out path",
                timeout.amount
            ));
            Summary {
                title: "Wait until".into(),
                lines,
                kind: "branch",
                icon: "◷",
            }
        }
        Step::RandomSplit {
            paths,
            holdout_percent,
        } => {
            let mut lines: Vec<String> = paths
                .iter()
                .map(|p| format!("{}: {}%", p.name, p.percent))
                .collect();
            if *holdout_percent > 0 {
                lines.push(format!("Holdout: {holdout_percent}% get nothing"));
            }
            Summary {
                title: "Random split".into(),
                lines,
                kind: "branch",
                icon: "⇉",
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

/// A property's value as people read it: a dropdown option by its label, a checkbox as Yes/No.
fn value_label(lookups: &Lookups, property: &str, text: &str) -> String {
    match lookups.catalog.property(property).map(|p| p.field_type) {
        Some(FieldType::Enum) => crate::domain::labels::option_label(text),
        Some(FieldType::Bool) => crate::domain::labels::bool_label(text).to_string(),
        _ => text.to_string(),
    }
}
