//! The workflow definition: the JSON document of DESIGN §7 that the editor and the API both
//! read and write. These types are the single source of truth for its shape; every struct
//! rejects unknown fields so a typo in an integration is a 422, not a silently ignored key.
//!
//! Optional knobs are `Option`s skipped when absent, so a definition posted through the API
//! serialises back to the same JSON.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub name: String,
    pub start: Start,
    #[serde(default)]
    pub recur_annually: bool,
    #[serde(default)]
    pub triggers: Triggers,
    #[serde(default)]
    pub reenroll: Reenroll,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub settings: Settings,
    /// "Goal": a contact who meets it leaves the workflow at once (also while waiting), and
    /// counts as a conversion. Absent: no goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
}

/// The goal criteria (DESIGN §4, issue 17): OR between groups, AND inside a group, the same
/// filters as triggers. Checked on every change of the contact and before each action; a
/// contact who already meets it is not enrolled.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    #[serde(default)]
    pub filter_groups: Vec<Vec<Filter>>,
}

/// How the workflow is centred: on nothing, a fixed date, or a date on each contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Start {
    Blank,
    /// `date` is ISO `YYYY-MM-DD`; kept as text so validation can name it when malformed.
    SpecificDate {
        date: String,
    },
    ContactDateProperty {
        property: String,
    },
}

impl Start {
    pub fn is_date_centred(&self) -> bool {
        !matches!(self, Start::Blank)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Start::Blank => "blank",
            Start::SpecificDate { .. } => "specific_date",
            Start::ContactDateProperty { .. } => "contact_date_property",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// OR between groups, AND inside a group. For a contact-date-property workflow they narrow
    /// the built-in "[property] is known" (which enrolls on its own when there are none); for
    /// the other start types no groups (and no event triggers) means manual enrollment only.
    #[serde(default)]
    pub filter_groups: Vec<Vec<Filter>>,
    /// "Enroll manually only": nothing enrolls a contact but a person (or the API's manual
    /// enrollment), whatever the filter groups, the built-in trigger or the event triggers say.
    #[serde(default)]
    pub manual_only: bool,
    /// "When an event occurs": any of these enrolls (beside the filter groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventTrigger>,
}

impl Triggers {
    /// Whether the event triggers enroll (there are some and enrollment is not manual only).
    pub fn events_enroll(&self) -> bool {
        !self.manual_only && !self.events.is_empty()
    }
}

impl Definition {
    /// Whether contacts enroll by meeting criteria: the filter groups, or — for a
    /// contact-date-property workflow — the built-in "[property] is known" on its own
    /// (DESIGN §2). False when "Enroll manually only" is chosen.
    pub fn enrolls_on_criteria(&self) -> bool {
        !self.triggers.manual_only
            && (!self.triggers.filter_groups.is_empty()
                || matches!(self.start, Start::ContactDateProperty { .. }))
    }

    /// Nothing but manual enrollment brings a contact in: neither criteria nor event triggers.
    pub fn is_manual_only(&self) -> bool {
        !self.enrolls_on_criteria() && !self.triggers.events_enroll()
    }
}

/// An event-based trigger: the event's name and refinement filters (AND). A filter whose
/// property starts with `event.` looks at the event's own properties (`event.amount`,
/// `event.property`, `event.new`); any other property is the contact's at the time of the
/// event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTrigger {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
}

/// One condition on a contact. `value` is absent for `known`/`unknown`; for `in_list` it is
/// the list id (number or numeric string) and `property` may be omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// `within_next_days` / `within_last_days` only: compare the month and day, whatever the
    /// year (birthdays, anniversaries: "birthday in the next 7 days").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_year: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Neq,
    Contains,
    Known,
    Unknown,
    Gt,
    Lt,
    Before,
    After,
    InList,
    /// A date (or the day of a datetime) from today to today + N days (N = the value).
    WithinNextDays,
    /// A date (or the day of a datetime) from today − N days to today.
    WithinLastDays,
}

