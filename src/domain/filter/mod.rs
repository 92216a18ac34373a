//! Contact filters (DESIGN §3, §6): one [`Filter`] definition, two faces that must agree.
//!
//! 1. [`matches_groups`] / [`matches_filter`] evaluate filters in Rust for one contact (on
//!    create, update, CSV import, list change, and the periodic sweep).
//! 2. [`compile_groups`] compiles the same filters to a backend-neutral condition tree
//!    ([`Cond`] of [`Predicate`]s) that `db::sql::filter` renders as SQL for the backend in
//!    use, so "enroll existing" and list snapshots are set-based
//!    (`INSERT … SELECT … FROM contacts c WHERE <expr>`). The domain holds predicates, not a
//!    dialect.
//!
//! Both faces go through one private `prepare` step (property lookup, operator check, operand
//! parsing), so they cannot drift apart on what a filter means; `db::sql::filter`'s tests run
//! both on the same fixtures (`fixtures.rs`) against a real database.
//!
//! # Semantics
//!
//! * Groups: OR between groups, AND inside a group. An **empty group list matches nothing**
//!   (callers treat "no triggers" as manual enrollment only, and "no suppression" as nobody
//!   suppressed); an empty group inside the list also matches nothing (validation rejects it).
//! * A filter that is invalid for the catalog (unknown property, operator unsuitable for the
//!   field type, unparsable value, unknown list) never matches in Rust, and makes
//!   [`compile_groups`] fail with a [`FilterError`] naming the filter: fail closed.
//! * Stored values are the canonical text of [`normalize_value`] (never empty). A contact
//!   value of `Some("")` is treated as no value.
//! * Case-insensitivity is **ASCII** case folding, the same as SQLite's `NOCASE` collation and
//!   `lower()` (and PostgreSQL's `lower()` under `COLLATE "C"`): `Æ` and `æ` differ in every
//!   face.
//!
//! | operator | text / enum | bool | number | date | datetime |
//! |---|---|---|---|---|---|
//! | `eq` | equal ignoring case (enum operand must be an option) | equal | numerically equal | same day | same instant, or same UTC day when the operand is a date |
//! | `neq` | value **known** and not equal | same | same | same | same |
//! | `contains` | case-insensitive substring | – | – | – | – |
//! | `known` / `unknown` | has a value / has none | all types | | | |
//! | `gt` / `lt` | – | – | numeric | later / earlier day | later / earlier (instant, or UTC day for a date operand) |
//! | `before` / `after` | – | – | – | same as `lt` / `gt` | same as `lt` / `gt` |
//! | `in_list` | no property; the value is a list id (JSON number or numeric string) | | | | |
//!
//! Date operands (for `eq`, `neq`, `gt`, `lt`, `before`, `after` on date and datetime
//! properties) are an ISO date `YYYY-MM-DD` or a relative date `today`, `today-30`, `today+7`
//! (days, at most ±36500) resolved against the `today` passed in. A filter with a relative
//! date is *time-relative* ([`is_time_relative`]): its result changes with the calendar, so the
//! periodic sweep re-evaluates it. Datetime values are compared in UTC: "after 2026-03-01"
//! means on 2026-03-02T00:00:00Z or later.
//!
//! The email property lives on the contact row (`contacts.email`); every other property is a
//! row of `contact_values` (`value` canonical text, `num` its numeric mirror for number
//! properties). Text operands containing NUL are refused here, so the SQL face only ever
//! quotes plain text.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::Value;

use super::definition::{Filter, Operator};
use super::values::parse_iso_date;
pub use super::values::{normalize_value, value_to_json, FieldType};

/// The property stored on the contact row (`contacts.email`) rather than in `contact_values`.
pub const EMAIL_PROPERTY: &str = "email";

/// The largest `N` accepted in a relative date `today±N` (about 100 years).
pub const MAX_RELATIVE_DAYS: i64 = 36_500;

