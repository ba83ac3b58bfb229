/* sshcert --help and the help of each command. */
#include <string.h>

#include "cmd.h"

static const char overview[] =
    "usage: sshcert COMMAND [OPTIONS]\n"
    "\n"
    "Short-lived SSH certificates from an sshcert CA.\n"
    "\n"
    "commands:\n"
    "  login    prove who you are (password + TOTP code), get a fresh key and certificate\n"
    "  status   show the current certificate and how long it has left\n"
    "  ca       print the CA's public key line (check it with --fingerprint)\n"
    "  logout   remove the key and certificate from ssh-agent and the key dir\n"
    "\n"
    "sshcert COMMAND --help shows a command's options.\n"
    "\n"
    "defaults: --server and --user come from SSHCERT_SERVER and SSHCERT_USER, then from\n"
    "~/.config/sshcert/config (lines `key = value`; keys server, user, ca_cert, ttl).\n"
    "\n"
    "exit codes: 0 ok, 1 not logged in (status), 2 usage, 3 invalid credentials,\n"
    "4 forbidden, 5 too many attempts, 6 network, TLS, server or local error (a key dir\n"
    "or certificate file that cannot be read or used).\n";

static const char login_help[] =
    "usage: sshcert login [OPTIONS]\n"
    "\n"
    "Asks for your password (no echo) and TOTP code, makes a fresh ed25519 key, has the CA\n"
    "certify it, writes id_ed25519 (0600), id_ed25519.pub and id_ed25519-cert.pub into the key\n"
    "dir, and puts the key and certificate into ssh-agent (replacing the key dir's previous\n"
    "identity) for as long as the certificate is valid.\n"
    "\n"
    "  --server URL        the CA, e.g. https://ca.example.com (plain http only to loopback)\n"
    "  --user NAME         your name at the CA (default: SSHCERT_USER, config, login name)\n"
    "  --ttl DUR           how long the certificate lives: 90s, 15m, 1h, 8h or seconds\n"
    "  --principals P,..   ask for these principals only (default: all of yours)\n"
    "  --ca-cert PEM       trust this CA file for the server's TLS certificate\n"
    "  --password-stdin    read the password from stdin, then the code on the next line\n"
    "  --totp CODE         the TOTP code (not read from stdin or asked)\n"
    "  --no-agent          do not touch ssh-agent\n"
    "  --key-dir DIR       where the files go (default ~/.ssh/sshcert); it must be yours and\n"
    "                      not writable by group or others (else exit 6); made 0700 if missing\n"
    "  --json              print the result as JSON\n";

static const char status_help[] =
    "usage: sshcert status [--json] [--key-dir DIR]\n"
    "\n"
    "Shows the certificate in the key dir: serial, principals, expiry and time left, and\n"
    "whether ssh-agent holds it. Exits 1 when there is none, it has expired or it is not\n"
    "valid yet (check the clock), 6 when the key dir or the certificate file cannot be read\n"
    "or does not hold a certificate.\n";

static const char ca_help[] =
    "usage: sshcert ca [--server URL] [--ca-cert PEM] [--fingerprint SHA256:...] [--json]\n"
    "\n"
    "Prints the CA's public key line, e.g. for TrustedUserCAKeys. With --fingerprint it fails\n"
    "(exit 6) unless the key has that fingerprint. Over plain http to a host that is not\n"
    "loopback nothing vouches for the key, so there --fingerprint is required (else exit 2).\n";

static const char logout_help[] =
    "usage: sshcert logout [--no-agent] [--key-dir DIR]\n"
    "\n"
    "Removes the key dir's identities from ssh-agent (its key and any certificate of it;\n"
    "other key dirs' and CAs' stay) and the key and certificate files from the key dir.\n"
    "The CA is not contacted; the certificate stays valid until it expires.\n";

int
help_print(FILE *f, const char *cmd)
{
    const char *text = cmd == NULL                  ? overview
                       : strcmp(cmd, "login") == 0  ? login_help
                       : strcmp(cmd, "status") == 0 ? status_help
                       : strcmp(cmd, "ca") == 0     ? ca_help
                       : strcmp(cmd, "logout") == 0 ? logout_help
                                                    : NULL;

    if (text == NULL)
        return -1;
    fputs(text, f);
    return 0;
}
