//! The filter-group editor used by the trigger panel and by if/then branches.
//!
//! Form convention: one row per condition, named `g{group}_f{row}_{part}` with parts
//! `property`, `operator`, `value`, `ignore_year` (a checkbox, for "is within the next/last …
//! days") and `remove` (a checkbox). Each group also has one blank row
//! to add a condition (the next free row number) and `g{group}_addlist`, a select that adds a
//! list-membership condition. AND inside a group, OR between groups. A row with neither a
//! property nor a value is ignored; a group left without rows disappears.

use std::collections::BTreeMap;

use serde_json::Value;

use super::forms_common::{filter_position, Choice, FormValues, Lookups};
use crate::domain::definition::{Filter, Operator};
use crate::domain::errors::{Errors, FieldError};
use crate::domain::filter::operators_for;
use crate::domain::labels::option_label;
use crate::domain::values::FieldType;

/// One condition as typed (or as read from the definition).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterRow {
    /// `g0_f1`: the prefix of this row's inputs.
    pub key: String,
    pub g: usize,
    pub i: usize,
    pub property: String,
    pub operator: String,
    pub value: String,
    /// "Ignore the year" (within the next/last N days only).
    pub ignore_year: bool,
    pub remove: bool,
}

/// One OR-group as typed: its number in the form and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRows {
    pub g: usize,
    pub rows: Vec<FilterRow>,
    /// The next free row number (for the blank row).
    pub next: usize,
}

pub fn operator_label(op: Operator) -> &'static str {
    match op {
        Operator::Eq => "is equal to",
        Operator::Neq => "is not equal to",
        Operator::Contains => "contains",
        Operator::Known => "is known",
        Operator::Unknown => "is unknown",
        Operator::Gt => "is greater than",
        Operator::Lt => "is less than",
        Operator::Before => "is before",
        Operator::After => "is after",
        Operator::InList => "is member of list",
        Operator::WithinNextDays => "is within the next … days",
        Operator::WithinLastDays => "is within the last … days",
    }
}

/// A filter value as the text of an input.
pub fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// Typed text as a JSON value for a property of type `ft`: numbers and booleans as such when
/// they parse, anything else as text (validation then says what is wrong with it).
pub fn json_for_text(ft: Option<FieldType>, text: &str) -> Value {
    let t = text.trim();
    match ft {
        Some(FieldType::Number) => {
            if let Ok(i) = t.parse::<i64>() {
                return Value::from(i);
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(t.to_string())),
                _ => Value::String(t.to_string()),
            }
        }
        Some(FieldType::Bool) => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(t.to_string()),
        },
        _ => Value::String(t.to_string()),
    }
}

/// The original value when the text is unchanged (so API-written JSON round-trips), else the
/// typed text converted for the property's type.
pub fn keep_or_convert(original: Option<&Value>, ft: Option<FieldType>, text: &str) -> Value {
    match original {
        Some(v) if value_text(Some(v)) == text => v.clone(),
        _ => json_for_text(ft, text),
    }
}

pub fn rows_from_groups(groups: &[Vec<Filter>]) -> Vec<GroupRows> {
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| GroupRows {
            g,
            rows: group
                .iter()
                .enumerate()
                .map(|(i, f)| FilterRow {
                    key: format!("g{g}_f{i}"),
                    g,
                    i,
                    property: f.property.clone().unwrap_or_default(),
                    operator: f.operator.as_str().to_string(),
                    value: value_text(f.value.as_ref()),
                    ignore_year: f.ignore_year,
                    remove: false,
                })
                .collect(),
            next: group.len(),
        })
        .collect()
}

/// `g12_f3_value` → (12, Some(3), "value"); `g2_addlist` → (2, None, "addlist").
fn parse_key(key: &str) -> Option<(usize, Option<usize>, &str)> {
    let rest = key.strip_prefix('g')?;
    let (g, rest) = rest.split_once('_')?;
    let g = g.parse().ok()?;
    if rest == "addlist" {
        return Some((g, None, "addlist"));
    }
    let rest = rest.strip_prefix('f')?;
    let (i, part) = rest.split_once('_')?;
    Some((g, Some(i.parse().ok()?), part))
}

