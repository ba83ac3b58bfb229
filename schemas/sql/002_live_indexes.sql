-- sshcert store, migration 2. Applied in one transaction; PRAGMA user_version becomes 2.
-- Indexes that let /metrics and the KRL read only what they count, whatever the size of the
-- history: before them, each scrape of /metrics and each rebuild of the KRL read every
-- certificate ever issued. The statements name them (INDEXED BY), so a plan cannot fall back
-- to a scan unnoticed: a missing index is an error, not a slow read.
-- Unrevoked certificates by expiry, covering the active count (no table row is read).
CREATE INDEX certificates_unrevoked ON certificates(valid_before, valid_after, revoked_at)
  WHERE revoked_at IS NULL;
-- Revoked certificates in serial order, covering the KRL's read (it keeps those not yet
-- expired, already in the order the KRL wants: no sort) and the revoked count. Revocations
-- are rare, so this holds few rows even when the history is long; with 1,000,000 revoked and
-- unexpired certificates the KRL's read takes ~80 ms (an index by expiry plus a sort: ~250 ms).
CREATE INDEX certificates_revoked_serial ON certificates(serial, valid_before, revoked_at)
  WHERE revoked_at IS NOT NULL;
DROP INDEX certificates_revoked;
-- Accounts an operator has locked.
CREATE INDEX users_disabled ON users(id) WHERE disabled = 1;