/// One contact property as validation and filter compilation need it.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyInfo {
    pub id: i64,
    /// Internal name, e.g. `renewal_date`.
    pub name: String,
    /// What people see, e.g. "Renewal date".
    pub label: String,
    pub field_type: FieldType,
    /// Dropdown options (enum properties); empty otherwise.
    pub options: Vec<String>,
}

/// What validation and filter compilation need to know about the account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub properties: Vec<PropertyInfo>,
    pub list_ids: Vec<i64>,
    pub workflow_ids: Vec<i64>,
}

impl Catalog {
    /// The property with this internal name (exact match).
    pub fn property(&self, name: &str) -> Option<&PropertyInfo> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn property_by_id(&self, id: i64) -> Option<&PropertyInfo> {
        self.properties.iter().find(|p| p.id == id)
    }

    pub fn has_list(&self, id: i64) -> bool {
        self.list_ids.contains(&id)
    }

    pub fn has_workflow(&self, id: i64) -> bool {
        self.workflow_ids.contains(&id)
    }

    /// The properties a date-centred workflow may be centred on (field type date).
    pub fn date_properties(&self) -> impl Iterator<Item = &PropertyInfo> {
        self.properties
            .iter()
            .filter(|p| p.field_type == FieldType::Date)
    }
}

/// One contact as the Rust face of a filter sees it.
pub trait ContactView {
    /// The stored (canonical) value of a property by internal name; `email` included.
    fn value(&self, property: &str) -> Option<&str>;
    fn in_list(&self, list_id: i64) -> bool;
}

/// Which part of a filter is wrong (the last segment of its field path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterPart {
    Property,
    Operator,
    Value,
    IgnoreYear,
}

impl FilterPart {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterPart::Property => "property",
            FilterPart::Operator => "operator",
            FilterPart::Value => "value",
            FilterPart::IgnoreYear => "ignore_year",
        }
    }
}

/// A filter that cannot be evaluated: `groups[group][index].part`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub group: usize,
    pub index: usize,
    pub part: FilterPart,
    pub message: String,
}

impl FilterError {
    /// The field path under `prefix`, e.g. `triggers.filter_groups[0][1].property`.
    pub fn path(&self, prefix: &str) -> String {
        format!(
            "{prefix}[{}][{}].{}",
            self.group,
            self.index,
            self.part.as_str()
        )
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path("filter_groups"), self.message)
    }
}

impl std::error::Error for FilterError {}

/// Whether `op` can be used on a property of type `ft` (`in_list` takes no property).
pub fn operator_applies(op: Operator, ft: FieldType) -> bool {
    use FieldType::*;
    match op {
        Operator::Eq | Operator::Neq | Operator::Known | Operator::Unknown => true,
        Operator::Contains => matches!(ft, Text | Enum),
        Operator::Gt | Operator::Lt => matches!(ft, Number | Date | Datetime),
        Operator::Before | Operator::After => matches!(ft, Date | Datetime),
        Operator::WithinNextDays | Operator::WithinLastDays => matches!(ft, Date | Datetime),
        Operator::InList => false,
    }
}

/// The operators offered for a property of type `ft`, in display order.
pub fn operators_for(ft: FieldType) -> Vec<Operator> {
    Operator::ALL
        .into_iter()
        .filter(|op| operator_applies(*op, ft))
        .collect()
}

/// A date operand: a fixed day or a day relative to "today".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOperand {
    On(NaiveDate),
    /// `today+N` (negative: `today-N`).
    Today(i64),
}

impl DateOperand {
    pub fn is_relative(self) -> bool {
        matches!(self, DateOperand::Today(_))
    }

    /// The day this operand means when today is `today` (None only on calendar overflow).
    pub fn resolve(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            DateOperand::On(d) => Some(d),
            DateOperand::Today(n) => today.checked_add_signed(Duration::days(n)),
        }
    }
}