/// The groups of a submitted form, in group order; blank rows dropped, a chosen list added as a
/// row with the next free number.
pub fn rows_from_form(v: &FormValues) -> Vec<GroupRows> {
    let mut groups: BTreeMap<usize, BTreeMap<usize, FilterRow>> = BTreeMap::new();
    let mut addlists: BTreeMap<usize, String> = BTreeMap::new();
    for (key, value) in &v.0 {
        let Some((g, i, part)) = parse_key(key) else {
            continue;
        };
        let group = groups.entry(g).or_default();
        let Some(i) = i else {
            if part == "addlist" {
                addlists.insert(g, value.trim().to_string());
            }
            continue;
        };
        let row = group.entry(i).or_insert_with(|| FilterRow {
            key: format!("g{g}_f{i}"),
            g,
            i,
            property: String::new(),
            operator: String::new(),
            value: String::new(),
            ignore_year: false,
            remove: false,
        });
        match part {
            "property" => row.property = value.trim().to_string(),
            "operator" => row.operator = value.trim().to_string(),
            "value" => row.value = value.clone(),
            "ignore_year" => row.ignore_year = !value.is_empty(),
            "remove" => row.remove = !value.is_empty(),
            _ => {}
        }
    }
    groups
        .into_iter()
        .map(|(g, rows)| {
            let mut next = rows.keys().max().map(|m| m + 1).unwrap_or(0);
            let mut rows: Vec<FilterRow> = rows
                .into_values()
                .filter(|r| {
                    !(r.property.is_empty()
                        && r.value.trim().is_empty()
                        && r.operator != Operator::InList.as_str())
                })
                .collect();
            if let Some(list) = addlists.get(&g).filter(|l| !l.is_empty()) {
                rows.push(FilterRow {
                    key: format!("g{g}_f{next}"),
                    g,
                    i: next,
                    property: String::new(),
                    operator: Operator::InList.as_str().to_string(),
                    value: list.clone(),
                    ignore_year: false,
                    remove: false,
                });
                next += 1;
            }
            GroupRows { g, rows, next }
        })
        .collect()
}

/// Filter groups for the definition, and for each filter the key of the row it came from (to
/// put a validation message beside the right input).
#[derive(Debug, Default)]
pub struct Converted {
    pub groups: Vec<Vec<Filter>>,
    pub keys: Vec<Vec<String>>,
    /// Problems found while reading the form, by input name.
    pub errors: Vec<FieldError>,
}

impl Converted {
    /// The input name for a validation error under the groups' prefix (`[0][1].value`).
    pub fn input_for(&self, rest: &str) -> Option<String> {
        let (g, i, part) = filter_position(rest)?;
        let i = i?;
        let key = self.keys.get(g)?.get(i)?;
        Some(format!("{key}_{part}"))
    }
}

