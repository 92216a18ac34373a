//! What the three tab forms post: read into the settings (`apply`, with the errors of input
//! that is not even a value) and shown back as typed when the save is refused (`overlay`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::view::{group_views, FilterRow, SettingsView};
use crate::domain::definition::{ExecutionWindow, Feb29Rule, Filter, Operator, Settings, Weekday};
use crate::domain::errors::FieldError;
use crate::web::pacing_form::PacingInputs;

/// What the three forms post (each tab sends only its own fields).
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    window_mode: Option<String>,
    #[serde(default)]
    days: Vec<String>,
    window_start: Option<String>,
    window_end: Option<String>,
    time_zone: Option<String>,
    pause_dates: Option<String>,
    feb29: Option<String>,
    catch_up_hours: Option<String>,
    campaign: Option<String>,
    /// `account` (the account's pacing) or `own` (the inputs below); absent: unchanged.
    pacing_mode: Option<String>,
    pacing_max_emails: Option<String>,
    pacing_per_days: Option<String>,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    unenroll_when_unmet: Option<String>,
    #[serde(default)]
    sup_group: Vec<String>,
    #[serde(default)]
    sup_property: Vec<String>,
    #[serde(default)]
    sup_operator: Vec<String>,
    #[serde(default)]
    sup_value: Vec<String>,
    #[serde(default)]
    sup_year: Vec<String>,
    #[serde(default)]
    sup_list: Vec<String>,
    #[serde(default)]
    unenroll_from: Vec<String>,
    on_review_needed: Option<String>,
    notify_change: Option<String>,
    change_percent: Option<String>,
    recipients: Option<String>,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

