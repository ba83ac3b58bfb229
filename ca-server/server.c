/* sshcert-server: starts the HTTP(S) CA service and stops it cleanly on SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "auth.h"
#include "buf.h"
#include "err.h"
#include "file.h"
#include "listener.h"
#include "log.h"
#include "secmem.h"
#include "server.h"
#include "totp.h"

/* Largest TLS certificate or key file read. */
#define SSHCERT_MAX_PEM (64u * 1024u)
/* Seconds to let in-flight requests finish on shutdown. */
#define SHUTDOWN_GRACE_S 10
/* Then how long logins still suspended have to come back: one waiting for a hash worker
 * takes its 503 as soon as its thread is free; one on a hash thread, once its hash and its
 * durable write are done (one hash and SSHCERT_SERVER_BUSY_MS per store call, unless the
 * disk hangs: past this the server leaves without answering it, see main). */
#define SHUTDOWN_HASHQ_MS 10000u

static const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    sshcert_log(LOG_WARNING, "http: %s", msg);
}

/* SQLite tells why a write failed (disk full, read-only file system, locked, I/O error) only
 * through its error log; without this the store's callers could only say "system error".
 * Constraint and schema messages are normal operation and stay out. */
static void
sqlite_log(void *cls, int code, const char *msg)
{
    (void)cls;
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
        sshcert_log(LOG_ERR, "sqlite: %s (code %d)", msg, code);
        break;
    case SQLITE_NOTICE: /* e.g. frames recovered from the WAL after a crash */
        sshcert_log(LOG_INFO, "sqlite: %s", msg);
        break;
    default:
        break;
    }
}

/* URLs are matched as sent: no route needs an escape, and decoding "%00" would make
 * "/v1/ca%00" (or "/metrics%00" past a proxy rule) reach "/v1/ca" ("/metrics"). */
static size_t
no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

static int
parse_listen(const struct sshcert_config *cfg, union addr *a, int *loopback)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, cfg->listen_host, &a->v4.sin_addr) == 1) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons(cfg->listen_port);
        *loopback = (ntohl(a->v4.sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, cfg->listen_host, &a->v6.sin6_addr) == 1) {
        a->v6.sin6_family = AF_INET6;
        a->v6.sin6_port = htons(cfg->listen_port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->v6.sin6_addr);
        return 0;
    }
    if (strcmp(cfg->listen_host, "localhost") == 0) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons(cfg->listen_port);
        a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *loopback = 1;
        return 0;
    }
    return -1;
}

static unsigned
ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > SSHCERT_MAX_CPUS ? SSHCERT_MAX_CPUS : (unsigned)n;
}

static int
usage(void)
{
    fprintf(stderr, "usage: sshcert-server -c CONFIG\n"
                    "  Serves the CA described by CONFIG (see sshcert-admin init).\n");
    return 2;
}

