-- sshcert store, migration 2. Applied in one transaction; PRAGMA user_version becomes 2.
-- Indexes that let /metrics and the KRL read only what they count, whatever the size of the
-- history: before them, each scrape of /metrics and each rebuild of the KRL read every
-- certificate ever issued. The statements name them (INDEXED BY), so a plan cannot fall back
-- to a scan unnoticed: a missing index is an error, not a slow read.
-- Unrevoked certificates by expiry, covering the active count (no table row is read).
CREATE INDEX certificates_unrevoked ON certificates(valid_before, valid_after, revoked_at)
  WHERE revoked_at IS NULL;
-- Revoked certificates by expiry; the serial is the row id, so the index holds it: the KRL
-- reads only the revocations still in force, and the revoked count this index alone.
CREATE INDEX certificates_revoked_live ON certificates(valid_before)
  WHERE revoked_at IS NOT NULL;
DROP INDEX certificates_revoked;
-- Accounts an operator has locked.
CREATE INDEX users_disabled ON users(id) WHERE disabled = 1;
