# sshcert-device-common.sh: the code both device scripts share (DESIGN.md, "The device side"):
# the environment they run in, the CA URL check, the fetch, and the checks a KRL passes before
# sshd may use it. enroll-device.sh checks its first KRL, and sshcert-krl-refresh every later
# one, with this one krl_check. Sourced, never run; POSIX sh.
#
# The caller sets prog (its name, for messages) before sourcing, and work (a private temp
# folder) and ca_cert ('' or a PEM file) before fetching. The scripts run as root, so they
# source this file only from a fixed path: the one cmake --install writes into them, or, in
# the source tree, the file beside them; never one that group or others can write.
# shellcheck shell=sh disable=SC2034,SC2154 # prog, work, ca_cert come from, why goes to, the caller
umask 022
PATH=$PATH:/usr/sbin:/sbin
export PATH
LC_ALL=C
export LC_ALL
nl='
'

# The largest KRL either script takes (curl --max-filesize, and its size after the download).
SSHCERT_KRL_MAX=33554432
# The longest ssh-keygen may take to read a KRL, in seconds.
SSHCERT_KEYGEN_TIMEOUT=60

usage_err() {
    printf '%s: %s\n' "$prog" "$*" >&2
    printf 'Try: %s --help\n' "$prog" >&2
    exit 2
}

# check_server URL [HINT]: sets base (URL without trailing slashes), or exits 2. Refuses plain
# http to anything but a loopback address, and anything a shell, curl or a reader could take
# two ways. HINT follows the message when URL is empty.
# loopback4 HOST: 0 when HOST is exactly a dotted quad 127.N.N.N (each 0-255, no leading zero,
# no trailing dot), which curl connects to as it is. Some other names that start with 127
# (127.0.0.1., 127.1.1.1.1) curl looks up in the DNS; the short and padded forms it would read
# as loopback (127.1, 127.0.0.01) are refused too, so that one form is allowed.
loopback4() {
    case $1 in
    127.*.*.*[!0-9] | *..* | *.) return 1 ;;
    127.*.*.*) ;;
    *) return 1 ;;
    esac
    l4_ifs=$IFS IFS=.
    case $- in *f*) l4_f=1 ;; *) l4_f=0 ;; esac
    set -f
    # shellcheck disable=SC2086 # split on the dots on purpose
    set -- $1
    [ "$l4_f" = 1 ] || set +f
    IFS=$l4_ifs
    [ $# -eq 4 ] || return 1
    for l4_part; do
        case $l4_part in
        '' | *[!0-9]* | 0?* | ????*) return 1 ;;
        esac
        [ "$l4_part" -le 255 ] || return 1
    done
}

check_server() {
    s=$1
    case $s in
    *"$nl"*) usage_err "--server: the URL contains a newline" ;;
    https://* | http://*) ;;
    '') usage_err "--server URL is required${2:+ $2}" ;;
    *) usage_err "--server must be an https:// URL (http:// only for a loopback address): $s" ;;
    esac
    if printf '%s' "$s" | grep -q '[^][A-Za-z0-9.:/_~%-]'; then
        usage_err "--server: unexpected characters in the URL (no credentials, query or spaces): $s"
    fi
    rest=${s#*://}
    hostport=${rest%%/*}
    case $hostport in
    \[*\]:* | \[*\]) host="${hostport%%\]*}]" ;;
    *) host=${hostport%%:*} ;;
    esac
    port_part=${hostport#"$host"}
    case $port_part in
    '') ;;
    :*[!0-9]* | :) usage_err "--server: bad port in $s" ;;
    :*) ;;
    *) usage_err "--server: cannot read the host of $s" ;;
    esac
    [ -n "$host" ] || usage_err "--server: no host in $s"
    case $s in
    http://*)
        case $host in
        localhost | \[::1\]) ;;
        127.*)
            loopback4 "$host" ||
                usage_err "--server: plain http is only allowed to a loopback address (localhost, [::1] or 127.N.N.N): $s"
            ;;
        *) usage_err "--server: refusing plain http to $host: the CA key and the KRL would cross the network unauthenticated; use https://" ;;
        esac
        ;;
    esac
    base=$s
    while :; do
        case $base in
        */) base=${base%/} ;;
        *) break ;;
        esac
    done
}

# fetch URL OUT MAXBYTES: curl with TLS verification, no redirects, no ~/.curlrc; curl's
# complaint goes to $work/curl.err (curl_err reads its first line).
fetch() {
    fetch_url=$1
    set -- -q --fail --silent --show-error --proto =https,http --tlsv1.2 --connect-timeout 10 \
        --max-time 120 --max-filesize "$3" -o "$2"
    if [ -n "$ca_cert" ]; then
        # --capath to an empty folder: the CA file replaces curl's built-in CA folder too.
        mkdir -p "$work/no-capath" 2>"$work/curl.err" || return 1
        set -- "$@" --cacert "$ca_cert" --capath "$work/no-capath"
    fi
    curl "$@" -- "$fetch_url" 2>"$work/curl.err" </dev/null
}
curl_err() { { grep '^curl: (' "$work/curl.err" || cat "$work/curl.err"; } | sed -n 1p; }

# key_fps FILE: the SHA256 fingerprint of each public key in FILE, one a line (none when
# ssh-keygen cannot read it).
key_fps() { ssh-keygen -l -E sha256 -f "$1" 2>/dev/null </dev/null | awk '{ print $2 }'; }
# fp_in FP LIST: 0 when FP is one of the lines of LIST.
fp_in() {
    case "$nl$2$nl" in
    *"$nl$1$nl"*) return 0 ;;
    esac
    return 1
}

