-- sshcert store, migration 1. Applied in one transaction; PRAGMA user_version becomes 1.
CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  username       TEXT    NOT NULL UNIQUE,
  password_hash  TEXT    NOT NULL,            -- argon2id, crypto_pwhash_str format
  totp_secret    BLOB    NOT NULL,            -- secretbox(nonce || ciphertext) under secret.key
  principals     TEXT    NOT NULL,            -- comma-separated, never empty
  max_ttl        INTEGER,                     -- seconds; NULL: cert.max_ttl
  disabled       INTEGER NOT NULL DEFAULT 0,  -- 1 after `user lock`
  totp_last_step INTEGER NOT NULL DEFAULT 0,  -- last accepted TOTP time step (replay guard)
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

-- Failed-login counters for throttling: key is 'user:NAME' or 'addr:ADDRESS'.
CREATE TABLE failures (
  key          TEXT    PRIMARY KEY,
  count        INTEGER NOT NULL,
  first_at     INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE certificates (
  serial          INTEGER PRIMARY KEY,         -- starts at 1, never reused
  key_id          TEXT    NOT NULL,
  username        TEXT    NOT NULL,
  principals      TEXT    NOT NULL,            -- comma-separated
  key_fingerprint TEXT    NOT NULL,            -- SHA256:... of the certified public key
  valid_after     INTEGER NOT NULL,
  valid_before    INTEGER NOT NULL,
  issued_at       INTEGER NOT NULL,
  client_address  TEXT,                        -- NULL for offline (operator) signing
  issued_by       TEXT    NOT NULL,            -- 'server' or 'operator'
  certificate     TEXT    NOT NULL,            -- the one-line certificate
  revoked_at      INTEGER,
  revoke_reason   TEXT
);
CREATE INDEX certificates_by_user ON certificates(username, valid_before);
CREATE INDEX certificates_revoked ON certificates(revoked_at) WHERE revoked_at IS NOT NULL;

-- Append-only, hash-chained audit log (see ca-server/store_audit.c for the hash input).
CREATE TABLE audit (
  id             INTEGER PRIMARY KEY,
  ts             INTEGER NOT NULL,
  event          TEXT    NOT NULL,
  actor          TEXT    NOT NULL,   -- 'server', 'operator'
  username       TEXT,
  serial         INTEGER,
  client_address TEXT,
  detail         TEXT,               -- free text, never a secret
  prev_hash      TEXT    NOT NULL,   -- hex SHA-256 of the previous entry (64 zeros for the first)
  hash           TEXT    NOT NULL
);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta(key, value) VALUES ('next_serial', 1), ('krl_version', 0);