/// Parses `YYYY-MM-DD`, `today`, `today-30`, `today+7` (case-insensitive, spaces around the
/// sign allowed, |N| ≤ [`MAX_RELATIVE_DAYS`]).
pub fn parse_date_operand(s: &str) -> Option<DateOperand> {
    let t = s.trim();
    if let Some(d) = parse_iso_date(t) {
        return Some(DateOperand::On(d));
    }
    let lower = t.to_ascii_lowercase();
    let rest = lower.strip_prefix("today")?.trim_start();
    if rest.is_empty() {
        return Some(DateOperand::Today(0));
    }
    let (sign, digits) = if let Some(r) = rest.strip_prefix('+') {
        (1, r.trim_start())
    } else if let Some(r) = rest.strip_prefix('-') {
        (-1, r.trim_start())
    } else {
        return None;
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    (n <= MAX_RELATIVE_DAYS).then_some(DateOperand::Today(sign * n))
}

/// Whether any filter compares against a relative date (`today…`), so its result changes with
/// the calendar and the periodic sweep must re-evaluate it.
pub fn is_time_relative(groups: &[Vec<Filter>]) -> bool {
    groups.iter().flatten().any(|f| {
        f.operator.is_within() || {
            matches!(
                f.operator,
                Operator::Eq
                    | Operator::Neq
                    | Operator::Gt
                    | Operator::Lt
                    | Operator::Before
                    | Operator::After
            ) && matches!(&f.value, Some(Value::String(s))
            if parse_date_operand(s).is_some_and(DateOperand::is_relative))
        }
    })
}

/// Checks one filter against the catalog; the error names the part to fix.
pub fn check_filter(filter: &Filter, catalog: &Catalog) -> Result<(), (FilterPart, String)> {
    // Relative dates only need to resolve; any fixed day does for checking.
    let today = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    prepare(filter, catalog, today).map(|_| ())
}

/// OR of AND-groups for one contact. An empty group list matches nothing.
pub fn matches_groups(
    groups: &[Vec<Filter>],
    contact: &dyn ContactView,
    catalog: &Catalog,
    today: NaiveDate,
) -> bool {
    groups.iter().any(|group| {
        !group.is_empty()
            && group
                .iter()
                .all(|f| matches_filter(f, contact, catalog, today))
    })
}

/// One filter for one contact; an invalid filter never matches.
pub fn matches_filter(
    filter: &Filter,
    contact: &dyn ContactView,
    catalog: &Catalog,
    today: NaiveDate,
) -> bool {
    match prepare(filter, catalog, today) {
        Ok(p) => p.eval(contact),
        Err(_) => false,
    }
}

/// The set-based face: the groups as a [`Cond`] over one contact, which `db::sql::filter`
/// renders as SQL for the backend in use (`INSERT … SELECT … FROM contacts c WHERE <cond>`).
/// An empty group list is [`Cond::FALSE`]; an empty group inside it matches nothing too.
pub fn compile_groups(
    groups: &[Vec<Filter>],
    catalog: &Catalog,
    today: NaiveDate,
) -> Result<Cond, FilterError> {
    let mut any = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        if group.is_empty() {
            any.push(Cond::FALSE);
            continue;
        }
        let mut all = Vec::with_capacity(group.len());
        for (i, filter) in group.iter().enumerate() {
            let predicate =
                compile_filter(filter, catalog, today).map_err(|(part, message)| FilterError {
                    group: g,
                    index: i,
                    part,
                    message,
                })?;
            all.push(Cond::Filter(predicate));
        }
        any.push(Cond::All(all));
    }
    Ok(Cond::Any(any))
}

/// One filter resolved against the catalog (see [`compile_groups`]). Text operands with a NUL
/// character are refused here, so no backend ever has to quote one.
pub fn compile_filter(
    filter: &Filter,
    catalog: &Catalog,
    today: NaiveDate,
) -> Result<Predicate, (FilterPart, String)> {
    let p = prepare(filter, catalog, today)?;
    if p.has_nul() {
        return Err((FilterPart::Value, NUL_MESSAGE.to_string()));
    }
    Ok(p)
}

