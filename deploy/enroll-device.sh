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
# 4. Checks that sshd will use the drop-in's TrustedUserCAKeys and RevokedKeys: `sshd -T`
#    (the values in force) and a reading of sshd_config and the files it Includes, in sshd's
#    order (which file and line wins; and the judge when sshd -T cannot run). sshd keeps the
#    first value it reads for a keyword, and a "Match all" block overrides it for every
#    connection. When an earlier setting wins, or sshd_config does not Include the drop-in,
#    the CA or its KRL would not be in force: it puts the previous files back, as in 3, and
#    fails (exit 6), naming the line that wins. Hardening settings (PasswordAuthentication
#    ...) that win over the drop-in's, and TrustedUserCAKeys or RevokedKeys set under another
#    Match (for some connections only), are warnings.
# 5. Reloads sshd unless --no-reload, and only when something changed.
# Running it again changes nothing.
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
with sshd -t and that sshd will use the drop-in's TrustedUserCAKeys and RevokedKeys
(rolling back on failure), and reloads sshd.

  --server URL        the CA, https://HOST[:PORT] (http:// only for a loopback address)
  --fingerprint FP    the CA key's fingerprint as the operator read it on the CA host
  --ca-cert PEM       trust this certificate (bundle) for the CA's TLS instead of the system's
  --etc DIR           sshd's folder (default /etc/ssh)
  --no-reload         do not reload sshd

The first KRL must come from URL/v1/krl and pass the checks sshcert-krl-refresh makes (a
KRL ssh-keygen reads, not empty, naming no CA but this one). If it cannot, nothing is
installed, unless DIR/sshcert.krl already passes those checks for this CA (a device enrolled
before): that KRL stays, with a warning.

