//! The canvas: the workflow as one flat list of things to draw (cards, the + between them,
//! branches opening and closing around their arms), and the words on the trigger and date cards.

use crate::domain::definition::{Definition, Start, Step};
use crate::domain::validate::Problem;
use crate::web::workflows::forms_common::{card_place, Arm, ListRef, Lookups};
use crate::web::workflows::forms_steps;

/// One thing drawn on the canvas, in order. Branches open and close around their two arms,
/// so any depth is drawn from one flat list.
pub struct CanvasItem {
    /// card | add | branch_open | arm_open | arm_close | branch_close | end
    pub kind: &'static str,
    /// trigger | date | delay | action | branch
    pub card_kind: &'static str,
    pub card: String,
    pub href: String,
    pub icon: &'static str,
    pub eyebrow: String,
    pub title: String,
    pub lines: Vec<String>,
    /// A built-in line shown first (the "[property] is known" trigger).
    pub builtin: String,
    pub selected: bool,
    pub issues: usize,
    pub arm: &'static str,
    /// The arm's CSS class: yes | no | met | timed-out | path | holdout.
    pub arm_class: &'static str,
    pub label: String,
    /// For the date card: the Repeat annually checkbox.
    pub recur: Option<bool>,
    /// "3 waiting · 12 executed in 30 days" (a step card of a live workflow).
    pub counts: String,
}

impl CanvasItem {
    fn blank(kind: &'static str) -> CanvasItem {
        CanvasItem {
            kind,
            card_kind: "",
            card: String::new(),
            href: String::new(),
            icon: "",
            eyebrow: String::new(),
            title: String::new(),
            lines: Vec::new(),
            builtin: String::new(),
            selected: false,
            issues: 0,
            arm: "",
            arm_class: "",
            label: String::new(),
            recur: None,
            counts: String::new(),
        }
    }
}

pub(super) struct CanvasCtx<'a> {
    pub(super) id: i64,
    pub(super) def: &'a Definition,
    pub(super) lookups: &'a Lookups,
    pub(super) problems: &'a [Problem],
    /// The open card, or `add:{arm}:{after}` for a + being used.
    pub(super) selected: String,
}

impl CanvasCtx<'_> {
    fn issues(&self, card: &str) -> usize {
        self.problems.iter().filter(|p| p.card == card).count()
    }

    fn add(&self, list: &ListRef, after: isize, label: String) -> CanvasItem {
        let arm = list.slug();
        let mut href = format!("/workflows/{}?panel=add&after={after}", self.id);
        if !arm.is_empty() {
            href.push_str(&format!("&arm={arm}"));
        }
        href.push_str("#panel");
        let mut item = CanvasItem::blank("add");
        item.selected = self.selected == format!("add:{arm}:{after}");
        item.href = href;
        item.label = label;
        item
    }

    fn steps(&self, items: &mut Vec<CanvasItem>, steps: &[Step], list: &ListRef) {
        let date_centred = self.def.start.is_date_centred();
        let top = list.branch.is_none();
        if !(top && date_centred) {
            let label = if top {
                "Add a step at the start".to_string()
            } else {
                format!("Add a step at the start of {}", arm_words(list))
            };
            items.push(self.add(list, -1, label));
        }
        for (i, step) in steps.iter().enumerate() {
            let path = list.at(i);
            let card = path.card();
            let first_date_delay =
                top && i == 0 && date_centred && matches!(step, Step::DateDelay { .. });
            let s = forms_steps::summarize(step, &self.def.start, self.lookups, first_date_delay);
            let mut item = CanvasItem::blank("card");
            item.card_kind = s.kind;
            item.href = format!("/workflows/{}?panel={card}#panel", self.id);
            item.icon = s.icon;
            item.eyebrow = card_place(&card);
            item.title = s.title;
            item.lines = s.lines;
            item.selected = self.selected == card;
            item.issues = self.issues(&card);
            item.card = card;
            items.push(item);
            let arms = fork_arms(step);
            if !arms.is_empty() {
                items.push(CanvasItem::blank("branch_open"));
                for arm in arms {
                    let mut open = CanvasItem::blank("arm_open");
                    open.arm_class = arm_class(&arm);
                    open.label = arm.label_in(Some(step));
                    open.arm = match &arm {
                        Arm::Path(_) => "Path",
                        _ => "",
                    };
                    items.push(open);
                    let list = ListRef {
                        branch: Some((path.clone(), arm.clone())),
                    };
                    let arm_steps = step.arm(&arm.slug()).unwrap_or(&[]);
                    self.steps(items, arm_steps, &list);
                    items.push(CanvasItem::blank("arm_close"));
                }
                if let Step::RandomSplit {
                    holdout_percent, ..
                } = step
                {
                    if *holdout_percent > 0 {
                        let mut open = CanvasItem::blank("arm_open");
                        open.arm_class = "holdout";
                        open.label = format!("Holdout ({holdout_percent}%)");
                        items.push(open);
                        let mut note = CanvasItem::blank("note");
                        note.label = "Gets nothing: the control group".into();
                        items.push(note);
                        items.push(CanvasItem::blank("arm_close"));
                    }
                }
                items.push(CanvasItem::blank("branch_close"));
            }
            let label = format!(
                "Add a step after {}",
                card_place(&path.card()).to_lowercase()
            );
            items.push(self.add(list, i as isize, label));
        }
    }
}

