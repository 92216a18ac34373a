//! Shared pieces of the editor's forms: submitted values as templates read them, choices for
//! selects, where a step sits in the flow (`2-yes-0` ↔ `steps[2].yes[0]` ↔ card `step-2-yes-0`),
//! and how a definition's field path maps to the inputs of the open panel.

use crate::domain::definition::Step;
use crate::domain::errors::FieldError;

/// A submitted (or prefilled) form: every `name=value` pair in order, repeated keys kept.
/// Templates read it with `v.get("subject")` and `v.is("days", "mon")`.
#[derive(Debug, Clone, Default)]
pub struct FormValues(pub Vec<(String, String)>);

impl FormValues {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn trimmed(&self, name: &str) -> &str {
        self.get(name).trim()
    }

    /// Every value of `name` (checkbox groups, multi-selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether `name` was submitted with exactly `value` (selected option, checked box).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }

    /// A checkbox: present with any non-empty value other than "false"/"0".
    pub fn checked(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(k, v)| k == name && !v.is_empty() && v != "false" && v != "0")
    }

    /// Whether the value of `name` is one of `choices` (else a select shows it as stale).
    pub fn in_choices(&self, name: &str, choices: &[Choice]) -> bool {
        let v = self.get(name);
        choices.iter().any(|c| c.value == v)
    }

    /// Replaces every value of `name` with one value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.into()));
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }
}

/// One `<option>`: the submitted value and what people read.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// A link to an editor card for a problem or an error outside the open panel.
#[derive(Debug, Clone)]
pub struct ProblemLink {
    pub message: String,
    /// Where the fix is: `?panel=…`, the settings page, …
    pub href: String,
    /// What is wrong, in words: "Step 2 · Send email".
    pub place: String,
}

/// Where a step sits: its index in the top-level list, then (arm, index) pairs through
/// branches. Written `2-yes-0` in URLs; `steps[2].yes[0]` in definition paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPath {
    pub top: usize,
    pub nested: Vec<(bool, usize)>,
}

fn arm_name(yes: bool) -> &'static str {
    if yes {
        "yes"
    } else {
        "no"
    }
}

impl StepPath {
    pub fn top(i: usize) -> StepPath {
        StepPath {
            top: i,
            nested: Vec::new(),
        }
    }

    /// `2-yes-0-no-1`.
    pub fn parse(s: &str) -> Option<StepPath> {
        let mut parts = s.split('-');
        let top = parts.next()?.parse().ok()?;
        let mut nested = Vec::new();
        while let Some(arm) = parts.next() {
            let yes = match arm {
                "yes" => true,
                "no" => false,
                _ => return None,
            };
            nested.push((yes, parts.next()?.parse().ok()?));
        }
        Some(StepPath { top, nested })
    }

    pub fn slug(&self) -> String {
        let mut s = self.top.to_string();
        for (yes, i) in &self.nested {
            s.push_str(&format!("-{}-{i}", arm_name(*yes)));
        }
        s
    }

    /// The editor card id: `step-2-yes-0`.
    pub fn card(&self) -> String {
        format!("step-{}", self.slug())
    }

    /// The definition path: `steps[2].yes[0]`.
    pub fn def_path(&self) -> String {
        let mut s = format!("steps[{}]", self.top);
        for (yes, i) in &self.nested {
            s.push_str(&format!(".{}[{i}]", arm_name(*yes)));
        }
        s
    }

    /// The index in its own list.
    pub fn index(&self) -> usize {
        self.nested.last().map(|(_, i)| *i).unwrap_or(self.top)
    }

    /// The list this step is in.
    pub fn list(&self) -> ListRef {
        let mut nested = self.nested.clone();
        match nested.pop() {
            None => ListRef { branch: None },
            Some((yes, _)) => {
                let top = self.top;
                ListRef {
                    branch: Some((StepPath { top, nested }, yes)),
                }
            }
        }
    }

    /// The same list, another index.
    pub fn sibling(&self, index: usize) -> StepPath {
        let mut p = self.clone();
        match p.nested.last_mut() {
            Some(last) => last.1 = index,
            None => p.top = index,
        }
        p
    }

    pub fn is_top(&self) -> bool {
        self.nested.is_empty()
    }

    pub fn get<'a>(&self, steps: &'a [Step]) -> Option<&'a Step> {
        self.list().get(steps)?.get(self.index())
    }
}

/// A list of steps: the top level, or one arm of a branch. Written `2-yes` in URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRef {
    pub branch: Option<(StepPath, bool)>,
}

impl ListRef {
    pub fn top() -> ListRef {
        ListRef { branch: None }
    }

    /// "" for the top level, else `2-yes`.
    pub fn parse(s: &str) -> Option<ListRef> {
        let s = s.trim();
        if s.is_empty() {
            return Some(ListRef::top());
        }
        let (path, arm) = s.rsplit_once('-')?;
        let yes = match arm {
            "yes" => true,
            "no" => false,
            _ => return None,
        };
        Some(ListRef {
            branch: Some((StepPath::parse(path)?, yes)),
        })
    }

