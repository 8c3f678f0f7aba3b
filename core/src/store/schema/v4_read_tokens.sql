-- Unspent read tokens bought from shared nodes (RFC 9474 blind RSA tokens), by the
-- issuer key they were signed under. A token leaves the table when it is taken for a
-- read; it is never used twice.
CREATE TABLE read_tokens (
    token_id BLOB PRIMARY KEY,
    key_id   BLOB NOT NULL,
    token    BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX read_tokens_by_key ON read_tokens (key_id);
