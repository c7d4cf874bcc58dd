ALTER TABLE projects DROP COLUMN eligible_sizes;
