-- What came of a suggestion, as the member, its portal or staff said: each statement kept with its date and who
-- said so (the suggestion's history records it too).
CREATE TABLE suggestion_outcomes (
    id            TEXT PRIMARY KEY NOT NULL,
    suggestion_id TEXT NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    outcome       TEXT NOT NULL CHECK (outcome IN ('met', 'applied_together', 'funded', 'no_follow_up')),
    occurred_on   DATE NOT NULL,
    call_ref      TEXT,
    recorded_by   TEXT NOT NULL,
    recorded_at   TIMESTAMP NOT NULL
);
CREATE INDEX suggestion_outcomes_suggestion ON suggestion_outcomes (suggestion_id, recorded_at);

-- The digest that asked a member what came of a suggestion (asked once).
CREATE TABLE outcome_questions (
    suggestion_id TEXT PRIMARY KEY NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    digest_id     TEXT NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    asked_at      TIMESTAMP NOT NULL
);
