/*
 * The CA's SQLite store: users, throttling counters, certificates and the hash-chained audit
 * log. Every statement is prepared; every write that matters is one transaction, on disk
 * when the function returns (WAL; the flush runs after the lock is released and is shared by
 * concurrent writers, see store_sync.c). One connection guarded by a mutex: callers may use it
 * from any thread.
 */
#ifndef SSHCERT_STORE_H
#define SSHCERT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "krl.h"

struct sshcert_store;

/* Longest username. Usernames are [a-z_][a-z0-9_.-]* like POSIX login names. */
#define SSHCERT_MAX_USERNAME 64u

struct sshcert_user {
    int64_t id;
    char *username;
    char *password_hash;
    uint8_t *totp_secret; /* sealed (nonce || ciphertext) */
    size_t totp_secret_len;
    char *principals; /* comma-separated */
    uint64_t max_ttl; /* 0: none of its own */
    int disabled;
    uint64_t totp_last_step;
    uint64_t created_at, updated_at;
};

struct sshcert_cert_record {
    uint64_t serial;
    char *key_id;
    char *username;
    char *principals; /* comma-separated */
    char *key_fingerprint;
    uint64_t valid_after, valid_before, issued_at;
    char *client_address; /* may be NULL */
    char *issued_by;
    char *certificate;
    uint64_t revoked_at; /* 0: not revoked */
    char *revoke_reason; /* may be NULL */
};

struct sshcert_audit_event {
    uint64_t id, ts;
    char *event, *actor, *username, *client_address, *detail; /* all but event, actor may be NULL */
    uint64_t serial; /* 0: none */
    char *prev_hash, *hash;
};

/* How long one store call waits, for the store's lock and for a database another process
 * (sshcert-admin, sqlite3) holds, together: one deadline per call (store_enter). */
#define SSHCERT_STORE_BUSY_MS 5000
/* The server waits less: every request shares the store, so a stuck lock must fail fast. */
#define SSHCERT_SERVER_BUSY_MS 1000
/* The thread name (as top -H and /proc/PID/task/TID/comm show it) of the store's writer, the
 * one thread that writes and flushes every batch of issuances (store_cert.c). */
#define SSHCERT_STORE_WRITER_NAME "sshcert-writer"

/* Opens (create: also creates) the database and applies pending migrations, and starts the
 * store's writer thread (SSHCERT_STORE_WRITER_NAME), with every signal blocked. A process
 * must not fork while a store is open: the child would have no writer. */
int sshcert_store_open(const char *path, int create, struct sshcert_store **out);
/* Has the writer write what is still queued, ends it and closes the database. No call on s
 * may run or start meanwhile (an issuance that would queue during it fails). */
void sshcert_store_close(struct sshcert_store *s);
/* Opens n (1..SSHCERT_STORE_MAX_READERS) more connections to the same database, each with
 * its own lock, that serve sshcert_store_login_get, sshcert_store_counts and the KRL reads:
 * with WAL a read needs no lock of the writer, so logins, /metrics and KRL rebuilds neither
 * queue behind writes nor hold them up (a multi-threaded server). Each read sees the last
 * committed state, as before. On failure nothing is opened and reads use the main
 * connection, under its lock. */
#define SSHCERT_STORE_MAX_READERS 64u
int sshcert_store_open_readers(struct sshcert_store *s, unsigned n);
/* Changes the wait (milliseconds) of an open store's later calls. */
void sshcert_store_set_busy_timeout(struct sshcert_store *s, int ms);
/* 0 when a write transaction can be started and committed now: commits a change to the
 * meta row 'health_probe' (one durable write, so callers should rate-limit it). */
int sshcert_store_writable(struct sshcert_store *s);

/* Users. Strings are copied. *_get returns SSHCERT_ERR_NOT_FOUND for an unknown name. */
int sshcert_store_user_add(struct sshcert_store *s, const struct sshcert_user *u, uint64_t now);
int sshcert_store_user_get(struct sshcert_store *s, const char *username,
    struct sshcert_user **out);
