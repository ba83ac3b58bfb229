/* sshcert-admin: the operator's CLI on the CA host. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "err.h"
#include "file.h"
#include "secmem.h"
#include "text.h"
#include "totp.h"

static const char usage_text[] =
    "usage: sshcert-admin [-c CONFIG] COMMAND ...\n"
    "  init                               create the CA key, database and secret key\n"
    "  user add NAME --principals P1,P2 [--max-ttl DUR] [--json]\n"
    "  user list [--json] | user show NAME [--json]\n"
    "  user passwd NAME | user totp-reset NAME [--json]\n"
    "  user lock NAME | user unlock NAME | user del NAME\n"
    "  cert list [--active] [--user NAME] [--json] | cert show SERIAL [--json]\n"
    "  cert revoke SERIAL... [--reason TEXT] | cert revoke --user NAME [--reason TEXT]\n"
    "  sign PUBKEY_FILE --principals P1,P2 [--ttl DUR] [--key-id TEXT]\n"
    "       [--force-command CMD] [--source-address CIDR,..] [-o FILE]\n"
    "  krl [-o FILE]                      write the current KRL\n"
    "  audit verify | audit export [--since UNIX] [--after-id ID]\n"
    "  backup DIR                         copy the database (online) and the keys into DIR\n"
    "  restore DIR                        a backup into data_dir (which holds no CA); the\n"
    "                                     serials issued after the backup revoked and skipped\n"
    "CONFIG defaults to $SSHCERT_CONFIG, then /etc/sshcert/sshcert.json.\n";

static void say(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
say(const char *fmt, va_list ap)
{
    fputs("sshcert-admin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int
admin_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    return ADMIN_FAIL;
}

int
admin_text_ok(const char *s)
{
    char *copy;
    size_t i;
    int ok;

    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    if ((copy = strdup(s)) == NULL)
        return 0;
    sshcert_text_utf8_clean(copy);
    ok = strcmp(copy, s) == 0;
    free(copy);
    return ok;
}

int
admin_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    fputs(usage_text, stderr);
    return ADMIN_USAGE;
}

uint64_t
admin_now(void)
{
    return (uint64_t)time(NULL);
}

const char *
admin_time(uint64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%llu", (unsigned long long)t);
    return buf;
}

int
admin_print_json(json_t *j)
{
    char *s;

    if (j == NULL || (s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(j);
        return admin_err("out of memory");
    }
    printf("%s\n", s);
    free(s);
    json_decref(j);
    return ADMIN_OK;
}

static int
in_list(const char *s, const char *const *list)
{
    for (; list != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

const char *
admin_opt(int argc, char **argv, const char *name, int has_value, int *bad)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) != 0)
            continue;
        if (!has_value)
            return "";
        if (i + 1 >= argc) {
            *bad = 1;
            return NULL;
        }
        return argv[i + 1];
    }
    return NULL;
}

int
admin_check_opts(int argc, char **argv, const char *const *with_value, const char *const *flags)
{
    int i, j;

    for (i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            continue;
        /* admin_opt reads the first: a second would be ignored without a word (revoke --user a
         * --user b revoked a's certificates alone). j steps over option values as i does. */
        for (j = i + (in_list(argv[i], with_value) ? 2 : 1); j < argc; j++) {
            if (strcmp(argv[j], argv[i]) == 0)
                return admin_usage("%s is given twice", argv[i]);
            if (argv[j][0] == '-' && in_list(argv[j], with_value))
                j++;
        }
        if (in_list(argv[i], with_value)) {
            if (i + 1 >= argc)
                return admin_usage("%s needs a value", argv[i]);
            i++;
        } else if (!in_list(argv[i], flags)) {
            return admin_usage("unknown option %s", argv[i]);
        }
    }
    return 0;
}

int
admin_positional(int argc, char **argv, const char *const *with_value, char **out, int max)
{
    int i, n = 0;

    for (i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            if (in_list(argv[i], with_value))
                i++;
            continue;
        }
        if (n < max)
            out[n] = argv[i];
        n++;
    }
    return n;
}

