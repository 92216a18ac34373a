//! A step panel's inputs read back into a step (each problem named by its input), and the
//! validation errors of a save mapped back onto the step's inputs.

use crate::domain::definition::{
    DateUnit, SplitPath, Step, TimeUnit, Timeout, Weekday, When, ZoneChoice, DEFAULT_TIME_OF_DAY,
};
use crate::domain::errors::FieldError;
use crate::web::workflows::forms_common::{
    strip_path, without_index, FormValues, Lookups, MappedErrors,
};
use crate::web::workflows::forms_filters::{self, Converted};

fn weekday(s: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.as_str() == s)
}

/// The step the form describes, or the problems reading it (by input name). `existing` is the
/// step being edited: its branch paths are kept, and values typed unchanged keep their JSON.
pub struct Parsed {
    pub step: Option<Step>,
    pub errors: Vec<FieldError>,
    /// For a branch or a wait: which condition row each filter came from.
    pub condition: Option<Converted>,
    /// For a random split: the form row (`path{k}_…`) of each path, in order.
    pub split_rows: Vec<usize>,
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
    let mut split_rows = Vec::new();
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
        "wait_until" => {
            let (original, met, timed_out) = match existing {
                Some(Step::WaitUntil {
                    condition,
                    met,
                    timed_out,
                    ..
                }) => (condition.clone(), met.clone(), timed_out.clone()),
                _ => (Vec::new(), Vec::new(), Vec::new()),
            };
            let rows = forms_filters::rows_from_form(v);
            let c = forms_filters::to_filters(&rows, lookups, &original);
            errors.extend(c.errors.iter().cloned());
            let amount = whole_number(
                v,
                "timeout_amount",
                &mut errors,
                "Enter how long to wait at most.",
            );
            let unit = time_unit(v.trimmed("timeout_unit"));
            if unit.is_none() {
                err(
                    &mut errors,
                    "timeout_unit",
                    "Choose minutes, hours, days or weeks.",
                );
            }
            let event = v.trimmed("event").to_string();
            let step = match (amount, unit) {
                (Some(amount), Some(unit)) => Some(Step::WaitUntil {
                    condition: c.groups.clone(),
                    event: Some(event).filter(|e| !e.is_empty()),
                    timeout: Timeout { amount, unit },
                    met,
                    timed_out,
                }),
                _ => None,
            };
            condition = Some(c);
            step
        }
        "random_split" => {
            let old_paths = match existing {
                Some(Step::RandomSplit { paths, .. }) => paths.clone(),
                _ => Vec::new(),
            };
            let paths = split_paths(v, &old_paths, &mut errors, &mut split_rows);
            let holdout = v.trimmed("holdout_percent");
            let holdout_percent = if holdout.is_empty() {
                Some(0)
            } else {
                percent(v, "holdout_percent", &mut errors, true)
            };
            if paths.is_empty() {
                err(&mut errors, "paths", "Add at least one path.");
            }
            holdout_percent.map(|holdout_percent| {
                let total: u32 = paths.iter().map(|p| p.percent).sum::<u32>() + holdout_percent;
                if total != 100 && !paths.is_empty() {
                    err(
                        &mut errors,
                        "holdout_percent",
                        &format!(
                            "The paths and the holdout must add up to 100 percent (now {total})."
                        ),
                    );
                }
                Step::RandomSplit {
                    paths,
                    holdout_percent,
                }
            })
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
        split_rows,
    }
}

fn time_unit(s: &str) -> Option<TimeUnit> {
    match s {
        "minutes" => Some(TimeUnit::Minutes),
        "hours" => Some(TimeUnit::Hours),
        "days" => Some(TimeUnit::Days),
        "weeks" => Some(TimeUnit::Weeks),
        _ => None,
    }
}

/// A percentage input: a whole number from 1 (0 when `zero_ok`) to 100.
fn percent(v: &FormValues, name: &str, errors: &mut Vec<FieldError>, zero_ok: bool) -> Option<u32> {
    let t = v.trimmed(name).trim_end_matches('%').trim();
    let low = u32::from(!zero_ok);
    match t.parse::<u32>() {
        Ok(n) if n >= low && n <= 100 => Some(n),
        _ => {
            err(
                errors,
                name,
                &format!("Enter a whole number from {low} to 100."),
            );
            None
        }
    }
}

/// The form rows of a split's paths (`path{k}_name`, `path{k}_percent`, `path{k}_remove`), in
/// row order: a row with neither a name nor a percent is left out, a row `k` that existed
/// keeps the steps of path `k`. `rows` gets the row number of each path kept.
fn split_paths(
    v: &FormValues,
    old: &[SplitPath],
    errors: &mut Vec<FieldError>,
    rows: &mut Vec<usize>,
) -> Vec<SplitPath> {
    let mut keys: Vec<usize> =
        v.0.iter()
            .filter_map(|(k, _)| k.strip_prefix("path")?.split_once('_')?.0.parse().ok())
            .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let name_key = format!("path{k}_name");
        let pct_key = format!("path{k}_percent");
        if v.checked(&format!("path{k}_remove")) {
            continue;
        }
        let name = v.trimmed(&name_key).to_string();
        if name.is_empty() && v.trimmed(&pct_key).is_empty() {
            continue;
        }
        if name.is_empty() {
            err(errors, &name_key, "Name the path (e.g. A, B).");
        }
        let pct = percent(v, &pct_key, errors, false).unwrap_or(0);
        out.push(SplitPath {
            name,
            percent: pct,
            steps: old.get(k).map(|p| p.steps.clone()).unwrap_or_default(),
        });
        rows.push(k);
    }
    out
}

/// Splits validation errors into those of the step at `prefix` (renamed to its inputs) and the
/// rest.
pub fn map_errors(
    errors: &[FieldError],
    prefix: &str,
    condition: Option<&Converted>,
    split_rows: &[usize],
) -> MappedErrors {
    let mut out = MappedErrors::default();
    for e in errors {
        let Some(local) = strip_path(&e.field, prefix) else {
            out.elsewhere.push(e.clone());
            continue;
        };
        if local.is_empty() || local == "type" || local == "condition" {
            out.general.push(e.message.clone());
        } else if local.starts_with("yes[")
            || local.starts_with("no[")
            || local.starts_with("met[")
            || local.starts_with("timed_out[")
            || (local.starts_with("paths[") && local.contains("].steps"))
        {
            out.elsewhere.push(e.clone());
        } else if local == "paths" {
            out.general.push(e.message.clone());
        } else if let Some(rest) = local.strip_prefix("paths[") {
            // `paths[1].name` → the input of the row that path came from.
            let input = rest.split_once("].").and_then(|(j, part)| {
                let row = split_rows.get(j.parse::<usize>().ok()?)?;
                Some(format!("path{row}_{part}"))
            });
            match input {
                Some(input) => out.local.push(FieldError::new(input, e.message.clone())),
                None => out.general.push(e.message.clone()),
            }
        } else if let Some(rest) = local.strip_prefix("condition") {
            match condition.and_then(|c| c.input_for(rest)) {
                Some(input) => out.local.push(FieldError::new(input, e.message.clone())),
                None => out.general.push(e.message.clone()),
            }
        } else {
            let name = match without_index(local) {
                "zone" => "zone_contact",
                "timeout.amount" => "timeout_amount",
                "timeout.unit" => "timeout_unit",
                other => other,
            };
            out.local.push(FieldError::new(name, e.message.clone()));
        }
    }
    out
}
