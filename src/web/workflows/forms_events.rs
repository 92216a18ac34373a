//! The "When an event occurs" part of the trigger panel: event triggers with refinement
//! filters, and "re-enroll every time the trigger occurs". Works with JavaScript off: each
//! trigger and each filter is a row of plain inputs, with one blank row to add another.
//!
//! Input names: `ev{k}_name`, `ev{k}_remove`, and per refinement filter
//! `ev{k}_f{i}_property|operator|value|remove`; `reenroll_on_events`.

use serde_json::Value;

use super::forms_common::FormValues;
use crate::domain::definition::{EventTrigger, Filter, Operator};

/// At most this many rows are read back (a bound on what a crafted form can make us do).
const MAX_ROWS: usize = 50;

pub struct EventFilterRow {
    pub i: usize,
    pub property: String,
    pub operator: String,
    pub value: String,
}

pub struct EventRow {
    pub k: usize,
    pub name: String,
    pub filters: Vec<EventFilterRow>,
    /// The blank row that adds a trigger.
    pub is_new: bool,
}

fn value_text(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Prefills the form from the stored definition.
pub fn to_form(events: &[EventTrigger], reenroll_on_events: bool, v: &mut FormValues) {
    for (k, t) in events.iter().enumerate() {
        v.set(&format!("ev{k}_name"), t.name.clone());
        for (i, f) in t.filters.iter().enumerate() {
            v.set(
                &format!("ev{k}_f{i}_property"),
                f.property.clone().unwrap_or_default(),
            );
            v.set(&format!("ev{k}_f{i}_operator"), f.operator.as_str());
            v.set(&format!("ev{k}_f{i}_value"), value_text(&f.value));
        }
    }
    if reenroll_on_events {
        v.set("reenroll_on_events", "1");
    }
}

fn present(v: &FormValues, name: &str) -> bool {
    v.0.iter().any(|(k, _)| k == name)
}

/// The rows to draw: what the form holds, plus a blank filter row per trigger and a blank
/// trigger row.
pub fn rows(v: &FormValues) -> Vec<EventRow> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < MAX_ROWS && present(v, &format!("ev{k}_name")) {
        let mut filters = Vec::new();
        let mut i = 0;
        while i < MAX_ROWS && present(v, &format!("ev{k}_f{i}_property")) {
            filters.push(EventFilterRow {
                i,
                property: v.get(&format!("ev{k}_f{i}_property")).to_string(),
                operator: v.get(&format!("ev{k}_f{i}_operator")).to_string(),
                value: v.get(&format!("ev{k}_f{i}_value")).to_string(),
            });
            i += 1;
        }
        filters.push(EventFilterRow {
            i,
            property: String::new(),
            operator: "eq".into(),
            value: String::new(),
        });
        out.push(EventRow {
            k,
            name: v.get(&format!("ev{k}_name")).to_string(),
            filters,
            is_new: false,
        });
        k += 1;
    }
    out.push(EventRow {
        k,
        name: String::new(),
        filters: vec![EventFilterRow {
            i: 0,
            property: String::new(),
            operator: "eq".into(),
            value: String::new(),
        }],
        is_new: true,
    });
    out
}

/// The event triggers the form describes (rows left blank or marked "remove" are dropped).
/// Returns the triggers and, for each, the row index `k` it came from (for error mapping).
pub fn from_form(v: &FormValues) -> (Vec<EventTrigger>, Vec<(usize, Vec<usize>)>) {
    let mut triggers = Vec::new();
    let mut origin = Vec::new();
    for k in 0..MAX_ROWS {
        let name_key = format!("ev{k}_name");
        if !present(v, &name_key) {
            break;
        }
        let name = v.trimmed(&name_key).to_string();
        if name.is_empty() || v.checked(&format!("ev{k}_remove")) {
            continue;
        }
        let mut filters = Vec::new();
        let mut rows = Vec::new();
        for i in 0..MAX_ROWS {
            let p = format!("ev{k}_f{i}_property");
            if !present(v, &p) {
                break;
            }
            let property = v.trimmed(&p).to_string();
            if property.is_empty() || v.checked(&format!("ev{k}_f{i}_remove")) {
                continue;
            }
            let operator =
                Operator::parse(v.trimmed(&format!("ev{k}_f{i}_operator"))).unwrap_or(Operator::Eq);
            let raw = v.trimmed(&format!("ev{k}_f{i}_value")).to_string();
            let value = (!raw.is_empty() && operator.takes_value()).then(|| {
                // Numbers stay numbers so "amount > 100" compares numerically either way.
                raw.parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| raw.parse::<f64>().map(Value::from))
                    .unwrap_or(Value::String(raw))
            });
            filters.push(Filter {
                property: Some(property),
                operator,
                value,
                ignore_year: false,
            });
            rows.push(i);
        }
        triggers.push(EventTrigger { name, filters });
        origin.push((k, rows));
    }
    (triggers, origin)
}

/// The input that shows an error at `triggers.events[t]…`, given where each trigger came from.
pub fn input_for(field: &str, origin: &[(usize, Vec<usize>)]) -> Option<String> {
    let rest = field.strip_prefix("triggers.events[")?;
    let (t, rest) = rest.split_once(']')?;
    let (k, rows) = origin.get(t.parse::<usize>().ok()?)?;
    if rest == ".name" || rest.is_empty() {
        return Some(format!("ev{k}_name"));
    }
    let rest = rest.strip_prefix(".filters[")?;
    let (i, part) = rest.split_once(']')?;
    let row = rows.get(i.parse::<usize>().ok()?)?;
    let part = part.trim_start_matches('.');
    let part = if part.is_empty() { "property" } else { part };
    Some(format!("ev{k}_f{row}_{part}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_triggers_round_trip_through_the_form() {
        let events: Vec<EventTrigger> = serde_json::from_value(serde_json::json!([
            {"name": "purchase", "filters": [{"property": "event.amount", "operator": "gt", "value": 100}]},
            {"name": "property_changed", "filters": [{"property": "event.new", "operator": "eq", "value": "pro"}]}
        ]))
        .unwrap();
        let mut v = FormValues::default();
        to_form(&events, true, &mut v);
        let (back, _) = from_form(&v);
        assert_eq!(back, events);
        assert!(v.checked("reenroll_on_events"));
        let rows = rows(&v);
        assert_eq!(rows.len(), 3, "two triggers and a blank one");
        assert_eq!(rows[0].filters.len(), 2, "one filter and a blank one");
    }

    #[test]
    fn blank_and_removed_rows_are_dropped_and_errors_find_their_input() {
        let v = FormValues(vec![
            ("ev0_name".into(), "gone".into()),
            ("ev0_remove".into(), "1".into()),
            ("ev1_name".into(), "signup".into()),
            ("ev1_f0_property".into(), "".into()),
            ("ev1_f1_property".into(), "event.plan".into()),
            ("ev1_f1_operator".into(), "eq".into()),
            ("ev1_f1_value".into(), "pro".into()),
            ("ev2_name".into(), "".into()),
        ]);
        let (t, origin) = from_form(&v);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "signup");
        assert_eq!(
            input_for("triggers.events[0].name", &origin).as_deref(),
            Some("ev1_name")
        );
        assert_eq!(
            input_for("triggers.events[0].filters[0].value", &origin).as_deref(),
            Some("ev1_f1_value")
        );
    }
}