/* All users ordered by name; free with sshcert_store_users_free. */
int sshcert_store_user_list(struct sshcert_store *s, struct sshcert_user ***out, size_t *n);
void sshcert_store_users_free(struct sshcert_user **u, size_t n);
void sshcert_user_free(struct sshcert_user *u);
int sshcert_store_user_set_password(struct sshcert_store *s, const char *username,
    const char *hash, uint64_t now);
/* Replaces the TOTP secret and resets the replay guard. */
int sshcert_store_user_set_totp(struct sshcert_store *s, const char *username,
    const uint8_t *sealed, size_t len, uint64_t now);
int sshcert_store_user_set_disabled(struct sshcert_store *s, const char *username, int disabled,
    uint64_t now);
/* Deletes the user, audited as user_deleted, and in the same transaction revokes their
 * unexpired certificates (reason "user deleted"; *revoked: how many) and clears their failure
 * lockout, so that a deleted user's access ends now and a user added later under the name starts
 * clean. Their audit history and certificate rows stay. */
int sshcert_store_user_delete(struct sshcert_store *s, const char *username, uint64_t now,
    uint64_t *revoked);
struct sshcert_store_claim;
/* Claims a login's TOTP step on its own, whatever the account's state (a refusal after a
 * right password and code uses the code up), as the issuance's claim does otherwise: records
 * claim->totp_step as the user's last accepted step if it is newer than the stored one and
 * neither throttling key is locked at claim->now, and clears claim->clear_key's failure row.
 * Sets claim->refused: SSHCERT_CLAIM_OK, or SSHCERT_CLAIM_LOCKED (with claim->locked_until),
 * SSHCERT_CLAIM_REPLAYED, SSHCERT_CLAIM_GONE or SSHCERT_CLAIM_CHANGED, which write nothing (never
 * SSHCERT_CLAIM_DISABLED). Atomic, and at once visible to every caller, but on disk only with
 * the next durable write of this store (a login's issuance or audit event), which saves a
 * login one flush of the disk. Returns the store's error, if any. */
int sshcert_store_claim_step(struct sshcert_store *s, struct sshcert_store_claim *claim);

/* 1 once a flush of the store's WAL has failed (sticky): a write that failed since may have
 * been committed all the same, and nothing written since is known to be on disk. */
int sshcert_store_flush_failed(struct sshcert_store *s);

/* Throttling keys: 'user:NAME' and 'addr:ADDRESS' (the only place that spells them), at most
 * SSHCERT_THROTTLE_KEY_LEN bytes with the NUL. An IPv6 address counts by its /64
 * ('addr:2001:db8::/64'), an IPv4-mapped one as its IPv4 address. */
#define SSHCERT_THROTTLE_KEY_LEN (8 + SSHCERT_MAX_USERNAME + 64)
void sshcert_store_user_key(char key[SSHCERT_THROTTLE_KEY_LEN], const char *username);
void sshcert_store_addr_key(char key[SSHCERT_THROTTLE_KEY_LEN], const char *addr);
/* *locked_until > now means locked. */
int sshcert_store_failure_get(struct sshcert_store *s, const char *key, uint64_t *locked_until);
/* What a login reads before hashing: *_locked_until > now means locked; user_row is 1 when
 * the user key has a row (a failure to clear on success); user_r is 0 when the user was
 * read, SSHCERT_ERR_NOT_FOUND for an unknown name, or the error copying the row. */
struct sshcert_throttle {
    uint64_t addr_locked_until, user_locked_until;
    int user_row;
    int user_r;
};
/* Reads the rows of akey and of ukey (NULL: none) and the user username (NULL: none) in one
 * statement. On 0, *t is set and, when t->user_r is 0, *user is the user (free with
 * sshcert_user_free). On error, *t is zeroed, *user NULL and an SSHCERT_ERR_* returned
 * (callers fail closed). */
