DROP TABLE contact_events;
