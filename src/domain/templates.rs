//! Workflow templates (Create workflow > From a template): date-centred workflows people start
//! from instead of a blank page. Each is a definition (DESIGN §7) centred on a contact date
//! property the person chooses; the template suggests which custom date property to create
//! when the account has none.

use serde_json::{json, Value};

use super::definition::{Settings, DEFAULT_TIME_OF_DAY};

/// The custom date property a template is made for.
#[derive(Debug, Clone, Copy)]
pub struct SuggestedProperty {
    pub label: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct WorkflowTemplate {
    /// In URLs: `/workflows/new/templates/birthday`.
    pub key: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    /// The schedule in words, one line per touchpoint.
    pub outline: &'static [&'static str],
    pub property: SuggestedProperty,
    pub recurs: bool,
}

pub const TEMPLATES: [WorkflowTemplate; 3] = [
    WorkflowTemplate {
        key: "birthday",
        name: "Birthday greeting",
        summary: "Wish every contact a happy birthday by email, every year, on the day.",
        outline: &["On the birthday at 09:00: send a birthday email", "Repeats every year"],
        property: SuggestedProperty {
            label: "Birthday",
            name: "birthday",
        },
        recurs: true,
    },
    WorkflowTemplate {
        key: "renewal",
        name: "Renewal reminder",
        summary: "Remind customers of their renewal 30 and 7 days before it, and on the day; a task reminds your team.",
        outline: &[
            "30 days before the renewal date at 09:00: send a reminder email",
            "7 days before at 09:00: send a second reminder",
            "On the renewal date at 09:00: send a “renews today” email and create a task for your team",
            "Customers only (Lifecycle stage is Customer); repeats every year",
        ],
        property: SuggestedProperty {
            label: "Renewal date",
            name: "renewal_date",
        },
        recurs: true,
    },
    WorkflowTemplate {
        key: "customer_since",
        name: "Customer anniversary",
        summary: "Thank customers on their “customer since” anniversary, every year: 300 days after the date.",
        outline: &[
            "300 days after the Customer since date at 09:00: send a thank-you email",
            "Repeats every year",
        ],
        property: SuggestedProperty {
            label: "Customer since",
            name: "customer_since",
        },
        recurs: true,
    },
];

pub fn find(key: &str) -> Option<&'static WorkflowTemplate> {
    TEMPLATES.iter().find(|t| t.key == key)
}

fn delay(when: &str, days: u32) -> Value {
    if when == "on" {
        json!({ "type": "date_delay", "when": "on", "time_of_day": DEFAULT_TIME_OF_DAY })
    } else {
        json!({ "type": "date_delay", "when": when, "amount": days, "unit": "days",
                "time_of_day": DEFAULT_TIME_OF_DAY })
    }
}

fn email(subject: &str, body: &str) -> Value {
    json!({ "type": "send_email", "subject": subject, "body": body })
}

impl WorkflowTemplate {
    /// The template's definition, centred on the contact date property `property`.
    pub fn definition(&self, name: &str, property: &str) -> Value {
        let (steps, groups) = match self.key {
            "birthday" => (
                vec![
                    delay("on", 0),
                    email(
                        "Happy birthday, {{ contact.firstname }}!",
                        "Hi {{ contact.firstname }},\n\nEveryone here wishes you a very happy birthday. Have a wonderful day!\n\nBest wishes",
                    ),
                ],
                json!([]),
            ),
            "renewal" => (
                vec![
                    delay("before", 30),
                    email(
                        "Your renewal is in 30 days",
                        "Hi {{ contact.firstname }},\n\nYour plan renews in 30 days. Nothing to do if you want to keep it; reply to this email if you would like to change anything.\n\nBest wishes",
                    ),
                    delay("before", 7),
                    email(
                        "Your renewal is in one week",
                        "Hi {{ contact.firstname }},\n\nA reminder: your plan renews in one week.\n\nBest wishes",
                    ),
                    delay("on", 0),
                    email(
                        "Your plan renews today",
                        "Hi {{ contact.firstname }},\n\nYour plan renews today. Thank you for staying with us!\n\nBest wishes",
                    ),
                    json!({ "type": "create_task",
                            "title": "Renewal today: {{ contact.firstname }} {{ contact.lastname }}",
                            "notes": "Check that {{ contact.email }} has renewed.",
                            "due_in_days": 1 }),
                ],
                json!([[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]]),
            ),
            _ => (
                vec![
                    delay("after", 300),
                    email(
                        "Happy customer anniversary, {{ contact.firstname }}!",
                        "Hi {{ contact.firstname }},\n\nThank you for another year with us.\n\nBest wishes",
                    ),
                ],
                json!([]),
            ),
        };
        json!({
            "name": name,
            "start": { "type": "contact_date_property", "property": property },
            "recur_annually": self.recurs,
            "triggers": { "filter_groups": groups, "manual_only": false },
            "reenroll": { "enabled": false, "on_properties": [] },
            "steps": steps,
            "settings": serde_json::to_value(Settings::default()).unwrap_or_else(|_| json!({})),
        })
    }
}

/// Among the date properties (name, label), the one a template is made for: the suggested
/// internal name, else the suggested label (any case).
pub fn matching_property<'a>(
    t: &WorkflowTemplate,
    date_properties: &'a [(String, String)],
) -> Option<&'a str> {
    date_properties
        .iter()
        .find(|(n, _)| n == t.property.name)
        .or_else(|| {
            date_properties
                .iter()
                .find(|(_, l)| l.eq_ignore_ascii_case(t.property.label))
        })
        .map(|(n, _)| n.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::{Start, Step, When};
    use crate::domain::validate::parse_definition;

    #[test]
    fn every_template_is_a_valid_definition() {
        for t in TEMPLATES {
            let def = parse_definition(&t.definition(t.name, t.property.name))
                .unwrap_or_else(|e| panic!("{}: {e:?}", t.key));
            assert_eq!(def.name, t.name);
            assert!(def.recur_annually);
            assert!(matches!(def.start, Start::ContactDateProperty { .. }));
            assert!(matches!(def.steps[0], Step::DateDelay { .. }), "{}", t.key);
        }
    }

    #[test]
    fn the_renewal_reminder_runs_30_and_7_days_before_and_on_the_day() {
        let def = parse_definition(
            &find("renewal")
                .unwrap()
                .definition("Renewals", "renewal_date"),
        )
        .unwrap();
        let delays: Vec<(When, Option<u32>)> = def
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::DateDelay { when, amount, .. } => Some((*when, *amount)),
                _ => None,
            })
            .collect();
        assert_eq!(
            delays,
            [
                (When::Before, Some(30)),
                (When::Before, Some(7)),
                (When::On, None)
            ]
        );
    }

    #[test]
    fn the_anniversary_is_300_days_after_as_in_the_seed() {
        let def = parse_definition(
            &find("customer_since")
                .unwrap()
                .definition("A", "customer_since"),
        )
        .unwrap();
        assert!(matches!(
            def.steps[0],
            Step::DateDelay {
                when: When::After,
                amount: Some(300),
                ..
            }
        ));
    }

    #[test]
    fn templates_find_their_property_by_name_or_label() {
        let t = find("birthday").unwrap();
        let props = vec![
            ("renewal_date".to_string(), "Renewal date".to_string()),
            ("bday".to_string(), "birthday".to_string()),
        ];
        assert_eq!(matching_property(t, &props), Some("bday"));
        assert_eq!(
            matching_property(find("customer_since").unwrap(), &props),
            None
        );
    }
}