int sshcert_store_login_get(struct sshcert_store *s, const char *akey, const char *ukey,
    const char *username, struct sshcert_throttle *t, struct sshcert_user **user);
/* Throttling rows past their window are pruned once per this many recorded failures. */
#define STORE_FAILURE_PRUNE_EVERY 256u
/* A failed login: ukey ('user:NAME', NULL for an invalid name) and akey ('addr:ADDRESS') each
 * count one failure within window and lock for window when their count reaches user_max or
 * addr_max. */
struct sshcert_login_failure {
    uint64_t now, window;
    const char *ukey, *akey;
    unsigned user_max, addr_max;
    const char *username, *addr, *reason; /* for the audit event; username may be NULL */
    uint64_t locked_until;                /* out: see below */
};
/* Records a failed login in one durable transaction: both counts, the login_failed audit
 * event, and a lockout event for each lock this failure begins. When the name or the address
 * is already locked at now (a concurrent login's failure locked it after this login read the
 * throttling rows), nothing is written and f->locked_until is the lock's end: the caller
 * answers as to a locked key, so that logins in flight when a lock begins neither get their
 * guesses counted as more than the limit allows nor learn whether they were right. */
int sshcert_store_login_failed(struct sshcert_store *s, struct sshcert_login_failure *f);

/* What a login's issuance claims in the same transaction as its certificate: the user's TOTP
 * step (as sshcert_store_claim_step, and only while the account is enabled) and, when
 * clear_key is not NULL, that throttling row at now, unless a lock began on it meanwhile (a
 * success does not lift a lock it did not see). When
 * the claim is refused, sshcert_store_issue sets refused to why. */
enum sshcert_claim_refusal {
    SSHCERT_CLAIM_OK,
    SSHCERT_CLAIM_REPLAYED, /* the step is not newer than the user's last */
    SSHCERT_CLAIM_DISABLED, /* an operator locked the account since the login read it */
    SSHCERT_CLAIM_GONE,     /* the user was deleted since (or the id now names another) */
    SSHCERT_CLAIM_CHANGED,  /* the password or the TOTP secret was replaced since */
    SSHCERT_CLAIM_LOCKED,   /* failures of concurrent logins locked the name or the address */
};
struct sshcert_store_claim {
    int64_t user_id;
    const char *username; /* with user_id: an id reused after a delete is another user */
    /* The credentials the login was checked against, as it read them: a password or TOTP
     * secret replaced since (sshcert-admin user passwd, user totp-reset) refuses the claim as
     * SSHCERT_CLAIM_CHANGED, so a login in flight with the old ones issues nothing. */
    const char *password_hash;
    const uint8_t *totp_secret;
    size_t totp_secret_len;
    uint64_t totp_step;
    /* With a claim that succeeds: the verified password's new hash, made at the configured
     * cost because the stored one was made at another (auth.password_hash changed), written
     * in the claim's transaction and audited as user_password_rehashed ("cost=" rehash_cost,
     * from addr, the client's address). NULL: the hash stays. */
    const char *rehash, *rehash_cost, *addr;
    /* With sshcert_store_claim_step, a refusal after a right code (the code is used up all
     * the same): when the claim succeeds, the event refusal_event (issue_refused,
     * login_refused) by the server from addr, in the claim's transaction, its detail
     * SSHCERT_AUDIT_STEP_FMT then refusal_reason, so that no claim is committed without the
     * event audit verify counts its step by. NULL: no event. */
    const char *refusal_event, *refusal_reason;
    /* Throttling keys that must not be locked at now (ukey may be NULL): a login that read
     * them unlocked is still refused if failures in flight with it locked them since. */
    const char *ukey, *akey;
    const char *clear_key;
    uint64_t now;
    enum sshcert_claim_refusal refused;
    uint64_t locked_until; /* with SSHCERT_CLAIM_LOCKED */
};

