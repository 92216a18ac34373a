-- Leaner contact-event index (issue 6). Every contact write records built-in events, and an
-- index over (source, name) of all of them only ever served the trigger panel's list of the
-- custom event names seen so far. Partial, it costs built-in events nothing. The query spells
-- out `source = 'custom'` so the planner can use it.
DROP INDEX IF EXISTS contact_events_custom_names;
CREATE INDEX contact_events_custom_names ON contact_events(name) WHERE source = 'custom';
