ALTER TABLE projects DROP COLUMN portal_missed;
ALTER TABLE projects DROP COLUMN portal_seen_at;
DROP INDEX imports_one_running;
DELETE FROM imports WHERE outcome = 'running';
ALTER TABLE imports DROP COLUMN lease_until;
ALTER TABLE imports ALTER COLUMN finished_at SET NOT NULL;
ALTER TABLE imports DROP CONSTRAINT imports_outcome_check;
ALTER TABLE imports ADD CONSTRAINT imports_outcome_check CHECK (outcome IN ('done', 'failed'));
