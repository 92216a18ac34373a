//! Unit tests of the settings forms: each tab applied to the settings, and errors finding
//! their input and tab.

use super::errors::{form_key, tab_for};
use super::form::{apply, submitted_groups, SettingsForm};
use crate::domain::definition::{Feb29Rule, Settings, Weekday};

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
