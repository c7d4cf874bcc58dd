-- Matching runs: one row a run, started by staff or by the scheduler; progress and counts for GET /v1/matching/runs/{id}.
CREATE TABLE matching_runs (
    id             TEXT PRIMARY KEY NOT NULL,
    status         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    members_total  INTEGER NOT NULL,
    members_done   INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    kept           INTEGER NOT NULL,
    held_back      INTEGER NOT NULL,
    error          TEXT,
    created_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP
);

-- Suggestions a run made, reviewed by staff before any member sees them. `kind` is `project` (member -> project),
-- `partner` (member -> member) or `candidate` (a candidate member -> the lead of a project, shown to the lead);
-- `target` is the project or the other member. Score, components and explanation are kept as they were.
CREATE TABLE suggestions (
    id               TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL,
    member_id        TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    target           TEXT NOT NULL,
    project_id       TEXT REFERENCES projects (id) ON DELETE CASCADE,
    partner_id       TEXT REFERENCES members (id) ON DELETE CASCADE,
    run_id           TEXT NOT NULL,
    score            DOUBLE PRECISION NOT NULL,
    explanation      TEXT NOT NULL,
    rationale        TEXT NOT NULL,
    status           TEXT NOT NULL,
    decision_reason  TEXT,
    decided_by       TEXT,
    decided_at       TIMESTAMP,
    reaction         TEXT,
    reaction_reason  TEXT,
    reaction_comment TEXT,
    reacted_at       TIMESTAMP,
    digest_id        TEXT,
    delivered_at     TIMESTAMP,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX suggestions_pair ON suggestions (member_id, kind, target);
CREATE INDEX suggestions_status ON suggestions (status, created_at);
CREATE INDEX suggestions_digest ON suggestions (digest_id);
-- At most one live (pending or approved) suggestion a pair, even with two runs at once.
CREATE UNIQUE INDEX suggestions_live_pair ON suggestions (member_id, kind, target)
    WHERE status IN ('pending', 'approved');

-- Every transition of a suggestion's status or reaction: who, when, from, to, why.
CREATE TABLE suggestion_events (
    id            TEXT PRIMARY KEY NOT NULL,
    suggestion_id TEXT NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    field         TEXT NOT NULL,
    from_value    TEXT,
    to_value      TEXT,
    actor         TEXT NOT NULL,
    reason        TEXT,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX suggestion_events_suggestion ON suggestion_events (suggestion_id, at);

-- The outbox: one digest a member and ISO week, written (with its Message-ID and rendered parts) before sending.
-- `queued` -> `sending` (leased until `lease_until`, judged by the database's clock) -> `sent` | `failed`.
CREATE TABLE digests (
    id              TEXT PRIMARY KEY NOT NULL,
    member_id       TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    week            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    language        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    html            TEXT NOT NULL,
    text            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    sent_at         TIMESTAMP,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (member_id, week)
);
CREATE INDEX digests_status ON digests (status, next_attempt_at);

-- Scheduled jobs: one row per job and period (an ISO week), claimed by one instance holding a lease it renews.
CREATE TABLE job_runs (
    job          TEXT NOT NULL,
    period       TEXT NOT NULL,
    owner        TEXT NOT NULL,
    lease_until  TIMESTAMP NOT NULL,
    state        TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    PRIMARY KEY (job, period)
);