/// The nested lists of a step that forks, in drawing order.
fn fork_arms(step: &Step) -> Vec<Arm> {
    match step {
        Step::Branch { .. } => vec![Arm::Yes, Arm::No],
        Step::WaitUntil { .. } => vec![Arm::Met, Arm::TimedOut],
        Step::RandomSplit { paths, .. } => (0..paths.len()).map(Arm::Path).collect(),
        _ => Vec::new(),
    }
}

fn arm_class(arm: &Arm) -> &'static str {
    match arm {
        Arm::Yes => "yes",
        Arm::No => "no",
        Arm::Met => "met",
        Arm::TimedOut => "timed-out",
        Arm::Path(_) => "path",
    }
}

pub(super) fn arm_words(list: &ListRef) -> String {
    match &list.branch {
        Some((p, arm)) => format!(
            "the {} path of {}",
            arm.label(),
            card_place(&p.card()).to_lowercase()
        ),
        None => "the workflow".into(),
    }
}

fn trigger_lines(def: &Definition, lookups: &Lookups) -> (String, Vec<String>) {
    let builtin = match &def.start {
        Start::ContactDateProperty { property } => {
            format!("{} is known", lookups.property_label(property))
        }
        _ => String::new(),
    };
    // Triggers this editor does not draw (kept as they are when the panel saves).
    if def.triggers.manual_only {
        // What enrolls a contact, in words: only a person (the filters are kept, unused).
        return (
            builtin,
            vec!["Enroll manually only: contacts enter only when you enroll them (Test page or a contact’s page)".to_string()],
        );
    }
    let groups = &def.triggers.filter_groups;
    let mut lines = if !groups.is_empty() {
        let mut lines = forms_steps::condition_lines(groups, lookups);
        // The filter groups narrow the built-in trigger shown above them.
        if !builtin.is_empty() && lines.len() > 1 {
            lines.insert(0, "and any of:".to_string());
        } else if let (false, Some(first)) = (builtin.is_empty(), lines.first_mut()) {
            *first = format!("and {first}");
        }
        lines
    } else if !builtin.is_empty() {
        vec![format!(
            "Enrolls every contact whose {builtin} (no other filters)"
        )]
    } else {
        Vec::new()
    };
    for t in &def.triggers.events {
        let refined = if t.filters.is_empty() {
            String::new()
        } else {
            format!(" ({} filters)", t.filters.len())
        };
        let words = format!("When “{}” occurs{refined}", t.name);
        lines.push(if lines.is_empty() {
            words
        } else {
            format!("or {words}")
        });
    }
    if lines.is_empty() {
        lines.push("Manual enrollment only".to_string());
    }
    if def.reenroll.on_events {
        lines.push("Re-enrolls every time an event trigger occurs".to_string());
    }
    if def.reenroll.enabled {
        let names: Vec<String> = def
            .reenroll
            .on_properties
            .iter()
            .map(|p| lookups.property_label(p))
            .collect();
        lines.push(if names.is_empty() {
            "Re-enrollment on (choose properties)".to_string()
        } else {
            format!("Re-enrolls when {} changes", names.join(", "))
        });
    }
    (builtin, lines)
}