/*
 * Issues one certificate: sign(ctx, serial, rec) must fill every field of rec but serial
 * (strings malloc'd, owned by rec afterwards); then, in one durable transaction, the TOTP step
 * is claimed (claim may be NULL), the certificate row inserted, next_serial advanced and the
 * audit event appended. With a claim (a login), the serial comes from a counter in memory,
 * sign runs without the store's lock, and concurrent issuances share the transaction and its
 * flush (store_cert.c); a serial taken meanwhile by another process is detected by the insert
 * and the certificate signed again with the next free one. Without a claim (offline signing,
 * another process), the serial is read and signed inside the transaction. Returns 0 only once
 * the row is on disk; SSHCERT_ERR_DUPLICATE when the claim was refused (claim->refused says
 * why; nothing recorded, the certificate discarded); any other error records nothing that the
 * caller may use. A certificate is usable only when this returns 0.
 */
typedef int (*sshcert_store_sign_fn)(void *ctx, uint64_t serial, struct sshcert_cert_record *rec);
#define STORE_ISSUE_ATTEMPTS 4
int sshcert_store_issue(struct sshcert_store *s, sshcert_store_sign_fn sign, void *ctx,
    struct sshcert_store_claim *claim, struct sshcert_cert_record *rec);
void sshcert_cert_record_clear(struct sshcert_cert_record *rec);
int sshcert_store_cert_get(struct sshcert_store *s, uint64_t serial,
    struct sshcert_cert_record *out);
/* Certificates ordered by serial. active: only valid_before > now and not revoked. */
int sshcert_store_cert_list(struct sshcert_store *s, const char *username, int active,
    uint64_t now, struct sshcert_cert_record **out, size_t *n);
void sshcert_cert_records_free(struct sshcert_cert_record *r, size_t n);
/* Revokes the n serials (n >= 1) all or none, in one transaction that bumps the KRL version.
 * results[i] is serial i's answer: 0, SSHCERT_ERR_NOT_FOUND (unknown), SSHCERT_ERR_EXPIRED
 * (already expired) or SSHCERT_ERR_DUPLICATE (already revoked; the same serial twice in the
 * list is that too). Returns 0 when all were revoked, SSHCERT_ERR_INVALID_ARGUMENT when any was
 * refused (nothing was revoked), or the store's error (nothing was revoked; results past the
 * serial it stopped at are SSHCERT_ERR_INTERNAL). */
int sshcert_store_cert_revoke(struct sshcert_store *s, const uint64_t *serials, size_t n,
    const char *reason, uint64_t now, const char *actor, int *results);
/* Revokes every unexpired, unrevoked certificate of username; *count how many. */
int sshcert_store_cert_revoke_user(struct sshcert_store *s, const char *username,
    const char *reason, uint64_t now, const char *actor, uint64_t *count);
/* What the KRL is built from, read in one read transaction so that the version and the lists
 * agree: the serials revoked and not yet expired at now, ascending (*serials malloc'd, NULL
 * when none), the ranges revoked as a whole and still in force at now (a restore's; *ranges
 * malloc'd, NULL when none), and meta's krl_version. Reads on a reader connection when the
 * store has one, so neither this nor the two below wait for or hold up the writer. */
int sshcert_store_krl_read(struct sshcert_store *s, uint64_t now, uint64_t **serials,
    size_t *n, struct sshcert_serial_range **ranges, size_t *nranges, uint64_t *version);
int sshcert_store_krl_version(struct sshcert_store *s, uint64_t *version);
/* The live figures of /metrics, read in one statement: certificates valid at now and not
 * revoked, certificates ever revoked, and usernames locked at now (by the throttle or by an
 * operator). Each reads an index of what it counts (migration 002), not the history. */
