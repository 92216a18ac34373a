//! A step as the inputs of its panel: the defaults of a new step and a stored step written
//! out as form values (the names are those of the module doc).

use crate::domain::definition::{DateUnit, Step, TimeUnit, When, ZoneChoice, DEFAULT_TIME_OF_DAY};
use crate::web::workflows::forms_common::FormValues;
use crate::web::workflows::forms_filters;

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
pub(super) fn number_text(x: f64) -> String {
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
        "wait_until" => {
            v.set("timeout_amount", "7");
            v.set("timeout_unit", "days");
        }
        "random_split" => {
            v.set("path0_name", "A");
            v.set("path0_percent", "50");
            v.set("path1_name", "B");
            v.set("path1_percent", "50");
            v.set("holdout_percent", "0");
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
        // Conditions travel as filter rows (added by the panel); paths are edited on the canvas.
        Step::Branch { .. } => {}
        Step::WaitUntil { event, timeout, .. } => {
            v.set("event", event.clone().unwrap_or_default());
            v.set("timeout_amount", timeout.amount.to_string());
            v.set("timeout_unit", time_unit_str(timeout.unit));
        }
        Step::RandomSplit {
            paths,
            holdout_percent,
        } => {
            for (k, p) in paths.iter().enumerate() {
                v.set(&format!("path{k}_name"), p.name.clone());
                v.set(&format!("path{k}_percent"), p.percent.to_string());
            }
            v.set("holdout_percent", holdout_percent.to_string());
        }
        Step::EnrollInWorkflow { workflow_id } | Step::UnenrollFromWorkflow { workflow_id } => {
            v.set("workflow_id", workflow_id.to_string())
        }
    }
    v
}
