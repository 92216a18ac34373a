//! Contact filters (DESIGN §3, §6): one [`Filter`] definition, two faces that must agree.
//!
//! 1. [`matches_groups`] / [`matches_filter`] evaluate filters in Rust for one contact (on
//!    create, update, CSV import, list change, and the periodic sweep).
//! 2. [`compile_groups_sql`] compiles the same filters to one boolean SQLite expression over a
//!    contact row aliased `c`, so "enroll existing" and list snapshots are set-based
//!    (`INSERT … SELECT … FROM contacts c WHERE <expr>`).
//!
//! Both faces go through one private `prepare` step (property lookup, operator check, operand
//! parsing), so they cannot drift apart on what a filter means; the tests run both on the same
//! fixtures against an in-memory SQLite database.
//!
//! # Semantics
//!
//! * Groups: OR between groups, AND inside a group. An **empty group list matches nothing**
//!   (callers treat "no triggers" as manual enrollment only, and "no suppression" as nobody
//!   suppressed); an empty group inside the list also matches nothing (validation rejects it).
//! * A filter that is invalid for the catalog (unknown property, operator unsuitable for the
//!   field type, unparsable value, unknown list) never matches in Rust, and makes
//!   [`compile_groups_sql`] fail with a [`FilterError`] naming the filter: fail closed.
//! * Stored values are the canonical text of [`normalize_value`] (never empty). A contact
//!   value of `Some("")` is treated as no value.
//! * Case-insensitivity is **ASCII** case folding, the same as SQLite's `NOCASE` collation and
//!   `lower()`: `Æ` and `æ` differ in both faces.
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
//! The email property lives on the contact row (`contacts.email`, `COLLATE NOCASE`); every
//! other property is a row of `contact_values` (`value` canonical text `COLLATE NOCASE`,
//! `num` its numeric mirror for number properties). Every value spliced into SQL goes through
//! [`sql_string_literal`] or f64 formatting; ids come from the catalog.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
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
}

impl FilterPart {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterPart::Property => "property",
            FilterPart::Operator => "operator",
            FilterPart::Value => "value",
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

/// The SQL face: a boolean SQLite expression over a contact row aliased `c`
/// (`SELECT c.id FROM contacts c WHERE <expr>`). An empty group list compiles to `0`;
/// otherwise the expression is parenthesised, so it can be combined with `AND`.
pub fn compile_groups_sql(
    groups: &[Vec<Filter>],
    catalog: &Catalog,
    today: NaiveDate,
) -> Result<String, FilterError> {
    if groups.is_empty() {
        return Ok("0".to_string());
    }
    let mut parts = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        if group.is_empty() {
            parts.push("0".to_string());
            continue;
        }
        let mut conds = Vec::with_capacity(group.len());
        for (i, filter) in group.iter().enumerate() {
            let sql = compile_filter_sql(filter, catalog, today).map_err(|(part, message)| {
                FilterError {
                    group: g,
                    index: i,
                    part,
                    message,
                }
            })?;
            conds.push(sql);
        }
        parts.push(format!("({})", conds.join(" AND ")));
    }
    Ok(format!("({})", parts.join(" OR ")))
}

/// The SQL face of one filter (see [`compile_groups_sql`]).
pub fn compile_filter_sql(
    filter: &Filter,
    catalog: &Catalog,
    today: NaiveDate,
) -> Result<String, (FilterPart, String)> {
    prepare(filter, catalog, today)?
        .to_sql()
        .ok_or_else(|| (FilterPart::Value, NUL_MESSAGE.to_string()))
}

