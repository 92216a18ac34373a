//! Time zones as people choose them: IANA names (`Europe/Oslo`), found case-insensitively,
//! and the list the pages offer (the regional names, without the old aliases such as
//! `US/Pacific` or `Etc/GMT+5`), each with its offset at a given moment.

use chrono::{DateTime, Offset, Utc};
use chrono_tz::{Tz, TZ_VARIANTS};

/// The regions of the names the lists offer (plus `UTC`).
const REGIONS: [&str; 10] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// The zone an IANA name names, whatever its case (`europe/oslo` is `Europe/Oslo`).
pub fn find_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok().or_else(|| {
        TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(name))
            .copied()
    })
}

/// The canonical spelling of a zone name, or a message a person can act on.
pub fn normalize_zone(text: &str) -> Result<String, String> {
    find_zone(text)
        .map(|z| z.name().to_string())
        .ok_or_else(|| {
            format!(
                "\"{}\" is not an IANA time zone name: choose one from the list (for example Europe/Oslo or America/New_York)",
                text.trim()
            )
        })
}

/// Whether the lists offer this zone (regional names and UTC).
pub fn listed(z: &Tz) -> bool {
    let name = z.name();
    name == "UTC"
        || name
            .split_once('/')
            .is_some_and(|(region, _)| REGIONS.contains(&region))
}

/// `UTC+01:00`, `UTC−03:30`, `UTC` for the zone's offset at `at`.
pub fn offset_text(z: Tz, at: DateTime<Utc>) -> String {
    let secs = at.with_timezone(&z).offset().fix().local_minus_utc();
    if secs == 0 {
        return "UTC".to_string();
    }
    let sign = if secs < 0 { '−' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// Every listed zone, sorted by name, with its offset at `at`: ("Europe/Oslo", "UTC+01:00").
pub fn choices(at: DateTime<Utc>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = TZ_VARIANTS
        .iter()
        .filter(|z| listed(z))
        .map(|z| (z.name(), offset_text(*z, at)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_are_found_whatever_their_case() {
        assert_eq!(
            normalize_zone(" europe/oslo ").as_deref(),
            Ok("Europe/Oslo")
        );
        assert_eq!(normalize_zone("UTC").as_deref(), Ok("UTC"));
        assert!(normalize_zone("Oslo").is_err());
        assert!(normalize_zone("").is_err());
        assert!(normalize_zone("+01:00").is_err());
    }

    #[test]
    fn the_list_has_regional_names_with_offsets() {
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap();
        let list = choices(winter);
        assert!(list
            .iter()
            .any(|(n, l)| *n == "Europe/Oslo" && l == "UTC+01:00"));
        assert!(list.iter().any(|(n, _)| *n == "UTC"));
        assert!(!list
            .iter()
            .any(|(n, _)| n.starts_with("US/") || n.starts_with("Etc/")));
        assert!(list.len() > 300, "{}", list.len());
        let oslo: Tz = "Europe/Oslo".parse().unwrap();
        assert_eq!(offset_text(oslo, summer), "UTC+02:00");
        let stjohns: Tz = "America/St_Johns".parse().unwrap();
        assert_eq!(offset_text(stjohns, winter), "UTC−03:30");
    }
}
