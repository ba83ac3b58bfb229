#!/bin/sh
# Fails unless the module's dynamic symbol table defines pam_sm_* and nothing else.
set -u
mod=$1
syms=$(nm -D --defined-only "$mod" | awk 'NF >= 3 { print $3 }') || exit 1
[ -n "$syms" ] || { echo "no defined dynamic symbols in $mod"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^pam_sm_' || true)
if [ -n "$bad" ]; then
  echo "exported besides pam_sm_*:"
  printf '%s\n' "$bad"
  exit 1
fi
printf '%s\n' "$syms"
for want in pam_sm_authenticate pam_sm_setcred; do
  printf '%s\n' "$syms" | grep -qx "$want" || { echo "missing $want"; exit 1; }
done
echo "ok: only pam_sm_* exported"