/// A SQL string literal: single quotes doubled. `None` for text containing NUL, which SQLite
/// would truncate.
pub fn sql_string_literal(s: &str) -> Option<String> {
    if s.contains('\0') {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

/// A SQL numeric literal from a finite f64 (Rust's round-trip formatting: `3.0`, `-0.5`, `1e20`).
fn sql_number(x: f64) -> String {
    debug_assert!(x.is_finite());
    format!("{x:?}")
}

const NUL_MESSAGE: &str = "must not contain a NUL character";

// ---------------------------------------------------------------------------------------------
// The shared core: a filter resolved against the catalog.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
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

    fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
            Cmp::Lt => "<",
            Cmp::Gt => ">",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
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
}

#[derive(Debug, Clone, PartialEq)]
enum Prepared {
    InList(i64),
    Email(Test),
    Stored { id: i64, name: String, test: Test },
}

type Problem = (FilterPart, String);

fn prepare(filter: &Filter, catalog: &Catalog, today: NaiveDate) -> Result<Prepared, Problem> {
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
        return Ok(Prepared::InList(id));
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

    let test = if !op.takes_value() {
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
        Prepared::Email(test)
    } else {
        Prepared::Stored {
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

fn day_start(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

fn day_end(d: NaiveDate) -> String {
    format!("{}T23:59:59Z", d.format("%Y-%m-%d"))
}

impl Prepared {
    fn eval(&self, contact: &dyn ContactView) -> bool {
        match self {
            Prepared::InList(id) => contact.in_list(*id),
            Prepared::Email(test) => test.eval(contact.value(EMAIL_PROPERTY)),
            Prepared::Stored { name, test, .. } => test.eval(contact.value(name)),
        }
    }

    /// `None` only if an operand contains NUL (rejected by `prepare` already).
    fn to_sql(&self) -> Option<String> {
        Some(match self {
            Prepared::InList(id) => format!(
                "EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = {id} AND m.contact_id = c.id)"
            ),
            Prepared::Email(Test::Known) => "(c.email IS NOT NULL AND c.email <> '')".into(),
            Prepared::Email(Test::Unknown) => "(c.email IS NULL OR c.email = '')".into(),
            Prepared::Email(Test::TextNe(s)) => {
                format!("(c.email <> {} AND c.email <> '')", sql_string_literal(s)?)
            }
            Prepared::Email(test) => test.predicate("c.email", "NULL")?,
            Prepared::Stored { id, test, .. } => {
                let base = format!(
                    "SELECT 1 FROM contact_values v WHERE v.contact_id = c.id AND v.property_id = {id}"
                );
                match test {
                    Test::Known => format!("EXISTS ({base})"),
                    Test::Unknown => format!("NOT EXISTS ({base})"),
                    test => format!(
                        "EXISTS ({base} AND {})",
                        test.predicate("v.value", "v.num")?
                    ),
                }
            }
        })
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
        }
    }

    /// The comparison on a value column `col` (and its numeric mirror `num`). Stored datetimes
    /// are canonical fixed-width UTC text, so text order is time order.
    fn predicate(&self, col: &str, num: &str) -> Option<String> {
        let lit = |s: &str| sql_string_literal(s);
        Some(match self {
            Test::Known => format!("{col} IS NOT NULL"),
            Test::Unknown => format!("{col} IS NULL"),
            Test::TextEq(s) => format!("{col} = {}", lit(s)?),
            Test::TextNe(s) => format!("{col} <> {}", lit(s)?),
            Test::Contains(lower) => format!("instr(lower({col}), {}) > 0", lit(lower)?),
            Test::Num(cmp, x) => format!("{num} {} {}", cmp.sql(), sql_number(*x)),
            Test::Date(cmp, d) => {
                format!(
                    "{col} {} {}",
                    cmp.sql(),
                    lit(&d.format("%Y-%m-%d").to_string())?
                )
            }
            Test::DatetimeDay(cmp, d) => {
                let (start, end) = (lit(&day_start(*d))?, lit(&day_end(*d))?);
                match cmp {
                    Cmp::Eq => format!("{col} BETWEEN {start} AND {end}"),
                    Cmp::Ne => format!("{col} NOT BETWEEN {start} AND {end}"),
                    Cmp::Lt => format!("{col} < {start}"),
                    Cmp::Gt => format!("{col} > {end}"),
                }
            }
            Test::Instant(cmp, t) => format!(
                "{col} {} {}",
                cmp.sql(),
                lit(&t.to_rfc3339_opts(SecondsFormat::Secs, true))?
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};

    fn prop(id: i64, name: &str, ft: FieldType, options: &[&str]) -> PropertyInfo {
        PropertyInfo {
            id,
            name: name.into(),
            label: name.replace('_', " "),
            field_type: ft,
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn catalog() -> Catalog {
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    #[derive(Debug, Default)]
    struct TestContact {
        id: i64,
        values: BTreeMap<String, String>,
        lists: BTreeSet<i64>,
    }

    impl ContactView for TestContact {
        fn value(&self, property: &str) -> Option<&str> {
            self.values.get(property).map(String::as_str)
        }
        fn in_list(&self, list_id: i64) -> bool {
            self.lists.contains(&list_id)
        }
    }

    fn contact(id: i64, values: &[(&str, &str)], lists: &[i64]) -> TestContact {
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
    fn contacts() -> Vec<TestContact> {
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

    fn f(property: &str, operator: &str, value: Value) -> Filter {
        Filter {
            property: (!property.is_empty()).then(|| property.to_string()),
            operator: Operator::parse(operator).unwrap(),
            value: (!value.is_null()).then_some(value),
        }
    }

    /// (filter, contacts expected to match) — the hand-checked semantics.
    fn cases() -> Vec<(Filter, Vec<i64>)> {
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

    fn rust_ids(groups: &[Vec<Filter>]) -> Vec<i64> {
        let cat = catalog();
        contacts()
            .iter()
            .filter(|c| matches_groups(groups, *c, &cat, today()))
            .map(|c| c.id)
            .collect()
    }

    mod sql {
        use super::*;
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;
        use diesel::sql_types::{BigInt, Double, Nullable, Text};

        const SCHEMA: &str = "
            CREATE TABLE contacts (id INTEGER PRIMARY KEY NOT NULL,
                email TEXT COLLATE NOCASE UNIQUE, created_at TEXT, updated_at TEXT);
            CREATE TABLE contact_values (contact_id INTEGER NOT NULL, property_id INTEGER NOT NULL,
                value TEXT NOT NULL COLLATE NOCASE, num REAL,
                PRIMARY KEY (contact_id, property_id)) WITHOUT ROWID;
            CREATE INDEX contact_values_by_value ON contact_values(property_id, value, contact_id);
            CREATE INDEX contact_values_by_num ON contact_values(property_id, num, contact_id)
                WHERE num IS NOT NULL;
            CREATE TABLE list_members (list_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
                PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID;
            CREATE INDEX list_members_by_contact ON list_members(contact_id, list_id);";

        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }

        pub fn db() -> SqliteConnection {
            let mut conn = SqliteConnection::establish(":memory:").unwrap();
            conn.batch_execute(SCHEMA).unwrap();
            let cat = catalog();
            for c in contacts() {
                diesel::sql_query("INSERT INTO contacts (id, email) VALUES (?, ?)")
                    .bind::<BigInt, _>(c.id)
                    .bind::<Nullable<Text>, _>(c.values.get("email").cloned())
                    .execute(&mut conn)
                    .unwrap();
                for (name, value) in &c.values {
                    if name == EMAIL_PROPERTY {
                        continue;
                    }
                    let p = cat.property(name).unwrap();
                    let num = crate::domain::values::numeric_mirror(p.field_type, value);
                    diesel::sql_query(
                        "INSERT INTO contact_values (contact_id, property_id, value, num) \
                         VALUES (?, ?, ?, ?)",
                    )
                    .bind::<BigInt, _>(c.id)
                    .bind::<BigInt, _>(p.id)
                    .bind::<Text, _>(value)
                    .bind::<Nullable<Double>, _>(num)
                    .execute(&mut conn)
                    .unwrap();
                }
                for l in &c.lists {
                    diesel::sql_query(
                        "INSERT INTO list_members (list_id, contact_id) VALUES (?, ?)",
                    )
                    .bind::<BigInt, _>(*l)
                    .bind::<BigInt, _>(c.id)
                    .execute(&mut conn)
                    .unwrap();
                }
            }
            conn
        }

        pub fn select(conn: &mut SqliteConnection, expr: &str) -> Vec<i64> {
            diesel::sql_query(format!(
                "SELECT c.id FROM contacts c WHERE {expr} ORDER BY c.id"
            ))
            .load::<Id>(conn)
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .into_iter()
            .map(|r| r.id)
            .collect()
        }

        pub fn sql_ids(conn: &mut SqliteConnection, groups: &[Vec<Filter>]) -> Vec<i64> {
            let expr = compile_groups_sql(groups, &catalog(), today())
                .unwrap_or_else(|e| panic!("{groups:?}: {e}"));
            select(conn, &expr)
        }
    }

    #[test]
    fn each_filter_matches_the_expected_contacts_in_rust_and_sql() {
        let mut conn = sql::db();
        for (filter, want) in cases() {
            let groups = vec![vec![filter.clone()]];
            assert_eq!(rust_ids(&groups), want, "Rust face: {filter:?}");
            assert_eq!(
                sql::sql_ids(&mut conn, &groups),
                want,
                "SQL face: {filter:?}"
            );
        }
    }

    #[test]
    fn and_or_combinations_agree() {
        let mut conn = sql::db();
        let all: Vec<Filter> = cases().into_iter().map(|(f, _)| f).collect();
        // Every pair as an AND-group and as two OR-groups, plus a few wider shapes.
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i).step_by(3) {
                for groups in [
                    vec![vec![a.clone(), b.clone()]],
                    vec![vec![a.clone()], vec![b.clone()]],
                ] {
                    assert_eq!(
                        rust_ids(&groups),
                        sql::sql_ids(&mut conn, &groups),
                        "{groups:?}"
                    );
                }
            }
        }
        let groups = vec![
            vec![
                f("lifecyclestage", "eq", json!("customer")),
                f("score", "gt", json!(40)),
            ],
            vec![
                f("", "in_list", json!(11)),
                f("email", "known", Value::Null),
            ],
        ];
        assert_eq!(rust_ids(&groups), vec![1, 2, 4, 6]);
        assert_eq!(sql::sql_ids(&mut conn, &groups), vec![1, 2, 4, 6]);
    }

    #[test]
    fn no_groups_and_empty_groups_match_nothing() {
        let mut conn = sql::db();
        assert_eq!(compile_groups_sql(&[], &catalog(), today()).unwrap(), "0");
        assert_eq!(rust_ids(&[]), Vec::<i64>::new());
        for groups in [vec![vec![]], vec![vec![], vec![]]] {
            assert_eq!(rust_ids(&groups), Vec::<i64>::new());
            assert_eq!(sql::sql_ids(&mut conn, &groups), Vec::<i64>::new());
        }
        let groups = vec![vec![], vec![f("", "in_list", json!(10))]];
        assert_eq!(rust_ids(&groups), vec![1, 2]);
        assert_eq!(sql::sql_ids(&mut conn, &groups), vec![1, 2]);
    }

    #[test]
    fn hostile_values_cannot_change_the_query() {
        let mut conn = sql::db();
        let groups = vec![vec![f(
            "firstname",
            "eq",
            json!("'); DROP TABLE contacts; --"),
        )]];
        let sql = compile_groups_sql(&groups, &catalog(), today()).unwrap();
        assert!(sql.contains("'''); DROP TABLE contacts; --'"), "{sql}");
        assert_eq!(sql::sql_ids(&mut conn, &groups), Vec::<i64>::new());
        assert_eq!(sql::select(&mut conn, "1").len(), 6, "table still there");

        let nul = vec![vec![f("firstname", "eq", json!("a\0b"))]];
        let err = compile_groups_sql(&nul, &catalog(), today()).unwrap_err();
        assert_eq!(err.part, FilterPart::Value);
        let nul = vec![vec![f("firstname", "contains", json!("a\0b"))]];
        assert!(compile_groups_sql(&nul, &catalog(), today()).is_err());
        assert_eq!(sql_string_literal("a\0"), None);
        assert_eq!(sql_string_literal("it's").as_deref(), Some("'it''s'"));
        assert_eq!(sql_string_literal("").as_deref(), Some("''"));
    }

    #[test]
    fn sql_has_the_documented_shape() {
        let cat = catalog();
        let one = |filter: Filter| compile_filter_sql(&filter, &cat, today()).unwrap();
        assert_eq!(
            one(f("lifecyclestage", "eq", json!("Customer"))),
            "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
             AND v.property_id = 3 AND v.value = 'customer')"
        );
        assert_eq!(
            one(f("firstname", "unknown", Value::Null)),
            "NOT EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
             AND v.property_id = 2)"
        );
        assert_eq!(
            one(f("score", "gt", json!(3))),
            "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
             AND v.property_id = 4 AND v.num > 3.0)"
        );
        assert_eq!(
            one(f("renewal_date", "before", json!("today-30"))),
            "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
             AND v.property_id = 5 AND v.value < '2026-01-30')"
        );
        assert_eq!(one(f("email", "eq", json!("A@b.co"))), "c.email = 'A@b.co'");
        assert_eq!(
            one(f("", "in_list", json!(10))),
            "EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = 10 AND m.contact_id = c.id)"
        );
        let groups = vec![
            vec![
                f("", "in_list", json!(10)),
                f("email", "known", Value::Null),
            ],
            vec![f("", "in_list", json!(11))],
        ];
        let sql = compile_groups_sql(&groups, &cat, today()).unwrap();
        assert!(
            sql.starts_with("((EXISTS") && sql.contains(") OR (EXISTS"),
            "{sql}"
        );
    }

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
            let err = compile_groups_sql(&groups, &cat, today()).unwrap_err();
            assert_eq!((err.group, err.index, err.part), (1, 1, part), "{filter:?}");
            assert_eq!(
                err.path("triggers.filter_groups"),
                format!("triggers.filter_groups[1][1].{}", part.as_str())
            );
        }
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
        let names =
            |ft| -> Vec<&str> { operators_for(ft).into_iter().map(|o| o.as_str()).collect() };
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
            ["eq", "neq", "known", "unknown", "gt", "lt", "before", "after"]
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
}