/// A condition on one contact, built from filters and the few other facts a workflow's
/// criteria need. Backend-neutral: `db::sql::filter` turns it into SQL over a contact row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// Every part holds (an empty list holds).
    All(Vec<Cond>),
    /// Some part holds (an empty list does not).
    Any(Vec<Cond>),
    Not(Box<Cond>),
    /// One filter.
    Filter(Predicate),
    /// The contact has a value for this property (by id): the built-in "[property] is known".
    HasValue(i64),
    /// The contact is a member of at least one of these lists (suppression lists).
    InAnyList(Vec<i64>),
}

impl Cond {
    /// Always true.
    pub const TRUE: Cond = Cond::All(Vec::new());
    /// Always false.
    pub const FALSE: Cond = Cond::Any(Vec::new());

    /// `self AND other` (a part that always holds is left out).
    pub fn and(self, other: Cond) -> Cond {
        match (self, other) {
            (c, Cond::All(o)) if o.is_empty() => c,
            (Cond::All(s), o) if s.is_empty() => o,
            (Cond::All(mut parts), o) => {
                parts.push(o);
                Cond::All(parts)
            }
            (c, o) => Cond::All(vec![c, o]),
        }
    }

    /// `NOT self` (constants folded: not nothing is everything).
    pub fn negate(self) -> Cond {
        match self {
            Cond::Any(p) if p.is_empty() => Cond::TRUE,
            Cond::InAnyList(ids) if ids.is_empty() => Cond::TRUE,
            Cond::All(p) if p.is_empty() => Cond::FALSE,
            c => Cond::Not(Box::new(c)),
        }
    }
}

const NUL_MESSAGE: &str = "must not contain a NUL character";

// ---------------------------------------------------------------------------------------------
// The shared core: a filter resolved against the catalog.

/// How a stored value compares with the operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
}

impl Cmp {
    fn from_operator(op: Operator) -> Cmp {
        match op {
            Operator::Neq => Cmp::Ne,
            Operator::Lt | Operator::Before => Cmp::Lt,
            Operator::Gt | Operator::After => Cmp::Gt,
            _ => Cmp::Eq,
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => ord == Equal,
            Cmp::Ne => ord != Equal,
            Cmp::Lt => ord == Less,
            Cmp::Gt => ord == Greater,
        }
    }
}

/// The test one filter applies to a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Known,
    Unknown,
    /// Text, enum and bool equality (ASCII case-insensitive).
    TextEq(String),
    TextNe(String),
    /// Operand already ASCII-lowercased.
    Contains(String),
    Num(Cmp, f64),
    /// Date property against a day.
    Date(Cmp, NaiveDate),
    /// Datetime property against a whole UTC day.
    DatetimeDay(Cmp, NaiveDate),
    /// Datetime property against an instant.
    Instant(Cmp, DateTime<Utc>),
    /// A date (or a datetime's UTC day) within these days, inclusive.
    DaysBetween {
        from: NaiveDate,
        to: NaiveDate,
        datetime: bool,
    },
    /// Month and day (`MM-DD`, characters 6–10 of the stored value) within one of these
    /// inclusive ranges, whatever the year (anniversaries).
    MonthDayIn(Vec<(String, String)>),
}

/// A filter resolved against the catalog: what to test, and on which value.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Member of the list with this id.
    InList(i64),
    /// The email on the contact row.
    Email(Test),
    /// A property stored in `contact_values` (`id`), known to Rust as `name`.
    Stored { id: i64, name: String, test: Test },
}

type Problem = (FilterPart, String);

