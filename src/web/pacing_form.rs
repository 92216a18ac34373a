//! The email pacing inputs shared by a workflow's Settings (General tab) and Settings >
//! Account: at most N emails per contact in D days, and quiet hours. Read as typed (so a
//! refused save shows them back), turned into a `Pacing` with the problems of input that is
//! not even a number; the rest is `domain::pacing::check`'s.

use crate::domain::definition::{Pacing, QuietHours};

/// The pacing inputs as text.
#[derive(Debug, Clone, Default)]
pub struct PacingInputs {
    pub max_emails: String,
    pub per_days: String,
    pub quiet_start: String,
    pub quiet_end: String,
}

impl PacingInputs {
    pub fn of(p: Option<&Pacing>) -> PacingInputs {
        let Some(p) = p else {
            return PacingInputs::default();
        };
        PacingInputs {
            max_emails: p.max_emails.map(|n| n.to_string()).unwrap_or_default(),
            per_days: p.per_days.map(|n| n.to_string()).unwrap_or_default(),
            quiet_start: p
                .quiet_hours
                .as_ref()
                .map(|q| q.start.clone())
                .unwrap_or_default(),
            quiet_end: p
                .quiet_hours
                .as_ref()
                .map(|q| q.end.clone())
                .unwrap_or_default(),
        }
    }

    pub fn new(max_emails: &str, per_days: &str, quiet_start: &str, quiet_end: &str) -> Self {
        PacingInputs {
            max_emails: max_emails.trim().to_string(),
            per_days: per_days.trim().to_string(),
            quiet_start: quiet_start.trim().to_string(),
            quiet_end: quiet_end.trim().to_string(),
        }
    }

    /// The pacing these inputs describe and the problems found, each as `(field under
    /// pacing: max_emails | per_days | quiet_hours.start | quiet_hours.end, message)`.
    pub fn read(&self) -> (Pacing, Vec<(String, String)>) {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: &str| -> Option<u32> {
            if text.is_empty() {
                return None;
            }
            match text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push((
                        field.to_string(),
                        format!("\"{text}\" is not a whole number."),
                    ));
                    None
                }
            }
        };
        let max_emails = number("max_emails", &self.max_emails);
        let per_days = number("per_days", &self.per_days);
        let quiet_hours = if self.quiet_start.is_empty() && self.quiet_end.is_empty() {
            None
        } else {
            Some(QuietHours {
                start: self.quiet_start.clone(),
                end: self.quiet_end.clone(),
            })
        };
        let pacing = Pacing {
            max_emails,
            per_days,
            quiet_hours,
        };
        if errors.is_empty() {
            errors = crate::domain::pacing::check(&pacing);
        }
        (pacing, errors)
    }
}

/// A pacing in words: "At most 3 emails per contact in 7 days; none between 21:00 and 08:00".
pub fn pacing_words(p: Option<&Pacing>) -> String {
    let Some(p) = p.filter(|p| crate::domain::pacing::is_active(p)) else {
        return "No pacing: emails go out when they are due".into();
    };
    let mut parts = Vec::new();
    if let (Some(n), Some(d)) = (p.max_emails, p.per_days) {
        parts.push(format!(
            "At most {n} email{} per contact in {d} day{}",
            if n == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" }
        ));
    }
    if let Some(q) = &p.quiet_hours {
        let words = format!(
            "none between {} and {} in the contact's time zone",
            q.start, q.end
        );
        if parts.is_empty() {
            parts.push(format!(
                "No emails between {} and {} in the contact's time zone",
                q.start, q.end
            ));
        } else {
            parts.push(words);
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_into_pacing_with_problems_by_field() {
        let (p, e) = PacingInputs::new("3", "7", "21:00", "08:00").read();
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(p.max_emails, Some(3));
        assert_eq!(p.quiet_hours.map(|q| q.end), Some("08:00".into()));
        let (_, e) = PacingInputs::new("three", "7", "", "").read();
        assert_eq!(e[0].0, "max_emails");
        let (_, e) = PacingInputs::new("3", "", "", "").read();
        assert_eq!(e[0].0, "per_days");
        let (_, e) = PacingInputs::new("", "", "25:00", "08:00").read();
        assert_eq!(e[0].0, "quiet_hours.start");
        let (p, e) = PacingInputs::new("", "", "", "").read();
        assert!(e.is_empty() && p == Pacing::default());
        assert_eq!(
            pacing_words(Some(&PacingInputs::new("1", "7", "", "").read().0)),
            "At most 1 email per contact in 7 days"
        );
    }
}