    pub fn slug(&self) -> String {
        match &self.branch {
            None => String::new(),
            Some((p, yes)) => format!("{}-{}", p.slug(), arm_name(*yes)),
        }
    }

    /// The path of the step at `index` in this list.
    pub fn at(&self, index: usize) -> StepPath {
        match &self.branch {
            None => StepPath::top(index),
            Some((p, yes)) => {
                let mut p = p.clone();
                p.nested.push((*yes, index));
                p
            }
        }
    }

    pub fn get<'a>(&self, steps: &'a [Step]) -> Option<&'a [Step]> {
        match &self.branch {
            None => Some(steps),
            Some((p, yes)) => match p.get(steps)? {
                Step::Branch { yes: y, no: n, .. } => Some(if *yes { y } else { n }),
                _ => None,
            },
        }
    }

    pub fn get_mut<'a>(&self, steps: &'a mut Vec<Step>) -> Option<&'a mut Vec<Step>> {
        match &self.branch {
            None => Some(steps),
            Some((p, yes)) => {
                let list = p.list().get_mut(steps)?;
                match list.get_mut(p.index())? {
                    Step::Branch { yes: y, no: n, .. } => Some(if *yes { y } else { n }),
                    _ => None,
                }
            }
        }
    }
}

/// The editor card a definition field path belongs to (as `validate` assigns cards):
/// `steps[3].no[0].subject` → `step-3-no-0`, `triggers…` → `trigger`, `start.date` → `start`.
pub fn card_of(field: &str) -> String {
    if field.starts_with("triggers") || field.starts_with("reenroll") {
        return "trigger".into();
    }
    if field.starts_with("start") || field == "recur_annually" {
        return "start".into();
    }
    if field.starts_with("settings") {
        return "settings".into();
    }
    if field == "name" {
        return "name".into();
    }
    let Some(rest) = field.strip_prefix("steps[") else {
        return "steps".into();
    };
    // Walk `N].yes[M].no[K]…` keeping only step indices and arms.
    let mut card = String::from("step");
    let mut rest = rest;
    while let Some((num, after)) = rest.split_once(']') {
        if num.parse::<usize>().is_err() {
            break;
        }
        card.push('-');
        card.push_str(num);
        if let Some(r) = after.strip_prefix(".yes[") {
            card.push_str("-yes");
            rest = r;
        } else if let Some(r) = after.strip_prefix(".no[") {
            card.push_str("-no");
            rest = r;
        } else {
            break;
        }
    }
    if card == "step" {
        "steps".into()
    } else {
        card
    }
}

/// The editor URL that opens the card a problem belongs to.
pub fn card_href(workflow_id: i64, card: &str) -> String {
    match card {
        "settings" => format!("/workflows/{workflow_id}/settings"),
        "steps" => format!("/workflows/{workflow_id}#canvas"),
        c => format!("/workflows/{workflow_id}?panel={c}#panel"),
    }
}

/// "Enrollment triggers", "Step 3", "Step 2 › Yes › 1", … for a card id.
pub fn card_place(card: &str) -> String {
    match card {
        "trigger" => "Enrollment triggers".into(),
        "start" => "Date".into(),
        "settings" => "Settings".into(),
        "name" => "Name".into(),
        "steps" => "Actions".into(),
        c => match c.strip_prefix("step-").and_then(StepPath::parse) {
            Some(p) => {
                let mut s = format!("Step {}", p.top + 1);
                for (yes, i) in &p.nested {
                    s.push_str(&format!(
                        " › {} › {}",
                        if *yes { "Yes" } else { "No" },
                        i + 1
                    ));
                }
                s
            }
            None => c.to_string(),
        },
    }
}

pub fn problem_link(
    workflow_id: i64,
    field: &str,
    message: &str,
    card: Option<&str>,
) -> ProblemLink {
    let card = card.map(str::to_string).unwrap_or_else(|| card_of(field));
    ProblemLink {
        message: message.to_string(),
        href: card_href(workflow_id, &card),
        place: card_place(&card),
    }
}

/// Errors split into those of the open panel (renamed to its inputs) and the rest.
#[derive(Debug, Default)]
pub struct MappedErrors {
    pub local: Vec<FieldError>,
    /// About the panel as a whole (the step itself, an empty group…).
    pub general: Vec<String>,
    pub elsewhere: Vec<FieldError>,
}

/// The field of `field` under `prefix` (`steps[3]` + `steps[3].subject` → `subject`), `Some("")`
/// for the prefix itself.
pub fn strip_path<'a>(field: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = field.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('.')
    }
}

/// `recipients[2]` → `recipients`.
pub fn without_index(local: &str) -> &str {
    local.split('[').next().unwrap_or(local)
}

