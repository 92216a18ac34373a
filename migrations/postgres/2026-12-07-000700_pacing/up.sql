-- Email pacing (issue 17) counts the emails each contact got in the last days, across every
-- workflow, before each email goes: one index range per check.
CREATE INDEX outbox_by_contact ON outbox(contact_id, created_at) WHERE contact_id IS NOT NULL;
