DROP INDEX IF EXISTS contact_events_custom_names;
CREATE INDEX contact_events_custom_names ON contact_events(source, name);