/// `[g][i].part` after a filter-group prefix → `(g, Some(i), part)`; `[g]` → `(g, None, "")`.
pub fn filter_position(rest: &str) -> Option<(usize, Option<usize>, &str)> {
    let rest = rest.strip_prefix('[')?;
    let (g, rest) = rest.split_once(']')?;
    let g = g.parse().ok()?;
    if rest.is_empty() {
        return Some((g, None, ""));
    }
    let rest = rest.strip_prefix('[')?;
    let (i, rest) = rest.split_once(']')?;
    let i = i.parse().ok()?;
    Some((g, Some(i), rest.strip_prefix('.').unwrap_or(rest)))
}

/// What the editor's selects offer: properties (with types), lists and workflows.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub catalog: crate::domain::filter::Catalog,
    /// (id, name), newest first.
    pub lists: Vec<(i64, String)>,
    /// (id, name) of every workflow.
    pub workflows: Vec<(i64, String)>,
}

impl Lookups {
    pub fn load(conn: &mut crate::db::DbConnection) -> anyhow::Result<Lookups> {
        let catalog = crate::services::workflows::catalog(conn)?;
        let lists = crate::db::models::list::List::all(conn)?
            .into_iter()
            .map(|(l, _)| (l.id, l.name))
            .collect();
        let workflows = crate::db::models::workflow::Workflow::all(conn, None)?
            .into_iter()
            .map(|w| (w.id, w.name))
            .collect();
        Ok(Lookups {
            catalog,
            lists,
            workflows,
        })
    }

    /// "Renewal date" for `renewal_date`; the name itself when it no longer exists.
    pub fn property_label(&self, name: &str) -> String {
        self.catalog
            .property(name)
            .map(|p| p.label.clone())
            .unwrap_or_else(|| name.to_string())
    }

    pub fn list_name(&self, id: i64) -> String {
        self.lists
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("list {id} (deleted)"))
    }

    pub fn workflow_name(&self, id: i64) -> String {
        self.workflows
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("workflow {id} (deleted)"))
    }

    /// Every property, for selects: "First name" (`firstname`).
    pub fn property_choices(&self) -> Vec<Choice> {
        self.catalog
            .properties
            .iter()
            .map(|p| Choice::new(p.name.clone(), p.label.clone()))
            .collect()
    }

    pub fn property_choices_of(&self, ft: crate::domain::values::FieldType) -> Vec<Choice> {
        self.catalog
            .properties
            .iter()
            .filter(|p| p.field_type == ft)
            .map(|p| Choice::new(p.name.clone(), p.label.clone()))
            .collect()
    }

    pub fn list_choices(&self) -> Vec<Choice> {
        self.lists
            .iter()
            .map(|(id, n)| Choice::new(id.to_string(), n.clone()))
            .collect()
    }

    /// Other workflows (a workflow does not enroll contacts in itself).
    pub fn workflow_choices(&self, except: i64) -> Vec<Choice> {
        self.workflows
            .iter()
            .filter(|(id, _)| *id != except)
            .map(|(id, n)| Choice::new(id.to_string(), n.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_paths_round_trip() {
        for s in ["0", "3", "2-yes-0", "2-no-1-yes-4"] {
            let p = StepPath::parse(s).unwrap();
            assert_eq!(p.slug(), s);
        }
        let p = StepPath::parse("2-yes-0-no-1").unwrap();
        assert_eq!(p.def_path(), "steps[2].yes[0].no[1]");
        assert_eq!(p.card(), "step-2-yes-0-no-1");
        assert_eq!(p.index(), 1);
        assert_eq!(p.list().slug(), "2-yes-0-no");
        assert_eq!(p.sibling(0).slug(), "2-yes-0-no-0");
        for bad in ["", "x", "1-maybe-0", "1-yes", "-1", "1-yes-x"] {
            assert!(StepPath::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(ListRef::parse("").unwrap(), ListRef::top());
        assert_eq!(ListRef::parse("2-yes").unwrap().at(3).slug(), "2-yes-3");
        assert!(ListRef::parse("2").is_none());
    }

    #[test]
    fn cards_of_fields() {
        for (field, card) in [
            ("steps[3].no[0].subject", "step-3-no-0"),
            ("steps[3].condition[0][1].value", "step-3"),
            ("steps[1]", "step-1"),
            ("steps", "steps"),
            ("triggers.filter_groups[0][0].property", "trigger"),
            ("reenroll.on_properties[0]", "trigger"),
            ("start.date", "start"),
            ("recur_annually", "start"),
            ("settings.time_zone", "settings"),
            ("name", "name"),
        ] {
            assert_eq!(card_of(field), card, "{field}");
        }
        assert_eq!(card_place("step-2-yes-0"), "Step 3 › Yes › 1");
    }

    #[test]
    fn filter_positions() {
        assert_eq!(filter_position("[0][1].value"), Some((0, Some(1), "value")));
        assert_eq!(filter_position("[2]"), Some((2, None, "")));
        assert_eq!(filter_position("x"), None);
        assert_eq!(strip_path("steps[3].subject", "steps[3]"), Some("subject"));
        assert_eq!(strip_path("steps[3]", "steps[3]"), Some(""));
        assert_eq!(strip_path("steps[31].x", "steps[3]"), None);
        assert_eq!(without_index("recipients[2]"), "recipients");
    }
}
