-- Unpublished changes to a live workflow (issue 13): the editor and settings of a workflow that
-- is on save here; "Review and update" shows their impact and then saves them as a revision.
CREATE TABLE workflow_drafts (
    workflow_id INTEGER PRIMARY KEY NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    -- the edited definition, JSON (DESIGN §7), validated like a save
    definition TEXT NOT NULL,
    -- the revision it was edited from
    base_revision INTEGER NOT NULL,
    author TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
