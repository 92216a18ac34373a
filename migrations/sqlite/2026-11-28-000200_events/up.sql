-- Contact events (issue 7): built-in ones Perennial records itself (contact_created,
-- property_changed, list_added, list_removed, email_sent, workflow_enrolled,
-- workflow_completed) and custom ones posted to /api/v1/events.
CREATE TABLE contact_events (
    id INTEGER PRIMARY KEY NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- builtin | custom
    source TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    -- JSON object of the event's properties
    properties TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX contact_events_by_contact ON contact_events(contact_id, id);
CREATE INDEX contact_events_custom_names ON contact_events(source, name);
