-- Partner portals' webhook endpoints: where events about the members linked to a portal are posted, signed with
-- the endpoint's secret (kept as given out: it signs, so it cannot be stored as a hash). During a rotation the
-- previous secret signs too, until `previous_until`. An endpoint failing without a success for the configured span
-- is disabled (`disabled_reason` says why); the portal enables it again.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  TIMESTAMP,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    disabled_at     TIMESTAMP,
    failing_since   TIMESTAMP,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_client ON webhook_endpoints (client_id);
-- The webhooks' outbox: one row per event and endpoint, written in the transaction of the change, its body fixed
-- then; the row's id is the `webhook-id` of every attempt. `member_id` is the linked member the event is about,
-- `other_member_id` another member its body shows as a public card (both go with an erasure).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    member_id       TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    other_member_id TEXT,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    last_status     INTEGER,
    sent_at         TIMESTAMP,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_member ON webhook_deliveries (member_id);
CREATE INDEX webhook_deliveries_other ON webhook_deliveries (other_member_id);