struct sshcert_store_counts {
    uint64_t active, revoked, locked;
    /* Not read from the database: since this store was opened, the transactions that
     * recorded login issuances and how many they recorded (group commit: several issuances
     * share one transaction and one flush under load). */
    uint64_t issue_batches, issue_batched;
};
int sshcert_store_counts(struct sshcert_store *s, uint64_t now, struct sshcert_store_counts *c);

/* Writes a consistent copy of the database, as of one snapshot, to path, which must not exist:
 * created 0600, filled by SQLite's VACUUM INTO (a read transaction, so the server and other
 * writers go on meanwhile; the copy holds no free pages), and flushed to disk. On failure
 * the file is removed. SSHCERT_ERR_DUPLICATE when path exists. */
int sshcert_store_backup(struct sshcert_store *s, const char *path);

/* Serials a restored CA sets aside for each second since the backup's last audit event (ten
 * times the highest issuance rate measured, tests/bench/README.md), plus a day's worth. */
#define SSHCERT_RESTORE_SERIALS_PER_SECOND 65536u
#define SSHCERT_RESTORE_MARGIN_SECONDS 86400u
/* What sshcert_store_restored did: serials first..last revoked as a whole until until, and
 * the next serial issued. */
struct sshcert_store_restored {
    uint64_t first, last, until, next;
};
/* Run once on a store just restored from a backup, before anything issues from it. The CA
 * may have issued certificates after the backup was taken; they are not in it, so they
 * cannot be listed or revoked one by one, and their serials would be issued again. In one
 * durable transaction: the serials from the backup's next serial on, as many as the CA could
 * have issued since the backup's last audit event (SSHCERT_RESTORE_SERIALS_PER_SECOND per
 * second, plus SSHCERT_RESTORE_MARGIN_SECONDS), are revoked as a range until valid_until,
 * new serials start above them, the KRL's version moves, and a store_restored event is
 * audited. SSHCERT_ERR_TOO_LARGE when the range would not fit the serials left. */
int sshcert_store_restored(struct sshcert_store *s, uint64_t now, uint64_t valid_until,
    struct sshcert_store_restored *out);

/* Appends one audit event in its own transaction. */
int sshcert_store_audit(struct sshcert_store *s, uint64_t now, const char *event,
    const char *actor, const char *username, uint64_t serial, const char *client_address,
    const char *detail);
/* Walks the chain; 0 when intact, SSHCERT_ERR_SIGNATURE with *bad_id the first bad entry.
 * head: the last intact entry's hash, in hex ("" when there is none). The chain has no key:
 * whoever can write the database can rewrite it and every hash after, or cut its end, so the
 * head is what an operator records elsewhere to notice that later. */
#define SSHCERT_AUDIT_HASH_HEX 65
int sshcert_store_audit_verify(struct sshcert_store *s, uint64_t *bad_id, uint64_t *count,
    char head[SSHCERT_AUDIT_HASH_HEX]);
/* The certificates and users tables against the audit log, which the chain cannot see an
 * edit of (a revocation undone there would drop the certificate from the KRL, a principal
 * added would be granted). Every certificate row must match its issuance event (serial, event,
 * actor, user, time, address, key id, principals, lifetime, and since schema 4 key, valid_after
 * and the certificate line's hash) and every issuance event a row, the lowest serial reported
 * first; a revoked row its cert_revoked event (serial, user, time, reason) and every such event
 * a revoked row; a restore's revoked range its store_restored event. Then by user name: each
 * user event's was= what the event before it left (the earliest such event), each users row
 * its name's latest user event, each logged user a row. Last, the server's schema-4 issuances
 * replayed against their user's grant as the log had it then, and since schema 5 their TOTP
 * steps: each newer than the user's last (since the user was added or given a new secret),
 * and no users row's step older than its last issuance's. 0 with the counts (certs,
 * revoked, users) when all match; SSHCERT_ERR_SIGNATURE with the kind and its serial or
 * username, else a store error. */
