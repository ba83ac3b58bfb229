-- sshcert store, migration 4. Applied in one transaction; PRAGMA user_version becomes 4.
-- From the serial this row names on, a certificate's issuance event (cert_issued,
-- cert_signed_offline) also records the certified key's fingerprint, the start of validity
-- and the hash of the certificate line ("... key=SHA256:... valid_after=N
-- cert=BLAKE2b-256:HEX"), so that `sshcert-admin audit verify` finds an edit of any column of
-- the certificate's row, not only of its key id, principals and lifetime. Events of the serials before it keep the shorter
-- form, and are compared as such. Moving the row either way makes the rows between the two
-- values differ from their events, which verify reports.
INSERT INTO meta(key, value)
  SELECT 'event_key_from_serial', value FROM meta WHERE key = 'next_serial';
