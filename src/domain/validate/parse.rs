//! Parsing with a path to the offending field: the JSON into the typed definition, a failure
//! narrowed to the deepest part that does not fit.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::definition::{
    Definition, EventTrigger, ExecutionWindow, Filter, Goal, Notifications, Pacing, QuietHours,
    Reenroll, Settings, SplitPath, Start, Step, Suppression, Timeout, Triggers, Weekday,
};
use crate::domain::errors::FieldError;

/// Parses a definition; a failure names the first offending field by its path.
pub fn parse_definition(json: &Value) -> Result<Definition, FieldError> {
    match Definition::deserialize(json) {
        Ok(def) => Ok(def),
        Err(_) => Err(locate(json, Shape::Definition, "")),
    }
}

/// The typed parts of the definition, so a failure can be narrowed to the deepest part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Definition,
    Start,
    Triggers,
    Reenroll,
    Steps,
    Step,
    FilterGroups,
    FilterGroup,
    Filter,
    EventTriggers,
    EventTrigger,
    Settings,
    ExecutionWindow,
    Suppression,
    Notifications,
    Goal,
    Timeout,
    SplitPaths,
    SplitPath,
    Pacing,
    QuietHours,
    Weekdays,
    Strings,
    Ids,
    Weekday,
    Str,
    Id,
    /// A field checked only as part of its parent.
    Leaf,
}

fn try_parse<T: DeserializeOwned>(v: &Value) -> Result<(), serde_json::Error> {
    T::deserialize(v).map(|_| ())
}

impl Shape {
    fn check(self, v: &Value) -> Result<(), serde_json::Error> {
        match self {
            Shape::Definition => try_parse::<Definition>(v),
            Shape::Start => try_parse::<Start>(v),
            Shape::Triggers => try_parse::<Triggers>(v),
            Shape::Reenroll => try_parse::<Reenroll>(v),
            Shape::Steps => try_parse::<Vec<Step>>(v),
            Shape::Step => try_parse::<Step>(v),
            Shape::FilterGroups => try_parse::<Vec<Vec<Filter>>>(v),
            Shape::FilterGroup => try_parse::<Vec<Filter>>(v),
            Shape::Filter => try_parse::<Filter>(v),
            Shape::EventTriggers => try_parse::<Vec<EventTrigger>>(v),
            Shape::EventTrigger => try_parse::<EventTrigger>(v),
            Shape::Settings => try_parse::<Settings>(v),
            Shape::ExecutionWindow => try_parse::<ExecutionWindow>(v),
            Shape::Suppression => try_parse::<Suppression>(v),
            Shape::Notifications => try_parse::<Notifications>(v),
            Shape::Goal => try_parse::<Goal>(v),
            Shape::Timeout => try_parse::<Timeout>(v),
            Shape::SplitPaths => try_parse::<Vec<SplitPath>>(v),
            Shape::SplitPath => try_parse::<SplitPath>(v),
            Shape::Pacing => try_parse::<Pacing>(v),
            Shape::QuietHours => try_parse::<QuietHours>(v),
            Shape::Weekdays => try_parse::<Vec<Weekday>>(v),
            Shape::Strings => try_parse::<Vec<String>>(v),
            Shape::Ids => try_parse::<Vec<i64>>(v),
            Shape::Weekday => try_parse::<Weekday>(v),
            Shape::Str => try_parse::<String>(v),
            Shape::Id => try_parse::<i64>(v),
            Shape::Leaf => Ok(()),
        }
    }

    fn element(self) -> Option<Shape> {
        match self {
            Shape::Steps => Some(Shape::Step),
            Shape::FilterGroups => Some(Shape::FilterGroup),
            Shape::FilterGroup => Some(Shape::Filter),
            Shape::EventTriggers => Some(Shape::EventTrigger),
            Shape::Weekdays => Some(Shape::Weekday),
            Shape::Strings => Some(Shape::Str),
            Shape::Ids => Some(Shape::Id),
            Shape::SplitPaths => Some(Shape::SplitPath),
            _ => None,
        }
    }

    fn is_struct(self) -> bool {
        matches!(
            self,
            Shape::Definition
                | Shape::Start
                | Shape::Triggers
                | Shape::Reenroll
                | Shape::Step
                | Shape::Filter
                | Shape::EventTrigger
                | Shape::Settings
                | Shape::ExecutionWindow
                | Shape::Suppression
                | Shape::Notifications
                | Shape::Goal
                | Shape::Timeout
                | Shape::SplitPath
                | Shape::Pacing
                | Shape::QuietHours
        )
    }

    fn is_tagged(self) -> bool {
        matches!(self, Shape::Start | Shape::Step)
    }