sshd keeps the first value it reads for a keyword. When a line of DIR/sshd_config above
its Include, a drop-in sorting before 50-sshcert.conf, or a "Match all" block sets
TrustedUserCAKeys or RevokedKeys to another value, or DIR/sshd_config does not Include
DIR/sshd_config.d/*.conf (outside any Match), sshd would not trust this CA or would accept
revoked certificates: enrolment fails (6), naming the line to change. The hardening
settings (PasswordAuthentication, KbdInteractiveAuthentication, PermitRootLogin,
PermitEmptyPasswords, MaxAuthTries, LogLevel, X11Forwarding, PubkeyAuthentication) set
earlier, and TrustedUserCAKeys or RevokedKeys set under another Match (some connections
only), are warnings. When sshd -T cannot run, reading the files decides.

Exit status:
  0  enrolled, or already enrolled (nothing changed)
  1  failed, nothing changed: the CA key or a good KRL for it could not be had, or a file
     could not be written
  2  usage
  3  the CA key's fingerprint is not FP; nothing changed
  4  sshd -t rejected the resulting configuration; the previous files are back
  5  installed and checked, but sshd could not be reloaded
  6  sshd would not use the drop-in's TrustedUserCAKeys or RevokedKeys (an earlier
     setting wins, or sshd_config does not Include the drop-in); the previous files are back
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
# Its settings, one "Keyword value" a line; step 5 checks that sshd uses each.
settings="TrustedUserCAKeys $ca_path
RevokedKeys $krl_path
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
MaxAuthTries 3
LogLevel VERBOSE
X11Forwarding no"
{
    cat <<EOF &&
# Installed by sshcert's enroll-device.sh: trust the sshcert CA, honour its revocation list,
# and the SSH hardening baseline. Run enroll-device.sh again rather than editing this file.
# sshd uses the FIRST value it reads for a keyword: a setting in sshd_config above its
# Include, or in a drop-in that sorts before this one, overrides the value here.
EOF
        printf '%s\n' "$settings"
} >"$work/conf" || fail 1 "cannot write the drop-in to $work/conf (temp folder full?); nothing installed"

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

# restored: the last line of a refusal, once rollback() has run.
restored() {
    if [ -n "$changed" ]; then
        echo "$prog: restored the previous files; $etc is as it was before"
    else
        echo "$prog: nothing was changed; $etc is as it was before"
    fi
}

if [ -f "$main_conf" ]; then
    [ -x "$sshd" ] || fail 1 "$sshd is not installed: cannot check $main_conf"
    if ! "$sshd" -t -f "$main_conf" >"$work/sshd.err" 2>&1 </dev/null; then
        last=$(restored)
        rollback
        state=idle
        fail 4 "sshd -t -f $main_conf rejects the configuration: $(tr '\n' ' ' <"$work/sshd.err")
$last"
    fi
else
    warn "$main_conf does not exist: the configuration was not checked with sshd -t, nor whether sshd would use the drop-in"
fi

# --- 5. will sshd use it? ----------------------------------------------------------------
# sshd keeps the first value it reads for a keyword (sshd_config, with each Include expanded
# in place, its files in sorted order), and at each connection the first value under a Match
# that the connection matches overrides that. The CA key and the KRL must be in force for
# every connection; anything else fails closed (6), with what was installed rolled back.
us=$(printf '\037')

# conf_walk FILE CTX MATCH DEPTH: the directives sshd reads from FILE and the files it
# Includes, in sshd's order, one a line of fields split by $us: CTX, the file (by its real
# folder), the line number, the keyword in lower case, the keyword as written, its first
# value, and the Match it sits under ('' when none). CTX is g (global), a (under "Match all":
# every connection) or m (under another Match: some connections). A subshell: a Match ends
# with the file it is in, as in sshd.
conf_walk() (
    depth=$4
    [ "$depth" -le 16 ] || exit 0 # sshd's own limit on nested Includes
    f=$(cd -P -- "$(dirname -- "$1")" 2>/dev/null && pwd -P) || exit 0
    f=$f/${1##*/}
    ctx=$2
    under=$3
    awk -v us="$us" '{
        sub(/\r$/, ""); gsub(/[\t\f]/, " ")
        s = $0; sub(/^ +/, "", s)
        if (s == "" || substr(s, 1, 1) == "#" || !match(s, /^[^ =]+/)) next
        key = substr(s, 1, RLENGTH); args = substr(s, RLENGTH + 1)
        sub(/^ *=? */, "", args); sub(/ +#.*$/, "", args); sub(/ +$/, "", args)
        val = args
        if (substr(val, 1, 1) == "\"") { val = substr(val, 2); sub(/".*$/, "", val) }
        else sub(/ .*$/, "", val)
        k = tolower(key)
        if (k == "challengeresponseauthentication") k = "kbdinteractiveauthentication"
        print NR us k us key us val us args
    }' "$1" | while IFS=$us read -r line k key val args; do
        case $k in
        match)
            under="'$key $args' ($f line $line)"
            if [ "$2" != m ]; then
                case $args in [Aa][Ll][Ll]) ctx=a ;; *) ctx=m ;; esac
            fi
            ;;
        include)
            # Each argument is a glob; sshd resolves relative ones against /etc/ssh.
            set -f
            for pat in $args; do
                set +f
                case $pat in /*) ;; *) pat=/etc/ssh/$pat ;; esac
                for inc in $pat; do
                    [ -f "$inc" ] && conf_walk "$inc" "$ctx" "$under" $((depth + 1)) </dev/null
                done
                set -f
            done
            set +f
            ;;
        *) printf '%s\n' "$ctx$us$f$us$line$us$k$us$key$us$val$us$under" ;;
        esac
    done
)
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

# in_force K WANT KEYWORD: 0 when sshd uses WANT for the keyword K (lower case; KEYWORD as
# the drop-in writes it). Otherwise 1, with have (the value sshd uses, '' when unset), why
# (which setting wins instead, and where) and fix. Paths compare exactly, other values
# (yes/no, VERBOSE) ignoring case, as sshd reads them.
# split_rec REC: sets w_ctx .. w_under from one conf_walk record (fields joined by $us), in the
# shell itself: a here-document would be a temp file under bash before 5.1.
split_rec() {
    rec_ifs=$IFS IFS=$us
    case $- in *f*) rec_f=1 ;; *) rec_f=0 ;; esac
    set -f
    # shellcheck disable=SC2086 # split on $us on purpose
    set -- $1
    [ "$rec_f" = 1 ] || set +f
    IFS=$rec_ifs
    w_ctx=$1 w_file=$2 w_line=$3 w_key=$5 w_val=$6 w_under=${7:-}
}

in_force() {
    rec=$(printf '%s\n' "$walk" | awk -F "$us" -v k="$1" '$4 != k { next }
        $1 == "a" { a = $0; exit } $1 == "g" && g == "" { g = $0 } END { print (a != "" ? a : g) }')
    w_ctx='' w_file='' w_line='' w_key='' w_val='' w_under=''
    [ -z "$rec" ] || split_rec "$rec"
    if [ "$judged_by" = sshd ]; then
        have=$(printf '%s\n' "$effective" | awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }')
    elif [ -z "$rec" ]; then
        have=''
    elif [ "$w_file" = "$conf_path" ]; then
        have=$2
    else
        have=$w_val
    fi
    case $1 in
    trustedusercakeys | revokedkeys) [ "$have" = "$2" ] && return 0 ;;
    *) [ "$(lower "$have")" = "$(lower "$2")" ] && return 0 ;;
    esac
    if [ -n "$rec" ] && [ "$w_file" != "$conf_path" ]; then
        if [ "$w_ctx" = a ]; then
            why="$w_file line $w_line sets '$w_key $w_val' under $w_under, which every connection reads and which overrides $conf_path"
        else
            why="$w_file line $w_line sets '$w_key $w_val' before $conf_path, and sshd keeps the first value it reads"
        fi
        fix="remove that line, or make it '$3 $2'"
    else
        why="a setting sshd reads before $conf_path wins (sshd -T -f $main_conf shows the values in force)"
        fix="remove that setting"
    fi
    return 1
}

if [ -f "$main_conf" ]; then
    # Held in memory, not in temp files: a full temp folder must not make a check pass.
    walk=$(conf_walk "$main_conf" g '' 0)
    # sshd -T prints the values in force for a connection that matches no Match but "all".
    if effective=$("$sshd" -T -f "$main_conf" 2>"$work/sshd-T.err" </dev/null); then
        judged_by=sshd
    else
        judged_by=files
        t_why=$(sed -n 1p "$work/sshd-T.err" 2>/dev/null)
        warn "sshd -T -f $main_conf fails${t_why:+ ($t_why)}: judging from the files alone which values sshd uses"
    fi
    reached=$(printf '%s\n' "$walk" | awk -F "$us" -v f="$conf_path" '$2 == f && $1 != "m" { print "yes"; exit }')
    refused=''
    if [ -z "$reached" ]; then
        under_only=$(printf '%s\n' "$walk" | awk -F "$us" -v f="$conf_path" '$2 == f { print $7; exit }')
        if [ -n "$under_only" ]; then
            inc_why="$main_conf reads $conf_path only under $under_only, for the connections that match it"
            inc_fix="move the Include of $conf_dir/*.conf above the first Match line of $main_conf"
        else
            inc_why="$main_conf has no 'Include $conf_dir/*.conf' (outside any Match), so sshd ignores $conf_path"
            inc_fix="add 'Include $conf_dir/*.conf' as the first line of $main_conf"
        fi
        if in_force trustedusercakeys "$ca_path" TrustedUserCAKeys && in_force revokedkeys "$krl_path" RevokedKeys; then
            warn "$inc_why: this CA and its KRL are in force (set elsewhere), but not the hardening baseline; to apply it, $inc_fix"
        else
            refused="sshd would not use this enrolment: $inc_why; sshd would not trust this CA, or would accept the certificates it has revoked. To fix: $inc_fix, then enrol again."
        fi
    else
        # A for loop over the lines, not a here-document: bash before 5.1 writes those to a
        # temp file, and one that cannot be written would skip this loop and pass the check.
        old_ifs=$IFS IFS=$nl
        set -f
        for setting in $settings; do
            IFS=$old_ifs
            key=${setting%% *} want=${setting#* }
            in_force "$(lower "$key")" "$want" "$key" && continue
            case $key in
            TrustedUserCAKeys) harm="sshd would not trust this CA's key in $ca_path" ;;
            RevokedKeys) harm="sshd would accept the certificates this CA has revoked" ;;
            *)
                warn "sshd would use '$key ${have:-(unset)}', not the drop-in's '$key $want': $why"
                continue
                ;;
            esac
            refused="$refused${refused:+$nl$prog: }sshd would use '$key ${have:-(unset)}', not this enrolment's '$key $want': $why; $harm. To fix: $fix, then enrol again."
        done
        set +f
        IFS=$old_ifs
        # Under another Match only the connections that match it are concerned: a warning.
        printf '%s\n' "$walk" | awk -F "$us" '$1 == "m" && ($4 == "trustedusercakeys" || $4 == "revokedkeys")' |
            while IFS=$us read -r _ w_file w_line k w_key w_val w_under; do
                case $k in trustedusercakeys) want=$ca_path ;; *) want=$krl_path ;; esac
                [ "$w_val" = "$want" ] ||
                    warn "$w_file line $w_line sets '$w_key $w_val' under $w_under: connections that match it would use that, not '$w_key $want'"
            done
    fi
    if [ -n "$refused" ]; then
        last=$(restored)
        rollback
        state=idle
        fail 6 "$refused
$last"
    fi
fi
state=installed

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
