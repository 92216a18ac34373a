DROP INDEX IF EXISTS history_by_workflow_event;
CREATE INDEX history_by_workflow_event ON history_events(workflow_id, event, id);