# krl_check KRL WHAT CAKEYS CANAME LIST: 0 when sshd may use the file KRL for the CA whose key
# is in the file CAKEYS: it is not empty, starts with SSHKRL, ssh-keygen reads it, and every CA
# key it names is in CAKEYS (a KRL that names no CA, such as the CA's own while it has revoked
# nothing, passes). Writes ssh-keygen's listing, less the generation date, to LIST. Otherwise
# 1, with one line in why that starts with WHAT (a URL or a path); CANAME says where CAKEYS
# came from.
krl_check() {
    why=''
    # sshd takes an empty file for an empty KRL: a truncated answer must never un-revoke.
    if [ ! -s "$1" ]; then
        why="$2 is empty, not a KRL (an empty file would revoke nothing)"
        return 1
    fi
    if [ "$(dd if="$1" bs=6 count=1 2>/dev/null)" != SSHKRL ]; then
        why="$2 is not a KRL (no SSHKRL header)"
        return 1
    fi
    # The listing is held in memory, not in a file: a full temp folder must not shorten it
    # (a listing cut before its "# CA key" lines would pass the other-CA check below).
    # timeout: ssh-keygen is slow on some garbage after an SSHKRL header.
    if ! krl_listing=$(timeout "$SSHCERT_KEYGEN_TIMEOUT" ssh-keygen -Q -l -f "$1" \
        2>"$work/keygen.err" </dev/null); then
        why="the KRL $2 does not parse: $(sed -n '$p' "$work/keygen.err")"
        [ -s "$work/keygen.err" ] || why="the KRL $2 does not parse (ssh-keygen failed or took over ${SSHCERT_KEYGEN_TIMEOUT}s)"
        return 1
    fi
    case "$nl$krl_listing" in
    *"$nl# KRL version "*) ;;
    *)
        why="the KRL $2 does not parse: ssh-keygen listed no KRL version"
        return 1
        ;;
    esac
    krl_ours=$(key_fps "$3")
    if [ -z "$krl_ours" ]; then
        why="cannot read the CA key in $4, so cannot tell whose KRL $2 is"
        return 1
    fi
    # A KRL for another CA revokes nothing here: it comes from the wrong server.
    # "names no CA" is a valid answer, so an awk that failed or was cut short must not read as
    # one: its status and its last line (end) are both required.
    krl_cas=$(printf '%s\n' "$krl_listing" | awk '/^# CA key / { print $5 } END { print "end" }') ||
        krl_cas=''
    case $krl_cas in
    end | *"$nl"end) krl_cas=${krl_cas%end} ;;
    *)
        why="cannot list the CA keys that the KRL $2 names"
        return 1
        ;;
    esac
    for krl_fp in $krl_cas; do
        if ! fp_in "$krl_fp" "$krl_ours"; then
            why="the KRL $2 is for CA $krl_fp, not for $(printf '%s' "$krl_ours" | tr '\n' ' ') ($4)"
            return 1
        fi
    done
    # The listing always has its "# KRL version" line, so grep fails only when it cannot write.
    if ! printf '%s\n' "$krl_listing" | grep -v '^# Generated at' >"$5"; then
        why="cannot write the KRL's listing to $5 (temp folder full?)"
        return 1
    fi
}

# krl_get URL OUT CAKEYS CANAME LIST: fetches the KRL at URL into OUT and checks it as
# krl_check does; 1 with the reason in why when either fails.
krl_get() {
    if ! fetch "$1" "$2" "$SSHCERT_KRL_MAX"; then
        why="cannot fetch $1: $(curl_err)"
        return 1
    fi
    # curl's --max-filesize cannot stop a chunked answer of unknown size (before curl 8.4).
    if [ "$(wc -c <"$2")" -gt "$SSHCERT_KRL_MAX" ]; then
        why="$1 answered more than $SSHCERT_KRL_MAX bytes, not a KRL of ours"
        return 1
    fi
    krl_check "$2" "$1" "$3" "$4" "$5"
}

# ca_served_is_ours URL CAKEYS: 0 when the key served at URL (the CA's /v1/ca.pub) is one of
# those in the file CAKEYS. A CA that has revoked nothing serves a KRL that names no CA, so the
# KRL alone cannot tell a wrong server (another CA, a typo'd host) from ours. 1 with the reason
# in why otherwise.
ca_served_is_ours() {
    if ! fetch "$1" "$work/ca.served" 16384; then
        why="cannot fetch $1: $(curl_err)"
        return 1
    fi
    ca_served=$(key_fps "$work/ca.served")
    ca_ours=$(key_fps "$2")
    case $ca_served in
    '' | *"$nl"*)
        why="$1 is not one public key line"
        return 1
        ;;
    esac
    fp_in "$ca_served" "$ca_ours" && return 0
    why="the server's CA key ($1) is $ca_served, not the CA this device trusts ($(printf '%s' "$ca_ours" | tr '\n' ' ') in $2): the wrong server?"
    return 1
}

# krl_same OLD LIST: 0 when the file OLD is a KRL whose listing is LIST. The generation date,
# which changes at every fetch, is left out: only the content counts.
krl_same() {
    [ -s "$1" ] && [ "$(dd if="$1" bs=6 count=1 2>/dev/null)" = SSHKRL ] &&
        krl_same_listing=$(timeout "$SSHCERT_KEYGEN_TIMEOUT" ssh-keygen -Q -l -f "$1" \
            2>/dev/null </dev/null) &&
        printf '%s\n' "$krl_same_listing" | grep -v '^# Generated at' | cmp -s - "$2"
}
# krl_count LIST: how many revocation entries a listing holds.
krl_count() { grep -c '^[^#]' "$1" || :; }
# krl_date FILE: when FILE was last written, for messages.
krl_date() { date -r "$1" '+%Y-%m-%d %H:%M:%S %Z' 2>/dev/null || echo 'an earlier run'; }
