-- The calls sync (`source` `portal`) is logged when it starts: `running` until it is `done` or `failed`, leased to
-- the instance running it (`lease_until`, renewed while it runs), so a sync whose instance died is seen as such. At
-- most one sync runs at a time, on any instance.
ALTER TABLE imports DROP CONSTRAINT imports_outcome_check;
ALTER TABLE imports ADD CONSTRAINT imports_outcome_check CHECK (outcome IN ('running', 'done', 'failed'));
ALTER TABLE imports ALTER COLUMN finished_at DROP NOT NULL;
ALTER TABLE imports ADD COLUMN lease_until TIMESTAMP;
CREATE UNIQUE INDEX imports_one_running ON imports (source) WHERE outcome = 'running';
-- Calls the portal's search returned: when last (`portal_seen_at`), and how many successful full syncs since have
-- not returned them (`portal_missed`); two, and the call is closed as withdrawn.
ALTER TABLE projects ADD COLUMN portal_seen_at TIMESTAMP;
ALTER TABLE projects ADD COLUMN portal_missed INTEGER NOT NULL DEFAULT 0;