int
admin_open(struct admin *a)
{
    char *err = NULL;
    int r;

    if (a->ca != NULL)
        return 0;
    if ((r = sshcert_ca_open(a->cfg, &a->ca, &err)) != 0) {
        admin_err("%s", err != NULL ? err : sshcert_err_str(r));
        free(err);
        return ADMIN_FAIL;
    }
    return 0;
}

static int
cmd_init(struct admin *a, int argc, char **argv)
{
    char *err = NULL;
    int created = 0, r;

    (void)argv;
    if (argc != 1)
        return admin_usage("init takes no arguments");
    if ((r = sshcert_ca_init(a->cfg, &created, &err)) != 0) {
        admin_err("%s", err != NULL ? err : sshcert_err_str(r));
        free(err);
        return ADMIN_FAIL;
    }
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if (created)
        fprintf(stderr, "sshcert-admin: CA ready in %s (fingerprint %s)\n", a->cfg->data_dir,
            a->ca->fingerprint);
    else
        fprintf(stderr, "sshcert-admin: CA already initialised in %s; nothing changed\n",
            a->cfg->data_dir);
    printf("%s\n", a->ca->pub_line);
    return ADMIN_OK;
}

/* The files of a backup, in the order written; the database first. */
enum { BK_DB, BK_KEY, BK_PUB, BK_SECRET, BK_N };
static const char *const bk_names[BK_N] = {"sshcert.db", "ca_key", "ca_key.pub", "secret.key"};

/* Copies src to a new file dst byte for byte (atomically, flushed) with mode; a private
 * source must be private (it is a secret) and its bytes are wiped after. A file that appeared
 * at dst since the caller checked is kept, and the copy fails. */
static int
backup_copy(const char *src, const char *dst, unsigned mode, char **err)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    r = sshcert_file_read_checked(src, NULL, mode == 0600 ? SSHCERT_FILE_PRIVATE : 0,
        SSHCERT_MAX_KEY_FILE, &text, &len, err);
    if (r == 0 && (r = sshcert_file_write_new(dst, text, len, mode)) != 0)
        sshcert_err_msg(err, r, "cannot write %s: %s", dst,
            r == SSHCERT_ERR_DUPLICATE ? "it exists (made meanwhile); it was kept"
            : r == SSHCERT_ERR_SYSTEM  ? strerror(errno)
                                       : sshcert_err_str(r));
    sshcert_secmem_free_len(text, len);
    return r;
}

/* Walks st as audit verify does; the messages call it whose ("the copy's", "the backup's"). */
static int
copy_verify(struct sshcert_store *st, const char *whose, struct sshcert_audit_xcheck *x,
    uint64_t *events, char head[SSHCERT_AUDIT_HASH_HEX], char **err)
{
    uint64_t bad = 0;
    int r;

    if ((r = sshcert_store_audit_verify(st, &bad, events, head)) != 0)
        sshcert_err_msg(err, r, "%s audit log does not verify (entry %" PRIu64 "): %s", whose,
            bad, sshcert_err_str(r));
    else if ((r = sshcert_store_audit_crosscheck(st, x)) != 0) {
        char msg[ADMIN_XCHECK_TEXT_MAX];

        if (r == SSHCERT_ERR_SIGNATURE && admin_xcheck_text(x, msg, sizeof(msg)) == 0)
            sshcert_err_msg(err, r, "%s %s", whose, msg);
        else
            sshcert_err_msg(err, r, "%s certificates and users cannot be compared with its "
                                    "audit log: %s", whose, sshcert_err_str(r));
    }
    return r;
}

/* Opens the copy as a store of its own and walks it as audit verify does: the backup is
 * reported only once it reads back whole. */
static int
backup_check(const char *db, struct sshcert_audit_xcheck *x, uint64_t *events,
    char head[SSHCERT_AUDIT_HASH_HEX], char **err)
{
    struct sshcert_store *copy;
    int r;

    if ((r = sshcert_store_open(db, 0, &copy)) != 0)
        return sshcert_err_msg(err, r, "the copy does not open: %s", sshcert_err_str(r));
    r = copy_verify(copy, "the copy's", x, events, head, err);
    sshcert_store_close(copy);
    return r;
}

