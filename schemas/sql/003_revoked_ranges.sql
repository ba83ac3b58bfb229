-- sshcert store, migration 3. Applied in one transaction; PRAGMA user_version becomes 3.
-- Serial ranges revoked as a whole: `sshcert-admin restore` revokes every serial the CA may
-- have issued after the backup it restores (those certificates are not in the backup, so the
-- CA cannot list or revoke them one by one) and issues new serials above the range, so that
-- none is issued twice. A range is in the KRL until valid_until, when every certificate it
-- can cover has expired.
CREATE TABLE revoked_ranges (
  first_serial INTEGER NOT NULL,
  last_serial  INTEGER NOT NULL,
  revoked_at   INTEGER NOT NULL,
  valid_until  INTEGER NOT NULL,
  reason       TEXT    NOT NULL,
  CHECK (first_serial >= 1 AND first_serial <= last_serial)
);
