-- Performance indexes (issue 6; see BENCHMARKS.md).

-- The worker, when idle, asks when the earliest lease expires
-- (`MIN(lease_until) WHERE status = 'active' AND lease_until >= now`). Without an index that
-- was a scan of every active enrollment (about 100 ms at two million) on every wake-up, which
-- showed as due-time latency. Leases are few and short-lived, so this index stays tiny.
CREATE INDEX enrollments_leased ON enrollments(lease_until)
    WHERE status = 'active' AND lease_until IS NOT NULL;
