-- Member organisations of the cluster and their partners abroad.
-- UUIDs and JSON lists are TEXT, timestamps UTC: the subset both backends share.
CREATE TABLE members (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    website            TEXT,
    contact_email      TEXT NOT NULL,
    country            TEXT NOT NULL,
    city               TEXT,
    nace_codes         TEXT NOT NULL,
    size               TEXT,
    languages          TEXT NOT NULL,
    preferred_language TEXT NOT NULL,
    digest             TEXT NOT NULL,
    discoverable       BOOLEAN NOT NULL,
    status             TEXT NOT NULL,
    search_folded      TEXT NOT NULL,
    version            BIGINT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX members_country ON members (country);

CREATE TABLE member_sectors (
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    sector    TEXT NOT NULL,
    PRIMARY KEY (member_id, sector)
);
CREATE INDEX member_sectors_sector ON member_sectors (sector, member_id);

CREATE TABLE member_scopes (
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    scope     TEXT NOT NULL,
    PRIMARY KEY (member_id, scope)
);
CREATE INDEX member_scopes_scope ON member_scopes (scope, member_id);

-- Offers, needs and interests, one row a term, in the member's order. `term` is what the member typed (trimmed);
-- `folded` is its case- and accent-folded form, computed in Rust so both backends search it alike.
CREATE TABLE member_terms (
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    term      TEXT NOT NULL,
    folded    TEXT NOT NULL,
    strength  INTEGER,
    PRIMARY KEY (member_id, kind, position)
);
CREATE INDEX member_terms_folded ON member_terms (kind, folded);

-- Answers kept for retried POSTs carrying an Idempotency-Key, per caller.
CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    location     TEXT,
    etag         TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (owner, key)
);
