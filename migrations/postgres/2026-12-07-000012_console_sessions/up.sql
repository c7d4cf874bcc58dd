-- Staff console sessions. The cookie carries a random value; only its SHA-256 is stored, so a copy of the database
-- signs no one in. `token_version` is the account's at sign-in: whatever revokes the account's tokens (a logout, a
-- password or role change, disabling) revokes its sessions too. `csrf` is the token every form of the session
-- carries. A session ends when idle since `last_seen_at` or old since `created_at` beyond the configured spans.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_version BIGINT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
