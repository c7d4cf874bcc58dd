-- The calls sync (`source` `portal`) is logged when it starts: `running` until it is `done` or `failed`, leased to
-- the instance running it (`lease_until`, renewed while it runs), so a sync whose instance died is seen as such. At
-- most one sync runs at a time, on any instance.
CREATE TABLE imports_new (
    id           TEXT PRIMARY KEY NOT NULL,
    source       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    outcome      TEXT NOT NULL CHECK (outcome IN ('running', 'done', 'failed')),
    summary      TEXT,
    error        TEXT,
    lease_until  TIMESTAMP
);
INSERT INTO imports_new (id, source, requested_by, started_at, finished_at, outcome, summary, error)
    SELECT id, source, requested_by, started_at, finished_at, outcome, summary, error FROM imports;
DROP TABLE imports;
ALTER TABLE imports_new RENAME TO imports;
CREATE INDEX imports_started ON imports (started_at);
CREATE UNIQUE INDEX imports_one_running ON imports (source) WHERE outcome = 'running';
-- Calls the portal's search returned: when last (`portal_seen_at`), and how many successful full syncs since have
-- not returned them (`portal_missed`); two, and the call is closed as withdrawn.
ALTER TABLE projects ADD COLUMN portal_seen_at TIMESTAMP;
ALTER TABLE projects ADD COLUMN portal_missed INTEGER NOT NULL DEFAULT 0;
