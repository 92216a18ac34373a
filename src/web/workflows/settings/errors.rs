//! Where each error of a refused save is shown: beside its input on this tab, on its
//! suppression row, or as a link to the other tab or the editor card it belongs to.

use super::view::SettingsView;
use crate::domain::errors::{Errors, FieldError};
use crate::web::workflows::support;

/// An error that belongs to another tab or to the editor.
pub struct OtherError {
    pub message: String,
    pub href: String,
}

/// The input an error belongs to: list fields (`settings.pause_dates[2]`) show on their
/// textarea or select.
pub(super) fn form_key(field: &str) -> String {
    const LISTS: [&str; 5] = [
        "settings.pause_dates",
        "settings.notifications.recipients",
        "settings.suppression.list_ids",
        "settings.unenroll_from_workflows",
        "settings.execution_window.days",
    ];
    for p in LISTS {
        if field.starts_with(p) {
            return p.to_string();
        }
    }
    if field == "settings.execution_window" {
        return "settings.execution_window.start".to_string();
    }
    field.to_string()
}

/// Which tab shows a field, if any.
pub(super) fn tab_for(key: &str) -> Option<&'static str> {
    if key.starts_with("settings.notifications") {
        Some("notifications")
    } else if key.starts_with("settings.suppression") || key == "settings.unenroll_from_workflows" {
        Some("unenrollment")
    } else if key.starts_with("settings.") {
        Some("general")
    } else {
        None
    }
}

/// Errors keyed by input (several messages for one input joined), the suppression rows' own
/// messages, and those that belong elsewhere.
pub(super) fn sort_errors(
    errors: Vec<FieldError>,
    tab: &str,
    id: i64,
    v: &mut SettingsView,
) -> (Errors, Vec<OtherError>) {
    let mut keyed: Vec<FieldError> = Vec::new();
    let mut others = Vec::new();
    for e in errors {
        let key = form_key(&e.field);
        if let Some(rest) = key.strip_prefix("settings.suppression.filter_groups[") {
            if tab == "unenrollment" {
                let mut it = rest.split(['[', ']']).filter(|s| !s.is_empty());
                let g = it.next().and_then(|s| s.parse::<usize>().ok());
                let i = it.next().and_then(|s| s.parse::<usize>().ok());
                if let (Some(g), Some(i)) = (g, i) {
                    if let Some(row) = v.groups.get_mut(g).and_then(|gv| gv.rows.get_mut(i)) {
                        row.error = Some(match row.error.take() {
                            Some(prev) => format!("{prev} {}", e.message),
                            None => e.message,
                        });
                        continue;
                    }
                }
                keyed.push(FieldError::new(
                    "settings.suppression.filter_groups",
                    e.message,
                ));
                continue;
            }
        }
        match tab_for(&key) {
            Some(t) if t == tab => match keyed.iter_mut().find(|k| k.field == key) {
                Some(k) => {
                    k.message.push(' ');
                    k.message.push_str(&e.message);
                }
                None => keyed.push(FieldError::new(key, e.message)),
            },
            Some(t) => others.push(OtherError {
                message: format!("{}: {}", e.field, e.message),
                href: format!("/workflows/{id}/settings?tab={t}"),
            }),
            None => others.push(OtherError {
                message: format!("{}: {}", e.field, e.message),
                href: support::editor_url(id),
            }),
        }
    }
    (Errors(keyed), others)
}
