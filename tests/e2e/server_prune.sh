#!/bin/bash
# The throttling table does not grow without bound under a spray of made-up usernames: rows
# whose window and lock are over are pruned once per STORE_FAILURE_PRUNE_EVERY (256) recorded
# failures. A failed login records two (its username and its client address), so the boundary
# is the 128th login: 127 prune nothing, the 128th prunes the stale rows.
. "$SSHCERT_SRC_DIR/tests/e2e/server_common.sh"

srv_start prune '"auth":{"password_hash":"min","lockout":"5s","max_failures":1000,"client_max_failures":1000000}' ||
  { t_bad "server did not start"; t_done; }
pub="$T_DIR/k.pub"
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/k"
rows() { sqlite3 "$SRV_DATA/sshcert.db" "select count(*) from failures"; }
fail_as() {
  curl "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"$1\",\"password\":\"wrong-password\",\"totp\":\"000000\",\"public_key\":\"$(cat "$pub")\"}" \
    "$SRV_URL/v1/certificates"
}
codes=$(for i in $(seq 1 100); do fail_as "spray-a$i"; done | sort | uniq -c | awk '{print $2 "x" $1}')
t_eq "100 made-up names are each refused with 401" "401x100" "$codes"
t_eq "100 names leave 100 user rows and one address row" 101 "$(rows)"
sleep 6 # the 5 s window of the first batch is over
codes=$(for i in $(seq 1 27); do fail_as "spray-b$i"; done | sort | uniq -c | awk '{print $2 "x" $1}')
t_eq "27 more refusals" "401x27" "$codes"
t_eq "127 failed logins (254 failures recorded): nothing pruned yet" 128 "$(rows)"
t_eq "the 128th failed login" 401 "$(fail_as spray-b28)"
t_eq "its 256th recorded failure prunes the 100 stale rows" 29 "$(rows)"
srv_stop
t_eq "server stops cleanly" 0 "$SRV_RC"
t_done
