ALTER TABLE projects DROP COLUMN edited_fields;
