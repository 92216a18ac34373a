//! Formatting helpers shared by templates (called from page structs and templates).

use chrono::{DateTime, NaiveDate, Utc};
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

/// `Tue 22 Dec 2026 09:00` in the given zone: what people read in sentences and lists.
pub fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

/// `Tue 22 Dec 2026 09:00 (Europe/Oslo)`.
pub fn when_in(t: DateTime<Utc>, tz: Tz) -> String {
    format!("{} ({})", when(t, tz), tz.name())
}

/// A stored instant (`2026-11-28T12:00:00.000Z`) as [`when`]; the text itself when it is not one.
pub fn when_text(s: &str, tz: Tz) -> String {
    match crate::clock::parse_instant(s) {
        Some(t) => when(t, tz),
        None => s.to_string(),
    }
}

/// `Tue 22 Dec 2026`.
pub fn day(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
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
    fn times_read_as_words() {
        let tz: chrono_tz::Tz = "Europe/Oslo".parse().unwrap();
        assert_eq!(
            super::when_text("2026-12-22T08:00:00.000Z", tz),
            "Tue 22 Dec 2026 09:00"
        );
        let t = crate::clock::parse_instant("2026-12-22T08:00:00.000Z").unwrap();
        assert_eq!(super::when_in(t, tz), "Tue 22 Dec 2026 09:00 (Europe/Oslo)");
        assert_eq!(super::when_text("soon", tz), "soon");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
        assert_eq!(super::thousands(-12345), "-12,345");
    }
}
