-- CarChain wallet store, schema step 3: data grants and service provider requests.

CREATE TABLE grants (
    id         TEXT PRIMARY KEY NOT NULL,
    provider   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    json       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX grants_by_status ON grants (status, updated_at);

CREATE TABLE provider_requests (
    id         TEXT PRIMARY KEY NOT NULL,
    provider   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    json       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX provider_requests_by_status ON provider_requests (status, updated_at);
