ALTER TABLE projects DROP COLUMN portal_missed;
ALTER TABLE projects DROP COLUMN portal_seen_at;
DELETE FROM imports WHERE outcome = 'running';
CREATE TABLE imports_old (
    id           TEXT PRIMARY KEY NOT NULL,
    source       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
    summary      TEXT,
    error        TEXT
);
INSERT INTO imports_old SELECT id, source, requested_by, started_at, finished_at, outcome, summary, error FROM imports;
DROP TABLE imports;
ALTER TABLE imports_old RENAME TO imports;
CREATE INDEX imports_started ON imports (started_at);
