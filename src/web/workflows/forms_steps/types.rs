//! The catalogue of step types: each one's name, label, group in the step picker, help text,
//! and whether it is offered in a date-centred or a blank workflow.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Avail {
    Any,
    DateCentred,
    Blank,
}

#[derive(Debug, Clone, Copy)]
pub struct StepType {
    pub name: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub help: &'static str,
    pub avail: Avail,
}

pub const STEP_TYPES: [StepType; 18] = [
    StepType {
        name: "date_delay",
        label: "Date delay",
        group: "Delays",
        help: "Wait until a day on, before or after the date, at a time of day.",
        avail: Avail::DateCentred,
    },
    StepType {
        name: "delay",
        label: "Delay for a set amount of time",
        group: "Delays",
        help: "Wait minutes, hours, days or weeks.",
        avail: Avail::Blank,
    },
    StepType {
        name: "delay_until",
        label: "Delay until a day of the week",
        group: "Delays",
        help: "Wait until the next chosen weekday at a time of day.",
        avail: Avail::Blank,
    },
    StepType {
        name: "set_property",
        label: "Set property value",
        group: "Contact properties",
        help: "Give a contact property a value.",
        avail: Avail::Any,
    },
    StepType {
        name: "copy_property",
        label: "Copy property value",
        group: "Contact properties",
        help: "Copy one property's value into another.",
        avail: Avail::Any,
    },
    StepType {
        name: "clear_property",
        label: "Clear property value",
        group: "Contact properties",
        help: "Remove a property's value.",
        avail: Avail::Any,
    },
    StepType {
        name: "adjust_property",
        label: "Increase or decrease a number",
        group: "Contact properties",
        help: "Add to or subtract from a number property.",
        avail: Avail::Any,
    },
    StepType {
        name: "send_email",
        label: "Send email",
        group: "Communication",
        help: "Email the contact, personalised with their properties.",
        avail: Avail::Any,
    },
    StepType {
        name: "internal_notification",
        label: "Send internal notification",
        group: "Communication",
        help: "Tell your team in the in-app inbox and/or by email.",
        avail: Avail::Any,
    },
    StepType {
        name: "create_task",
        label: "Create task",
        group: "Communication",
        help: "Add a task to the Tasks page.",
        avail: Avail::Any,
    },
    StepType {
        name: "add_to_list",
        label: "Add to static list",
        group: "Lists",
        help: "Add the contact to a static list.",
        avail: Avail::Any,
    },
    StepType {
        name: "remove_from_list",
        label: "Remove from static list",
        group: "Lists",
        help: "Remove the contact from a static list.",
        avail: Avail::Any,
    },
    StepType {
        name: "enroll_in_workflow",
        label: "Enroll in another workflow",
        group: "Workflows",
        help: "Enroll the contact in another workflow.",
        avail: Avail::Any,
    },
    StepType {
        name: "unenroll_from_workflow",
        label: "Unenroll from another workflow",
        group: "Workflows",
        help: "End the contact's enrollment in another workflow.",
        avail: Avail::Any,
    },
    StepType {
        name: "branch",
        label: "If/then branch",
        group: "Logic and integrations",
        help: "Split contacts into a Yes and a No path by their properties or lists.",
        avail: Avail::Any,
    },
    StepType {
        name: "wait_until",
        label: "Wait until",
        group: "Logic and integrations",
        help: "Hold contacts until they meet a condition or an event happens, at most for a set time; then a Met or a Timed out path.",
        avail: Avail::Any,
    },
    StepType {
        name: "random_split",
        label: "Random split",
        group: "Logic and integrations",
        help: "Send each contact down one of several paths at random by percentage (A/B test), with an optional holdout that gets nothing.",
        avail: Avail::Any,
    },
    StepType {
        name: "webhook",
        label: "Send a webhook",
        group: "Logic and integrations",
        help: "POST the contact as signed JSON to a URL.",
        avail: Avail::Any,
    },
];

pub fn step_type(name: &str) -> Option<&'static StepType> {
    STEP_TYPES.iter().find(|t| t.name == name)
}

impl StepType {
    pub fn available(&self, date_centred: bool) -> bool {
        match self.avail {
            Avail::Any => true,
            Avail::DateCentred => date_centred,
            Avail::Blank => !date_centred,
        }
    }
}
