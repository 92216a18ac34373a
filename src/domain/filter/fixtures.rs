//! Fixtures shared by the Rust face's tests here and the SQL face's tests in
//! `db::sql::filter`: one catalog, six contacts, and the hand-checked cases both faces must
//! agree on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::*;
use crate::domain::definition::{Filter, Operator};

pub(crate) fn prop(id: i64, name: &str, ft: FieldType, options: &[&str]) -> PropertyInfo {
    PropertyInfo {
        id,
        name: name.into(),
        label: name.replace('_', " "),
        field_type: ft,
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

pub(crate) fn catalog() -> Catalog {
    Catalog {
        properties: vec![
            prop(1, "email", FieldType::Text, &[]),
            prop(2, "firstname", FieldType::Text, &[]),
            prop(
                3,
                "lifecyclestage",
                FieldType::Enum,
                &["lead", "customer", "Evangelist"],
            ),
            prop(4, "score", FieldType::Number, &[]),
            prop(5, "renewal_date", FieldType::Date, &[]),
            prop(6, "last_seen", FieldType::Datetime, &[]),
            prop(7, "vip", FieldType::Bool, &[]),
            prop(8, "date_of_birth", FieldType::Text, &[]),
        ],
        list_ids: vec![10, 11],
        workflow_ids: vec![100],
    }
}

pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

#[derive(Debug, Default)]
pub(crate) struct TestContact {
    pub(crate) id: i64,
    pub(crate) values: BTreeMap<String, String>,
    pub(crate) lists: BTreeSet<i64>,
}

impl ContactView for TestContact {
    fn value(&self, property: &str) -> Option<&str> {
        self.values.get(property).map(String::as_str)
    }
    fn in_list(&self, list_id: i64) -> bool {
        self.lists.contains(&list_id)
    }
}

pub(crate) fn contact(id: i64, values: &[(&str, &str)], lists: &[i64]) -> TestContact {
    TestContact {
        id,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        lists: lists.iter().copied().collect(),
    }
}

/// Values are canonical, as `normalize_value` writes them.
pub(crate) fn contacts() -> Vec<TestContact> {
    vec![
        contact(
            1,
            &[
                ("email", "ada@example.com"),
                ("firstname", "Ada"),
                ("lifecyclestage", "customer"),
                ("score", "42"),
                ("renewal_date", "2026-03-31"),
                ("last_seen", "2026-03-01T00:00:00Z"),
                ("vip", "true"),
            ],
            &[10],
        ),
        contact(
            2,
            &[
                ("email", "Bob.OBrien@Example.org"),
                ("firstname", "O'Brien"),
                ("lifecyclestage", "lead"),
                ("score", "-3.5"),
                ("renewal_date", "2026-01-30"),
                ("last_seen", "2026-02-28T23:59:59Z"),
                ("vip", "false"),
            ],
            &[10, 11],
        ),
        contact(
            3,
            &[
                ("firstname", "Ærlig 50%_off"),
                ("lifecyclestage", "Evangelist"),
                ("score", "0"),
                ("renewal_date", "2024-02-29"),
                ("last_seen", "2026-03-02T00:00:00Z"),
            ],
            &[],
        ),
        contact(4, &[("email", "cy@example.com"), ("score", "42.25")], &[11]),
        contact(5, &[], &[]),
        contact(
            6,
            &[
                ("email", "dee@sample.net"),
                ("firstname", "ADA"),
                ("lifecyclestage", "customer"),
                ("score", "1000000"),
                ("renewal_date", "2026-03-01"),
                ("last_seen", "2026-03-01T12:30:00Z"),
                ("vip", "true"),
            ],
            &[],
        ),
    ]
}

pub(crate) fn f(property: &str, operator: &str, value: Value) -> Filter {
    Filter {
        property: (!property.is_empty()).then(|| property.to_string()),
        operator: Operator::parse(operator).unwrap(),
        value: (!value.is_null()).then_some(value),
        ignore_year: false,
    }
}

/// `f` with "ignore the year".
pub(crate) fn yearly(property: &str, operator: &str, value: Value) -> Filter {
    Filter {
        ignore_year: true,
        ..f(property, operator, value)
    }
}

/// (filter, contacts expected to match) — the hand-checked semantics.
pub(crate) fn cases() -> Vec<(Filter, Vec<i64>)> {
    vec![
        // text
        (f("firstname", "eq", json!("ada")), vec![1, 6]),
        (f("firstname", "eq", json!("o'brien")), vec![2]),
        (f("firstname", "eq", json!("ærlig 50%_off")), vec![]),
        (f("firstname", "eq", json!("Ærlig 50%_off")), vec![3]),
        (f("firstname", "neq", json!("Ada")), vec![2, 3]),
        (f("firstname", "contains", json!("D")), vec![1, 6]),
        (f("firstname", "contains", json!("'")), vec![2]),
        (f("firstname", "contains", json!("%_")), vec![3]),
        (f("firstname", "contains", json!("_")), vec![3]),
        (f("firstname", "contains", json!("50%")), vec![3]),
        (f("firstname", "known", Value::Null), vec![1, 2, 3, 6]),
        (f("firstname", "unknown", Value::Null), vec![4, 5]),
        (
            f("date_of_birth", "unknown", Value::Null),
            vec![1, 2, 3, 4, 5, 6],
        ),
        // email (on the contact row)
        (f("email", "eq", json!("BOB.obrien@example.ORG")), vec![2]),
        (f("email", "neq", json!("ada@example.com")), vec![2, 4, 6]),
        (f("email", "contains", json!("EXAMPLE")), vec![1, 2, 4]),
        (f("email", "known", Value::Null), vec![1, 2, 4, 6]),
        (f("email", "unknown", Value::Null), vec![3, 5]),
        // enum
        (f("lifecyclestage", "eq", json!("Customer")), vec![1, 6]),
        (f("lifecyclestage", "eq", json!("evangelist")), vec![3]),
        (f("lifecyclestage", "neq", json!("customer")), vec![2, 3]),
        (f("lifecyclestage", "contains", json!("LEA")), vec![2]),
        (f("lifecyclestage", "contains", json!("ang")), vec![3]),
        // number
        (f("score", "eq", json!(42)), vec![1]),
        (f("score", "eq", json!("42.0")), vec![1]),
        (f("score", "eq", json!(42.25)), vec![4]),
        (f("score", "neq", json!(42)), vec![2, 3, 4, 6]),
        (f("score", "gt", json!(0)), vec![1, 4, 6]),
        (f("score", "gt", json!("-3.5")), vec![1, 3, 4, 6]),
        (f("score", "lt", json!(0)), vec![2]),
        (f("score", "lt", json!(1e7)), vec![1, 2, 3, 4, 6]),
        (f("score", "gt", json!(1e6)), vec![]),
        (f("score", "unknown", Value::Null), vec![5]),
        // date
        (f("renewal_date", "eq", json!("2026-03-01")), vec![6]),
        (f("renewal_date", "eq", json!("today")), vec![6]),
        (f("renewal_date", "neq", json!("today")), vec![1, 2, 3]),
        (f("renewal_date", "before", json!("2026-03-01")), vec![2, 3]),
        (f("renewal_date", "lt", json!("2026-03-01")), vec![2, 3]),
        (f("renewal_date", "after", json!("2026-03-01")), vec![1]),
        (f("renewal_date", "gt", json!("today-30")), vec![1, 6]),
        (f("renewal_date", "before", json!("today-30")), vec![3]),
        (f("renewal_date", "after", json!("today+29")), vec![1]),
        (f("renewal_date", "after", json!("today+30")), vec![]),
        (f("renewal_date", "eq", json!("today + 30")), vec![1]),
        (f("renewal_date", "before", json!("2024-03-01")), vec![3]),
        // datetime, against a UTC day or an instant
        (f("last_seen", "eq", json!("2026-03-01")), vec![1, 6]),
        (f("last_seen", "eq", json!("today")), vec![1, 6]),
        (f("last_seen", "neq", json!("2026-03-01")), vec![2, 3]),
        (f("last_seen", "before", json!("2026-03-01")), vec![2]),
        (f("last_seen", "after", json!("2026-03-01")), vec![3]),
        (f("last_seen", "after", json!("today-1")), vec![1, 3, 6]),
        (f("last_seen", "lt", json!("today+1")), vec![1, 2, 6]),
        (
            f("last_seen", "eq", json!("2026-03-01T13:30:00+01:00")),
            vec![6],
        ),
        (
            f("last_seen", "after", json!("2026-03-01T00:00:00Z")),
            vec![3, 6],
        ),
        (f("last_seen", "before", json!("2026-03-01T00:00")), vec![2]),
        (
            f("last_seen", "neq", json!("2026-03-01T12:30:00Z")),
            vec![1, 2, 3],
        ),
        // bool
        (f("vip", "eq", json!(true)), vec![1, 6]),
        (f("vip", "eq", json!("no")), vec![2]),
        (f("vip", "neq", json!(true)), vec![2]),
        (f("vip", "unknown", Value::Null), vec![3, 4, 5]),
        // lists
        (f("", "in_list", json!(10)), vec![1, 2]),
        (f("", "in_list", json!("11")), vec![2, 4]),
        // within the next / last N days (today is 2026-03-01)
        (f("renewal_date", "within_next_days", json!(30)), vec![1, 6]),
        (f("renewal_date", "within_next_days", json!("29")), vec![6]),
        (f("renewal_date", "within_next_days", json!(0)), vec![6]),
        (f("renewal_date", "within_last_days", json!(30)), vec![2, 6]),
        (f("last_seen", "within_last_days", json!(0)), vec![1, 6]),
        (f("last_seen", "within_next_days", json!(1)), vec![1, 3, 6]),
        // … ignoring the year: 29 February counts on 28 February in 2026
        (
            yearly("renewal_date", "within_last_days", json!(1)),
            vec![3, 6],
        ),
        (
            yearly("renewal_date", "within_next_days", json!(30)),
            vec![1, 6],
        ),
        (
            yearly("renewal_date", "within_last_days", json!(40)),
            vec![2, 3, 6],
        ),
        (
            yearly("renewal_date", "within_next_days", json!(365)),
            vec![1, 2, 3, 6],
        ),
        (
            yearly("last_seen", "within_next_days", json!(1)),
            vec![1, 3, 6],
        ),
        // hostile text is only ever a literal
        (f("firstname", "eq", json!("x' OR '1'='1")), vec![]),
        (
            f(
                "firstname",
                "contains",
                json!("'); DROP TABLE contacts; --"),
            ),
            vec![],
        ),
    ]
}

pub(crate) fn rust_ids(groups: &[Vec<Filter>]) -> Vec<i64> {
    let cat = catalog();
    contacts()
        .iter()
        .filter(|c| matches_groups(groups, *c, &cat, today()))
        .map(|c| c.id)
        .collect()
}