pub fn to_filters(groups: &[GroupRows], lookups: &Lookups, original: &[Vec<Filter>]) -> Converted {
    let mut out = Converted::default();
    for group in groups {
        let mut filters = Vec::new();
        let mut keys = Vec::new();
        for row in group.rows.iter().filter(|r| !r.remove) {
            let Some(op) = Operator::parse(&row.operator) else {
                out.errors.push(FieldError::new(
                    format!("{}_operator", row.key),
                    "Choose how to compare.",
                ));
                continue;
            };
            let orig = original.get(row.g).and_then(|g| g.get(row.i));
            let filter = if op == Operator::InList {
                let text = row.value.trim();
                let value = match text.parse::<i64>() {
                    Ok(id) => Value::from(id),
                    Err(_) if text.is_empty() => Value::Null,
                    Err(_) => Value::String(text.to_string()),
                };
                let value = match orig {
                    Some(o) if o.operator == op && value_text(o.value.as_ref()) == text => {
                        o.value.clone()
                    }
                    _ => Some(value).filter(|v| !v.is_null()),
                };
                Filter {
                    property: None,
                    operator: op,
                    value,
                    ignore_year: false,
                }
            } else {
                let property = row.property.trim().to_string();
                let ft = lookups.catalog.property(&property).map(|p| p.field_type);
                let value = if !op.takes_value() || row.value.trim().is_empty() {
                    None
                } else {
                    let same = orig.filter(|o| {
                        o.operator == op && o.property.as_deref() == Some(property.as_str())
                    });
                    Some(keep_or_convert(
                        same.and_then(|o| o.value.as_ref()),
                        ft,
                        &row.value,
                    ))
                };
                Filter {
                    property: Some(property),
                    operator: op,
                    value,
                    ignore_year: row.ignore_year && op.is_within(),
                }
            };
            filters.push(filter);
            keys.push(row.key.clone());
        }
        if !filters.is_empty() {
            out.groups.push(filters);
            out.keys.push(keys);
        }
    }
    out
}

