//! Random split (issue 17): which path of a split a contact takes.
//!
//! The choice is a hash of the workflow, the split's step path and the contact, mapped to a
//! bucket 0–99, and the paths take consecutive ranges of buckets in order (`[0, p0)`,
//! `[p0, p0+p1)`, …), the holdout the rest. The same contact always lands in the same bucket
//! of the same split, so a re-plan, a worker retry or a restart never moves anyone; changing
//! the percentages moves only the contacts whose bucket changes hands. SHA-256 keeps the
//! buckets even and the same on every platform and version (no `std` hasher, whose output
//! may change between Rust releases).

use sha2::{Digest, Sha256};

use super::definition::SplitPath;

/// The contact's bucket, 0–99, for the split at `path` of workflow `workflow_id`.
pub fn bucket(workflow_id: i64, path: &str, contact_id: i64) -> u32 {
    let digest = Sha256::digest(format!("perennial-split:{workflow_id}:{path}:{contact_id}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u32
}

/// The index of the path a bucket falls in, or `None` for the holdout.
pub fn choose(paths: &[SplitPath], bucket: u32) -> Option<usize> {
    let mut upper = 0u32;
    for (i, p) in paths.iter().enumerate() {
        upper = upper.saturating_add(p.percent);
        if bucket < upper {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &[u32]) -> Vec<SplitPath> {
        p.iter()
            .enumerate()
            .map(|(i, pct)| SplitPath {
                name: format!("P{i}"),
                percent: *pct,
                steps: vec![],
            })
            .collect()
    }

    #[test]
    fn buckets_are_stable_and_even() {
        assert_eq!(bucket(7, "3", 42), bucket(7, "3", 42));
        let mut counts = [0u32; 100];
        for c in 0..100_000 {
            counts[bucket(7, "3", c) as usize] += 1;
        }
        // 1,000 expected per bucket; a fair hash stays well within ±20%.
        assert!(counts.iter().all(|n| (800..1200).contains(n)), "{counts:?}");
        // Another workflow or another split deals the contacts out again.
        let moved = (0..1000)
            .filter(|c| bucket(7, "3", *c) != bucket(8, "3", *c))
            .count();
        assert!(moved > 900, "{moved}");
    }

    #[test]
    fn paths_take_consecutive_ranges_and_the_rest_is_held_out() {
        let p = paths(&[50, 40]);
        assert_eq!(choose(&p, 0), Some(0));
        assert_eq!(choose(&p, 49), Some(0));
        assert_eq!(choose(&p, 50), Some(1));
        assert_eq!(choose(&p, 89), Some(1));
        assert_eq!(choose(&p, 90), None);
        assert_eq!(choose(&p, 99), None);
        let shares: Vec<usize> = (0..3)
            .map(|k| {
                (0..20_000)
                    .filter(|c| choose(&p, bucket(1, "2", *c)) == (k < 2).then_some(k))
                    .count()
            })
            .collect();
        assert!((9_400..10_600).contains(&shares[0]), "{shares:?}");
        assert!((7_400..8_600).contains(&shares[1]), "{shares:?}");
        assert!((1_600..2_400).contains(&shares[2]), "{shares:?}");
    }
}