/// Event triggers (the triggers other than filter groups).
pub(super) fn other_triggers(def: &Definition) -> usize {
    def.triggers.events.len()
}

fn start_title(start: &Start, lookups: &Lookups) -> String {
    match start {
        Start::Blank => String::new(),
        Start::SpecificDate { date } => format!("Specific date: {date}"),
        Start::ContactDateProperty { property } => {
            format!(
                "Contact date property: {}",
                lookups.property_label(property)
            )
        }
    }
}

pub(super) fn canvas(c: &CanvasCtx) -> Vec<CanvasItem> {
    let mut items = Vec::new();
    let (builtin, lines) = trigger_lines(c.def, c.lookups);
    let mut trigger = CanvasItem::blank("card");
    trigger.card_kind = "trigger";
    trigger.card = "trigger".into();
    trigger.href = format!("/workflows/{}?panel=trigger#panel", c.id);
    trigger.icon = "⚑";
    trigger.eyebrow = "Enrollment trigger".into();
    trigger.title = if c.def.is_manual_only() && !c.def.triggers.manual_only {
        "Configure triggers".into()
    } else {
        "Contact enrollment triggers".into()
    };
    trigger.lines = lines;
    trigger.builtin = builtin;
    trigger.selected = c.selected == "trigger";
    trigger.issues = c.issues("trigger");
    items.push(trigger);
    if c.def.start.is_date_centred() {
        items.push(CanvasItem::blank("line"));
        let mut date = CanvasItem::blank("card");
        date.card_kind = "date";
        date.card = "start".into();
        date.href = format!("/workflows/{}?panel=start#panel", c.id);
        date.icon = "▦";
        date.eyebrow = "Date".into();
        date.title = start_title(&c.def.start, c.lookups);
        date.lines = vec![if c.def.recur_annually {
            "Repeats every year on the same day and month".to_string()
        } else {
            "Runs once".to_string()
        }];
        date.selected = c.selected == "start";
        date.issues = c.issues("start");
        date.recur = Some(c.def.recur_annually);
        items.push(date);
        items.push(CanvasItem::blank("line"));
    }
    c.steps(&mut items, &c.def.steps, &ListRef::top());
    items.push(CanvasItem::blank("end"));
    items.push(CanvasItem::blank("line"));
    items.push(goal_card(c));
    items
}

/// The goal card under the flow: what makes a contact convert and leave.
fn goal_card(c: &CanvasCtx) -> CanvasItem {
    let groups = c
        .def
        .goal
        .as_ref()
        .map(|g| g.filter_groups.as_slice())
        .unwrap_or(&[]);
    let mut goal = CanvasItem::blank("card");
    goal.card_kind = "goal";
    goal.card = "goal".into();
    goal.href = format!("/workflows/{}?panel=goal#panel", c.id);
    goal.icon = "◎";
    goal.eyebrow = "Goal".into();
    if groups.is_empty() {
        goal.title = "Set a goal".into();
        goal.lines = vec!["No goal: contacts go through every step".into()];
    } else {
        goal.title = "Contacts leave when they meet the goal".into();
        goal.lines = forms_steps::condition_lines(groups, c.lookups);
    }
    goal.selected = c.selected == "goal";
    goal.issues = c.issues("goal");
    goal
}
