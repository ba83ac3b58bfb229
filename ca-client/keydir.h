/*
 * The key dir (default ~/.ssh/sshcert, mode 0700): id_ed25519 (0600), id_ed25519.pub and
 * id_ed25519-cert.pub, each replaced atomically, so an IdentityFile line in ~/.ssh/config keeps
 * working across logins.
 */
#ifndef SSHCERT_CLIENT_KEYDIR_H
#define SSHCERT_CLIENT_KEYDIR_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct sshcert_cert;

#define KEYDIR_DEFAULT ".ssh/sshcert" /* under the home folder */
#define KEYDIR_KEY "id_ed25519"
#define KEYDIR_PUB "id_ed25519.pub"
#define KEYDIR_CERT "id_ed25519-cert.pub"

struct keydir {
    char *dir, *key, *pub, *cert; /* malloc'd paths */
    int dfd;                      /* the folder, checked, after keydir_open; else -1 */
};

/* Paths for dir (NULL: ~/.ssh/sshcert). 0, or an exit code after printing the reason.
 * keydir_free also closes the folder; it is safe on a zeroed keydir never initialised. */
int keydir_init(struct keydir *kd, const char *dir);
void keydir_free(struct keydir *kd);

/* Opens the folder for writing a private key into, creating it (and a missing parent) 0700.
 * Refuses a folder that is a symbolic link, is not owned by the effective user, or is writable
 * by group or others: its owner or those could read or swap the key. The checks are made on
 * the opened folder and keydir_write works relative to it, so a folder swapped in after the
 * check is never written to. 0, or SSHCERT_EXIT_ERROR after printing the reason. */
int keydir_open(struct keydir *kd);
/* Writes the three files into the folder keydir_open checked, each atomically, the
 * certificate last. 0, or an exit code after printing. */
int keydir_write(const struct keydir *kd, const struct sshcert_privkey *key, const char *pub_line,
    const char *cert_line);

/* Loads the certificate file. 0, SSHCERT_ERR_NOT_FOUND when there is none, or another
 * SSHCERT_ERR_* (unreadable, malformed). */
int keydir_load_cert(const struct keydir *kd, struct sshcert_cert **out);
/* The key dir's key as its files name it: the key in id_ed25519.pub and the key that
 * id_ed25519-cert.pub certifies. The two are the same after a login; both are kept when someone
 * made them differ. A missing or unreadable file adds nothing, so count may be 0. Used to tell
 * this key dir's identities in ssh-agent from everyone else's (see ident.h). */
#define KEYDIR_MAX_KEYS 2u
struct keydir_keys {
    struct sshcert_pubkey key[KEYDIR_MAX_KEYS];
    size_t count;
};
void keydir_keys(const struct keydir *kd, struct keydir_keys *out);

/* Removes the three files; *removed counts those that existed. 0, or an exit code after
 * printing the reason. */
int keydir_remove(const struct keydir *kd, unsigned *removed);

#endif
