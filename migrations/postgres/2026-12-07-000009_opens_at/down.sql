ALTER TABLE projects DROP COLUMN opens_at;
