//! Contact property field types and the one normaliser every write path uses (forms, API,
//! CSV import, workflow actions), so a value is stored in exactly one canonical text form.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Number,
    Date,
    Datetime,
    Enum,
    Bool,
}

impl FieldType {
    pub const ALL: [FieldType; 6] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Enum,
        FieldType::Bool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Enum => "enum",
            FieldType::Bool => "bool",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The names HubSpot users know.
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "Single-line text",
            FieldType::Number => "Number",
            FieldType::Date => "Date picker",
            FieldType::Datetime => "Date and time",
            FieldType::Enum => "Dropdown select",
            FieldType::Bool => "Single checkbox",
        }
    }
}

/// Strict `YYYY-MM-DD` (chrono alone would accept `2021-2-3`), years 0001–9999 (there is no
/// year 0000, and PostgreSQL refuses it).
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
}

/// Why a date's year is out of range, for the message (`None` when it is not the problem).
fn year_problem(text: &str) -> Option<String> {
    let year: i32 = text.get(..4)?.parse().ok()?;
    (year == 0).then(|| {
        format!("\"{text}\" has the year 0000, which does not exist (years run from 0001)")
    })
}

/// A NUL character cannot be stored (PostgreSQL refuses it in text) and is never meant.
pub fn nul_problem(text: &str) -> Option<String> {
    text.contains('\0')
        .then(|| "contains a NUL character (\\0), which cannot be stored".to_string())
}

/// Canonical stored text for a raw value of a property, `Ok(None)` to clear it (JSON null or an
/// empty string), or a message a person can act on.
pub fn normalize_value(
    ft: FieldType,
    options: &[String],
    raw: &Value,
) -> Result<Option<String>, String> {
    let text = match raw {
        Value::Null => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => {
            return Err("must be a single value, not a list or object".into())
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    normalize_text(ft, options, &text).map(Some)
}

/// The contact property whose values are IANA time zone names (DESIGN §2: a date delay may
/// run in the contact's zone).
pub const TIME_ZONE_PROPERTY: &str = "timezone";

/// [`normalize_value`] for the property named `name`: the `timezone` property (single-line
/// text, as in HubSpot) holds only IANA time zone names, in their canonical spelling.
pub fn normalize_property_value(
    name: &str,
    ft: FieldType,
    options: &[String],
    raw: &Value,
) -> Result<Option<String>, String> {
    let value = normalize_value(ft, options, raw)?;
    match value {
        Some(v) if name == TIME_ZONE_PROPERTY => super::zones::normalize_zone(&v).map(Some),
        other => Ok(other),
    }
}

/// Like [`normalize_value`] for text input (forms, CSV cells), which is never empty here.
pub fn normalize_text(ft: FieldType, options: &[String], text: &str) -> Result<String, String> {
    if let Some(problem) = nul_problem(text) {
        return Err(problem);
    }
    match ft {
        FieldType::Text => {
            if text.chars().count() > 65_536 {
                Err("is too long (at most 65536 characters)".into())
            } else {
                Ok(text.to_string())
            }
        }
        FieldType::Number => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(canonical_number(n)),
            _ => Err(format!("\"{text}\" is not a number")),
        },
        FieldType::Date => parse_iso_date(text)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| {
                year_problem(text)
                    .unwrap_or_else(|| format!("\"{text}\" is not a valid date (YYYY-MM-DD)"))
            }),
        FieldType::Datetime => parse_datetime(text)
            .filter(|t| (1..=9999).contains(&chrono::Datelike::year(t)))
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .ok_or_else(|| {
                year_problem(text).unwrap_or_else(|| {
                    format!("\"{text}\" is not a valid date and time (e.g. 2026-05-01T09:30:00Z)")
                })
            }),
        // By internal value or by label: "Marketing qualified lead" is `marketingqualifiedlead`.
        FieldType::Enum => super::labels::find_option(options, text)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "\"{text}\" is not one of the options: {}",
                    options
                        .iter()
                        .map(|o| super::labels::option_label(o))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        FieldType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok("true".into()),
            "false" | "no" | "0" | "off" => Ok("false".into()),
            _ => Err(format!("\"{text}\" is not true or false")),
        },
    }
}

fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .map(|n| n.and_utc())
}

/// `3` not `3.0`; other numbers in Rust's shortest round-trip form.
pub fn canonical_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The numeric mirror stored beside number values (for gt/lt filters).
pub fn numeric_mirror(ft: FieldType, canonical: &str) -> Option<f64> {
    match ft {
        FieldType::Number => canonical.parse().ok(),
        _ => None,
    }
}

/// A stored value as JSON for the API: numbers and booleans typed, the rest strings.
pub fn value_to_json(ft: FieldType, stored: &str) -> Value {
    match ft {
        FieldType::Number => stored
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| stored.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(stored.to_string())),
        FieldType::Bool => Value::Bool(stored == "true"),
        _ => Value::String(stored.to_string()),
    }
}