impl Operator {
    pub const ALL: [Operator; 12] = [
        Operator::Eq,
        Operator::Neq,
        Operator::Contains,
        Operator::Known,
        Operator::Unknown,
        Operator::Gt,
        Operator::Lt,
        Operator::Before,
        Operator::After,
        Operator::InList,
        Operator::WithinNextDays,
        Operator::WithinLastDays,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Contains => "contains",
            Operator::Known => "known",
            Operator::Unknown => "unknown",
            Operator::Gt => "gt",
            Operator::Lt => "lt",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::InList => "in_list",
            Operator::WithinNextDays => "within_next_days",
            Operator::WithinLastDays => "within_last_days",
        }
    }

    /// The relative-window operators (`within_next_days`, `within_last_days`).
    pub fn is_within(self) -> bool {
        matches!(self, Operator::WithinNextDays | Operator::WithinLastDays)
    }

    pub fn parse(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the operator compares against a value at all.
    pub fn takes_value(self) -> bool {
        !matches!(self, Operator::Known | Operator::Unknown)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reenroll {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub on_properties: Vec<String>,
    /// "Yes, re-enroll every time the trigger occurs" (event triggers); never while enrolled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_events: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum When {
    On,
    Before,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateUnit {
    Days,
    Weeks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZoneChoice {
    /// The workflow's time zone (settings.time_zone, else the account's).
    Workflow,
    /// The contact's `timezone` property, falling back to the workflow's.
    Contact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Mon => chrono::Weekday::Mon,
            Weekday::Tue => chrono::Weekday::Tue,
            Weekday::Wed => chrono::Weekday::Wed,
            Weekday::Thu => chrono::Weekday::Thu,
            Weekday::Fri => chrono::Weekday::Fri,
            Weekday::Sat => chrono::Weekday::Sat,
            Weekday::Sun => chrono::Weekday::Sun,
        }
    }

    pub fn from_chrono(d: chrono::Weekday) -> Weekday {
        match d {
            chrono::Weekday::Mon => Weekday::Mon,
            chrono::Weekday::Tue => Weekday::Tue,
            chrono::Weekday::Wed => Weekday::Wed,
            chrono::Weekday::Thu => Weekday::Thu,
            chrono::Weekday::Fri => Weekday::Fri,
            chrono::Weekday::Sat => Weekday::Sat,
            chrono::Weekday::Sun => Weekday::Sun,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Weekday::Mon => "Monday",
            Weekday::Tue => "Tuesday",
            Weekday::Wed => "Wednesday",
            Weekday::Thu => "Thursday",
            Weekday::Fri => "Friday",
            Weekday::Sat => "Saturday",
            Weekday::Sun => "Sunday",
        }
    }
}

/// One step of the workflow. Date delays and plain delays only wait; everything else acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Wait until a day relative to the anchor date, at a time of day.
    DateDelay {
        when: When,
        /// Required for before/after (0 is allowed and equals "on"); absent for `on`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<u32>,
        /// Defaults to days.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<DateUnit>,
        /// "HH:MM", 24-hour. Defaults to 09:00 when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_of_day: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<ZoneChoice>,
    },
    /// Blank workflows: wait a set amount of time after the previous step.
    Delay {
        amount: u32,
        unit: TimeUnit,
    },
    /// Blank workflows: wait until the next of these weekdays at a time of day
    /// (workflow time zone).
    DelayUntil {
        days: Vec<Weekday>,
        time_of_day: String,
    },
    SetProperty {
        property: String,
        value: serde_json::Value,
    },
    CopyProperty {
        from: String,
        to: String,
    },
    ClearProperty {
        property: String,
    },
    /// Increase (positive) or decrease (negative) a number property.
    AdjustProperty {
        property: String,
        amount: f64,
    },
    SendEmail {
        subject: String,
        body: String,
    },
    InternalNotification {
        message: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<String>,
    },
    CreateTask {
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_in_days: Option<u32>,
    },
    AddToList {
        list_id: i64,
    },
    RemoveFromList {
        list_id: i64,
    },
    Webhook {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    /// If/then branch: contacts matching `condition` (OR of AND-groups) take `yes`, others `no`.
    Branch {
        condition: Vec<Vec<Filter>>,
        // The schema refers to itself here: no_recursion stops utoipa collecting it forever.
        #[serde(default)]
        #[schema(no_recursion)]
        yes: Vec<Step>,
        #[serde(default)]
        #[schema(no_recursion)]
        no: Vec<Step>,
    },
    EnrollInWorkflow {
        workflow_id: i64,
    },
    UnenrollFromWorkflow {
        workflow_id: i64,
    },
    /// Wait until the contact meets `condition` and/or an event named `event` happens to it,
    /// at most `timeout`: then the `met` path, or the `timed_out` path when the time is up.
    /// Met already on arrival: the `met` path at once.
    WaitUntil {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        condition: Vec<Vec<Filter>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<String>,
        timeout: Timeout,
        #[serde(default)]
        #[schema(no_recursion)]
        met: Vec<Step>,
        #[serde(default)]
        #[schema(no_recursion)]
        timed_out: Vec<Step>,
    },
    /// Random split: each contact takes one path by its `percent`, chosen by a hash of the
    /// workflow and the contact (stable: re-plans and edits never move a contact); the
    /// `holdout_percent` rest gets nothing and serves as the control group.
    RandomSplit {
        #[schema(no_recursion)]
        paths: Vec<SplitPath>,
        #[serde(default, skip_serializing_if = "is_zero")]
        holdout_percent: u32,
    },
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// How long a [`Step::WaitUntil`] waits at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    pub amount: u32,
    pub unit: TimeUnit,
}

/// One path of a [`Step::RandomSplit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitPath {
    /// What people call it ("A", "Short subject").
    pub name: String,
    /// Share of contacts, 1–100 (all paths plus the holdout add up to 100).
    pub percent: u32,
    #[serde(default)]
    #[schema(no_recursion)]
    pub steps: Vec<Step>,
}

impl Step {
    pub fn type_name(&self) -> &'static str {
        match self {
            Step::DateDelay { .. } => "date_delay",
            Step::Delay { .. } => "delay",
            Step::DelayUntil { .. } => "delay_until",
            Step::SetProperty { .. } => "set_property",
            Step::CopyProperty { .. } => "copy_property",
            Step::ClearProperty { .. } => "clear_property",
            Step::AdjustProperty { .. } => "adjust_property",
            Step::SendEmail { .. } => "send_email",
            Step::InternalNotification { .. } => "internal_notification",
            Step::CreateTask { .. } => "create_task",
            Step::AddToList { .. } => "add_to_list",
            Step::RemoveFromList { .. } => "remove_from_list",
            Step::Webhook { .. } => "webhook",
            Step::Branch { .. } => "branch",
            Step::EnrollInWorkflow { .. } => "enroll_in_workflow",
            Step::UnenrollFromWorkflow { .. } => "unenroll_from_workflow",
            Step::WaitUntil { .. } => "wait_until",
            Step::RandomSplit { .. } => "random_split",
        }
    }

    /// Delays wait; they are never moved by the execution window.
    pub fn is_delay(&self) -> bool {
        matches!(
            self,
            Step::DateDelay { .. } | Step::Delay { .. } | Step::DelayUntil { .. }
        )
    }

    /// Steps that choose a path (if/then branch, wait until, random split): not actions, never
    /// moved by the execution window.
    pub fn is_fork(&self) -> bool {
        matches!(
            self,
            Step::Branch { .. } | Step::WaitUntil { .. } | Step::RandomSplit { .. }
        )
    }

    /// Steps the execution window applies to (actions, not delays or forks).
    pub fn is_windowed_action(&self) -> bool {
        !self.is_delay() && !self.is_fork()
    }

    /// The step lists nested in this step, each with its name in a step path
    /// (`3/yes/0`, `3/met/0`, `3/p1/0`): a branch's `yes` and `no`, a wait's `met` and
    /// `timed_out`, a split's `p0`, `p1`, …
    pub fn arms(&self) -> Vec<(String, &[Step])> {
        match self {
            Step::Branch { yes, no, .. } => vec![
                ("yes".to_string(), yes.as_slice()),
                ("no".to_string(), no.as_slice()),
            ],
            Step::WaitUntil { met, timed_out, .. } => vec![
                ("met".to_string(), met.as_slice()),
                ("timed_out".to_string(), timed_out.as_slice()),
            ],
            Step::RandomSplit { paths, .. } => paths
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("p{i}"), p.steps.as_slice()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The nested list named `arm` (see [`Step::arms`]).
    pub fn arm(&self, arm: &str) -> Option<&[Step]> {
        match (self, arm) {
            (Step::Branch { yes, .. }, "yes") => Some(yes),
            (Step::Branch { no, .. }, "no") => Some(no),
            (Step::WaitUntil { met, .. }, "met") => Some(met),
            (Step::WaitUntil { timed_out, .. }, "timed_out") => Some(timed_out),
            (Step::RandomSplit { paths, .. }, p) => p
                .strip_prefix('p')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| paths.get(i))
                .map(|p| p.steps.as_slice()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Feb29Rule {
    #[default]
    Feb28,
    Mar1,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionWindow {
    pub days: Vec<Weekday>,
    /// "HH:MM"; the window is [start, end).
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    #[serde(default)]
    pub filter_groups: Vec<Vec<Filter>>,
    #[serde(default)]
    pub list_ids: Vec<i64>,
}

impl Suppression {
    pub fn is_empty(&self) -> bool {
        self.filter_groups.is_empty() && self.list_ids.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Notify when the workflow needs review (e.g. actions failing after retries).
    #[serde(default)]
    pub on_review_needed: bool,
    /// Notify when enrollment changes by more than this percentage in a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_change_percent: Option<u32>,
    #[serde(default)]
    pub recipients: Vec<String>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn default_catch_up_hours() -> u32 {
    24
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// IANA name; absent means the account time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub feb29: Feb29Rule,
    /// Absent: actions may run at any time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_window: Option<ExecutionWindow>,
    /// Local dates (workflow zone) on which no action runs.
    #[serde(default)]
    pub pause_dates: Vec<String>,
    #[serde(default = "default_catch_up_hours")]
    pub catch_up_hours: u32,
    #[serde(default)]
    pub unenroll_when_unmet: bool,
    #[serde(default)]
    pub suppression: Suppression,
    #[serde(default)]
    pub unenroll_from_workflows: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub notifications: Notifications,
    /// This workflow's email pacing; absent: the account's (Settings > Account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
}

/// Email pacing (issue 17): at most `max_emails` emails per contact in any `per_days` days,
/// counted over every workflow, and none during the contact's quiet hours (their `timezone`
/// property, else the workflow's zone). An email that would break either is deferred to the
/// first allowed time, never dropped.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pacing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_emails: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

/// Local times ("HH:MM") between which no email goes out; `start` after `end` spans midnight
/// (21:00–08:00).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_zone: None,
            feb29: Feb29Rule::Feb28,
            execution_window: None,
            pause_dates: Vec::new(),
            catch_up_hours: default_catch_up_hours(),
            unenroll_when_unmet: false,
            suppression: Suppression::default(),
            unenroll_from_workflows: Vec::new(),
            campaign: None,
            notifications: Notifications::default(),
            pacing: None,
        }
    }
}

/// The default time of day of a date delay when none is given.
pub const DEFAULT_TIME_OF_DAY: &str = "09:00";

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{ "name": "Renewal reminder",
      "start": { "type": "contact_date_property", "property": "renewal_date" },
      "recur_annually": true,
      "triggers": { "filter_groups": [[{ "property": "lifecyclestage", "operator": "eq", "value": "customer" }]],
                    "manual_only": false },
      "reenroll": { "enabled": false, "on_properties": [] },
      "steps": [
        { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
        { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi {{ contact.firstname }}" },
        { "type": "date_delay", "when": "on", "time_of_day": "08:00", "zone": "contact" },
        { "type": "set_property", "property": "renewal_notice", "value": "sent" } ],
      "settings": { "time_zone": "Europe/Oslo", "feb29": "feb28",
        "execution_window": { "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00" },
        "pause_dates": [], "catch_up_hours": 24, "unenroll_when_unmet": false,
        "suppression": { "filter_groups": [], "list_ids": [] }, "unenroll_from_workflows": [] } }"#;

    #[test]
    fn design_example_round_trips_unchanged() {
        let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        let def: Definition = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(serde_json::to_value(&def).unwrap(), original);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let bad = EXAMPLE.replace("\"recur_annually\"", "\"recur_anually\"");
        assert!(serde_json::from_str::<Definition>(&bad).is_err());
        let bad = EXAMPLE.replace("\"subject\"", "\"subjekt\"");
        assert!(serde_json::from_str::<Definition>(&bad).is_err());
    }
}