fn prepare(filter: &Filter, catalog: &Catalog, today: NaiveDate) -> Result<Predicate, Problem> {
    let op = filter.operator;
    let property = filter
        .property
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let raw = filter.value.as_ref().filter(|v| !is_blank(v));

    if op == Operator::InList {
        if property.is_some() {
            return Err((
                FilterPart::Property,
                "A list-membership filter takes no property; leave it out.".into(),
            ));
        }
        let raw = raw.ok_or((FilterPart::Value, "Choose a list.".to_string()))?;
        let id = list_id(raw).ok_or((
            FilterPart::Value,
            format!("{} is not a list id.", short(raw)),
        ))?;
        if !catalog.has_list(id) {
            return Err((
                FilterPart::Value,
                format!("There is no list with id {id} (it may have been deleted)."),
            ));
        }
        return Ok(Predicate::InList(id));
    }

    let name = property.ok_or((FilterPart::Property, "Choose a property.".to_string()))?;
    let prop = catalog.property(name).ok_or_else(|| {
        (
            FilterPart::Property,
            format!("There is no property named \"{name}\" (it may have been deleted)."),
        )
    })?;
    let ft = prop.field_type;
    if !operator_applies(op, ft) {
        let allowed: Vec<&str> = operators_for(ft).into_iter().map(|o| o.as_str()).collect();
        return Err((
            FilterPart::Operator,
            format!(
                "\"{}\" does not apply to {} ({}); use one of: {}.",
                op.as_str(),
                prop.label,
                ft.label(),
                allowed.join(", ")
            ),
        ));
    }

    if filter.ignore_year && !op.is_within() {
        return Err((
            FilterPart::IgnoreYear,
            "\"Ignore the year\" goes with \"is within the next/last … days\" only.".into(),
        ));
    }
    let test = if op.is_within() {
        let raw = raw.ok_or((FilterPart::Value, "Enter a number of days.".to_string()))?;
        within(op, raw, filter.ignore_year, ft, today).map_err(|m| (FilterPart::Value, m))?
    } else if !op.takes_value() {
        if raw.is_some() {
            return Err((
                FilterPart::Value,
                format!("\"{}\" takes no value; leave it out.", op.as_str()),
            ));
        }
        if op == Operator::Known {
            Test::Known
        } else {
            Test::Unknown
        }
    } else {
        let raw = raw.ok_or((
            FilterPart::Value,
            "Enter a value to compare with.".to_string(),
        ))?;
        operand(op, ft, &prop.options, raw, today).map_err(|m| (FilterPart::Value, m))?
    };

    Ok(if prop.name == EMAIL_PROPERTY {
        Predicate::Email(test)
    } else {
        Predicate::Stored {
            id: prop.id,
            name: prop.name.clone(),
            test,
        }
    })
}

fn operand(
    op: Operator,
    ft: FieldType,
    options: &[String],
    raw: &Value,
    today: NaiveDate,
) -> Result<Test, String> {
    let cmp = Cmp::from_operator(op);
    if op == Operator::Contains {
        let text = match raw {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err("must be text".into()),
        };
        if text.is_empty() {
            return Err("Enter a value to compare with.".into());
        }
        no_nul(&text)?;
        return Ok(Test::Contains(text.to_ascii_lowercase()));
    }
    match ft {
        FieldType::Text | FieldType::Enum | FieldType::Bool => {
            let s = normalize_value(ft, options, raw)?
                .ok_or_else(|| "Enter a value to compare with.".to_string())?;
            no_nul(&s)?;
            Ok(if cmp == Cmp::Ne {
                Test::TextNe(s)
            } else {
                Test::TextEq(s)
            })
        }
        FieldType::Number => {
            let s = normalize_value(ft, options, raw)?
                .ok_or_else(|| "Enter a number to compare with.".to_string())?;
            let x: f64 = s.parse().map_err(|_| format!("\"{s}\" is not a number"))?;
            Ok(Test::Num(cmp, x))
        }
        FieldType::Date => Ok(Test::Date(cmp, day_operand(raw, today)?)),
        FieldType::Datetime => {
            if let Value::String(s) = raw {
                if parse_date_operand(s).is_some() {
                    return Ok(Test::DatetimeDay(cmp, day_operand(raw, today)?));
                }
            }
            let canonical = normalize_value(ft, options, raw)
                .map_err(|_| {
                    format!(
                        "{} is not a date (YYYY-MM-DD), a relative date (today, today-30, \
                         today+7) or a date and time (e.g. 2026-05-01T09:30:00Z)",
                        short(raw)
                    )
                })?
                .ok_or_else(|| "Enter a value to compare with.".to_string())?;
            let t = DateTime::parse_from_rfc3339(&canonical)
                .map_err(|_| format!("\"{canonical}\" is not a date and time"))?
                .with_timezone(&Utc);
            if !(1..=9999).contains(&t.year()) {
                return Err("must be between the years 1 and 9999".into());
            }
            Ok(Test::Instant(cmp, t))
        }
    }
}

