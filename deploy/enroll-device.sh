#!/bin/sh
# enroll-device.sh: make this device's sshd trust the sshcert CA (DESIGN.md, "The device side").
#
#   enroll-device.sh --server URL --fingerprint SHA256:... [--ca-cert PEM] [--etc DIR] [--no-reload]
#
# 1. Fetches URL/v1/ca.pub and refuses, installing nothing, unless its SHA256 fingerprint is
#    the one the operator gives (read it on the CA host: `sshcert-admin init` or GET /v1/ca).
# 2. Installs, under --etc (default /etc/ssh), each by a temp file in the same folder + rename:
#      sshcert_ca.pub                  the CA key (0644)
#      sshcert.krl                     the first KRL, from URL/v1/krl, checked as
#                                      sshcert-krl-refresh checks every later one
#      sshd_config.d/50-sshcert.conf   TrustedUserCAKeys, RevokedKeys and the hardening baseline
#    Without a good KRL for this CA it installs nothing and fails (exit 1): sshd would accept
#    certificates the CA has revoked. Only on a device already enrolled with this CA does a
#    KRL already in place that passes the same checks stand in (a warning, not an error): it
#    is the last good list, which sshd already uses and the refresh timer would keep too.
# 3. Checks the whole config with `sshd -t`; when sshd rejects it, puts back exactly the files
#    that were there before (and removes the ones it added).
# 4. Reloads sshd unless --no-reload, and only when something changed.
# Running it again changes nothing. Warnings (exit status unaffected) when sshd would not see
# the drop-in, or sees other values first (in sshd the first value of a keyword wins).
#
# Exit status: see usage below. Needs: curl, ssh-keygen, sshd, and sshcert-device-common.sh
# (the code it shares with sshcert-krl-refresh). POSIX sh.
set -u
prog=enroll-device.sh

