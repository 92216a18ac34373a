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

/// One nested list of a step that forks: a branch's Yes and No paths, a wait's Met and Timed
/// out paths, a random split's paths (by index). Written as the domain names them in step
/// paths (`yes`, `no`, `met`, `timed_out`, `p0`, `p1`, …; see `Step::arms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arm {
    Yes,
    No,
    Met,
    TimedOut,
    Path(usize),
}

impl Arm {
    pub fn parse(s: &str) -> Option<Arm> {
        Some(match s {
            "yes" => Arm::Yes,
            "no" => Arm::No,
            "met" => Arm::Met,
            "timed_out" => Arm::TimedOut,
            p => {
                let digits = p.strip_prefix('p')?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Arm::Path(digits.parse().ok()?)
            }
        })
    }

    pub fn slug(&self) -> String {
        match self {
            Arm::Yes => "yes".into(),
            Arm::No => "no".into(),
            Arm::Met => "met".into(),
            Arm::TimedOut => "timed_out".into(),
            Arm::Path(i) => format!("p{i}"),
        }
    }

    /// The definition field of this list inside its step: `.yes`, `.paths[1].steps`.
    fn def_path(&self) -> String {
        match self {
            Arm::Path(i) => format!(".paths[{i}].steps"),
            a => format!(".{}", a.slug()),
        }
    }

    /// What people read: "Yes", "Timed out", "Path 2" (a split path's own name is used where
    /// the step is at hand, see [`Arm::label_in`]).
    pub fn label(&self) -> String {
        match self {
            Arm::Yes => "Yes".into(),
            Arm::No => "No".into(),
            Arm::Met => "Met".into(),
            Arm::TimedOut => "Timed out".into(),
            Arm::Path(i) => format!("Path {}", i + 1),
        }
    }

    /// The label, with a split path called by its name ("Path “A”").
    pub fn label_in(&self, step: Option<&Step>) -> String {
        match (self, step) {
            (Arm::Path(i), Some(Step::RandomSplit { paths, .. })) => match paths.get(*i) {
                Some(p) if !p.name.trim().is_empty() => format!("Path “{}”", p.name.trim()),
                _ => self.label(),
            },
            _ => self.label(),
        }
    }

    fn list_mut<'a>(&self, step: &'a mut Step) -> Option<&'a mut Vec<Step>> {
        match (self, step) {
            (Arm::Yes, Step::Branch { yes, .. }) => Some(yes),
            (Arm::No, Step::Branch { no, .. }) => Some(no),
            (Arm::Met, Step::WaitUntil { met, .. }) => Some(met),
            (Arm::TimedOut, Step::WaitUntil { timed_out, .. }) => Some(timed_out),
            (Arm::Path(i), Step::RandomSplit { paths, .. }) => {
                paths.get_mut(*i).map(|p| &mut p.steps)
            }
            _ => None,
        }
    }
}

/// Where a step sits: its index in the top-level list, then (arm, index) pairs through
/// branches, waits and splits. Written `2-yes-0` (`2-met-1`, `2-p0-0`) in URLs;
/// `steps[2].yes[0]` (`steps[2].paths[0].steps[0]`) in definition paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPath {
    pub top: usize,
    pub nested: Vec<(Arm, usize)>,
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
            let arm = Arm::parse(arm)?;
            nested.push((arm, parts.next()?.parse().ok()?));
        }
        Some(StepPath { top, nested })
    }

    pub fn slug(&self) -> String {
        let mut s = self.top.to_string();
        for (arm, i) in &self.nested {
            s.push_str(&format!("-{}-{i}", arm.slug()));
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
        for (arm, i) in &self.nested {
            s.push_str(&format!("{}[{i}]", arm.def_path()));
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
            Some((arm, _)) => {
                let top = self.top;
                ListRef {
                    branch: Some((StepPath { top, nested }, arm)),
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

/// A list of steps: the top level, or one arm of a branch, wait or split. Written `2-yes`
/// (`2-timed_out`, `2-p1`) in URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRef {
    pub branch: Option<(StepPath, Arm)>,
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
        Some(ListRef {
            branch: Some((StepPath::parse(path)?, Arm::parse(arm)?)),
        })
    }

    pub fn slug(&self) -> String {
        match &self.branch {
            None => String::new(),
            Some((p, arm)) => format!("{}-{}", p.slug(), arm.slug()),
        }
    }

    /// The path of the step at `index` in this list.
    pub fn at(&self, index: usize) -> StepPath {
        match &self.branch {
            None => StepPath::top(index),
            Some((p, arm)) => {
                let mut p = p.clone();
                p.nested.push((arm.clone(), index));
                p
            }
        }
    }

    pub fn get<'a>(&self, steps: &'a [Step]) -> Option<&'a [Step]> {
        match &self.branch {
            None => Some(steps),
            Some((p, arm)) => p.get(steps)?.arm(&arm.slug()),
        }
    }

    pub fn get_mut<'a>(&self, steps: &'a mut Vec<Step>) -> Option<&'a mut Vec<Step>> {
        match &self.branch {
            None => Some(steps),
            Some((p, arm)) => {
                let list = p.list().get_mut(steps)?;
                arm.list_mut(list.get_mut(p.index())?)
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
    if field.starts_with("goal") {
        return "goal".into();
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
    // Walk `N].yes[M].paths[1].steps[K]…` keeping only step indices and arms.
    let mut card = String::from("step");
    let mut rest = rest;
    while let Some((num, after)) = rest.split_once(']') {
        if num.parse::<usize>().is_err() {
            break;
        }
        card.push('-');
        card.push_str(num);
        let next = ["yes", "no", "met", "timed_out"]
            .into_iter()
            .find_map(|a| {
                after
                    .strip_prefix(&format!(".{a}["))
                    .map(|r| (a.to_string(), r))
            })
            .or_else(|| {
                let r = after.strip_prefix(".paths[")?;
                let (k, r) = r.split_once(']')?;
                let k: usize = k.parse().ok()?;
                Some((format!("p{k}"), r.strip_prefix(".steps[")?))
            });
        match next {
            Some((arm, r)) => {
                card.push('-');
                card.push_str(&arm);
                rest = r;
            }
            None => break,
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
        "goal" => "Goal".into(),
        "name" => "Name".into(),
        "steps" => "Actions".into(),
        c => match c.strip_prefix("step-").and_then(StepPath::parse) {
            Some(p) => {
                let mut s = format!("Step {}", p.top + 1);
                for (arm, i) in &p.nested {
                    s.push_str(&format!(" › {} › {}", arm.label(), i + 1));
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
        let p = StepPath::parse("2-p1-0-timed_out-3").unwrap();
        assert_eq!(p.def_path(), "steps[2].paths[1].steps[0].timed_out[3]");
        assert_eq!(p.list().slug(), "2-p1-0-timed_out");
        assert!(StepPath::parse("2-p-0").is_none());
        assert!(StepPath::parse("2-px-0").is_none());
    }

    #[test]
    fn cards_of_fields() {
        for (field, card) in [
            ("steps[3].no[0].subject", "step-3-no-0"),
            ("steps[3].condition[0][1].value", "step-3"),
            ("steps[1]", "step-1"),
            ("steps[2].met[0].subject", "step-2-met-0"),
            ("steps[2].timed_out[1]", "step-2-timed_out-1"),
            ("steps[2].paths[1].steps[0].body", "step-2-p1-0"),
            ("steps[2].paths[1].percent", "step-2"),
            ("goal.filter_groups[0][0].value", "goal"),
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
