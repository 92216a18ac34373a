//! The validation rules, table by table: every error names its field. Compiled only under
//! `#[cfg(test)]` (declared so in `mod.rs`).

use super::*;
use crate::domain::filter::{FieldType, PropertyInfo};
use serde_json::{json, Value};

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
