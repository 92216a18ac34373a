//! The rules: a [`Checker`] walks the typed definition in document order and records every
//! finding, each either blocking save (a [`super::validate`] error) or only "Turn on".

use super::{
    check_http_url, parse_time_of_day, MAX_CAMPAIGN_CHARS, MAX_CATCH_UP_HOURS, MAX_DATE_DELAY_DAYS,
    MAX_DELAY_MINUTES, MAX_NAME_CHARS, MAX_TASK_DUE_DAYS,
};
use crate::domain::definition::{
    DateUnit, Definition, EventTrigger, Filter, Reenroll, Settings, Start, Step, TimeUnit, When,
};
use crate::domain::filter::{check_filter, Catalog, FieldType, PropertyInfo, EMAIL_PROPERTY};
use crate::domain::values::{looks_like_email, normalize_property_value, parse_iso_date};

/// One rule's finding, located in the editor.
pub(super) struct Finding {
    pub(super) field: String,
    pub(super) message: String,
    pub(super) card: String,
    pub(super) blocks_save: bool,
}

struct Checker<'a> {
    catalog: &'a Catalog,
    date_centred: bool,
    found: Vec<Finding>,
}

/// Every finding of every rule, in document order.
pub(super) fn check(def: &Definition, catalog: &Catalog) -> Vec<Finding> {
    let mut c = Checker {
        catalog,
        date_centred: def.start.is_date_centred(),
        found: Vec::new(),
    };
    c.name(&def.name);
    c.start(def);
    c.groups(
        &def.triggers.filter_groups,
        "triggers.filter_groups",
        "trigger",
    );
    c.event_triggers(&def.triggers.events);
    c.reenroll(&def.reenroll);
    c.steps_overall(&def.steps);
    c.steps(&def.steps, "steps", "step");
    c.settings(&def.settings);
    if let Some(goal) = &def.goal {
        c.groups(&goal.filter_groups, "goal.filter_groups", "goal");
    }
    c.found
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn has_action(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        s if s.is_fork() => s.arms().iter().any(|(_, steps)| has_action(steps)),
        s => !s.is_delay(),
    })
}

impl<'a> Checker<'a> {
    fn error(&mut self, card: &str, field: impl Into<String>, message: impl Into<String>) {
        self.push(card, field.into(), message.into(), true);
    }

    fn problem(&mut self, card: &str, field: impl Into<String>, message: impl Into<String>) {
        self.push(card, field.into(), message.into(), false);
    }

    fn push(&mut self, card: &str, field: String, message: String, blocks_save: bool) {
        self.found.push(Finding {
            field,
            message,
            card: card.to_string(),
            blocks_save,
        });
    }

    /// Every `{{ … }}` in a personalised text must be the token of an existing property: a typo
    /// would otherwise send an email with a hole in it (DESIGN §4, issue 13).
    fn tokens(&mut self, card: &str, field: &str, text: &str) {
        let catalog = self.catalog;
        let known = |name: &str| catalog.property(name).is_some();
        for placeholder in crate::domain::tokens::placeholders(text) {
            if let Some(message) = crate::domain::tokens::problem(placeholder, &known) {
                self.error(card, field, message);
            }
        }
    }

