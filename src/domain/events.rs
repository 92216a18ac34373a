//! Event-based triggers (issue 7): which event names exist, and whether one occurrence
//! matches a trigger's refinement filters. Filters on `event.<key>` look at the event's own
//! properties (JSON values); any other property is the contact's at the time of the event and
//! is evaluated exactly like a filter trigger.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::definition::{EventTrigger, Filter, Operator};
use super::filter::{matches_filter, parse_date_operand, Catalog, ContactView};

pub const CONTACT_CREATED: &str = "contact_created";
pub const PROPERTY_CHANGED: &str = "property_changed";
pub const LIST_ADDED: &str = "list_added";
pub const LIST_REMOVED: &str = "list_removed";
pub const EMAIL_SENT: &str = "email_sent";
pub const WORKFLOW_ENROLLED: &str = "workflow_enrolled";
pub const WORKFLOW_COMPLETED: &str = "workflow_completed";

/// Built-in events with what people call them.
pub const BUILTIN: [(&str, &str); 7] = [
    (CONTACT_CREATED, "Contact created"),
    (
        PROPERTY_CHANGED,
        "Property value changed (event.property, event.old, event.new)",
    ),
    (LIST_ADDED, "Added to a static list (event.list_id)"),
    (LIST_REMOVED, "Removed from a static list (event.list_id)"),
    (
        EMAIL_SENT,
        "Email sent by a workflow (event.workflow_id, event.subject)",
    ),
    (
        WORKFLOW_ENROLLED,
        "Enrolled in a workflow (event.workflow_id)",
    ),
    (
        WORKFLOW_COMPLETED,
        "Completed a workflow (event.workflow_id)",
    ),
];

pub const EVENT_PREFIX: &str = "event.";
pub const MAX_NAME_CHARS: usize = 100;

pub fn is_builtin(name: &str) -> bool {
    BUILTIN.iter().any(|(n, _)| *n == name)
}

/// Custom event names: letters, digits, `_`, `-`, `.`, `:`; 1–100 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// One occurrence as triggers see it.
pub struct Occurrence<'a> {
    pub name: &'a str,
    pub properties: &'a Map<String, Value>,
}

/// Whether an occurrence fires this trigger: the name matches (case-insensitive) and every
/// refinement filter holds.
pub fn matches(
    trigger: &EventTrigger,
    event: &Occurrence,
    contact: &dyn ContactView,
    catalog: &Catalog,
    today: NaiveDate,
) -> bool {
    trigger.name.eq_ignore_ascii_case(event.name)
        && trigger.filters.iter().all(|f| {
            match f
                .property
                .as_deref()
                .and_then(|p| p.strip_prefix(EVENT_PREFIX))
            {
                Some(key) => matches_event_property(f, event.properties.get(key), today),
                None => matches_filter(f, contact, catalog, today),
            }
        })
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Event properties are untyped JSON: numbers compare numerically when both sides are
/// numbers, dates as dates, everything else as case-insensitive text.
fn matches_event_property(f: &Filter, actual: Option<&Value>, today: NaiveDate) -> bool {
    let actual_text = actual.and_then(as_text);
    let expected = f.value.as_ref();
    match f.operator {
        Operator::Known => actual_text.is_some(),
        Operator::Unknown => actual_text.is_none(),
        Operator::InList => false,
        Operator::WithinNextDays | Operator::WithinLastDays => {
            crate::domain::filter::within_matches(f, actual_text.as_deref(), today)
        }
        _ => {
            let (Some(a), Some(e)) = (actual, expected) else {
                return false;
            };
            let Some(a_text) = actual_text else {
                return false;
            };
            let e_text = as_text(e).unwrap_or_default();
            match f.operator {
                Operator::Eq | Operator::Neq => {
                    let equal = match (as_number(a), as_number(e)) {
                        (Some(x), Some(y)) => x == y,
                        _ => a_text.eq_ignore_ascii_case(&e_text),
                    };
                    equal == (f.operator == Operator::Eq)
                }
                Operator::Contains => a_text
                    .to_ascii_lowercase()
                    .contains(&e_text.to_ascii_lowercase()),
                Operator::Gt | Operator::Lt | Operator::Before | Operator::After => {
                    let greater = matches!(f.operator, Operator::Gt | Operator::After);
                    if let (Some(x), Some(y)) = (as_number(a), as_number(e)) {
                        return if greater { x > y } else { x < y };
                    }
                    let day = |s: &str| s.get(..10).and_then(crate::domain::values::parse_iso_date);
                    let expected_day = parse_date_operand(&e_text)
                        .and_then(|d| d.resolve(today))
                        .or_else(|| day(&e_text));
                    match (day(&a_text), expected_day) {
                        (Some(x), Some(y)) => {
                            if greater {
                                x > y
                            } else {
                                x < y
                            }
                        }
                        _ => false,
                    }
                }
                Operator::Known
                | Operator::Unknown
                | Operator::InList
                | Operator::WithinNextDays
                | Operator::WithinLastDays => false,
            }
        }
    }
}

/// Why a refinement filter on an event property is unusable, if it is.
pub fn check_event_filter(f: &Filter) -> Result<(), String> {
    let key = f
        .property
        .as_deref()
        .and_then(|p| p.strip_prefix(EVENT_PREFIX))
        .unwrap_or("");
    if key.is_empty() {
        return Err("name the event property after \"event.\", e.g. event.amount".into());
    }
    match f.operator {
        Operator::InList => {
            Err("list membership is a contact filter, not an event property filter".into())
        }
        Operator::Known | Operator::Unknown => Ok(()),
        _ if f.value.as_ref().and_then(as_text).is_none() => {
            Err("enter a value to compare with".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct NoContact;
    impl ContactView for NoContact {
        fn value(&self, _: &str) -> Option<&str> {
            None
        }
        fn in_list(&self, _: i64) -> bool {
            false
        }
    }

    fn trig(v: Value) -> EventTrigger {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn event_property_filters() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let props = json!({"amount": 150, "plan": "Pro", "when": "2026-11-01", "note": ""});
        let props = props.as_object().unwrap();
        let ev = Occurrence {
            name: "purchase",
            properties: props,
        };
        let cases = [
            (json!({"name": "purchase"}), true),
            (json!({"name": "PURCHASE"}), true),
            (json!({"name": "refund"}), false),
            (
                json!({"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": "200"}]}),
                false,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.amount", "operator": "eq", "value": "150"}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.plan", "operator": "eq", "value": "pro"}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.plan", "operator": "neq", "value": "pro"}]}),
                false,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.plan", "operator": "contains", "value": "r"}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.note", "operator": "unknown"}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.missing", "operator": "known"}]}),
                false,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.when", "operator": "before", "value": "today"}]}),
                true,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.when", "operator": "after", "value": "2026-11-02"}]}),
                false,
            ),
            (
                json!({"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}, {"property": "event.plan", "operator": "eq", "value": "basic"}]}),
                false,
            ),
        ];
        let catalog = Catalog::default();
        for (t, want) in cases {
            assert_eq!(
                matches(&trig(t.clone()), &ev, &NoContact, &catalog, today),
                want,
                "{t}"
            );
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("purchase"));
        assert!(valid_name("order.paid:v2"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(is_builtin("property_changed"));
        assert!(!is_builtin("purchase"));
    }
}
