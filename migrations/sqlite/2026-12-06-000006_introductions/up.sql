-- Introductions a member asked for from a suggestion. The other side (the partner, or the member leading the
-- project) consents first, through a signed link of its own; then staff make the introduction, one e-mail to both.
-- `awaiting_consent` -> `requested` (consent given, or nobody to ask) -> `introduced` | `closed` (by staff);
-- `awaiting_consent` -> `declined`. Contact details go out only with the introduction itself.
CREATE TABLE introductions (
    id             TEXT PRIMARY KEY NOT NULL,
    suggestion_id  TEXT NOT NULL UNIQUE REFERENCES suggestions (id) ON DELETE CASCADE,
    member_id      TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    counterpart_id TEXT REFERENCES members (id) ON DELETE CASCADE,
    status         TEXT NOT NULL
        CHECK (status IN ('awaiting_consent', 'declined', 'requested', 'introduced', 'closed')),
    note           TEXT,
    requested_by   TEXT NOT NULL,
    requested_at   TIMESTAMP NOT NULL,
    consent_until  TIMESTAMP,
    answered_at    TIMESTAMP,
    done_by        TEXT,
    done_at        TIMESTAMP,
    staff_note     TEXT,
    version        BIGINT NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX introductions_status ON introductions (status, requested_at);

-- The outbox of mail other than digests (a consent request, an introduction): written with its rendered parts and
-- its Message-ID in the transaction that makes it due, then sent like digests: `queued` -> `sending` (leased until
-- `lease_until`, judged by the database's clock) -> `sent` | `failed`.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('consent_request', 'introduction')),
    introduction_id TEXT REFERENCES introductions (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    recipients      TEXT NOT NULL,
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
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX messages_status ON messages (status, next_attempt_at);