/* A database's file and those SQLite keeps beside it, by suffix. */
static const char *const db_files[] = {"", "-wal", "-shm", "-journal"};
#define DB_FILES (sizeof(db_files) / sizeof(db_files[0]))

/* Removes the database at path with the files SQLite keeps beside it. */
static void
db_unlink(const char *path)
{
    char *p;
    size_t i;

    for (i = 0; i < DB_FILES; i++)
        if (asprintf(&p, "%s%s", path, db_files[i]) >= 0) {
            unlink(p);
            free(p);
        }
}

/* Takes back a failed backup: its files, the copy's -wal and -shm (left when checking it
 * failed half way), and the folder. */
static void
backup_remove(const char *dir, char *const path[BK_N])
{
    size_t i;

    for (i = BK_KEY; i < BK_N; i++)
        if (path[i] != NULL)
            unlink(path[i]);
    if (path[BK_DB] != NULL)
        db_unlink(path[BK_DB]);
    rmdir(dir);
}

static int
cmd_backup(struct admin *a, int argc, char **argv)
{
    const char *dir, *src[BK_N];
    char *path[BK_N] = {0}, *err = NULL, head[SSHCERT_AUDIT_HASH_HEX];
    struct sshcert_audit_xcheck x;
    uint64_t events = 0;
    int r = 0, fd, i;

    if (admin_check_opts(argc, argv, NULL, NULL) != 0)
        return ADMIN_USAGE;
    if (argc != 2 || *argv[1] == '\0')
        return admin_usage("backup takes one folder, which it creates");
    dir = argv[1];
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    src[BK_DB] = a->cfg->db_path;
    src[BK_KEY] = a->cfg->ca_key_path;
    src[BK_PUB] = a->cfg->ca_pub_path;
    src[BK_SECRET] = a->cfg->secret_key_path;
    if (mkdir(dir, 0700) != 0)
        return errno == EEXIST ? admin_err("%s exists; a backup goes into a new folder of its own",
                                     dir)
                               : admin_err("cannot create %s: %s", dir, strerror(errno));
    for (i = 0; i < BK_N && r == 0; i++)
        if (asprintf(&path[i], "%s/%s", dir, bk_names[i]) < 0) {
            path[i] = NULL;
            r = SSHCERT_ERR_ALLOC;
        }
    if (r == 0 && (r = sshcert_store_backup(a->ca->store, path[BK_DB])) != 0)
        sshcert_err_msg(&err, r, "cannot copy the database: %s",
            r == SSHCERT_ERR_SYSTEM ? strerror(errno) : sshcert_err_str(r));
    for (i = BK_KEY; i < BK_N && r == 0; i++)
        r = backup_copy(src[i], path[i], i == BK_PUB ? 0644 : 0600, &err);
    if (r == 0)
        r = backup_check(path[BK_DB], &x, &events, head, &err);
    if (r == 0) {
        /* The files' names in the folder, on disk too. */
        if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
            r = sshcert_err_msg(&err, SSHCERT_ERR_SYSTEM, "cannot flush %s: %s", dir,
                strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (r == 0)
        printf("backup written to %s: %" PRIu64 " certificates, %" PRIu64 " audit entries%s%s\n",
            dir, x.certs, events, *head ? ", last " : "", head);
    else {
        admin_err("backup failed: %s; nothing kept", err != NULL ? err : sshcert_err_str(r));
        backup_remove(dir, path);
    }
    for (i = 0; i < BK_N; i++)
        free(path[i]);
    free(err);
    return r == 0 ? ADMIN_OK : ADMIN_FAIL;
}

/* Bytes restore_copy_db reads and writes at a time. */
#define RESTORE_COPY_CHUNK 65536u
/* The restored database's name until it is checked and sealed: a server started meanwhile
 * finds no database (and no keys) and cannot issue from the backup's serials. */
#define RESTORE_TMP_SUFFIX ".restoring"

/* Copies the database src to dst, which must not exist: created with mode 0600, streamed (a
 * store can be large), flushed. On failure dst is removed. */
static int
restore_copy_db(const char *src, const char *dst, char **err)
{
    static char buf[RESTORE_COPY_CHUNK];
    struct stat st;
    ssize_t got, put;
    size_t off;
    int in, out = -1, r = 0;

    if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot open %s: %s", src,
            strerror(errno));
    if (fstat(in, &st) != 0)
        r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot stat %s: %s", src, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        r = sshcert_err_msg(err, SSHCERT_ERR_INVALID_FORMAT, "%s is not a regular file", src);
    else if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot create %s: %s", dst,
            strerror(errno));
    while (r == 0 && (got = read(in, buf, sizeof(buf))) != 0) {
        if (got < 0) {
            if (errno != EINTR)
                r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot read %s: %s", src,
                    strerror(errno));
            continue;
        }
        for (off = 0; r == 0 && off < (size_t)got;) {
            if ((put = write(out, buf + off, (size_t)got - off)) > 0)
                off += (size_t)put;
            else if (put == 0 || errno != EINTR)
                r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot write %s: %s", dst,
                    put == 0 ? "no progress" : strerror(errno));
        }
    }
    if (r == 0 && fsync(out) != 0)
        r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot flush %s: %s", dst,
            strerror(errno));
    if (out >= 0 && close(out) != 0 && r == 0)
        r = sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot write %s: %s", dst,
            strerror(errno));
    close(in);
    /* It held password hashes and sealed TOTP secrets: no secret in the clear, but wiped. */
    sshcert_secmem_wipe(buf, sizeof(buf));
    if (r != 0 && out >= 0)
        unlink(dst);
    return r;
}

