/*
 * Opening the user's ssh-agent socket as that user. The path comes from the user's environment,
 * so root must not open it with root's rights: a path to another account's agent (or any
 * socket root can reach) would otherwise lend that account's certificates to the caller.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "check.h"
#include "check_int.h"
#include "err.h"

/* Upper bound on supplementary groups looked up for the user (Linux NGROUPS_MAX). */
#define MAX_GROUPS 65536

struct privs {
    uid_t euid;
    gid_t egid;
    gid_t *groups;
    int ngroups;
    int dropped;
};

/* Takes the user's effective uid, gid and groups, keeping ours in p to go back to. */
static int
drop_privs(struct privs *p, const char *user, uid_t uid, gid_t gid, struct sshcert_pam_result *res)
{
    gid_t *ug = NULL;
    int n, nug = 64, r = SSHCERT_ERR_SYSTEM;

    if ((n = getgroups(0, NULL)) < 0 || n > MAX_GROUPS ||
        (p->groups = calloc((size_t)n + 1, sizeof(gid_t))) == NULL ||
        (p->ngroups = getgroups(n, p->groups)) < 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "cannot read our groups: %s",
            strerror(errno));
        goto out;
    }
    for (;;) {
        free(ug);
        if ((ug = calloc((size_t)nug, sizeof(gid_t))) == NULL) {
            r = SSHCERT_ERR_ALLOC;
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "out of memory");
            goto out;
        }
        n = nug;
        if (getgrouplist(user, gid, ug, &n) >= 0)
            break;
        if (n <= nug || n > MAX_GROUPS) {
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "cannot list the groups of %s", user);
            goto out;
        }
        nug = n;
    }
    /* Groups and gid first, while we still may change them; the uid last. */
    if (setgroups((size_t)n, ug) != 0 || setegid(gid) != 0 || seteuid(uid) != 0) {
        int e = errno;

        p->dropped = 1; /* whatever was changed must be changed back */
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "cannot take the privileges of %s: %s",
            user, strerror(e));
        goto out;
    }
    p->dropped = 1;
    if (geteuid() != uid || getegid() != gid) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "privileges of %s not in effect", user);
        goto out;
    }
    r = 0;
out:
    free(ug);
    return r;
}

static int
restore_privs(struct privs *p, struct sshcert_pam_result *res)
{
    int r = 0;

    if (p->dropped) {
        if (seteuid(p->euid) != 0 || setegid(p->egid) != 0 ||
            setgroups((size_t)p->ngroups, p->groups) != 0 || geteuid() != p->euid ||
            getegid() != p->egid) {
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS, "cannot restore privileges: %s",
                strerror(errno));
            r = SSHCERT_ERR_SYSTEM;
        }
        p->dropped = 0;
    }
    free(p->groups);
    p->groups = NULL;
    return r;
}

int
sshcert_pam_agent_connect_as(const char *path, const char *user, uid_t uid, gid_t gid,
    struct sshcert_agent **out, struct sshcert_pam_result *res)
{
    struct privs p = {geteuid(), getegid(), NULL, 0, 0};
    enum sshcert_agent_owner_check check;
    unsigned long found;
    int fd = -1, r = SSHCERT_ERR_INTERNAL, rr;

    if (out != NULL)
        *out = NULL;
    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (out == NULL || user == NULL) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT, "invalid arguments");
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    if (path == NULL || path[0] == '\0') {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT, "SSH_AUTH_SOCK is not set");
        return SSHCERT_ERR_AGENT_UNAVAILABLE;
    }
    /* Checked before any privilege is dropped, for PAM's own message. */
    if (!sshcert_agent_path_ok(path)) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT,
            "SSH_AUTH_SOCK is not an absolute path shorter than %u bytes", SSHCERT_AGENT_PATH_MAX);
        return SSHCERT_ERR_AGENT_UNAVAILABLE;
    }
    if (p.euid == 0 && uid != 0) {
        if ((r = drop_privs(&p, user, uid, gid, res)) != 0)
            goto out;
    } else if (p.euid != uid) {
        /* Not root and not the user: we cannot act with the user's privileges. */
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_PRIVS,
            "running as uid %lu, cannot take the privileges of %s", (unsigned long)p.euid, user);
        r = SSHCERT_ERR_PERMISSIONS;
        goto out;
    }
    if ((r = sshcert_agent_connect_socket(path, &fd)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT, "cannot connect to the agent at %s: %s",
            path, strerror(errno));
        goto out;
    }
    /* Connected as the user; now the socket file and the agent process must also be the
     * user's own. Root is not accepted either: a root-run agent is not the user's agent. */
    if ((r = sshcert_agent_check_owner(fd, path, uid, &check, &found)) != 0) {
        if (r != SSHCERT_ERR_PERMISSIONS && check == SSHCERT_AGENT_CHECK_FILE)
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT, "cannot stat %s: %s", path,
                strerror(errno));
        else if (r != SSHCERT_ERR_PERMISSIONS)
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT,
                "cannot read the agent's credentials: %s", strerror(errno));
        else if (check == SSHCERT_AGENT_CHECK_FILE)
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_SOCKET,
                "the agent socket %s belongs to uid %lu, not to %s (uid %lu)", path, found, user,
                (unsigned long)uid);
        else
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_SOCKET,
                "the agent at %s runs as uid %lu, not as %s (uid %lu)", path, found, user,
                (unsigned long)uid);
        goto out;
    }
    r = 0;
out:
    if ((rr = restore_privs(&p, res)) != 0)
        r = rr;
    if (r == 0) {
        r = sshcert_agent_from_fd(fd, out); /* takes fd, closes it on failure */
        fd = -1;
        if (r != 0)
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT, "%s", sshcert_err_str(r));
    }
    if (fd >= 0)
        close(fd);
    return r;
}
