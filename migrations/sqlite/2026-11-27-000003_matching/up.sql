-- How each profile term maps to the vocabulary: the concept (NULL for a free term), how it matched, and for fuzzy
-- matches the similarity.
ALTER TABLE member_terms ADD COLUMN concept TEXT;
ALTER TABLE member_terms ADD COLUMN match_kind TEXT NOT NULL DEFAULT 'free';
ALTER TABLE member_terms ADD COLUMN similarity DOUBLE PRECISION;
CREATE INDEX member_terms_concept ON member_terms (concept);

-- Open collaborative projects and funding calls: posted by staff or by a member that leads them, or imported.
CREATE TABLE projects (
    id                 TEXT PRIMARY KEY NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    scope              TEXT NOT NULL,
    programme          TEXT,
    call_id            TEXT,
    reference          TEXT UNIQUE,
    deadline           TIMESTAMP,
    budget_min         BIGINT,
    budget_max         BIGINT,
    source_url         TEXT,
    eligible_countries TEXT NOT NULL,
    min_partners       INTEGER NOT NULL,
    max_partners       INTEGER,
    min_countries      INTEGER NOT NULL,
    lead_member_id     TEXT REFERENCES members (id) ON DELETE SET NULL,
    closed             BOOLEAN NOT NULL,
    search_folded      TEXT NOT NULL,
    version            BIGINT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX projects_deadline ON projects (deadline);

CREATE TABLE project_sectors (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sector     TEXT NOT NULL,
    PRIMARY KEY (project_id, sector)
);

-- Required skills (kind `skill`, with a weight) and themes (kind `theme`).
CREATE TABLE project_terms (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    term       TEXT NOT NULL,
    folded     TEXT NOT NULL,
    strength   INTEGER,
    concept    TEXT,
    match_kind TEXT NOT NULL,
    similarity DOUBLE PRECISION,
    PRIMARY KEY (project_id, kind, position)
);
CREATE INDEX project_terms_concept ON project_terms (concept);

-- Staff extensions of the shipped vocabulary, applied on top of it at start-up.
CREATE TABLE vocabulary_labels (
    id         TEXT PRIMARY KEY NOT NULL,
    concept    TEXT NOT NULL,
    lang       TEXT NOT NULL,
    label      TEXT NOT NULL,
    folded     TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE vocabulary_merges (
    from_concept TEXT PRIMARY KEY NOT NULL,
    into_concept TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- A change log for the other instances' indexes. Numbers come from a one-row counter updated inside the writing
-- transaction, so they commit in order (sequence values may commit out of order, and a poller would skip some).
CREATE TABLE change_counter (
    id  INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

CREATE TABLE changes (
    seq       BIGINT PRIMARY KEY NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at        TIMESTAMP NOT NULL
);