/// A deliberately loose check (one `@`, something on both sides, a dot in the domain): the
/// address is proven by sending to it, not by a regex.
pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                && s.len() <= 254
        }
        None => false,
    }
}

/// Internal property names: lowercase letters, digits and underscores, starting with a letter.
pub fn valid_internal_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalises_each_type_or_explains() {
        let opts = vec!["customer".to_string(), "lead".to_string()];
        type Case<'a> = (FieldType, Value, Result<Option<&'a str>, ()>);
        let cases: Vec<Case> = vec![
            (FieldType::Text, json!("  Ada "), Ok(Some("Ada"))),
            (FieldType::Text, json!(""), Ok(None)),
            (FieldType::Text, Value::Null, Ok(None)),
            (FieldType::Number, json!(3), Ok(Some("3"))),
            (FieldType::Number, json!("3.50"), Ok(Some("3.5"))),
            (FieldType::Number, json!("12abc"), Err(())),
            (FieldType::Date, json!("2020-01-20"), Ok(Some("2020-01-20"))),
            (FieldType::Date, json!("2021-02-30"), Err(())),
            (FieldType::Date, json!("2021-2-3"), Err(())),
            (FieldType::Date, json!("20/01/2020"), Err(())),
            (
                FieldType::Datetime,
                json!("2026-05-01T09:30:00+02:00"),
                Ok(Some("2026-05-01T07:30:00Z")),
            ),
            (
                FieldType::Datetime,
                json!("2026-05-01T09:30"),
                Ok(Some("2026-05-01T09:30:00Z")),
            ),
            (FieldType::Datetime, json!("tomorrow"), Err(())),
            (FieldType::Enum, json!("Customer"), Ok(Some("customer"))),
            (FieldType::Enum, json!("vip"), Err(())),
            (FieldType::Bool, json!(true), Ok(Some("true"))),
            (FieldType::Bool, json!("no"), Ok(Some("false"))),
            (FieldType::Bool, json!("maybe"), Err(())),
            (FieldType::Text, json!([1]), Err(())),
        ];
        for (ft, raw, want) in cases {
            let got = normalize_value(ft, &opts, &raw);
            match want {
                Ok(v) => assert_eq!(got.as_ref().map(|o| o.as_deref()), Ok(v), "{ft:?} {raw}"),
                Err(()) => assert!(got.is_err(), "{ft:?} {raw} should fail, got {got:?}"),
            }
        }
    }

    #[test]
    fn the_timezone_property_holds_iana_names() {
        let tz = |raw: Value| normalize_property_value("timezone", FieldType::Text, &[], &raw);
        assert_eq!(tz(json!("europe/oslo")), Ok(Some("Europe/Oslo".into())));
        assert_eq!(tz(json!("")), Ok(None));
        assert_eq!(tz(Value::Null), Ok(None));
        assert!(tz(json!("Oslo")).unwrap_err().contains("IANA"));
        // Any other text property takes any text.
        let other = normalize_property_value("city", FieldType::Text, &[], &json!("Oslo"));
        assert_eq!(other, Ok(Some("Oslo".into())));
    }

    #[test]
    fn dropdown_values_are_found_by_label_too() {
        let opts = vec!["marketingqualifiedlead".to_string()];
        assert_eq!(
            normalize_value(FieldType::Enum, &opts, &json!("Marketing qualified lead")),
            Ok(Some("marketingqualifiedlead".into()))
        );
        let err = normalize_value(FieldType::Enum, &opts, &json!("vip")).unwrap_err();
        assert!(err.contains("Marketing qualified lead"), "{err}");
    }

    #[test]
    fn year_zero_and_nul_characters_are_refused_with_the_reason() {
        let err = normalize_text(FieldType::Date, &[], "0000-05-01").unwrap_err();
        assert!(err.contains("0000"), "{err}");
        assert!(normalize_text(FieldType::Datetime, &[], "0000-05-01T10:00:00Z").is_err());
        assert_eq!(
            normalize_text(FieldType::Date, &[], "0001-01-01").unwrap(),
            "0001-01-01"
        );
        let err = normalize_text(FieldType::Text, &[], "a\0b").unwrap_err();
        assert!(err.contains("NUL"), "{err}");
        assert!(!looks_like_email("a\0@example.com"));
    }

    #[test]
    fn api_values_are_typed() {
        assert_eq!(value_to_json(FieldType::Number, "3"), json!(3));
        assert_eq!(value_to_json(FieldType::Number, "3.5"), json!(3.5));
        assert_eq!(value_to_json(FieldType::Bool, "true"), json!(true));
        assert_eq!(
            value_to_json(FieldType::Date, "2020-01-20"),
            json!("2020-01-20")
        );
    }
}
