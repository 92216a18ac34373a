//! Settings & notifications (`/workflows/{id}/settings?tab=general|unenrollment|notifications`):
//! three tabs, each its own form that changes only its part of `definition.settings` and saves
//! a new revision (unpublished changes while on) through `services::drafts::save_edit`. Invalid input re-renders with 422,
//! the message beside the field and the input kept; nothing is saved.

use std::collections::BTreeMap;

use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::describe::{operator_label, Names};
use super::header::WorkflowHeader;
use super::support;
use crate::db::models::WorkflowId;
use crate::domain::definition::{
    Definition, ExecutionWindow, Feb29Rule, Filter, Operator, Settings, Weekday,
};
use crate::domain::errors::{Errors, FieldError};
use crate::services::workflows::{self as svc, WorkflowError};
use crate::state::AppState;
use crate::web::extract::{CsrfForm, Ctx, SignedIn};
use crate::web::{render, render_invalid, see_other, WebError, WebResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workflows/{id}/settings", web::get().to(show))
        .route("/workflows/{id}/settings", web::post().to(save));
}

pub const TABS: [(&str, &str); 3] = [
    ("general", "General"),
    ("unenrollment", "Unenrollment & suppression"),
    ("notifications", "Notifications"),
];

fn tab_of(raw: Option<&str>) -> &'static str {
    match raw {
        Some("unenrollment") => "unenrollment",
        Some("notifications") => "notifications",
        _ => "general",
    }
}

#[derive(Deserialize)]
pub struct TabQuery {
    tab: Option<String>,
}

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

/// An error that belongs to another tab or to the editor.
pub struct OtherError {
    pub message: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "workflows/settings.html")]
struct SettingsPage {
    ctx: Ctx,
    header: WorkflowHeader,
    tab: &'static str,
    tabs: Vec<(&'static str, &'static str)>,
    v: SettingsView,
    errors: Errors,
    other_errors: Vec<OtherError>,
    account_zone: String,
    zones: Vec<&'static str>,
    property_options: Vec<Opt>,
    operators: Vec<Opt>,
    recurring: bool,
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
            ..Default::default()
        }
    }
}

/// Existing groups each with one blank row to add a filter, then a blank new group (OR).
fn group_views(groups: Vec<Vec<FilterRow>>) -> Vec<GroupView> {
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
fn view_of(s: &Settings, names: &Names, self_id: i64) -> SettingsView {
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
fn submitted_groups(form: &SettingsForm) -> Vec<Vec<FilterRow>> {
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
    })
}

