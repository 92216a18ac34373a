//! The Rust face of filters: checks, relative dates, operators per type. The SQL face is
//! compared with this one in `db::sql::filter`.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::fixtures::*;
use super::*;

#[test]
fn invalid_filters_never_match_and_do_not_compile() {
    let cat = catalog();
    let cases: Vec<(Filter, FilterPart, &str)> = vec![
        (
            f("nope", "eq", json!("x")),
            FilterPart::Property,
            "no property named \"nope\"",
        ),
        (
            f("", "eq", json!("x")),
            FilterPart::Property,
            "Choose a property",
        ),
        (
            f("firstname", "gt", json!("x")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("firstname", "before", json!("2026-01-01")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("score", "contains", json!("4")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("score", "before", json!("2026-01-01")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("vip", "contains", json!("t")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("vip", "gt", json!(true)),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("renewal_date", "contains", json!("2026")),
            FilterPart::Operator,
            "does not apply",
        ),
        (
            f("firstname", "in_list", json!(10)),
            FilterPart::Property,
            "takes no property",
        ),
        (
            f("firstname", "eq", Value::Null),
            FilterPart::Value,
            "Enter a value",
        ),
        (
            f("firstname", "eq", json!("  ")),
            FilterPart::Value,
            "Enter a value",
        ),
        (
            f("firstname", "known", json!("x")),
            FilterPart::Value,
            "takes no value",
        ),
        (
            f("score", "gt", json!("many")),
            FilterPart::Value,
            "not a number",
        ),
        (
            f("lifecyclestage", "eq", json!("vip")),
            FilterPart::Value,
            "not one of the options",
        ),
        (
            f("vip", "eq", json!("maybe")),
            FilterPart::Value,
            "not true or false",
        ),
        (
            f("renewal_date", "before", json!("2021-02-30")),
            FilterPart::Value,
            "not a date",
        ),
        (
            f("renewal_date", "before", json!("yesterday")),
            FilterPart::Value,
            "not a date",
        ),
        (
            f("renewal_date", "after", json!("today*2")),
            FilterPart::Value,
            "not a date",
        ),
        (
            f("renewal_date", "after", json!(20260101)),
            FilterPart::Value,
            "not a date",
        ),
        (
            f("last_seen", "after", json!("soon")),
            FilterPart::Value,
            "not a date",
        ),
        (
            f("", "in_list", json!(99)),
            FilterPart::Value,
            "no list with id 99",
        ),
        (
            f("", "in_list", json!("ten")),
            FilterPart::Value,
            "not a list id",
        ),
        (
            f("", "in_list", Value::Null),
            FilterPart::Value,
            "Choose a list",
        ),
        (
            f("firstname", "contains", json!([1])),
            FilterPart::Value,
            "must be text",
        ),
    ];
    for (filter, part, message) in cases {
        let err = check_filter(&filter, &cat).unwrap_err();
        assert_eq!(err.0, part, "{filter:?}: {err:?}");
        assert!(err.1.contains(message), "{filter:?}: {err:?}");
        for c in contacts() {
            assert!(!matches_filter(&filter, &c, &cat, today()), "{filter:?}");
        }
        let groups = vec![
            vec![f("", "in_list", json!(10))],
            vec![f("", "in_list", json!(11)), filter.clone()],
        ];
        let err = compile_groups(&groups, &cat, today()).unwrap_err();
        assert_eq!((err.group, err.index, err.part), (1, 1, part), "{filter:?}");
        assert_eq!(
            err.path("triggers.filter_groups"),
            format!("triggers.filter_groups[1][1].{}", part.as_str())
        );
    }
}

#[test]
fn within_windows_ignoring_the_year_wrap_and_keep_29_february() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let r = |a: &str, b: &str| (a.to_string(), b.to_string());
    // Across new year: two ranges.
    assert_eq!(
        month_day_ranges(d("2026-12-28"), d("2027-01-03")),
        vec![r("01-01", "01-03"), r("12-28", "12-31")]
    );
    // A year without 29 February: 28 February stands for it.
    assert_eq!(
        month_day_ranges(d("2027-02-27"), d("2027-02-28")),
        vec![r("02-27", "02-29")]
    );
    assert_eq!(
        month_day_ranges(d("2028-02-28"), d("2028-02-28")),
        vec![r("02-28", "02-28")],
        "a leap year keeps 29 February for itself"
    );
    assert_eq!(
        month_day_ranges(d("2026-01-01"), d("2027-01-01")),
        vec![r("01-01", "12-31")]
    );
    // Validation of the value and of "ignore the year".
    let cat = catalog();
    let err = check_filter(&f("renewal_date", "within_next_days", json!(-1)), &cat).unwrap_err();
    assert_eq!(err.0, FilterPart::Value);
    let err = check_filter(
        &f("renewal_date", "within_next_days", json!("a week")),
        &cat,
    )
    .unwrap_err();
    assert_eq!(err.0, FilterPart::Value);
    let err = check_filter(&yearly("renewal_date", "eq", json!("2026-01-01")), &cat).unwrap_err();
    assert_eq!(err.0, FilterPart::IgnoreYear);
    let err = check_filter(&f("firstname", "within_last_days", json!(3)), &cat).unwrap_err();
    assert_eq!(err.0, FilterPart::Operator);
    assert!(is_time_relative(&[vec![f(
        "renewal_date",
        "within_next_days",
        json!(7)
    )]]));
}

#[test]
fn relative_dates_parse_and_resolve() {
    use DateOperand::*;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let cases = [
        ("today", Some(Today(0))),
        ("TODAY", Some(Today(0))),
        ("today-30", Some(Today(-30))),
        ("today+7", Some(Today(7))),
        (" today - 30 ", Some(Today(-30))),
        ("today+36500", Some(Today(36_500))),
        ("today+36501", None),
        ("today+", None),
        ("today+1.5", None),
        ("today7", None),
        ("tomorrow", None),
        ("2026-03-01", Some(On(d("2026-03-01")))),
        ("2026-3-1", None),
        ("2026-02-29", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_date_operand(s), want, "{s}");
    }
    assert_eq!(Today(-30).resolve(d("2026-03-01")), Some(d("2026-01-30")));
    assert_eq!(Today(1).resolve(d("2024-02-28")), Some(d("2024-02-29")));
    assert_eq!(
        On(d("2020-01-20")).resolve(d("2026-03-01")),
        Some(d("2020-01-20"))
    );
}

#[test]
fn time_relative_filters_are_detected() {
    let relative = vec![
        vec![f("lifecyclestage", "eq", json!("customer"))],
        vec![f("renewal_date", "before", json!("today+7"))],
    ];
    assert!(is_time_relative(&relative));
    assert!(is_time_relative(&[vec![f(
        "last_seen",
        "gt",
        json!("today")
    )]]));
    let fixed = vec![
        vec![f("renewal_date", "before", json!("2026-01-01"))],
        vec![f("firstname", "contains", json!("today"))],
        vec![f("renewal_date", "known", Value::Null)],
    ];
    assert!(!is_time_relative(&fixed));
    assert!(!is_time_relative(&[]));
}

#[test]
fn operators_offered_per_field_type() {
    let names = |ft| -> Vec<&str> { operators_for(ft).into_iter().map(|o| o.as_str()).collect() };
    assert_eq!(
        names(FieldType::Text),
        ["eq", "neq", "contains", "known", "unknown"]
    );
    assert_eq!(
        names(FieldType::Enum),
        ["eq", "neq", "contains", "known", "unknown"]
    );
    assert_eq!(names(FieldType::Bool), ["eq", "neq", "known", "unknown"]);
    assert_eq!(
        names(FieldType::Number),
        ["eq", "neq", "known", "unknown", "gt", "lt"]
    );
    assert_eq!(
        names(FieldType::Date),
        [
            "eq",
            "neq",
            "known",
            "unknown",
            "gt",
            "lt",
            "before",
            "after",
            "within_next_days",
            "within_last_days"
        ]
    );
    assert_eq!(names(FieldType::Datetime), names(FieldType::Date));
}

#[test]
fn catalog_lookups() {
    let cat = catalog();
    assert_eq!(cat.property("score").map(|p| p.id), Some(4));
    assert!(cat.property("Score").is_none());
    assert_eq!(
        cat.property_by_id(5).map(|p| p.name.as_str()),
        Some("renewal_date")
    );
    assert!(cat.has_list(10) && !cat.has_list(12));
    assert!(cat.has_workflow(100) && !cat.has_workflow(1));
    let dates: Vec<&str> = cat.date_properties().map(|p| p.name.as_str()).collect();
    assert_eq!(dates, ["renewal_date"]);
}

#[test]
fn empty_stored_text_counts_as_no_value() {
    let cat = catalog();
    let c = contact(9, &[("firstname", ""), ("email", "")], &[]);
    assert!(matches_filter(
        &f("firstname", "unknown", Value::Null),
        &c,
        &cat,
        today()
    ));
    assert!(matches_filter(
        &f("email", "unknown", Value::Null),
        &c,
        &cat,
        today()
    ));
    assert!(!matches_filter(
        &f("firstname", "neq", json!("x")),
        &c,
        &cat,
        today()
    ));
}