/* The copy at path, opened as a store of its own: checked as audit verify would, then the
 * serials the CA may have issued after the backup revoked and skipped
 * (sshcert_store_restored). */
static int
restore_seal(const char *path, uint64_t now, struct sshcert_audit_xcheck *x, uint64_t *events,
    char head[SSHCERT_AUDIT_HASH_HEX], struct sshcert_store_restored *res, char **err)
{
    struct sshcert_store *st;
    int r;

    if ((r = sshcert_store_open(path, 0, &st)) != 0)
        return sshcert_err_msg(err, r, "the backup's database does not open: %s",
            sshcert_err_str(r));
    if ((r = copy_verify(st, "the backup's", x, events, head, err)) == 0 &&
        (r = sshcert_store_restored(st, now,
             now + SSHCERT_MAX_DURATION + SSHCERT_RESTORE_MARGIN_SECONDS, res)) != 0)
        sshcert_err_msg(err, r, "cannot set the unknown serials aside: %s", sshcert_err_str(r));
    sshcert_store_close(st);
    return r;
}

/* 0 when nothing is at path + suffix; else says what is there (or why it cannot tell) and
 * fails. */
static int
restore_absent(const char *path, const char *suffix, const char *why)
{
    struct stat st;
    char *p;
    int r = 0;

    if (asprintf(&p, "%s%s", path, suffix) < 0)
        return admin_err("restore failed: %s; nothing changed", sshcert_err_str(SSHCERT_ERR_ALLOC));
    if (lstat(p, &st) == 0)
        r = admin_err("%s exists: %s; nothing changed", p, why);
    else if (errno != ENOENT)
        r = admin_err("cannot check %s: %s; nothing changed", p, strerror(errno));
    free(p);
    return r;
}

/* restore BACKUP_DIR: the four files of a backup into data_dir, which holds no CA yet. The
 * database goes in under a temporary name, is checked and sealed (restore_seal), and only
 * then takes its name; the keys follow, so a server cannot start on the restored CA before
 * the unknown serials are set aside. Anything that fails takes back what this wrote. */
