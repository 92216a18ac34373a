//! Which contact inputs a workflow's enrollment decision reads, so a contact write that changes
//! none of them can skip the workflow (DESIGN §6: every write re-evaluates every workflow that
//! is on, and most writes touch one or two properties).
//!
//! A filter reads only its property's value (or, for `in_list`, one list membership) and
//! `today`. Before and after a write both see the same `today` and catalog, so when none of
//! the inputs below changed, "met the criteria before" equals "meets them now" and no
//! not-enrolled → enrolled transition can happen. The inputs are:
//!
//! * the trigger filters' properties and lists;
//! * the anchor property of a contact-date-property workflow (no date, no enrollment);
//! * the suppression filters' properties and the suppression lists;
//! * the properties chosen for re-enrollment;
//! * the goal's filters, and the conditions of wait-until steps (a contact who comes to meet
//!   them leaves the workflow, or moves on from the wait, at once).
//!
//! Inputs are named as [`Delta::changed`](crate::engine::triggers::Delta) names them: the
//! property's internal name, and `list:<id>` for a list membership. The same holds for a
//! contact enrolled in the workflow: whether a date moved, whether it is suppressed and
//! whether it still meets the criteria are all read from these inputs. What the engine still
//! evaluates whatever changed: a new contact (nothing to compare with), and a contact who was
//! enrolled before when re-enrollment is on without chosen properties (any write re-enrolls).

use std::collections::HashSet;

use super::definition::{Definition, Filter, Operator, Start};
use super::filter::list_id;

/// The set of inputs one workflow reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watched {
    names: HashSet<String>,
}

impl Watched {
    pub fn of(def: &Definition) -> Watched {
        let mut w = Watched::default();
        w.add_groups(&def.triggers.filter_groups);
        if let Start::ContactDateProperty { property } = &def.start {
            w.names.insert(property.trim().to_string());
        }
        let s = &def.settings.suppression;
        w.add_groups(&s.filter_groups);
        w.names.extend(s.list_ids.iter().map(|id| list_input(*id)));
        w.names.extend(
            def.reenroll
                .on_properties
                .iter()
                .map(|p| p.trim().to_string()),
        );
        if let Some(goal) = &def.goal {
            w.add_groups(&goal.filter_groups);
        }
        w.add_waits(&def.steps);
        w
    }

    fn add_waits(&mut self, steps: &[super::definition::Step]) {
        for step in steps {
            if let super::definition::Step::WaitUntil { condition, .. } = step {
                self.add_groups(condition);
            }
            for (_, arm) in step.arms() {
                self.add_waits(arm);
            }
        }
    }

    /// Whether any of the changed inputs is one this workflow reads.
    pub fn any_changed(&self, changed: &[String]) -> bool {
        changed.iter().any(|c| self.names.contains(c))
    }

    fn add_groups(&mut self, groups: &[Vec<Filter>]) {
        for f in groups.iter().flatten() {
            if f.operator == Operator::InList {
                // An unparsable list id never matches, whatever changes: nothing to watch.
                if let Some(id) = f.value.as_ref().and_then(list_id) {
                    self.names.insert(list_input(id));
                }
            } else if let Some(p) = f.property.as_deref() {
                self.names.insert(p.trim().to_string());
            }
        }
    }
}

/// How a list membership is named among the changed inputs.
pub fn list_input(list_id: i64) -> String {
    format!("list:{list_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: serde_json::Value) -> Definition {
        serde_json::from_value(v).expect("definition")
    }

    fn changed(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_write_matters_only_when_it_changes_an_input_the_workflow_reads() {
        let d = def(json!({
            "name": "Renewals", "start": {"type": "contact_date_property", "property": "renewal_date"},
            "triggers": {"filter_groups": [
                [{"property": " lifecyclestage ", "operator": "eq", "value": "customer"}],
                [{"operator": "in_list", "value": "7"}, {"property": "country", "operator": "known"}]
            ]},
            "reenroll": {"enabled": true, "on_properties": ["plan"]},
            "settings": {"suppression": {
                "filter_groups": [[{"property": "unsubscribed", "operator": "eq", "value": true}]],
                "list_ids": [9]
            }}
        }));
        let w = Watched::of(&d);
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["firstname"], false),
            (&["firstname", "email"], false),
            (&["lifecyclestage"], true),
            (&["country"], true),
            (&["renewal_date"], true),
            (&["plan"], true),
            (&["unsubscribed"], true),
            (&["list:7"], true),
            (&["list:9"], true),
            (&["list:8"], false),
            (&["firstname", "country"], true),
        ];
        for (names, expected) in cases {
            assert_eq!(w.any_changed(&changed(names)), *expected, "{names:?}");
        }
    }

    #[test]
    fn a_specific_date_workflow_reads_only_its_filters() {
        let d = def(json!({
            "name": "Launch", "start": {"type": "specific_date", "date": "2027-03-01"},
            "triggers": {"filter_groups": [[{"property": "email", "operator": "contains", "value": "@acme"}]]}
        }));
        let w = Watched::of(&d);
        assert!(w.any_changed(&changed(&["email"])));
        assert!(!w.any_changed(&changed(&["birthday", "list:1"])));
    }

    #[test]
    fn a_list_filter_with_an_unparsable_id_reads_nothing() {
        let d = def(json!({
            "name": "Broken", "start": {"type": "blank"},
            "triggers": {"filter_groups": [[{"operator": "in_list", "value": "abc"}]]}
        }));
        assert_eq!(Watched::of(&d), Watched::default());
        let numeric = def(json!({
            "name": "Numeric", "start": {"type": "blank"},
            "triggers": {"filter_groups": [[{"operator": "in_list", "value": 12}]]}
        }));
        assert!(Watched::of(&numeric).any_changed(&changed(&["list:12"])));
    }
}