/// One condition row as the template draws it.
#[derive(Debug, Clone)]
pub struct RowView {
    pub key: String,
    pub property: String,
    pub operator: String,
    pub value: String,
    pub ignore_year: bool,
    pub remove: bool,
    pub is_list: bool,
    /// The empty row that adds a condition.
    pub blank: bool,
    /// A list-membership row whose list no longer exists.
    pub unknown_list: bool,
    /// The property is not in the catalog (deleted): still shown, selected.
    pub unknown_property: bool,
    pub operators: Vec<Choice>,
    /// Id of a `<datalist>` with the property's options, or "".
    pub datalist: String,
    /// A dropdown or checkbox property's values with their labels: the value is chosen from
    /// a select ("Marketing qualified lead", stored `marketingqualifiedlead`).
    pub value_options: Vec<Choice>,
    /// The value is not one of `value_options` (an option since removed): still shown.
    pub value_outside: bool,
    pub placeholder: &'static str,
    pub err_property: Option<String>,
    pub err_operator: Option<String>,
    pub err_value: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GroupView {
    pub g: usize,
    /// 1-based, for people.
    pub number: usize,
    /// The conditions, then one blank row to add a condition.
    pub rows: Vec<RowView>,
    pub addlist: String,
}

#[derive(Debug, Clone)]
pub struct DataList {
    pub id: String,
    pub options: Vec<String>,
}

/// Everything the filter-group template needs.
#[derive(Debug, Clone)]
pub struct FilterEditor {
    pub groups: Vec<GroupView>,
    pub properties: Vec<Choice>,
    pub lists: Vec<Choice>,
    pub datalists: Vec<DataList>,
    /// The built-in trigger of a contact-date-property workflow ("Renewal date is known").
    pub builtin: Option<String>,
    pub group_errors: Vec<String>,
}

fn all_property_operators() -> Vec<Choice> {
    Operator::ALL
        .into_iter()
        .filter(|o| *o != Operator::InList)
        .map(|o| Choice::new(o.as_str(), operator_label(o)))
        .collect()
}

fn row_view(row: &FilterRow, lookups: &Lookups, errors: &Errors) -> RowView {
    let is_list = row.operator == Operator::InList.as_str();
    let prop = lookups.catalog.property(row.property.trim());
    let mut operators = match prop {
        Some(p) => operators_for(p.field_type)
            .into_iter()
            .map(|o| Choice::new(o.as_str(), operator_label(o)))
            .collect(),
        None => all_property_operators(),
    };
    if !row.operator.is_empty() && !is_list && !operators.iter().any(|c| c.value == row.operator) {
        // Keep what was chosen, so the message beside it makes sense.
        let label = Operator::parse(&row.operator)
            .map(operator_label)
            .unwrap_or("?");
        operators.push(Choice::new(row.operator.clone(), label));
    }
    let (datalist, placeholder) = match prop.map(|p| p.field_type) {
        Some(FieldType::Enum) | Some(FieldType::Bool) => {
            (format!("dl-{}", row.property.trim()), "Choose or type")
        }
        Some(FieldType::Date) | Some(FieldType::Datetime) => {
            (String::new(), "YYYY-MM-DD or today-30")
        }
        Some(FieldType::Number) => (String::new(), "A number"),
        _ => (String::new(), ""),
    };
    let err = |part: &str| {
        errors
            .get(&format!("{}_{part}", row.key))
            .map(str::to_string)
    };
    let value_options: Vec<Choice> = match prop.map(|p| (p.field_type, &p.options)) {
        Some((FieldType::Enum, options)) => options
            .iter()
            .map(|o| Choice::new(o.clone(), option_label(o)))
            .collect(),
        Some((FieldType::Bool, _)) => vec![Choice::new("true", "Yes"), Choice::new("false", "No")],
        _ => Vec::new(),
    };
    let value_outside =
        !row.value.trim().is_empty() && !value_options.iter().any(|c| c.value == row.value.trim());
    RowView {
        key: row.key.clone(),
        property: row.property.clone(),
        operator: row.operator.clone(),
        value: row.value.clone(),
        ignore_year: row.ignore_year,
        remove: row.remove,
        is_list,
        blank: false,
        unknown_list: is_list
            && !row.value.trim().is_empty()
            && !lookups
                .lists
                .iter()
                .any(|(id, _)| id.to_string() == row.value.trim()),
        unknown_property: !row.property.trim().is_empty() && prop.is_none(),
        operators,
        datalist,
        value_options,
        value_outside,
        placeholder,
        err_property: err("property"),
        err_operator: err("operator"),
        err_value: err("value"),
    }
}

/// The editor for `groups` (as typed or as stored). `extra_group` adds an empty OR-group;
/// with no group at all one empty group is shown, ready for the first condition.
pub fn editor(
    groups: &[GroupRows],
    lookups: &Lookups,
    errors: &Errors,
    extra_group: bool,
    builtin: Option<String>,
) -> FilterEditor {
    let mut groups: Vec<GroupRows> = groups.to_vec();
    if groups.is_empty() || extra_group {
        let g = groups.iter().map(|x| x.g + 1).max().unwrap_or(0);
        groups.push(GroupRows {
            g,
            rows: Vec::new(),
            next: 0,
        });
    }
    let views = groups
        .iter()
        .enumerate()
        .map(|(n, group)| {
            let blank = FilterRow {
                key: format!("g{}_f{}", group.g, group.next),
                g: group.g,
                i: group.next,
                property: String::new(),
                operator: String::new(),
                value: String::new(),
                ignore_year: false,
                remove: false,
            };
            let mut rows: Vec<RowView> = group
                .rows
                .iter()
                .map(|r| row_view(r, lookups, errors))
                .collect();
            let mut blank = row_view(&blank, lookups, errors);
            blank.blank = true;
            rows.push(blank);
            GroupView {
                g: group.g,
                number: n + 1,
                rows,
                addlist: format!("g{}_addlist", group.g),
            }
        })
        .collect();
    let datalists = lookups
        .catalog
        .properties
        .iter()
        .filter_map(|p| match p.field_type {
            FieldType::Enum => Some(DataList {
                id: format!("dl-{}", p.name),
                options: p.options.clone(),
            }),
            FieldType::Bool => Some(DataList {
                id: format!("dl-{}", p.name),
                options: vec!["true".into(), "false".into()],
            }),
            _ => None,
        })
        .collect();
    FilterEditor {
        groups: views,
        properties: lookups.property_choices(),
        lists: lookups.list_choices(),
        datalists,
        builtin,
        group_errors: Vec::new(),
    }
}

/// "Lifecycle stage is equal to customer" for the cards and the review.
pub fn describe(filter: &Filter, lookups: &Lookups) -> String {
    if filter.operator == Operator::InList {
        let id = value_text(filter.value.as_ref());
        let name = id
            .trim()
            .parse::<i64>()
            .map(|i| lookups.list_name(i))
            .unwrap_or(id);
        return format!("is member of list “{name}”");
    }
    let name = filter.property.as_deref().unwrap_or("");
    let prop = lookups.property_label(name);
    let op = operator_label(filter.operator);
    if filter.operator.is_within() {
        let n = value_text(filter.value.as_ref());
        let dir = if filter.operator == Operator::WithinNextDays {
            "next"
        } else {
            "last"
        };
        let year = if filter.ignore_year {
            " (ignoring the year)"
        } else {
            ""
        };
        return format!("{prop} is within the {dir} {n} days{year}");
    }
    if filter.operator.takes_value() {
        let text = value_text(filter.value.as_ref());
        let value = match lookups.catalog.property(name).map(|p| p.field_type) {
            Some(FieldType::Enum) => option_label(&text),
            Some(FieldType::Bool) => crate::domain::labels::bool_label(&text).to_string(),
            _ => text,
        };
        format!("{prop} {op} {value}")
    } else {
        format!("{prop} {op}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::{Catalog, PropertyInfo};
    use serde_json::json;

    fn lookups() -> Lookups {
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
                    prop(3, "vip", FieldType::Bool),
                ],
                list_ids: vec![7],
                workflow_ids: vec![],
            },
            lists: vec![(7, "VIP".into())],
            workflows: vec![],
        }
    }