# The code shared with sshcert-krl-refresh. cmake --install writes its installed path on the
# next line; the copy in the source tree uses the file beside it. Root runs this: the file must
# be a regular file that neither it nor its folder lets anyone but root or my owner write.
common=''
[ -n "$common" ] || case $0 in */*) common=${0%/*}/sshcert-device-common.sh ;; esac
# shellcheck disable=SC2012 # ls -n: only types, modes and owners are read
me=$(ls -ldLn -- "$0" 2>/dev/null | awk '{ print $3 }')
# shellcheck disable=SC2012 # likewise
ls -ldLn -- "$common" "${common%/*}" 2>/dev/null | awk -v o="${me:-0}" '/^-/ { f++ } /^d/ { d++ }
    ($3 != 0 && $3 != o) || /^.....w/ || /^........w/ { bad = 1 } END { exit bad || f != 1 || d != 1 }' || {
    echo "$prog: cannot load ${common:-sshcert-device-common.sh (run this script by its path)}: missing, or others may write it" >&2
    exit 1
}
# shellcheck source=deploy/sshcert-device-common.sh
. "$common"

server=''
fingerprint=''
ca_cert=''
etc=/etc/ssh
reload=1
sshd=${SSHD:-}
work=''
state=idle      # idle | installing (cleanup rolls back) | installed
changed=''      # targets replaced so far, for the rollback
created_dir=0

usage() {
    cat <<EOF
usage: $prog --server URL --fingerprint SHA256:... [--ca-cert PEM] [--etc DIR] [--no-reload]

Makes sshd trust the sshcert CA at URL: installs DIR/sshcert_ca.pub (after checking its
fingerprint), DIR/sshcert.krl and DIR/sshd_config.d/50-sshcert.conf, checks the config
with sshd -t (rolling back on failure) and reloads sshd.

  --server URL        the CA, https://HOST[:PORT] (http:// only for a loopback address)
  --fingerprint FP    the CA key's fingerprint as the operator read it on the CA host
  --ca-cert PEM       trust this certificate (bundle) for the CA's TLS instead of the system's
  --etc DIR           sshd's folder (default /etc/ssh)
  --no-reload         do not reload sshd

The first KRL must come from URL/v1/krl and pass the checks sshcert-krl-refresh makes (a
KRL ssh-keygen reads, not empty, naming no CA but this one). If it cannot, nothing is
installed, unless DIR/sshcert.krl already passes those checks for this CA (a device enrolled
before): that KRL stays, with a warning.

Exit status:
  0  enrolled, or already enrolled (nothing changed)
  1  failed, nothing changed: the CA key or a good KRL for it could not be had, or a file
     could not be written
  2  usage
  3  the CA key's fingerprint is not FP; nothing changed
  4  sshd -t rejected the resulting configuration; the previous files are back
  5  installed and checked, but sshd could not be reloaded
EOF
}

say() { printf '%s: %s\n' "$prog" "$*"; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
# fail STATUS MESSAGE: the EXIT trap rolls back whatever was installed so far.
fail() {
    code=$1
    shift
    printf '%s: %s\n' "$prog" "$*" >&2
    exit "$code"
}
# shellcheck disable=SC2012 # only the mode string is read
mode_of() { ls -ld -- "$1" | cut -c1-10; }
# same NEW TARGET: TARGET exists, is a regular file with NEW's bytes and mode 0644.
same() { [ -f "$2" ] && [ "$(mode_of "$2")" = "-rw-r--r--" ] && cmp -s "$1" "$2"; }

# put NEW TARGET: atomically replaces TARGET with NEW (0644), after saving what was there.
put() {
    n=$(printf '%s\n' "$changed" | grep -c . || :)
    if [ -e "$2" ]; then
        cp -p -- "$2" "$work/bak.$n" || fail 1 "cannot back up $2"
    else
        : >"$work/absent.$n"
    fi
    changed="$changed$2$nl"
    tmp=$(mktemp "$(dirname -- "$2")/.sshcert.XXXXXX") || fail 1 "cannot create a temp file beside $2"
    if cat -- "$1" >"$tmp" && chmod 0644 "$tmp" && { sync -- "$tmp" 2>/dev/null || :; } &&
        mv -f -- "$tmp" "$2"; then
        return 0
    fi
    rm -f -- "$tmp"
    fail 1 "cannot write $2"
}

# Puts back every file put() replaced, in reverse order; removes the ones it added.
rollback() {
    printf '%s' "$changed" | awk 'NF { l[++n] = $0 } END { for (i = n; i > 0; i--) print i - 1, l[i] }' |
        while read -r n target; do
            if [ -e "$work/bak.$n" ]; then
                tmp=$(mktemp "$(dirname -- "$target")/.sshcert.XXXXXX") || tmp=''
                if [ -z "$tmp" ] || ! cp -p -- "$work/bak.$n" "$tmp" || ! mv -f -- "$tmp" "$target"; then
                    [ -n "$tmp" ] && rm -f -- "$tmp"
                    warn "could not restore $target (saved copy kept: $work/bak.$n)"
                    : >"$work/.keep"
                fi
            else
                rm -f -- "$target"
            fi
        done
    [ "$created_dir" = 1 ] && rmdir -- "$etc/sshd_config.d" 2>/dev/null
    changed=''
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    rc=$?
    if [ "$state" = installing ]; then
        rollback
        printf '%s: rolled back: %s is as it was before\n' "$prog" "$etc" >&2
        [ "$rc" = 0 ] && rc=1
    fi
    if [ -n "$work" ] && [ ! -e "$work/.keep" ]; then rm -rf -- "$work"; fi
    exit "$rc"
}

# --- arguments ----------------------------------------------------------------------------
while [ $# -gt 0 ]; do
    case $1 in
    --server | --fingerprint | --ca-cert | --etc)
        [ $# -ge 2 ] || usage_err "$1 needs a value"
        case $1 in
        --server) server=$2 ;;
        --fingerprint) fingerprint=$2 ;;
        --ca-cert) ca_cert=$2 ;;
        --etc) etc=$2 ;;
        esac
        shift 2
        ;;
    --server=*) server=${1#*=}; shift ;;
    --fingerprint=*) fingerprint=${1#*=}; shift ;;
    --ca-cert=*) ca_cert=${1#*=}; shift ;;
    --etc=*) etc=${1#*=}; shift ;;
    --no-reload) reload=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_err "unknown argument: $1" ;;
    esac
done

check_server "$server"
case $fingerprint in
'') usage_err "--fingerprint SHA256:... is required (the CA host prints it; GET /v1/ca shows it)" ;;
SHA256:*) ;;
*) usage_err "--fingerprint must be a SHA256:... fingerprint, as ssh-keygen -l prints it" ;;
esac
if [ "${#fingerprint}" != 50 ] || printf '%s' "${fingerprint#SHA256:}" | grep -q '[^A-Za-z0-9+/]'; then
    usage_err "--fingerprint: not a SHA256 fingerprint (43 base64 characters after SHA256:): $fingerprint"
fi
if [ -n "$ca_cert" ] && [ ! -r "$ca_cert" ]; then usage_err "--ca-cert: cannot read $ca_cert"; fi
[ -d "$etc" ] || usage_err "--etc: $etc is not a folder"
etc=$(cd -- "$etc" && pwd -P) || usage_err "--etc: cannot enter $etc"
# The paths go into sshd_config lines unquoted.
if printf '%s' "$etc" | grep -q '[^A-Za-z0-9._/+:@,=-]'; then
    usage_err "--etc: the path has characters sshd_config would need quoted: $etc"
fi
for tool in curl ssh-keygen timeout; do
    command -v "$tool" >/dev/null 2>&1 || fail 1 "$tool is not installed"
done
if [ -z "$sshd" ]; then sshd=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd); fi

ca_path=$etc/sshcert_ca.pub
krl_path=$etc/sshcert.krl
conf_dir=$etc/sshd_config.d
conf_path=$conf_dir/50-sshcert.conf
main_conf=$etc/sshd_config
for t in "$ca_path" "$krl_path" "$conf_path"; do
    [ -L "$t" ] && fail 1 "$t is a symbolic link; refusing to replace it (make it a plain file)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sshcert-enroll.XXXXXX") || fail 1 "cannot create a temp folder"
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- 1. the CA key, checked before anything is installed ---------------------------------
fetch "$base/v1/ca.pub" "$work/ca.fetched" 16384 ||
    fail 1 "cannot fetch $base/v1/ca.pub: $(curl_err); nothing installed"
if [ "$(grep -c '' "$work/ca.fetched")" != 1 ]; then
    fail 1 "$base/v1/ca.pub is not one public key line; nothing installed"
fi
awk 'NR == 1 { sub(/\r$/, ""); print; exit }' "$work/ca.fetched" >"$work/ca.pub"
case $(awk '{ print $1; exit }' "$work/ca.pub") in
ssh-ed25519 | ssh-rsa | ecdsa-sha2-nistp256 | ecdsa-sha2-nistp384 | ecdsa-sha2-nistp521 | \
    sk-ssh-ed25519@openssh.com | sk-ecdsa-sha2-nistp256@openssh.com) ;;
*) fail 1 "$base/v1/ca.pub is not a plain public key line; nothing installed" ;;
esac
got=$(key_fps "$work/ca.pub" | sed -n 1p)
[ -n "$got" ] || fail 1 "ssh-keygen cannot read the key from $base/v1/ca.pub; nothing installed"
if [ "$got" != "$fingerprint" ]; then
    fail 3 "the CA key at $base has fingerprint $got, not $fingerprint: refusing to trust it; nothing installed"
fi

# --- 2. the first KRL, checked against the CA key just fetched: never none, never empty -----
# Without this CA's list sshd would accept every certificate the CA has revoked, so there is
# one stand-in only: on a device already enrolled with this CA, the KRL already here when it
# passes the same checks (it is what sshd uses now, and what a failed refresh would keep).
krl_src=$work/krl
if ! krl_get "$base/v1/krl" "$work/krl" "$work/ca.pub" "$base/v1/ca.pub" "$work/krl.list"; then
    krl_why=$why
    refusal="refusing to enrol without this CA's KRL (sshd would accept revoked certificates); nothing installed"
    [ -e "$krl_path" ] || fail 1 "$krl_why; $refusal"
    enrolled=$(key_fps "$ca_path")
    [ "$enrolled" = "$fingerprint" ] ||
        fail 1 "$krl_why; $krl_path cannot stand in: $ca_path does not hold this CA's key; $refusal"
    krl_check "$krl_path" "$krl_path" "$work/ca.pub" "$base/v1/ca.pub" "$work/krl.list" ||
        fail 1 "$krl_why; $krl_path cannot stand in: $why; $refusal"
    warn "$krl_why; keeping the KRL already in $krl_path (for this CA, written $(krl_date "$krl_path")); run sshcert-krl-refresh once the CA answers"
    krl_src=$krl_path
fi

# --- 3. the drop-in ----------------------------------------------------------------------
{
    cat >"$work/conf" <<EOF
# Installed by sshcert's enroll-device.sh: trust the sshcert CA, honour its revocation list,
# and the SSH hardening baseline. Run enroll-device.sh again rather than editing this file.
# sshd uses the FIRST value it reads for a keyword: a setting in sshd_config above its
# Include, or in a drop-in that sorts before this one, overrides the value here.
TrustedUserCAKeys $ca_path
RevokedKeys $krl_path
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
MaxAuthTries 3
LogLevel VERBOSE
X11Forwarding no
EOF
} || fail 1 "cannot write the drop-in to $work/conf (temp folder full?); nothing installed"

# --- 4. install what differs, check with sshd -t, roll back on failure -------------------
state=installing
if [ ! -d "$conf_dir" ]; then
    mkdir -m 0755 -- "$conf_dir" || fail 1 "cannot create $conf_dir"
    created_dir=1
fi
same "$work/ca.pub" "$ca_path" || put "$work/ca.pub" "$ca_path"
if [ "$krl_src" != "$krl_path" ]; then
    # The KRL's generation date changes at every fetch; only its content counts.
    if ! { [ -f "$krl_path" ] && [ "$(mode_of "$krl_path")" = "-rw-r--r--" ] &&
        krl_same "$krl_path" "$work/krl.list"; }; then
        put "$krl_src" "$krl_path"
    fi
fi
same "$work/conf" "$conf_path" || put "$work/conf" "$conf_path"

if [ -f "$main_conf" ]; then
    [ -x "$sshd" ] || fail 1 "$sshd is not installed: cannot check $main_conf"
    if ! "$sshd" -t -f "$main_conf" >"$work/sshd.err" 2>&1 </dev/null; then
        rollback
        state=idle
        fail 4 "sshd -t -f $main_conf rejects the configuration: $(tr '\n' ' ' <"$work/sshd.err")
$prog: restored the previous files; $etc is as it was before"
    fi
else
    warn "$main_conf does not exist: the configuration was not checked with sshd -t"
fi
state=installed

# --- 5. will sshd see it? ----------------------------------------------------------------
warned=' '
if [ -f "$main_conf" ]; then
    # Include lines of the global section (sshd resolves relative ones against /etc/ssh),
    # and the first line number whose Include covers our drop-in.
    inc_line=$(awk 'tolower($1) == "match" { exit } tolower($1) == "include" {
            for (i = 2; i <= NF; i++) print NR, $i }' "$main_conf" |
        while read -r line pat; do
            case $pat in /*) ;; *) pat=/etc/ssh/$pat ;; esac
            # shellcheck disable=SC2254 # pat is a glob on purpose
            case $conf_path in $pat) echo "$line"; break ;; esac
        done)
    if [ -z "$inc_line" ]; then
        warn "$main_conf has no 'Include $conf_dir/*.conf' (before any Match): sshd ignores $conf_path. Add that line at the top of $main_conf."
    else
        # Keywords the drop-in sets that sshd_config sets first.
        awk -v stop="$inc_line" 'NR >= stop { exit } { k = tolower($1) }
            k == "trustedusercakeys" || k == "revokedkeys" || k == "pubkeyauthentication" ||
            k == "passwordauthentication" || k == "kbdinteractiveauthentication" ||
            k == "challengeresponseauthentication" || k == "permitrootlogin" ||
            k == "permitemptypasswords" || k == "maxauthtries" || k == "loglevel" ||
            k == "x11forwarding" { print NR, k, $1, $2 }' "$main_conf" >"$work/early"
        while read -r line k key val; do
            [ "$k" = challengeresponseauthentication ] && k=kbdinteractiveauthentication
            warn "$main_conf line $line sets '$key $val' before the Include: sshd keeps that value, not the drop-in's"
            warned="$warned$k "
        done <"$work/early"
    fi
    # What sshd will actually use, Includes and all (needs the host keys; skipped if not).
    if "$sshd" -T -f "$main_conf" >"$work/effective" 2>/dev/null </dev/null; then
        grep -v '^#' "$work/conf" | awk 'NF { print tolower($1), $2 }' |
            while read -r k want; do
                have=$(awk -v k="$k" '$1 == k { print $2; exit }' "$work/effective")
                case $warned in *" $k "*) continue ;; esac
                if [ "$have" != "$want" ] && [ "$(printf '%s' "$have" | tr '[:lower:]' '[:upper:]')" != "$(printf '%s' "$want" | tr '[:lower:]' '[:upper:]')" ]; then
                    warn "sshd uses '$k ${have:-(unset)}', not '$want': a value set earlier (sshd_config, or a drop-in sorting before 50-sshcert.conf) wins"
                fi
            done
    fi
fi

# --- 6. tell, reload ---------------------------------------------------------------------
if [ -z "$changed" ]; then
    say "already enrolled: $etc trusts CA $fingerprint; nothing changed"
    exit 0
fi
printf '%s' "$changed" | while read -r f; do say "installed $f"; done
say "CA $fingerprint trusted; KRL with $(krl_count "$work/krl.list") revocation entries"
[ -f "$main_conf" ] && say "sshd -t: configuration OK"
if [ "$reload" = 1 ]; then
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        for unit in ssh.service sshd.service; do
            if systemctl is-active --quiet "$unit"; then
                systemctl reload "$unit" || fail 5 "installed, but 'systemctl reload $unit' failed"
                say "reloaded $unit"
                reload=sent
                break
            fi
        done
    fi
    if [ "$reload" = 1 ] && [ -r /run/sshd.pid ]; then
        pid=$(cat /run/sshd.pid)
        kill -HUP "$pid" 2>/dev/null || fail 5 "installed, but sshd (pid $pid from /run/sshd.pid) could not be signalled"
        say "sent SIGHUP to sshd (pid $pid)"
        reload=sent
    fi
    [ "$reload" = 1 ] && say "sshd is not running (or socket-activated): new sessions read the new configuration"
fi
say "keep the KRL fresh: put SSHCERT_SERVER=$base in /etc/default/sshcert-krl-refresh, then: systemctl enable --now sshcert-krl-refresh.timer"
exit 0
