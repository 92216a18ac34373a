//! Unit tests of the step forms: every step round-trips through its form, and errors map to inputs.

use serde_json::json;

use super::{defaults, from_form, map_errors, to_form};
use crate::domain::definition::Step;
use crate::domain::errors::FieldError;
use crate::domain::values::FieldType;
use crate::web::workflows::forms_common::Lookups;
use crate::web::workflows::forms_filters;

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
    let m = map_errors(&errors, "steps[2]", None, &[]);
    let local: Vec<&str> = m.local.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(local, ["subject", "recipients"]);
    assert_eq!(m.general, ["whole"]);
    assert_eq!(m.elsewhere.len(), 2);
}