    fn form(pairs: &[(&str, &str)]) -> FormValues {
        FormValues(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_form_becomes_filter_groups_with_keys() {
        let v = form(&[
            ("g0_f0_property", "firstname"),
            ("g0_f0_operator", "eq"),
            ("g0_f0_value", "Ada"),
            ("g0_f1_property", ""),
            ("g0_f1_operator", ""),
            ("g0_f1_value", ""),
            ("g0_addlist", "7"),
            ("g1_f0_property", "score"),
            ("g1_f0_operator", "gt"),
            ("g1_f0_value", "3"),
            ("g1_f0_remove", "on"),
            ("g1_f1_property", "vip"),
            ("g1_f1_operator", "known"),
            ("g1_f1_value", "ignored"),
            ("g2_f0_property", ""),
            ("g2_f0_operator", ""),
            ("g2_f0_value", ""),
        ]);
        let rows = rows_from_form(&v);
        assert_eq!(rows.len(), 3);
        let c = to_filters(&rows, &lookups(), &[]);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(
            serde_json::to_value(&c.groups).unwrap(),
            json!([
                [{"property": "firstname", "operator": "eq", "value": "Ada"},
                 {"operator": "in_list", "value": 7}],
                [{"property": "vip", "operator": "known"}]
            ])
        );
        assert_eq!(c.keys, vec![vec!["g0_f0", "g0_f2"], vec!["g1_f1"]]);
        assert_eq!(c.input_for("[1][0].value").as_deref(), Some("g1_f1_value"));
        assert_eq!(c.input_for("[0][1].value").as_deref(), Some("g0_f2_value"));
    }

    #[test]
    fn unchanged_values_keep_their_json_type() {
        let original = vec![vec![Filter {
            property: Some("score".into()),
            operator: Operator::Gt,
            value: Some(json!("3")),
            ignore_year: false,
        }]];
        let rows = rows_from_groups(&original);
        let c = to_filters(&rows, &lookups(), &original);
        assert_eq!(c.groups, original);
        let mut rows = rows;
        rows[0].rows[0].value = "4".into();
        let c = to_filters(&rows, &lookups(), &original);
        assert_eq!(c.groups[0][0].value, Some(json!(4)));
    }

    #[test]
    fn a_missing_operator_is_reported_on_its_input() {
        let v = form(&[("g0_f0_property", "firstname"), ("g0_f0_operator", "")]);
        let c = to_filters(&rows_from_form(&v), &lookups(), &[]);
        assert_eq!(c.errors[0].field, "g0_f0_operator");
    }
}
