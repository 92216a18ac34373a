//! Formatting helpers shared by templates (called from page structs and templates).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `2026-11-28 13:00 CET` in the given zone; the raw text if it is not an instant.
pub fn instant_in(s: &str, tz: Tz) -> String {
    match crate::clock::parse_instant(s) {
        Some(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
        None => s.to_string(),
    }
}

pub fn instant(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// `1,000,000`
pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
        assert_eq!(super::thousands(-12345), "-12,345");
    }
}
