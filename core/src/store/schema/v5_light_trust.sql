-- The light client's trusted consensus state: the last CometBFT light block it verified
-- (tendermint's JSON), which certifies the highest cached header. One row.
CREATE TABLE light_trust (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    height INTEGER NOT NULL,
    block  BLOB NOT NULL
);