int
main(int argc, char **argv)
{
    struct server srv;
    struct listener *lis = NULL;
    union addr la;
    sigset_t sigs;
    char *err = NULL, *cert_pem = NULL, *key_pem = NULL;
    size_t key_len = 0;
    const char *config_path = getenv("SSHCERT_CONFIG");
    unsigned threads, hash_workers, flags;
    int loopback = 0, sig = 0, r, rc = 1, i, hashq_ready = 0;
    struct timespec grace_from, now;

    memset(&srv, 0, sizeof(srv));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else
            return usage();
    }
    if (config_path == NULL || *config_path == '\0')
        config_path = "/etc/sshcert/sshcert.json";
    /* One malloc arena per CPU rather than one per thread: each of the 16+ HTTP threads' own
     * arena kept its peak (~400 KiB each); measured, the same issuance rate and ~0.7 MiB less
     * under load. */
    (void)mallopt(M_ARENA_MAX, (int)ncpu());
    /* The heap grows in big steps and is not trimmed back: a thread growing or trimming it
     * holds its arena's lock while the kernel's address-space lock waits for a hash thread's
     * argon2id mapping (64 MiB, faulted in) to be filled, and every thread of that arena
     * waited with it: GET /v1/ca took up to 120-170 ms during a burst of logins (data on
     * tmpfs), 20-64 ms with this. Untouched heap pages count in no RSS
     * (tests/bench/README.md, thirteenth pass). */
    (void)mallopt(M_TOP_PAD, (int)SSHCERT_MALLOC_TOP_PAD);
    (void)mallopt(M_TRIM_THRESHOLD, (int)SSHCERT_MALLOC_TRIM);
    /* The database's -wal and -shm are created by SQLite at 0644 less the umask (the unit
     * sets UMask=0077 too; this covers a server started by hand). */
    umask(077);
    if (sshcert_secmem_init() != 0 || sshcert_totp_global_init() != 0) {
        fprintf(stderr, "sshcert-server: cannot initialise crypto\n");
        return 1;
    }
    /* jansson's parser copies every token of a request (the password and code too) into
     * buffers of its own: its frees wipe. */
    json_set_alloc_funcs(malloc, sshcert_secmem_free_wipe);
    /* No core dumps and no ptrace: the CA key lives in this process. */
    if (sshcert_secmem_no_dump() != 0)
        fprintf(stderr, "sshcert-server: warning: cannot disable core dumps: %s\n",
            strerror(errno));
    if ((r = sshcert_config_load(config_path, &srv.cfg, &err)) != 0) {
        fprintf(stderr, "sshcert-server: config: %s\n", err != NULL ? err : sshcert_err_str(r));
        goto out;
    }
    sshcert_log_init(srv.cfg->log_syslog);
    /* Before the first database is opened (SQLite reads its config once, at initialise). */
    sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
    if (parse_listen(srv.cfg, &la, &loopback) != 0) {
        sshcert_log(LOG_ERR, "listen: \"%s\" is not an IPv4 or IPv6 address",
            srv.cfg->listen_host);
        goto out;
    }
    if (srv.cfg->tls_cert_file == NULL && !loopback) {
        sshcert_log(LOG_ERR, "refusing to serve plain HTTP on %s: passwords would cross the "
                             "network in clear. Add a \"tls\" section or listen on 127.0.0.1",
            srv.cfg->listen_host);
        goto out;
    }
    if ((r = sshcert_ca_open(srv.cfg, &srv.ca, &err)) != 0) {
        sshcert_log(LOG_ERR, "%s", err != NULL ? err : sshcert_err_str(r));
        goto out;
    }
    if (srv.cfg->hash_cost == SSHCERT_HASH_MIN)
        sshcert_log(LOG_WARNING, "auth.password_hash is \"min\": for tests and benchmarks only, "
                                 "passwords are cheap to guess from a stolen database");
    if (srv.cfg->tls_cert_file != NULL) {
        /* The key guards every password and TOTP code on the wire: a secret like the CA key. */
        if ((r = sshcert_file_read_checked(srv.cfg->tls_cert_file, "TLS certificate", 0,
                 SSHCERT_MAX_PEM, &cert_pem, NULL, &err)) != 0 ||
            (r = sshcert_file_read_checked(srv.cfg->tls_key_file, "TLS key",
                 SSHCERT_FILE_PRIVATE, SSHCERT_MAX_PEM, &key_pem, &key_len, &err)) != 0) {
            if (r == SSHCERT_ERR_PERMISSIONS)
                sshcert_log(LOG_ERR, "refusing to use %s; run: chmod 600 %s",
                    err != NULL ? err : sshcert_err_str(r), srv.cfg->tls_key_file);
            else
                sshcert_log(LOG_ERR, "%s", err != NULL ? err : sshcert_err_str(r));
            goto out;
        }
    }
    /* A thread waits while its issuance's batch is flushed (store_cert.c), so the threads are
     * what lets issuances share a flush: measured on 2 CPUs, 4 threads ~4,000 issuances/s,
     * 16 threads ~6,200/s (tests/bench/README.md, fifth pass). */
    threads = srv.cfg->threads != 0 ? srv.cfg->threads
                                    : (ncpu() * 8 < SSHCERT_MIN_DEFAULT_THREADS
                                              ? SSHCERT_MIN_DEFAULT_THREADS
                                              : (ncpu() * 8 > SSHCERT_MAX_DEFAULT_THREADS
                                                        ? SSHCERT_MAX_DEFAULT_THREADS
                                                        : ncpu() * 8));
    hash_workers = srv.cfg->hash_workers != 0 ? srv.cfg->hash_workers : ncpu();
    /* One reader connection per HTTP thread: logins read without the writer's lock. */
    if ((r = sshcert_store_open_readers(srv.ca->store,
             threads < SSHCERT_STORE_MAX_READERS ? threads : SSHCERT_STORE_MAX_READERS)) != 0)
        sshcert_log(LOG_WARNING, "logins share the writer's database connection: %s",
            sshcert_err_str(r));
    sshcert_store_set_busy_timeout(srv.ca->store, SSHCERT_SERVER_BUSY_MS);
    /* Hashes run on threads of their own, so that no HTTP thread spends ~0.1 s of a login's
     * hash while its other connections wait, and the login waits there for its durable write
     * too (the store's writer thread writes it; its flush took 100-350 ms on a busy disk;
     * tests/bench/README.md, thirteenth pass); but at "min" a hash (~30 us) costs less than
     * that hand-off (the request suspended and resumed: ~90 us of CPU a login, 22% of the
     * issuance rate; twelfth pass), so it runs inline. */
    if (hashq_init(&srv.hashq, hash_workers,
            srv.cfg->hash_cost != SSHCERT_HASH_MIN ? auth_hash_run : NULL, http_finish,
            &srv) != 0)
        goto out;
    hashq_ready = 1;
    if (pthread_mutex_init(&srv.krl_mu, NULL) != 0)
        goto out;
    /* Block the stop signals in every thread; main waits for them with sigwait. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((lis = listener_open(&la.sa, la.sa.sa_family == AF_INET6 ? sizeof(la.v6)
                                                                  : sizeof(la.v4))) == NULL) {
        sshcert_log(LOG_ERR, "cannot listen on %s:%u: %s", srv.cfg->listen_host,
            srv.cfg->listen_port, strerror(errno));
        goto out;
    }
    /* listener.c accepts; libmicrohttpd's threads serve what it hands them. */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME;
    if (cert_pem != NULL)
        flags |= MHD_USE_TLS;
    srv.daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_access, &srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, srv.cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv.cfg->max_connections / 2 > 0
                                                ? srv.cfg->max_connections / 2 : 1u,
        MHD_OPTION_CONNECTION_TIMEOUT, srv.cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SSHCERT_CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, &srv,
        MHD_OPTION_NOTIFY_CONNECTION, http_connection, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
        cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, key_pem,
        MHD_OPTION_HTTPS_PRIORITIES, tls_priorities,
        MHD_OPTION_END);
    if (srv.daemon == NULL) {
        sshcert_log(LOG_ERR, "cannot start the HTTP service on %s:%u%s", srv.cfg->listen_host,
            srv.cfg->listen_port,
            cert_pem != NULL ? " (or the TLS key/certificate is invalid)" : "");
        goto out;
    }
    if (listener_start(lis, srv.daemon) != 0) {
        sshcert_log(LOG_ERR, "cannot start the accept thread: %s", strerror(errno));
        goto out;
    }
    sshcert_log(LOG_INFO, "sshcert-server listening on %s%s%s:%u (%s), CA %s, %u threads, %u "
                          "hash workers (%s)",
        la.sa.sa_family == AF_INET6 ? "[" : "", srv.cfg->listen_host,
        la.sa.sa_family == AF_INET6 ? "]" : "", srv.cfg->listen_port,
        cert_pem != NULL ? "https" : "http", srv.ca->fingerprint, threads, hash_workers,
        srv.hashq.nthreads > 0 ? "threads of their own" : "inline");
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
        sshcert_log(LOG_INFO, "SIGHUP ignored; restart to reload the config");
    sshcert_log(LOG_INFO, "signal %d: finishing in-flight requests", sig);
    /* Stop accepting, let running requests finish (bounded), then stop. */
    listener_close(lis);
    lis = NULL;
    /* The monotonic clock: a wall clock set back must not stretch the grace, nor one set
     * forward cut it short. */
    clock_gettime(CLOCK_MONOTONIC, &grace_from);
    for (;;) {
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (di == NULL || di->num_connections == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (server_us_between(&grace_from, &now) >= (int64_t)SHUTDOWN_GRACE_S * 1000000)
            break;
        usleep(20000);
    }
    /* Logins still waiting for a hash worker get 503, those on a hash thread finish: none
     * may stay suspended. */
    if (hashq_stop(&srv.hashq, SHUTDOWN_HASHQ_MS) != 0) {
        /* A login is still suspended: running on a hash thread (its durable write on a disk
         * that does not answer, say), or, told to stop waiting, behind an HTTP thread held up
         * the same way. libmicrohttpd aborts when stopped with a suspended connection; had it
         * not, it would free the connection under the hash thread, and cleaning up would free
         * the CA and the store the thread uses. Leave at once instead: the login is not
         * answered, and SQLite keeps or rolls back its write whole, so no certificate reaches
         * a client unrecorded. */
        sshcert_log(LOG_ERR, "a login still unfinished after %u ms (a hash thread or an HTTP "
                             "thread held up); exiting without answering it",
            SHUTDOWN_HASHQ_MS);
        _exit(EXIT_FAILURE);
    }
    MHD_stop_daemon(srv.daemon);
    srv.daemon = NULL;
    sshcert_log(LOG_INFO, "stopped");
    rc = 0;
out:
    listener_close(lis);
    if (srv.daemon != NULL)
        MHD_stop_daemon(srv.daemon);
    if (hashq_ready)
        hashq_destroy(&srv.hashq);
    sshcert_ca_close(srv.ca);
    krl_release(srv.krl);
    sshcert_config_free(srv.cfg);
    sshcert_secmem_free_len(key_pem, key_len);
    free(cert_pem);
    free(err);
    sshcert_totp_global_done();
    return rc;
}