static int
cmd_restore(struct admin *a, int argc, char **argv)
{
    static const char no_ca[] =
        "restore goes into a data_dir that holds no CA (move the old files aside first)";
    static const char one_file[] =
        "the backup is not the one database file sshcert-admin backup writes (what a -wal "
        "beside it holds, a copy would lack)";
    const char *dir, *dst[BK_N];
    char *src[BK_N] = {0}, *tmp = NULL, *err = NULL, head[SSHCERT_AUDIT_HASH_HEX];
    char until[32];
    struct sshcert_store_restored res;
    struct sshcert_audit_xcheck x;
    struct stat st;
    uint64_t events = 0, now = (uint64_t)time(NULL);
    int r = 0, made_dir = 0, placed = 0, wrote[BK_N] = {0}, i;
    size_t j;
    struct tm tm;
    time_t t;

    if (admin_check_opts(argc, argv, NULL, NULL) != 0)
        return ADMIN_USAGE;
    if (argc != 2 || *argv[1] == '\0')
        return admin_usage("restore takes the folder a backup wrote");
    dir = argv[1];
    dst[BK_DB] = a->cfg->db_path;
    dst[BK_KEY] = a->cfg->ca_key_path;
    dst[BK_PUB] = a->cfg->ca_pub_path;
    dst[BK_SECRET] = a->cfg->secret_key_path;
    for (i = 0; i < BK_N && r == 0; i++)
        if (asprintf(&src[i], "%s/%s", dir, bk_names[i]) < 0) {
            src[i] = NULL;
            r = SSHCERT_ERR_ALLOC;
        }
    if (r == 0 && asprintf(&tmp, "%s%s", a->cfg->db_path, RESTORE_TMP_SUFFIX) < 0) {
        tmp = NULL;
        r = SSHCERT_ERR_ALLOC;
    }
    if (r != 0) {
        r = admin_err("restore failed: %s; nothing changed", sshcert_err_str(r));
        goto out;
    }
    /* Into a data_dir without a CA only: never over a live store or keys. A -wal beside the
     * backup's database would hold what a copy of the file lacks. */
    for (j = 0; j < DB_FILES && r == 0; j++)
        if ((r = restore_absent(a->cfg->db_path, db_files[j], no_ca)) == 0 && j > 0)
            r = restore_absent(src[BK_DB], db_files[j], one_file);
    for (i = BK_KEY; i < BK_N && r == 0; i++)
        r = restore_absent(dst[i], "", no_ca);
    if (r == 0)
        r = restore_absent(tmp, "", "an earlier restore stopped half way: remove it first");
    for (i = 0; i < BK_N && r == 0; i++)
        if (lstat(src[i], &st) != 0)
            r = admin_err("%s: %s; nothing changed", src[i], strerror(errno));
    if (r != 0)
        goto out;
    if (mkdir(a->cfg->data_dir, 0700) == 0)
        made_dir = 1;
    else if (errno != EEXIST) {
        r = admin_err("cannot create %s: %s; nothing changed", a->cfg->data_dir, strerror(errno));
        goto out;
    }
    if ((r = restore_copy_db(src[BK_DB], tmp, &err)) == 0 &&
        (r = restore_seal(tmp, now, &x, &events, head, &res, &err)) == 0) {
        if (link(tmp, dst[BK_DB]) == 0)
            placed = 1;
        else
            r = sshcert_err_msg(&err, SSHCERT_ERR_SYSTEM, "cannot name %s: %s", dst[BK_DB],
                strerror(errno));
    }
    if (r == 0 && unlink(tmp) != 0)
        r = sshcert_err_msg(&err, SSHCERT_ERR_SYSTEM, "cannot remove %s: %s", tmp,
            strerror(errno));
    for (i = BK_KEY; i < BK_N && r == 0; i++)
        if ((r = backup_copy(src[i], dst[i], i == BK_PUB ? 0644 : 0600, &err)) == 0)
            wrote[i] = 1;
    if (r == 0 && admin_open(a) != 0)
        r = sshcert_err_msg(&err, SSHCERT_ERR_INVALID_FORMAT,
            "the restored files do not open as a CA (see above)");
    if (r != 0) {
        admin_err("restore failed: %s; nothing kept", err != NULL ? err : sshcert_err_str(r));
        sshcert_ca_close(a->ca);
        a->ca = NULL;
        for (i = BK_KEY; i < BK_N; i++)
            if (wrote[i])
                unlink(dst[i]);
        if (placed)
            db_unlink(dst[BK_DB]);
        db_unlink(tmp);
        if (made_dir)
            rmdir(a->cfg->data_dir);
        goto out;
    }
    t = (time_t)res.until;
    if (gmtime_r(&t, &tm) == NULL || strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(until, sizeof(until), "%" PRIu64, res.until);
    printf("restored %s into %s: %" PRIu64 " certificates, %" PRIu64 " audit entries%s%s\n",
        dir, a->cfg->data_dir, x.certs, events, *head ? ", the backup's last " : "", head);
    printf("serials %" PRIu64 "-%" PRIu64 " (any certificate issued after the backup) are "
           "revoked in the KRL until %s; new serials start at %" PRIu64 "\n",
        res.first, res.last, until, res.next);
    /* The backup knows nothing done after it: a user locked or deleted since (someone who
     * left), a password or TOTP secret reset since (a stolen phone) is back as it was. */
    printf("redo what was done after the backup (your last audit export lists it): "
           "revocations, and users locked, deleted, or given a new password or TOTP secret; "
           "then start the server\n");
out:
    for (i = 0; i < BK_N; i++)
        free(src[i]);
    free(tmp);
    free(err);
    return r == 0 ? ADMIN_OK : ADMIN_FAIL;
}

int
main(int argc, char **argv)
{
    struct admin a = {0};
    char *err = NULL;
    int i = 1, r;

    /* SQLite creates the database, its -wal and -shm at 0644 less the umask, and only then can
     * they be made private: with others allowed in data_dir, one could open the new database
     * in between and read every password hash written later through that handle. Nothing
     * this tool writes is meant for others to read unless it says so (lib/file.c sets such
     * modes itself). */
    umask(077);
    if (sshcert_secmem_init() != 0 || sshcert_totp_global_init() != 0) {
        fprintf(stderr, "sshcert-admin: cannot initialise crypto\n");
        return ADMIN_FAIL;
    }
    /* The enrolment JSON carries the TOTP secret and URI through jansson's buffers. */
    json_set_alloc_funcs(malloc, sshcert_secmem_free_wipe);
    a.config_path = getenv("SSHCERT_CONFIG");
    if (a.config_path == NULL || *a.config_path == '\0')
        a.config_path = "/etc/sshcert/sshcert.json";
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
        fputs(usage_text, stdout);
        return ADMIN_OK;
    }
    if (i < argc && strcmp(argv[i], "-c") == 0) {
        if (i + 1 >= argc)
            return admin_usage("-c needs a config file");
        a.config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc)
        return admin_usage("missing command");
    if ((r = sshcert_config_load(a.config_path, &a.cfg, &err)) != 0) {
        admin_err("config: %s", err != NULL ? err : sshcert_err_str(r));
        free(err);
        return ADMIN_FAIL;
    }
    argc -= i;
    argv += i;
    if (strcmp(argv[0], "init") == 0)
        r = cmd_init(&a, argc, argv);
    else if (strcmp(argv[0], "user") == 0)
        r = admin_cmd_user(&a, argc, argv);
    else if (strcmp(argv[0], "cert") == 0)
        r = admin_cmd_cert(&a, argc, argv);
    else if (strcmp(argv[0], "sign") == 0)
        r = admin_cmd_sign(&a, argc, argv);
    else if (strcmp(argv[0], "krl") == 0)
        r = admin_cmd_krl(&a, argc, argv);
    else if (strcmp(argv[0], "audit") == 0)
        r = admin_cmd_audit(&a, argc, argv);
    else if (strcmp(argv[0], "backup") == 0)
        r = cmd_backup(&a, argc, argv);
    else if (strcmp(argv[0], "restore") == 0)
        r = cmd_restore(&a, argc, argv);
    else
        r = admin_usage("unknown command %s", argv[0]);
    sshcert_ca_close(a.ca);
    sshcert_config_free(a.cfg);
    sshcert_totp_global_done();
    return r;
}