/// A `within_…` filter on a value that is not a stored contact property (an event's
/// property): the value's first ten characters as a date, else false.
pub fn within_matches(f: &Filter, value: Option<&str>, today: NaiveDate) -> bool {
    let (Some(v), Some(raw)) = (value, f.value.as_ref()) else {
        return false;
    };
    let Some(day) = v.get(..10).and_then(parse_iso_date) else {
        return false;
    };
    within(f.operator, raw, f.ignore_year, FieldType::Date, today)
        .is_ok_and(|t| t.eval(Some(&day.format("%Y-%m-%d").to_string())))
}

/// The largest N of "within the next/last N days" (about 100 years).
pub const MAX_WITHIN_DAYS: i64 = 36_500;

/// `within_next_days` / `within_last_days` N: the days from today to today ± N, as dates or
/// — ignoring the year — as month-day ranges. A 29 February falls on 28 February in a year
/// without one (the scheduling default, DESIGN §2).
fn within(
    op: Operator,
    raw: &Value,
    ignore_year: bool,
    ft: FieldType,
    today: NaiveDate,
) -> Result<Test, String> {
    let n = match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|n| (0..=MAX_WITHIN_DAYS).contains(n))
    .ok_or_else(|| {
        format!(
            "{} is not a number of days (a whole number from 0 to {MAX_WITHIN_DAYS})",
            short(raw)
        )
    })?;
    let other = if op == Operator::WithinNextDays {
        today.checked_add_signed(Duration::days(n))
    } else {
        today.checked_sub_signed(Duration::days(n))
    }
    .ok_or_else(|| "that many days goes past the calendar".to_string())?;
    let (from, to) = if other < today {
        (other, today)
    } else {
        (today, other)
    };
    if !ignore_year {
        return Ok(Test::DaysBetween {
            from,
            to,
            datetime: ft == FieldType::Datetime,
        });
    }
    Ok(Test::MonthDayIn(month_day_ranges(from, to)))
}

