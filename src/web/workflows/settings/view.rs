//! Every input of the three tabs as the page shows it: the view of the stored settings, the
//! suppression filter rows and groups, and the choices of the selects.

use serde_json::Value;

use crate::domain::definition::{Feb29Rule, Filter, Operator, Settings, Weekday};
use crate::web::workflows::describe::{operator_label, Names};

pub struct DayBox {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One property/operator/value row of a suppression filter group, as typed.
#[derive(Debug, Clone, Default)]
pub struct FilterRow {
    pub property: String,
    pub operator: String,
    pub value: String,
    /// "Ignore the year" (with is within the next/last … days).
    pub ignore_year: bool,
    pub error: Option<String>,
    /// The property (or list) no longer exists; kept selected so it is not dropped silently.
    pub missing: bool,
}

pub struct GroupView {
    /// The group number submitted with each row (rows of one group share it).
    pub index: usize,
    pub rows: Vec<FilterRow>,
    pub is_new: bool,
}

/// Every input of the three tabs, as text (so invalid input is shown back as typed).
pub struct SettingsView {
    pub window_mode: String,
    pub days: Vec<DayBox>,
    pub window_start: String,
    pub window_end: String,
    pub time_zone: String,
    pub pause_dates: String,
    pub feb29: String,
    pub catch_up_hours: String,
    pub campaign: String,
    /// The workflow has its own pacing (else the account's).
    pub pacing_own: bool,
    pub pacing: crate::web::pacing_form::PacingInputs,
    pub unenroll_when_unmet: bool,
    pub groups: Vec<GroupView>,
    pub lists: Vec<Opt>,
    pub workflows: Vec<Opt>,
    /// Visible rows of the two multi-selects (3–8).
    pub lists_size: usize,
    pub workflows_size: usize,
    pub on_review_needed: bool,
    pub notify_change: bool,
    pub change_percent: String,
    pub recipients: String,
}

fn filter_row(f: &Filter) -> FilterRow {
    let value = |v: &Option<Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if f.operator == Operator::InList {
        FilterRow {
            property: format!("list:{}", value(&f.value)),
            operator: "eq".into(),
            value: String::new(),
            ..Default::default()
        }
    } else {
        FilterRow {
            property: f.property.clone().unwrap_or_default(),
            operator: f.operator.as_str().into(),
            value: value(&f.value),
            ignore_year: f.ignore_year,
            ..Default::default()
        }
    }
}

/// Existing groups each with one blank row to add a filter, then a blank new group (OR).
pub(super) fn group_views(groups: Vec<Vec<FilterRow>>) -> Vec<GroupView> {
    let n = groups.len();
    let mut out: Vec<GroupView> = groups
        .into_iter()
        .enumerate()
        .map(|(index, mut rows)| {
            rows.push(FilterRow {
                operator: "eq".into(),
                ..Default::default()
            });
            GroupView {
                index,
                rows,
                is_new: false,
            }
        })
        .collect();
    out.push(GroupView {
        index: n,
        rows: vec![FilterRow {
            operator: "eq".into(),
            ..Default::default()
        }],
        is_new: true,
    });
    out
}

fn options(all: &[(i64, String)], selected: &[i64]) -> Vec<Opt> {
    all.iter()
        .map(|(id, name)| Opt {
            value: id.to_string(),
            label: name.clone(),
            selected: selected.contains(id),
        })
        .collect()
}

/// The view of the stored settings.
pub(super) fn view_of(s: &Settings, names: &Names, self_id: i64) -> SettingsView {
    let window = s.execution_window.as_ref();
    let mut lists: Vec<(i64, String)> = names.lists.iter().map(|(k, v)| (*k, v.clone())).collect();
    lists.sort();
    let mut workflows: Vec<(i64, String)> = names
        .workflows
        .iter()
        .filter(|(k, _)| **k != self_id)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    workflows.sort();
    SettingsView {
        window_mode: if window.is_some() { "limited" } else { "any" }.into(),
        days: Weekday::ALL
            .iter()
            .map(|d| DayBox {
                code: d.as_str(),
                label: d.label(),
                checked: window.is_some_and(|w| w.days.contains(d)),
            })
            .collect(),
        window_start: window.map(|w| w.start.clone()).unwrap_or_default(),
        window_end: window.map(|w| w.end.clone()).unwrap_or_default(),
        time_zone: s.time_zone.clone().unwrap_or_default(),
        pause_dates: s.pause_dates.join("\n"),
        feb29: match s.feb29 {
            Feb29Rule::Feb28 => "feb28",
            Feb29Rule::Mar1 => "mar1",
        }
        .into(),
        catch_up_hours: s.catch_up_hours.to_string(),
        campaign: s.campaign.clone().unwrap_or_default(),
        pacing_own: s.pacing.is_some(),
        pacing: crate::web::pacing_form::PacingInputs::of(s.pacing.as_ref()),
        unenroll_when_unmet: s.unenroll_when_unmet,
        groups: group_views(
            s.suppression
                .filter_groups
                .iter()
                .map(|g| g.iter().map(filter_row).collect())
                .collect(),
        ),
        lists_size: lists.len().clamp(3, 8),
        workflows_size: workflows.len().clamp(3, 8),
        lists: options(&lists, &s.suppression.list_ids),
        workflows: options(&workflows, &s.unenroll_from_workflows),
        on_review_needed: s.notifications.on_review_needed,
        notify_change: s.notifications.enrollment_change_percent.is_some(),
        change_percent: s
            .notifications
            .enrollment_change_percent
            .map(|p| p.to_string())
            .unwrap_or_default(),
        recipients: s.notifications.recipients.join("\n"),
    }
}

pub(super) fn property_options(names: &Names) -> Vec<Opt> {
    let mut out: Vec<Opt> = names
        .properties
        .iter()
        .map(|(name, label, _, _)| Opt {
            value: name.clone(),
            label: label.clone(),
            selected: false,
        })
        .collect();
    let mut lists: Vec<(&i64, &String)> = names.lists.iter().collect();
    lists.sort();
    out.extend(lists.into_iter().map(|(id, name)| Opt {
        value: format!("list:{id}"),
        label: format!("Member of list: {name}"),
        selected: false,
    }));
    out
}

pub(super) fn operator_options() -> Vec<Opt> {
    Operator::ALL
        .into_iter()
        .filter(|o| *o != Operator::InList)
        .map(|o| Opt {
            value: o.as_str().into(),
            label: operator_label(o).into(),
            selected: false,
        })
        .collect()
}
