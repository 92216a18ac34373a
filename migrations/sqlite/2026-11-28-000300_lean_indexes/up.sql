-- Leaner history index (issue 6; see BENCHMARKS.md, "enroll existing").
--
-- Every enrollment writes a `scheduled` event per planned step, so `scheduled` is the most
-- common event of all and is never rare in a workflow's history: a page of them is found fast
-- by walking `history_by_workflow` (workflow_id, id). Leaving them out of the per-event index
-- saves one index entry per scheduled step (a million at a million-contact "enroll existing").
-- Queries filtering on another event spell out `event <> 'scheduled'` so the planner can
-- use this partial index.
DROP INDEX IF EXISTS history_by_workflow_event;
CREATE INDEX history_by_workflow_event ON history_events(workflow_id, event, id)
    WHERE event <> 'scheduled';