    /// The property, or an error at `field` when it does not exist.
    fn property(&mut self, card: &str, field: &str, name: &str) -> Option<&'a PropertyInfo> {
        let catalog = self.catalog;
        let p = catalog.property(name);
        if p.is_none() {
            let message = if name.trim().is_empty() {
                "Choose a property.".to_string()
            } else {
                format!("There is no property named \"{name}\" (it may have been deleted).")
            };
            self.error(card, field, message);
        }
        p
    }

    fn list(&mut self, card: &str, field: &str, id: i64) {
        if !self.catalog.has_list(id) {
            self.error(
                card,
                field,
                format!("There is no list with id {id} (it may have been deleted)."),
            );
        }
    }

    fn workflow(&mut self, card: &str, field: &str, id: i64) {
        if !self.catalog.has_workflow(id) {
            self.error(
                card,
                field,
                format!("There is no workflow with id {id} (it may have been deleted)."),
            );
        }
    }

    fn time_of_day(&mut self, card: &str, field: &str, s: &str) {
        if parse_time_of_day(s).is_none() {
            self.error(
                card,
                field,
                format!("\"{s}\" is not a time of day; use HH:MM, 24-hour (e.g. 09:00)."),
            );
        }
    }

    fn name(&mut self, name: &str) {
        if name.trim().is_empty() {
            self.error("name", "name", "Give the workflow a name.");
        } else if name.chars().count() > MAX_NAME_CHARS {
            self.error(
                "name",
                "name",
                format!("A name has at most {MAX_NAME_CHARS} characters."),
            );
        }
    }

    fn start(&mut self, def: &Definition) {
        match &def.start {
            Start::Blank => {
                if def.recur_annually {
                    self.error(
                        "start",
                        "recur_annually",
                        "Repeat annually needs a date-centred workflow (a specific date or a contact date property).",
                    );
                }
            }
            Start::SpecificDate { date } => {
                if parse_iso_date(date.trim()).is_none() || date.trim() != date {
                    self.error(
                        "start",
                        "start.date",
                        format!("\"{date}\" is not a valid date (YYYY-MM-DD)."),
                    );
                }
            }
            Start::ContactDateProperty { property } => {
                let Some(p) = self.property("start", "start.property", property) else {
                    return;
                };
                if p.field_type != FieldType::Date {
                    let message = if p.name == "date_of_birth" {
                        format!(
                            "{} (date_of_birth) is single-line text and its type cannot be changed, \
                             so a workflow cannot be centred on it. Create a custom date-picker \
                             property (e.g. birthday) and choose it instead.",
                            p.label
                        )
                    } else {
                        format!(
                            "{} is a {} property; a workflow can only be centred on a date-picker property.",
                            p.label,
                            p.field_type.label()
                        )
                    };
                    self.error("start", "start.property", message);
                }
            }
        }
    }

    fn groups(&mut self, groups: &[Vec<Filter>], prefix: &str, card: &str) {
        for (g, group) in groups.iter().enumerate() {
            if group.is_empty() {
                self.error(
                    card,
                    format!("{prefix}[{g}]"),
                    "This filter group is empty: add a filter or remove the group.",
                );
            }
            for (i, filter) in group.iter().enumerate() {
                if let Err((part, message)) = check_filter(filter, self.catalog) {
                    self.error(
                        card,
                        format!("{prefix}[{g}][{i}].{}", part.as_str()),
                        message,
                    );
                }
            }
        }
    }

    fn event_triggers(&mut self, events: &[EventTrigger]) {
        for (t, trigger) in events.iter().enumerate() {
            let prefix = format!("triggers.events[{t}]");
            if !crate::domain::events::valid_name(trigger.name.trim()) {
                self.error(
                    "trigger",
                    format!("{prefix}.name"),
                    "Name the event: letters, digits, _ - . or : (at most 100 characters).",
                );
            }
            for (i, filter) in trigger.filters.iter().enumerate() {
                let on_event = filter
                    .property
                    .as_deref()
                    .is_some_and(|p| p.starts_with(crate::domain::events::EVENT_PREFIX));
                if on_event {
                    if let Err(message) = crate::domain::events::check_event_filter(filter) {
                        let part = if message.contains("value") {
                            "value"
                        } else if message.contains("list") {
                            "operator"
                        } else {
                            "property"
                        };
                        self.error("trigger", format!("{prefix}.filters[{i}].{part}"), message);
                    }
                } else if let Err((part, message)) = check_filter(filter, self.catalog) {
                    self.error(
                        "trigger",
                        format!("{prefix}.filters[{i}].{}", part.as_str()),
                        message,
                    );
                }
            }
        }
    }

    fn reenroll(&mut self, r: &Reenroll) {
        for (k, name) in r.on_properties.iter().enumerate() {
            self.property("trigger", &format!("reenroll.on_properties[{k}]"), name);
        }
        if r.enabled && r.on_properties.is_empty() && !r.on_events {
            self.problem(
                "trigger",
                "reenroll.on_properties",
                "Choose the properties whose change re-enrolls a contact, or turn re-enrollment off.",
            );
        }
    }

    fn steps_overall(&mut self, steps: &[Step]) {
        if self.date_centred {
            match steps.first() {
                None => self.error(
                    "steps",
                    "steps",
                    "A date-centred workflow starts with the date delay \"Execute next action on…\".",
                ),
                Some(Step::DateDelay { .. }) => {}
                Some(_) => self.error(
                    "step-0",
                    "steps[0]",
                    "The first step of a date-centred workflow must be the date delay \"Execute next action on…\".",
                ),
            }
        }
        if !has_action(steps) {
            self.problem("steps", "steps", "Add at least one action.");
        }
    }

    fn steps(&mut self, steps: &[Step], path: &str, card_prefix: &str) {
        for (i, step) in steps.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let card = format!("{card_prefix}-{i}");
            self.step(step, &p, &card);
        }
    }

    fn step(&mut self, step: &Step, p: &str, card: &str) {
        let f = |name: &str| format!("{p}.{name}");
        match step {
            Step::DateDelay {
                when,
                amount,
                unit,
                time_of_day,
                zone: _,
            } => {
                if !self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date delay needs a date-centred workflow; use a delay instead.",
                    );
                    return;
                }
                match when {
                    When::On => {
                        if amount.is_some_and(|a| a != 0) {
                            self.error(card, f("amount"), "\"On the date\" takes no amount.");
                        }
                        // A unit beside "on" is harmless (the editor may keep the last choice).
                    }
                    When::Before | When::After => match amount {
                        None => self.error(card, f("amount"), "Enter how many days or weeks."),
                        Some(a) => {
                            let per = if *unit == Some(DateUnit::Weeks) { 7 } else { 1 };
                            if u64::from(*a) * per > MAX_DATE_DELAY_DAYS {
                                self.error(
                                    card,
                                    f("amount"),
                                    format!("At most {MAX_DATE_DELAY_DAYS} days (10 years) from the date."),
                                );
                            }
                        }
                    },
                }
                if let Some(t) = time_of_day {
                    self.time_of_day(card, &f("time_of_day"), t);
                }
            }
            Step::Delay { amount, unit } => {
                if self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date-centred workflow schedules with date delays; a delay of a set amount of time is for blank workflows.",
                    );
                    return;
                }
                let minutes = match unit {
                    TimeUnit::Minutes => 1,
                    TimeUnit::Hours => 60,
                    TimeUnit::Days => 24 * 60,
                    TimeUnit::Weeks => 7 * 24 * 60,
                };
                if *amount == 0 {
                    self.error(card, f("amount"), "Wait at least 1.");
                } else if u64::from(*amount) * minutes > MAX_DELAY_MINUTES {
                    self.error(
                        card,
                        f("amount"),
                        "A delay is at most 3650 days (10 years).",
                    );
                }
            }
            Step::DelayUntil { days, time_of_day } => {
                if self.date_centred {
                    self.error(
                        card,
                        p,
                        "A date-centred workflow schedules with date delays; \"delay until a day\" is for blank workflows.",
                    );
                    return;
                }
                if days.is_empty() {
                    self.error(card, f("days"), "Choose at least one day.");
                }
                self.time_of_day(card, &f("time_of_day"), time_of_day);
            }
            Step::SetProperty { property, value } => {
                let field = f("property");
                if let Some(prop) = self.property(card, &field, property) {
                    match normalize_property_value(&prop.name, prop.field_type, &prop.options, value) {
                        Err(m) => self.error(card, f("value"), format!("{}.", m.trim_end_matches('.'))),
                        Ok(None) => self.error(
                            card,
                            f("value"),
                            "Enter the value to set (use \"Clear property value\" to remove a value).",
                        ),
                        Ok(Some(v)) => {
                            if prop.name == EMAIL_PROPERTY && !looks_like_email(&v) {
                                self.error(card, f("value"), format!("\"{v}\" is not a valid email address."));
                            }
                        }
                    }
                }
            }
            Step::CopyProperty { from, to } => {
                let from_ft = self
                    .property(card, &f("from"), from)
                    .map(|p| (p.field_type, p.label.clone()));
                let to_ft = self
                    .property(card, &f("to"), to)
                    .map(|p| (p.field_type, p.label.clone()));
                if let (Some((ff, fl)), Some((tf, tl))) = (from_ft, to_ft) {
                    if from == to {
                        self.error(card, f("to"), "Copy to a different property.");
                    } else if ff != tf && tf != FieldType::Text {
                        self.error(
                            card,
                            f("to"),
                            format!(
                                "Cannot copy {fl} ({}) into {tl} ({}); choose a property of the same type or a single-line text property.",
                                ff.label(),
                                tf.label()
                            ),
                        );
                    }
                }
            }
            Step::ClearProperty { property } => {
                self.property(card, &f("property"), property);
            }
            Step::AdjustProperty {
                property,
                amount: _,
            } => {
                if let Some(prop) = self.property(card, &f("property"), property) {
                    if prop.field_type != FieldType::Number {
                        let message = format!(
                            "{} is a {} property; only number properties can be increased or decreased.",
                            prop.label,
                            prop.field_type.label()
                        );
                        self.error(card, f("property"), message);
                    }
                }
            }
            Step::SendEmail { subject, body } => {
                if subject.trim().is_empty() {
                    self.problem(card, f("subject"), "Add a subject.");
                } else if subject.contains(['\r', '\n']) {
                    self.error(card, f("subject"), "A subject is a single line.");
                }
                if body.trim().is_empty() {
                    self.problem(card, f("body"), "Write the email.");
                }
                self.tokens(card, &f("subject"), subject);
                self.tokens(card, &f("body"), body);
            }
            Step::InternalNotification {
                message,
                recipients,
            } => {
                if message.trim().is_empty() {
                    self.problem(card, f("message"), "Write the notification.");
                }
                self.tokens(card, &f("message"), message);
                self.emails(card, &f("recipients"), recipients);
            }
            Step::CreateTask {
                title,
                notes,
                due_in_days,
            } => {
                if title.trim().is_empty() {
                    self.problem(card, f("title"), "Give the task a title.");
                }
                self.tokens(card, &f("title"), title);
                if let Some(notes) = notes {
                    self.tokens(card, &f("notes"), notes);
                }
                if due_in_days.is_some_and(|d| d > MAX_TASK_DUE_DAYS) {
                    self.error(
                        card,
                        f("due_in_days"),
                        format!("At most {} ahead.", plural(MAX_TASK_DUE_DAYS.into(), "day")),
                    );
                }
            }
            Step::AddToList { list_id } | Step::RemoveFromList { list_id } => {
                self.list(card, &f("list_id"), *list_id);
            }
            Step::Webhook { url, secret: _ } => {
                if url.trim().is_empty() {
                    self.problem(card, f("url"), "Enter the URL to send the webhook to.");
                } else if let Err(m) = check_http_url(url) {
                    self.error(card, f("url"), m);
                }
            }
            Step::Branch { condition, yes, no } => {
                if condition.is_empty() {
                    self.problem(
                        card,
                        f("condition"),
                        "Add at least one condition to the branch.",
                    );
                }
                self.groups(condition, &f("condition"), card);
                self.steps(yes, &f("yes"), &format!("{card}-yes"));
                self.steps(no, &f("no"), &format!("{card}-no"));
            }
            Step::EnrollInWorkflow { workflow_id } | Step::UnenrollFromWorkflow { workflow_id } => {
                self.workflow(card, &f("workflow_id"), *workflow_id);
            }
            Step::WaitUntil {
                condition,
                event,
                timeout,
                met,
                timed_out,
            } => {
                let event = event.as_deref().map(str::trim).filter(|e| !e.is_empty());
                if condition.is_empty() && event.is_none() {
                    self.problem(
                        card,
                        f("condition"),
                        "Say what to wait for: a condition on the contact, an event, or both.",
                    );
                }
                if event.is_some_and(|e| !crate::domain::events::valid_name(e)) {
                    self.error(
                        card,
                        f("event"),
                        "Name the event: letters, digits, _ - . or : (at most 100 characters).",
                    );
                }
                self.groups(condition, &f("condition"), card);
                let minutes = u64::from(timeout.amount)
                    * match timeout.unit {
                        TimeUnit::Minutes => 1,
                        TimeUnit::Hours => 60,
                        TimeUnit::Days => 1440,
                        TimeUnit::Weeks => 10080,
                    };
                if timeout.amount == 0 {
                    self.error(card, f("timeout.amount"), "Wait at least 1 minute.");
                } else if minutes > MAX_DELAY_MINUTES {
                    self.error(card, f("timeout.amount"), "Wait at most one year.");
                }
                self.steps(met, &f("met"), &format!("{card}-met"));
                self.steps(timed_out, &f("timed_out"), &format!("{card}-timed_out"));
            }
            Step::RandomSplit {
                paths,
                holdout_percent,
            } => {
                if paths.is_empty() {
                    self.error(card, f("paths"), "Add at least one path.");
                }
                for (k, path) in paths.iter().enumerate() {
                    let pf = |name: &str| format!("{p}.paths[{k}].{name}");
                    if path.name.trim().is_empty() {
                        self.error(card, pf("name"), "Name the path (e.g. A, B).");
                    }
                    if path.percent == 0 || path.percent > 100 {
                        self.error(card, pf("percent"), "A share from 1 to 100 percent.");
                    }
                    self.steps(&path.steps, &pf("steps"), &format!("{card}-p{k}"));
                }
                let total: u32 = paths.iter().map(|p| p.percent.min(100)).sum::<u32>()
                    + holdout_percent.min(&100);
                if *holdout_percent > 100 {
                    self.error(card, f("holdout_percent"), "At most 100 percent.");
                } else if total != 100 && !paths.is_empty() {
                    self.error(
                        card,
                        f("holdout_percent"),
                        format!(
                            "The paths and the holdout must add up to 100 percent (now {total})."
                        ),
                    );
                }
            }
        }
    }

    fn emails(&mut self, card: &str, prefix: &str, emails: &[String]) {
        for (k, e) in emails.iter().enumerate() {
            if !looks_like_email(e) {
                self.error(
                    card,
                    format!("{prefix}[{k}]"),
                    format!("\"{e}\" is not a valid email address."),
                );
            }
        }
    }

    fn settings(&mut self, s: &Settings) {
        let card = "settings";
        if let Some(tz) = &s.time_zone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                self.error(
                    card,
                    "settings.time_zone",
                    format!("\"{tz}\" is not a time zone name (IANA, e.g. Europe/Oslo)."),
                );
            }
        }
        if let Some(w) = &s.execution_window {
            if w.days.is_empty() {
                self.error(
                    card,
                    "settings.execution_window.days",
                    "Choose at least one day.",
                );
            }
            self.time_of_day(card, "settings.execution_window.start", &w.start);
            self.time_of_day(card, "settings.execution_window.end", &w.end);
            if let (Some(a), Some(b)) = (parse_time_of_day(&w.start), parse_time_of_day(&w.end)) {
                if a >= b {
                    self.error(
                        card,
                        "settings.execution_window.end",
                        "The window must end after it starts.",
                    );
                }
            }
        }
        for (k, d) in s.pause_dates.iter().enumerate() {
            if parse_iso_date(d).is_none() {
                self.error(
                    card,
                    format!("settings.pause_dates[{k}]"),
                    format!("\"{d}\" is not a valid date (YYYY-MM-DD)."),
                );
            }
        }
        if s.catch_up_hours > MAX_CATCH_UP_HOURS {
            self.error(
                card,
                "settings.catch_up_hours",
                format!("At most {MAX_CATCH_UP_HOURS} hours (one year)."),
            );
        }
        self.groups(
            &s.suppression.filter_groups,
            "settings.suppression.filter_groups",
            card,
        );
        if let Some(pacing) = &s.pacing {
            for (field, message) in crate::domain::pacing::check(pacing) {
                self.error(card, format!("settings.pacing.{field}"), message);
            }
        }
        for (k, id) in s.suppression.list_ids.iter().enumerate() {
            self.list(card, &format!("settings.suppression.list_ids[{k}]"), *id);
        }
        for (k, id) in s.unenroll_from_workflows.iter().enumerate() {
            self.workflow(card, &format!("settings.unenroll_from_workflows[{k}]"), *id);
        }
        if s.campaign
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CAMPAIGN_CHARS)
        {
            self.error(
                card,
                "settings.campaign",
                format!("A campaign name has at most {MAX_CAMPAIGN_CHARS} characters."),
            );
        }
        self.emails(
            card,
            "settings.notifications.recipients",
            &s.notifications.recipients,
        );
    }
}