    fn child(self, key: &str, tag: Option<&str>) -> Shape {
        match (self, key, tag) {
            (Shape::Definition, "start", _) => Shape::Start,
            (Shape::Definition, "triggers", _) => Shape::Triggers,
            (Shape::Definition, "reenroll", _) => Shape::Reenroll,
            (Shape::Definition, "steps", _) => Shape::Steps,
            (Shape::Definition, "settings", _) => Shape::Settings,
            (Shape::Definition, "goal", _) => Shape::Goal,
            (Shape::Goal, "filter_groups", _) => Shape::FilterGroups,
            (Shape::Step, "condition", Some("wait_until")) => Shape::FilterGroups,
            (Shape::Step, "met" | "timed_out", Some("wait_until")) => Shape::Steps,
            (Shape::Step, "timeout", Some("wait_until")) => Shape::Timeout,
            (Shape::Step, "paths", Some("random_split")) => Shape::SplitPaths,
            (Shape::SplitPath, "steps", _) => Shape::Steps,
            (Shape::Settings, "pacing", _) => Shape::Pacing,
            (Shape::Pacing, "quiet_hours", _) => Shape::QuietHours,
            (Shape::Triggers | Shape::Suppression, "filter_groups", _) => Shape::FilterGroups,
            (Shape::Triggers, "events", _) => Shape::EventTriggers,
            (Shape::EventTrigger, "filters", _) => Shape::FilterGroup,
            (Shape::Reenroll, "on_properties", _) => Shape::Strings,
            (Shape::Step, "condition", Some("branch")) => Shape::FilterGroups,
            (Shape::Step, "yes" | "no", Some("branch")) => Shape::Steps,
            (Shape::Step, "days", Some("delay_until")) => Shape::Weekdays,
            (Shape::Step, "recipients", Some("internal_notification")) => Shape::Strings,
            (Shape::Settings, "execution_window", _) => Shape::ExecutionWindow,
            (Shape::Settings, "suppression", _) => Shape::Suppression,
            (Shape::Settings, "notifications", _) => Shape::Notifications,
            (Shape::Settings, "pause_dates", _) => Shape::Strings,
            (Shape::Settings, "unenroll_from_workflows", _) => Shape::Ids,
            (Shape::ExecutionWindow, "days", _) => Shape::Weekdays,
            (Shape::Suppression, "list_ids", _) => Shape::Ids,
            (Shape::Notifications, "recipients", _) => Shape::Strings,
            _ => Shape::Leaf,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "definition".to_string()
    } else {
        path.to_string()
    }
}

/// The name between the first pair of backticks after `prefix`, e.g. `missing field `x``.
fn backticked_after<'m>(msg: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = msg.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// serde's wording made readable: quotes instead of backticks, plain type names.
fn humanize(msg: &str) -> String {
    let mut s = msg
        .replace('`', "\"")
        .replace("expected u32", "expected a whole number (0 or more)")
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
        .replace("invalid type: map", "invalid type: object")
        .replace("invalid type: sequence", "invalid type: list");
    for prefix in ["expected struct ", "expected internally tagged enum "] {
        if let Some(at) = s.find(prefix) {
            s.truncate(at);
            s.push_str("expected an object");
        }
    }
    let mut out: String = s
        .chars()
        .take(1)
        .flat_map(char::to_uppercase)
        .chain(s.chars().skip(1))
        .collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Narrows a parse failure of `v` as `shape` to the deepest offending field.
fn locate(v: &Value, shape: Shape, path: &str) -> FieldError {
    let err = match shape.check(v) {
        Ok(()) => return FieldError::new(field_name(path), "Is not valid."),
        Err(e) => e,
    };
    if let Some(elem) = shape.element() {
        let Some(items) = v.as_array() else {
            return FieldError::new(field_name(path), humanize(&err.to_string()));
        };
        for (i, item) in items.iter().enumerate() {
            if elem.check(item).is_err() {
                return locate(item, elem, &format!("{path}[{i}]"));
            }
        }
        return FieldError::new(field_name(path), humanize(&err.to_string()));
    }
    if !shape.is_struct() {
        return FieldError::new(field_name(path), humanize(&err.to_string()));
    }
    let Some(obj) = v.as_object() else {
        // serde would also read a struct from a list; say what is meant instead.
        let kind = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "list",
            Value::Object(_) => "object",
        };
        return FieldError::new(
            field_name(path),
            format!("Invalid type: {kind}, expected an object."),
        );
    };

    let mut tag = None;
    if shape.is_tagged() {
        let type_path = join(path, "type");
        match obj.get("type") {
            None => return FieldError::new(type_path, "Is required."),
            Some(Value::String(t)) => {
                let probe = Value::Object(Map::from_iter([(
                    "type".to_string(),
                    Value::from(t.as_str()),
                )]));
                if let Err(e) = shape.check(&probe) {
                    let msg = e.to_string();
                    if msg.starts_with("unknown variant") {
                        return FieldError::new(type_path, humanize(&msg));
                    }
                }
                tag = Some(t.as_str());
            }
            Some(_) => return FieldError::new(type_path, "Must be a string."),
        }
    }

    // 1. Structured children parse on their own: descend into the first that fails.
    for (key, child) in obj {
        let cs = shape.child(key, tag);
        if cs != Shape::Leaf && !child.is_null() && cs.check(child).is_err() {
            return locate(child, cs, &join(path, key));
        }
    }
    // 2. Leaf fields: an object with only that field (and the tag) fails for another reason
    //    than missing fields exactly when that field is at fault.
    for (key, child) in obj {
        if tag.is_some() && key == "type" {
            continue;
        }
        let mut probe = Map::new();
        if let Some(t) = tag {
            probe.insert("type".into(), Value::from(t));
        }
        probe.insert(key.clone(), child.clone());
        if let Err(e) = shape.check(&Value::Object(probe)) {
            let msg = e.to_string();
            if !msg.starts_with("missing field") {
                return FieldError::new(join(path, key), humanize(&msg));
            }
        }
    }
    // 3. What is left is about this object itself.
    let msg = err.to_string();
    if let Some(name) = backticked_after(&msg, "missing field ") {
        return FieldError::new(join(path, name), "Is required.");
    }
    if let Some(name) = backticked_after(&msg, "unknown field ") {
        return FieldError::new(join(path, name), humanize(&msg));
    }
    FieldError::new(field_name(path), humanize(&msg))
}
