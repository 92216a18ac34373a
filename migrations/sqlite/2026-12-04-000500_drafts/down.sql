DROP TABLE workflow_drafts;