fn lines(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn ids(raw: &[String]) -> Vec<i64> {
    let mut out: Vec<i64> = raw.iter().filter_map(|s| s.trim().parse().ok()).collect();
    out.dedup();
    out
}

/// The submitted suppression rows grouped (blank rows dropped, groups renumbered).
pub(super) fn submitted_groups(form: &SettingsForm) -> Vec<Vec<FilterRow>> {
    let mut groups: BTreeMap<usize, Vec<FilterRow>> = BTreeMap::new();
    for (i, property) in form.sup_property.iter().enumerate() {
        let property = property.trim();
        if property.is_empty() {
            continue;
        }
        let group = form
            .sup_group
            .get(i)
            .and_then(|g| g.trim().parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        groups.entry(group).or_default().push(FilterRow {
            property: property.to_string(),
            operator: form
                .sup_operator
                .get(i)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            value: form
                .sup_value
                .get(i)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            ignore_year: form.sup_year.get(i).is_some_and(|y| y.trim() == "ignore"),
            ..Default::default()
        });
    }
    groups.into_values().collect()
}

/// A row as a filter; `Err` names the part that cannot even be represented.
fn row_filter(row: &FilterRow) -> Result<Filter, (&'static str, String)> {
    if let Some(list) = row.property.strip_prefix("list:") {
        let value = match list.trim().parse::<i64>() {
            Ok(id) => Value::from(id),
            Err(_) => Value::String(list.to_string()),
        };
        return Ok(Filter {
            property: None,
            operator: Operator::InList,
            value: Some(value),
            ignore_year: false,
        });
    }
    let op = Operator::parse(&row.operator)
        .filter(|o| *o != Operator::InList)
        .ok_or(("operator", "Choose an operator.".to_string()))?;
    Ok(Filter {
        property: Some(row.property.clone()),
        operator: op,
        value: (op.takes_value() && !row.value.is_empty())
            .then(|| Value::String(row.value.clone())),
        ignore_year: row.ignore_year && op.is_within(),
    })
}

/// Applies one tab's form to the settings. Returns the errors of input that has no place in
/// the definition at all (a number that is not a number, …); the rest is for validation.
pub(super) fn apply(
    tab: &str,
    form: &SettingsForm,
    s: &mut Settings,
    groups: &[Vec<FilterRow>],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match tab {
        "general" => {
            let start = text(&form.window_start);
            let end = text(&form.window_end);
            let mut days = Vec::new();
            for d in &form.days {
                match Weekday::ALL.iter().find(|w| w.as_str() == d.trim()) {
                    Some(w) if !days.contains(w) => days.push(*w),
                    Some(_) => {}
                    None => errors.push(FieldError::new(
                        "settings.execution_window.days",
                        format!("\"{d}\" is not a day of the week."),
                    )),
                }
            }
            days.sort_by_key(|d| Weekday::ALL.iter().position(|w| w == d));
            let limited = match form.window_mode.as_deref() {
                Some("any") => false,
                Some("limited") => true,
                _ => !days.is_empty() || !start.is_empty() || !end.is_empty(),
            };
            if limited && start.is_empty() {
                errors.push(FieldError::new(
                    "settings.execution_window.start",
                    "Enter the time actions may start, e.g. 09:00.",
                ));
            }
            if limited && end.is_empty() {
                errors.push(FieldError::new(
                    "settings.execution_window.end",
                    "Enter the time actions must stop, e.g. 17:00.",
                ));
            }
            if limited && !start.is_empty() && !end.is_empty() {
                s.execution_window = Some(ExecutionWindow { days, start, end });
            } else if !limited {
                s.execution_window = None;
            }
            // Any spelling of a zone's name is its name ("europe/oslo" is Europe/Oslo); anything
            // else is kept as typed, for validation to name.
            let tz = text(&form.time_zone);
            let tz = crate::domain::zones::normalize_zone(&tz).unwrap_or(tz);
            s.time_zone = (!tz.is_empty()).then_some(tz);
            s.pause_dates = lines(&form.pause_dates);
            s.feb29 = match form.feb29.as_deref() {
                Some("mar1") => Feb29Rule::Mar1,
                _ => Feb29Rule::Feb28,
            };
            match text(&form.catch_up_hours).parse::<u32>() {
                Ok(h) => s.catch_up_hours = h,
                Err(_) => errors.push(FieldError::new(
                    "settings.catch_up_hours",
                    "Enter a whole number of hours (0 or more), e.g. 24.",
                )),
            }
            let campaign = text(&form.campaign);
            s.campaign = (!campaign.is_empty()).then_some(campaign);
            match form.pacing_mode.as_deref() {
                Some("account") => s.pacing = None,
                Some(_) => {
                    let (pacing, problems) = pacing_inputs(form).read();
                    for (field, message) in problems {
                        errors.push(FieldError::new(format!("settings.pacing.{field}"), message));
                    }
                    s.pacing = Some(pacing);
                }
                None => {}
            }
        }
        "unenrollment" => {
            s.unenroll_when_unmet = form.unenroll_when_unmet.is_some();
            let mut filter_groups = Vec::new();
            for (g, rows) in groups.iter().enumerate() {
                let mut group = Vec::new();
                for (i, row) in rows.iter().enumerate() {
                    match row_filter(row) {
                        Ok(f) => group.push(f),
                        Err((part, message)) => errors.push(FieldError::new(
                            format!("settings.suppression.filter_groups[{g}][{i}].{part}"),
                            message,
                        )),
                    }
                }
                filter_groups.push(group);
            }
            s.suppression.filter_groups = filter_groups;
            s.suppression.list_ids = ids(&form.sup_list);
            s.unenroll_from_workflows = ids(&form.unenroll_from);
        }
        _ => {
            s.notifications.on_review_needed = form.on_review_needed.is_some();
            s.notifications.enrollment_change_percent = None;
            if form.notify_change.is_some() {
                match text(&form.change_percent).parse::<u32>() {
                    Ok(p) if p >= 1 => s.notifications.enrollment_change_percent = Some(p),
                    _ => errors.push(FieldError::new(
                        "settings.notifications.enrollment_change_percent",
                        "Enter a whole percentage of at least 1, e.g. 50.",
                    )),
                }
            }
            s.notifications.recipients = lines(&form.recipients);
        }
    }
    errors
}

fn pacing_inputs(form: &SettingsForm) -> PacingInputs {
    PacingInputs::new(
        &text(&form.pacing_max_emails),
        &text(&form.pacing_per_days),
        &text(&form.quiet_start),
        &text(&form.quiet_end),
    )
}

/// The view with one tab's fields as submitted.
pub(super) fn overlay(
    v: &mut SettingsView,
    tab: &str,
    form: &SettingsForm,
    groups: Vec<Vec<FilterRow>>,
) {
    match tab {
        "general" => {
            v.window_mode = match form.window_mode.as_deref() {
                Some("any") => "any".into(),
                Some("limited") => "limited".into(),
                _ if form.days.is_empty()
                    && text(&form.window_start).is_empty()
                    && text(&form.window_end).is_empty() =>
                {
                    "any".into()
                }
                _ => "limited".into(),
            };
            for d in &mut v.days {
                d.checked = form.days.iter().any(|x| x.trim() == d.code);
            }
            v.window_start = text(&form.window_start);
            v.window_end = text(&form.window_end);
            v.time_zone = text(&form.time_zone);
            v.pause_dates = form.pause_dates.clone().unwrap_or_default();
            v.feb29 = form.feb29.clone().unwrap_or_else(|| "feb28".into());
            v.catch_up_hours = text(&form.catch_up_hours);
            v.campaign = text(&form.campaign);
            if let Some(mode) = form.pacing_mode.as_deref() {
                v.pacing_own = mode != "account";
                v.pacing = pacing_inputs(form);
            }
        }
        "unenrollment" => {
            v.unenroll_when_unmet = form.unenroll_when_unmet.is_some();
            v.groups = group_views(groups);
            let lists = ids(&form.sup_list);
            for o in &mut v.lists {
                o.selected = o.value.parse().is_ok_and(|id: i64| lists.contains(&id));
            }
            let wfs = ids(&form.unenroll_from);
            for o in &mut v.workflows {
                o.selected = o.value.parse().is_ok_and(|id: i64| wfs.contains(&id));
            }
        }
        _ => {
            v.on_review_needed = form.on_review_needed.is_some();
            v.notify_change = form.notify_change.is_some();
            v.change_percent = text(&form.change_percent);
            v.recipients = form.recipients.clone().unwrap_or_default();
        }
    }
}
