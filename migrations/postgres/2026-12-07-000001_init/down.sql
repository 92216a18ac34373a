DROP TABLE IF EXISTS worker_heartbeats, contact_events, workflow_drafts, import_jobs, tasks,
    notifications, outbox, history_events, action_runs, enrollments, workflow_revisions,
    workflows, list_members, lists, contact_values, contacts, properties, api_tokens,
    app_settings, users CASCADE;
DROP COLLATION IF EXISTS perennial_nocase;
