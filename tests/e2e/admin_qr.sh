#!/bin/bash
# `sshcert-admin user add` on a terminal draws the TOTP enrolment QR code; a real QR reader
# (zbarimg) must decode exactly the otpauth:// URI it printed. `script` gives it a terminal.
. "$SSHCERT_SRC_DIR/tests/lib.sh"

cd "$T_DIR" || exit 1
echo '{"data_dir": "data"}' >cfg.json
"$ADMIN" -c cfg.json init >/dev/null 2>&1 || { t_bad "init failed"; t_done; }
script -q -e -c "bash -c 'echo password-123 | $ADMIN -c cfg.json user add qruser --principals qruser'" \
  transcript.txt >/dev/null
t_eq "user add on a terminal exits 0" 0 $?
uri=$(sed -n 's/^TOTP URI: *\(otpauth:[^[:space:]]*\).*/\1/p' transcript.txt | tr -d '\r')
t_match "the URI names the user, issuer and a 32-character secret" \
  '^otpauth://totp/sshcert:qruser\?secret=[A-Z2-7]{32}&issuer=sshcert&algorithm=SHA1&digits=6&period=30$' "$uri"
/usr/bin/python3 "$SSHCERT_SRC_DIR/tests/tools/qr-from-terminal.py" transcript.txt qr.png
t_eq "a QR code was drawn" 0 $?
t_eq "zbarimg reads the URI back from the QR code" "QR-Code:$uri" "$(zbarimg -q --raw -Sdisable -Sqrcode.enable qr.png 2>/dev/null | sed 's/^/QR-Code:/' | tr -d '\r')"
# Not on a terminal (a script): no QR code, no escape sequences in the output.
echo password-123 | "$ADMIN" -c cfg.json user add plain --principals plain >plain.txt 2>&1
t_eq "no QR code when stdout is not a terminal" 0 "$(grep -c $'\033' plain.txt)"
t_done
