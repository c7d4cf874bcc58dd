-- Every import of calls, as staff follow them: where the calls came from, who asked, when it started and ended, and
-- what it did (the summary the import answered, as JSON) or why it failed.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY NOT NULL,
    source       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
    summary      TEXT,
    error        TEXT
);
CREATE INDEX imports_started ON imports (started_at);
