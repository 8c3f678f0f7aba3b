-- CarChain wallet store, schema step 1: meta, identity, devices, address pools.
-- Columns ending in _sealed hold ChaCha20-Poly1305 seals (see at_rest.rs).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE identity (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    network                TEXT    NOT NULL,
    owner_address          TEXT    NOT NULL,
    rsa_bits               INTEGER NOT NULL,
    mnemonic_sealed        BLOB    NOT NULL,
    passphrase_sealed      BLOB    NOT NULL,
    rsa_private_der_sealed BLOB    NOT NULL,
    created_at             INTEGER NOT NULL
);

CREATE TABLE devices (
    vid                    TEXT PRIMARY KEY NOT NULL,
    name                   TEXT    NOT NULL,
    device_pubkey          TEXT    NOT NULL,
    pool_account           INTEGER NOT NULL,
    pool_generation        INTEGER NOT NULL,
    pool_size              INTEGER NOT NULL CHECK (pool_size BETWEEN 1 AND 10000),
    pool_seed_sealed       BLOB    NOT NULL,
    delivery_secret_sealed BLOB,
    agent                  TEXT    NOT NULL,
    paired_at              INTEGER NOT NULL,
    last_seen              INTEGER,
    status                 TEXT    NOT NULL CHECK (status IN ('paired', 'reset', 'transferred'))
) WITHOUT ROWID;

CREATE TABLE pool_addresses (
    vid        TEXT    NOT NULL REFERENCES devices (vid) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    PRIMARY KEY (vid, generation, position)
) WITHOUT ROWID;