/* Since schema 5 a login's events that used up a TOTP step (cert_issued by the server,
 * issue_refused, login_refused) start with it: SSHCERT_AUDIT_STEP_FMT, N > 0, then their
 * detail; the cross-check reads it back. SSHCERT_AUDIT_STEP_MAX holds the longest, NUL
 * included. */
#define SSHCERT_AUDIT_STEP_FMT "step=%llu "
#define SSHCERT_AUDIT_STEP_MAX (sizeof("step= ") + 20)
enum sshcert_audit_mismatch {
    SSHCERT_AUDIT_MATCH = 0,
    SSHCERT_AUDIT_CERT_UNLOGGED,   /* a certificate row that no issuance event matches */
    SSHCERT_AUDIT_ISSUE_NO_CERT,   /* an issuance event that no certificate row matches */
    SSHCERT_AUDIT_REVOKE_UNLOGGED, /* a revoked row that no cert_revoked event matches */
    SSHCERT_AUDIT_REVOKE_LOST,     /* a cert_revoked event that no revoked row matches */
    SSHCERT_AUDIT_RANGE_UNLOGGED,  /* a revoked range that no store_restored event matches */
    SSHCERT_AUDIT_RANGE_LOST,      /* a store_restored event whose range is gone or changed */
    SSHCERT_AUDIT_USER_UNLOGGED,   /* a users row that its name's latest user event does not
                                      record as it is (or there is none, or it says deleted) */
    SSHCERT_AUDIT_USER_LOST,       /* a user the log says exists, whose row is gone */
    SSHCERT_AUDIT_USER_CHANGED,    /* a user event that found the row other than the event
                                      before it left it (changed between them unlogged) */
    SSHCERT_AUDIT_GRANT_EXCEEDED,  /* a certificate the server issued beyond its user's grant
                                      as the log had it then (principals, max ttl, locked) */
    SSHCERT_AUDIT_STEP_REUSED,     /* a certificate the server issued for a TOTP step not
                                      newer than its user's last logged one (schema 5) */
    SSHCERT_AUDIT_STEP_LOWERED,    /* a users row whose last TOTP step is older than the last
                                      one its issuances logged (schema 5) */
};
/* Whether a mismatch of kind names a user (x->username); every other kind but
 * SSHCERT_AUDIT_MATCH names a serial (x->serial). */
static inline int
sshcert_audit_names_user(enum sshcert_audit_mismatch kind)
{
    return kind == SSHCERT_AUDIT_USER_UNLOGGED || kind == SSHCERT_AUDIT_USER_LOST ||
           kind == SSHCERT_AUDIT_USER_CHANGED || kind == SSHCERT_AUDIT_STEP_LOWERED;
}
/* A username as a mismatch names it: at most 64 bytes and a NUL, every byte but printable
 * ASCII as '?' (sshcert_text_sanitize: a row edited in the database can hold anything). */
#define SSHCERT_AUDIT_USER_MAX 65
struct sshcert_audit_xcheck {
    uint64_t certs, revoked; /* rows in the certificates table, and of them revoked */
    uint64_t users;          /* rows in the users table */
    enum sshcert_audit_mismatch mismatch;
    uint64_t serial;                     /* the certificate and range mismatches */
    char username[SSHCERT_AUDIT_USER_MAX]; /* the user mismatches */
};
int sshcert_store_audit_crosscheck(struct sshcert_store *s, struct sshcert_audit_xcheck *x);
/* Calls fn for every event with ts >= since and id > after_id, in id order; stops on a
 * non-zero return. */
typedef int (*sshcert_store_audit_fn)(void *ctx, const struct sshcert_audit_event *e);
int sshcert_store_audit_each(struct sshcert_store *s, uint64_t since, uint64_t after_id,
    sshcert_store_audit_fn fn, void *ctx);

#endif
