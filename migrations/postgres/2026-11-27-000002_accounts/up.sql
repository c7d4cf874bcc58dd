-- People who sign in: members (tied to one organisation), agency staff and administrators.
CREATE TABLE users (
    id                   TEXT PRIMARY KEY NOT NULL,
    email                TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL,
    member_id            TEXT REFERENCES members (id) ON DELETE CASCADE,
    disabled             BOOLEAN NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    token_version        BIGINT NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX users_member ON users (member_id);

-- Partner portals: machine clients acting for the members linked to them, within their scopes.
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    token_version BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE client_members (
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, member_id)
);
CREATE INDEX client_members_member ON client_members (member_id, client_id);

-- Who did what, when, from where. Ids are UUIDv7, so id order is time order.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY NOT NULL,
    at      TIMESTAMP NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    ip      TEXT,
    success BOOLEAN NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