/// The month-days (`MM-DD`) of the days `from..=to` as sorted inclusive ranges; a 28 February
/// of a year without a 29th also stands for `02-29`.
pub fn month_day_ranges(from: NaiveDate, to: NaiveDate) -> Vec<(String, String)> {
    if (to - from).num_days() >= 365 {
        return vec![("01-01".into(), "12-31".into())];
    }
    let mut days: Vec<String> = Vec::new();
    let mut d = from;
    while d <= to {
        days.push(d.format("%m-%d").to_string());
        if d.month() == 2 && d.day() == 28 && NaiveDate::from_ymd_opt(d.year(), 2, 29).is_none() {
            days.push("02-29".into());
        }
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    days.sort();
    days.dedup();
    // Runs of calendar-consecutive month-days become ranges ("02-28", "02-29", "03-01" are
    // consecutive in the text order the database compares too).
    let all = all_month_days();
    let mut ranges: Vec<(String, String)> = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for md in &days {
        let Some(pos) = all.iter().position(|a| a == md) else {
            continue;
        };
        run = match run {
            Some((start, end)) if pos == end + 1 => Some((start, pos)),
            Some((start, end)) => {
                ranges.push((all[start].clone(), all[end].clone()));
                Some((pos, pos))
            }
            None => Some((pos, pos)),
        };
    }
    if let Some((start, end)) = run {
        ranges.push((all[start].clone(), all[end].clone()));
    }
    ranges
}

/// Every month-day of a leap year, in order (`01-01` … `12-31`).
fn all_month_days() -> Vec<String> {
    let mut out = Vec::with_capacity(366);
    let mut d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    while d.year() == 2000 {
        out.push(d.format("%m-%d").to_string());
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    out
}

fn day_operand(raw: &Value, today: NaiveDate) -> Result<NaiveDate, String> {
    let invalid = || {
        format!(
            "{} is not a date (YYYY-MM-DD) or a relative date such as today, today-30 or today+7",
            short(raw)
        )
    };
    let Value::String(s) = raw else {
        return Err(invalid());
    };
    let d = parse_date_operand(s)
        .ok_or_else(invalid)?
        .resolve(today)
        .ok_or_else(invalid)?;
    if !(1..=9999).contains(&d.year()) {
        return Err("must be between the years 1 and 9999".into());
    }
    Ok(d)
}

pub(crate) fn list_id(raw: &Value) -> Option<i64> {
    match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        }
        _ => None,
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn no_nul(s: &str) -> Result<(), String> {
    if s.contains('\0') {
        Err(NUL_MESSAGE.into())
    } else {
        Ok(())
    }
}

/// A JSON value quoted for a message, cut to a readable length.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The first second of a UTC day, as stored datetimes spell it (a datetime filter against a
/// whole day compares with these bounds).
pub fn day_start(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

/// The last second of a UTC day (see [`day_start`]).
pub fn day_end(d: NaiveDate) -> String {
    format!("{}T23:59:59Z", d.format("%Y-%m-%d"))
}

impl Predicate {
    fn eval(&self, contact: &dyn ContactView) -> bool {
        match self {
            Predicate::InList(id) => contact.in_list(*id),
            Predicate::Email(test) => test.eval(contact.value(EMAIL_PROPERTY)),
            Predicate::Stored { name, test, .. } => test.eval(contact.value(name)),
        }
    }

    fn has_nul(&self) -> bool {
        match self {
            Predicate::InList(_) => false,
            Predicate::Email(t) | Predicate::Stored { test: t, .. } => t.has_nul(),
        }
    }
}

impl Test {
    fn eval(&self, value: Option<&str>) -> bool {
        let value = value.filter(|v| !v.is_empty());
        let Some(v) = value else {
            return *self == Test::Unknown;
        };
        match self {
            Test::Known => true,
            Test::Unknown => false,
            Test::TextEq(s) => v.eq_ignore_ascii_case(s),
            Test::TextNe(s) => !v.eq_ignore_ascii_case(s),
            Test::Contains(lower) => v.to_ascii_lowercase().contains(lower.as_str()),
            Test::Num(cmp, x) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => n.partial_cmp(x).is_some_and(|o| cmp.holds(o)),
                _ => false,
            },
            Test::Date(cmp, d) => parse_iso_date(v).is_some_and(|vd| cmp.holds(vd.cmp(d))),
            Test::DatetimeDay(cmp, d) => DateTime::parse_from_rfc3339(v)
                .is_ok_and(|t| cmp.holds(t.with_timezone(&Utc).date_naive().cmp(d))),
            Test::Instant(cmp, t) => DateTime::parse_from_rfc3339(v)
                .is_ok_and(|vt| cmp.holds(vt.with_timezone(&Utc).cmp(t))),
            Test::DaysBetween { from, to, datetime } => {
                let day = if *datetime {
                    DateTime::parse_from_rfc3339(v)
                        .ok()
                        .map(|t| t.with_timezone(&Utc).date_naive())
                } else {
                    parse_iso_date(v)
                };
                day.is_some_and(|d| *from <= d && d <= *to)
            }
            Test::MonthDayIn(ranges) => v.get(5..10).is_some_and(|md| {
                ranges
                    .iter()
                    .any(|(a, b)| a.as_str() <= md && md <= b.as_str())
            }),
        }
    }

    fn has_nul(&self) -> bool {
        match self {
            Test::TextEq(s) | Test::TextNe(s) | Test::Contains(s) => s.contains('\0'),
            _ => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
