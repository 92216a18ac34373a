//! "Yes, enroll existing contacts as of now": set-based enrollment at publish time.