/// Applies one tab's form to the settings. Returns the errors of input that has no place in
/// the definition at all (a number that is not a number, …); the rest is for validation.
fn apply(
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
            let tz = text(&form.time_zone);
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

/// The view with one tab's fields as submitted.
fn overlay(v: &mut SettingsView, tab: &str, form: &SettingsForm, groups: Vec<Vec<FilterRow>>) {
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

/// The input an error belongs to: list fields (`settings.pause_dates[2]`) show on their
/// textarea or select.
fn form_key(field: &str) -> String {
    const LISTS: [&str; 5] = [
        "settings.pause_dates",
        "settings.notifications.recipients",
        "settings.suppression.list_ids",
        "settings.unenroll_from_workflows",
        "settings.execution_window.days",
    ];
    for p in LISTS {
        if field.starts_with(p) {
            return p.to_string();
        }
    }
    if field == "settings.execution_window" {
        return "settings.execution_window.start".to_string();
    }
    field.to_string()
}

/// Which tab shows a field, if any.
fn tab_for(key: &str) -> Option<&'static str> {
    if key.starts_with("settings.notifications") {
        Some("notifications")
    } else if key.starts_with("settings.suppression") || key == "settings.unenroll_from_workflows" {
        Some("unenrollment")
    } else if key.starts_with("settings.") {
        Some("general")
    } else {
        None
    }
}

/// Errors keyed by input (several messages for one input joined), the suppression rows' own
/// messages, and those that belong elsewhere.
fn sort_errors(
    errors: Vec<FieldError>,
    tab: &str,
    id: i64,
    v: &mut SettingsView,
) -> (Errors, Vec<OtherError>) {
    let mut keyed: Vec<FieldError> = Vec::new();
    let mut others = Vec::new();
    for e in errors {
        let key = form_key(&e.field);
        if let Some(rest) = key.strip_prefix("settings.suppression.filter_groups[") {
            if tab == "unenrollment" {
                let mut it = rest.split(['[', ']']).filter(|s| !s.is_empty());
                let g = it.next().and_then(|s| s.parse::<usize>().ok());
                let i = it.next().and_then(|s| s.parse::<usize>().ok());
                if let (Some(g), Some(i)) = (g, i) {
                    if let Some(row) = v.groups.get_mut(g).and_then(|gv| gv.rows.get_mut(i)) {
                        row.error = Some(match row.error.take() {
                            Some(prev) => format!("{prev} {}", e.message),
                            None => e.message,
                        });
                        continue;
                    }
                }
                keyed.push(FieldError::new(
                    "settings.suppression.filter_groups",
                    e.message,
                ));
                continue;
            }
        }
        match tab_for(&key) {
            Some(t) if t == tab => match keyed.iter_mut().find(|k| k.field == key) {
                Some(k) => {
                    k.message.push(' ');
                    k.message.push_str(&e.message);
                }
                None => keyed.push(FieldError::new(key, e.message)),
            },
            Some(t) => others.push(OtherError {
                message: format!("{}: {}", e.field, e.message),
                href: format!("/workflows/{id}/settings?tab={t}"),
            }),
            None => others.push(OtherError {
                message: format!("{}: {}", e.field, e.message),
                href: support::editor_url(id),
            }),
        }
    }
    (Errors(keyed), others)
}

fn property_options(names: &Names) -> Vec<Opt> {
    let mut out: Vec<Opt> = names
        .properties
        .iter()
        .map(|(name, label, _)| Opt {
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

fn operator_options() -> Vec<Opt> {
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

struct Loaded {
    header: WorkflowHeader,
    def: Definition,
    names: Names,
    account_zone: String,
}

fn load(conn: &mut diesel::SqliteConnection, id: WorkflowId) -> anyhow::Result<Option<Loaded>> {
    let Some((wf, header)) = support::load_working(conn, id, "settings")? else {
        return Ok(None);
    };
    let account_zone = crate::db::models::app_setting::account_time_zone(conn)?
        .name()
        .to_string();
    Ok(Some(Loaded {
        header,
        def: (*wf.def).clone(),
        names: Names::load(conn)?,
        account_zone,
    }))
}

fn page(
    ctx: Ctx,
    loaded: Loaded,
    tab: &'static str,
    mut v: SettingsView,
    errors: Errors,
    other_errors: Vec<OtherError>,
) -> SettingsPage {
    let property_options = property_options(&loaded.names);
    for row in v.groups.iter_mut().flat_map(|g| g.rows.iter_mut()) {
        row.missing =
            !row.property.is_empty() && !property_options.iter().any(|o| o.value == row.property);
    }
    SettingsPage {
        ctx,
        tab,
        tabs: TABS.to_vec(),
        v,
        errors,
        other_errors,
        account_zone: loaded.account_zone,
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        property_options,
        operators: operator_options(),
        recurring: loaded.def.recur_annually,
        header: loaded.header,
    }
}

async fn show(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<TabQuery>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let tab = tab_of(q.tab.as_deref());
    let loaded = crate::db::run(&state.pool, move |conn| load(conn, id))
        .await?
        .ok_or(WebError::NotFound)?;
    let v = view_of(&loaded.def.settings, &loaded.names, id.0);
    render(&page(
        user.ctx("workflows"),
        loaded,
        tab,
        v,
        Errors::default(),
        vec![],
    ))
}

enum Outcome {
    Saved(i32),
    Invalid(Box<Loaded>, Vec<FieldError>),
}

async fn save(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    q: web::Query<TabQuery>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> WebResult {
    let id = WorkflowId(path.into_inner());
    let tab = tab_of(q.tab.as_deref());
    let author = user.email.clone();
    let groups = submitted_groups(&form);
    let form = std::sync::Arc::new(form);
    let f = form.clone();
    let g = groups.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(loaded) = load(conn, id)? else {
            return Ok(None);
        };
        let mut def = loaded.def.clone();
        let mut errors = apply(tab, &f, &mut def.settings, &g);
        let result = if errors.is_empty() {
            crate::services::drafts::save_edit(conn, id, &def, &author, Utc::now()).map(|s| match s
            {
                crate::services::drafts::Saved::Revision(wf) => wf.revision,
                crate::services::drafts::Saved::Draft(_) => 0,
            })
        } else {
            // Input that is not even a value: report it with everything validation finds.
            svc::check_typed(conn, &def).map(|_| 0)
        };
        match result {
            Ok(rev) if errors.is_empty() => Ok(Some(Outcome::Saved(rev))),
            Ok(_) => Ok(Some(Outcome::Invalid(Box::new(loaded), errors))),
            Err(WorkflowError::Invalid(more)) => {
                for e in more {
                    if !errors.iter().any(|x| x.field == e.field) {
                        errors.push(e);
                    }
                }
                Ok(Some(Outcome::Invalid(Box::new(loaded), errors)))
            }
            Err(WorkflowError::NotFound) => Ok(None),
            Err(WorkflowError::Problems(_)) => {
                Err(anyhow::anyhow!("saving settings reported publish problems"))
            }
            Err(WorkflowError::Internal(e)) => Err(e),
        }
    })
    .await?
    .ok_or(WebError::NotFound)?;
    match outcome {
        Outcome::Saved(rev) => {
            user.set_flash(
                "success",
                if rev == 0 {
                    "Settings saved as an unpublished change: enrolled contacts still follow the live version until you choose Review and update.".to_string()
                } else {
                    format!("Settings saved (revision {rev}).")
                },
            );
            Ok(see_other(&format!(
                "/workflows/{}/settings?tab={tab}",
                id.0
            )))
        }
        Outcome::Invalid(loaded, errors) => {
            let mut v = view_of(&loaded.def.settings, &loaded.names, id.0);
            overlay(&mut v, tab, &form, groups);
            let (errors, others) = sort_errors(errors, tab, id.0, &mut v);
            render_invalid(&page(
                user.ctx("workflows"),
                *loaded,
                tab,
                v,
                errors,
                others,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> SettingsForm {
        let body = serde_html_form::to_string(pairs).unwrap();
        serde_html_form::from_str(&body).unwrap()
    }

    #[test]
    fn general_tab_builds_the_window_and_keeps_any_time_as_none() {
        let mut s = Settings::default();
        let f = form(&[
            ("window_mode", "limited"),
            ("days", "tue"),
            ("days", "mon"),
            ("window_start", "09:00"),
            ("window_end", "17:00"),
            ("time_zone", " Europe/Oslo "),
            ("pause_dates", "2026-12-24\r\n\r\n 2026-12-25 \n"),
            ("feb29", "mar1"),
            ("catch_up_hours", "12"),
            ("campaign", ""),
        ]);
        assert!(apply("general", &f, &mut s, &[]).is_empty());
        let w = s.execution_window.clone().unwrap();
        assert_eq!(w.days, vec![Weekday::Mon, Weekday::Tue]);
        assert_eq!((w.start.as_str(), w.end.as_str()), ("09:00", "17:00"));
        assert_eq!(s.time_zone.as_deref(), Some("Europe/Oslo"));
        assert_eq!(s.pause_dates, ["2026-12-24", "2026-12-25"]);
        assert_eq!(s.feb29, Feb29Rule::Mar1);
        assert_eq!(s.catch_up_hours, 12);
        assert_eq!(s.campaign, None);

        let f = form(&[
            ("window_start", ""),
            ("window_end", ""),
            ("catch_up_hours", "24"),
        ]);
        assert!(apply("general", &f, &mut s, &[]).is_empty());
        assert_eq!(s.execution_window, None, "no days and no times: no window");
        assert_eq!(s.time_zone, None);
    }

    #[test]
    fn unparsable_numbers_are_errors_of_their_field() {
        let mut s = Settings::default();
        let f = form(&[("catch_up_hours", "a day"), ("window_mode", "any")]);
        let e = apply("general", &f, &mut s, &[]);
        assert_eq!(e[0].field, "settings.catch_up_hours");
        let f = form(&[("notify_change", "on"), ("change_percent", "lots")]);
        let e = apply("notifications", &f, &mut s, &[]);
        assert_eq!(
            e[0].field,
            "settings.notifications.enrollment_change_percent"
        );
    }

    #[test]
    fn suppression_rows_group_and_skip_blank_rows() {
        let f = form(&[
            ("sup_group", "0"),
            ("sup_property", "lifecyclestage"),
            ("sup_operator", "eq"),
            ("sup_value", "lead"),
            ("sup_group", "0"),
            ("sup_property", ""),
            ("sup_operator", "eq"),
            ("sup_value", ""),
            ("sup_group", "1"),
            ("sup_property", "list:7"),
            ("sup_operator", "eq"),
            ("sup_value", ""),
            ("sup_group", "1"),
            ("sup_property", "email"),
            ("sup_operator", "known"),
            ("sup_value", "ignored"),
            ("sup_list", "3"),
            ("unenroll_from", "9"),
            ("unenroll_when_unmet", "on"),
        ]);
        let groups = submitted_groups(&f);
        assert_eq!(groups.len(), 2);
        let mut s = Settings::default();
        assert!(apply("unenrollment", &f, &mut s, &groups).is_empty());
        let json = serde_json::to_value(&s.suppression).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "filter_groups": [
                [{ "property": "lifecyclestage", "operator": "eq", "value": "lead" }],
                [{ "operator": "in_list", "value": 7 }, { "property": "email", "operator": "known" }]
            ], "list_ids": [3] })
        );
        assert_eq!(s.unenroll_from_workflows, [9]);
        assert!(s.unenroll_when_unmet);
    }

    #[test]
    fn list_errors_show_on_their_input() {
        assert_eq!(form_key("settings.pause_dates[1]"), "settings.pause_dates");
        assert_eq!(
            form_key("settings.notifications.recipients[0]"),
            "settings.notifications.recipients"
        );
        assert_eq!(
            tab_for("settings.suppression.list_ids"),
            Some("unenrollment")
        );
        assert_eq!(tab_for("steps[1].subject"), None);
    }
}
