-- CarChain wallet store, schema step 2: offline cache of records and block headers.

CREATE TABLE record_cache (
    address    TEXT    NOT NULL,
    record_key BLOB    NOT NULL,
    format     TEXT    NOT NULL,
    envelope   BLOB    NOT NULL,
    c_hash     BLOB    NOT NULL,
    d_hash     BLOB    NOT NULL,
    height     INTEGER NOT NULL,
    signer     TEXT    NOT NULL,
    PRIMARY KEY (address, record_key)
) WITHOUT ROWID;

CREATE TABLE headers (
    height INTEGER PRIMARY KEY NOT NULL,
    hash   BLOB    NOT NULL,
    bytes  BLOB    NOT NULL
);
