#!/bin/bash
# Regenerates tests/fuzz/corpus/fuzz_http_json/: POST /v1/certificates bodies as clients send
# them, with real public key lines from ssh-keygen and real TOTP codes from oathtool, plus the
# error classes the decoder must tell apart (wrong types, unknown fields, other key types).
# Needs ssh-keygen, oathtool and python3. Usage: make-http-json-corpus.sh [OUTDIR]
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_http_json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f "$work/ed"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$work/ed2"
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa@laptop -f "$work/rsa"
ssh-keygen -q -t ecdsa -N '' -C ecdsa@laptop -f "$work/ecdsa"
code=$(oathtool --totp -b JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP)
python3 - "$out" "$code" "$work/ed.pub" "$work/ed2.pub" "$work/rsa.pub" "$work/ecdsa.pub" <<'PY'
import json, sys
out, code = sys.argv[1], sys.argv[2]
ed, ed2, rsa, ecdsa = (open(p).read() for p in sys.argv[3:7])
ed_line = ed.strip()
base = {"username": "alice", "password": "correct horse battery", "totp": code,
        "public_key": ed_line}
seeds = {
    "minimal": base,
    "with-ttl": dict(base, ttl=3600),
    "with-principals": dict(base, principals=["alice", "deploy"]),
    "full": dict(base, ttl=900, principals=["alice"]),
    "key-newline": dict(base, public_key=ed),
    "key-no-comment": dict(base, public_key=ed2.strip()),
    "rsa-key": dict(base, public_key=rsa.strip()),
    "ecdsa-key": dict(base, public_key=ecdsa.strip()),
    "ttl-string": dict(base, ttl="1h"),
    "ttl-negative": dict(base, ttl=-5),
    "ttl-float": dict(base, ttl=1.5),
    "principals-dup": dict(base, principals=["alice", "alice"]),
    "principals-comma": dict(base, principals=["a,b"]),
    "principals-empty": dict(base, principals=[]),
    "unknown-field": dict(base, admin=True),
    "username-number": dict(base, username=7),
    "unicode": dict(base, username="\u00e9l\u00e8ve", password="p\u00e4ss \u2603"),
    "sql": dict(base, username="alice' OR '1'='1"),
    "missing-totp": {k: v for k, v in base.items() if k != "totp"},
}
for name, doc in seeds.items():
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
# Shapes json.dump cannot write.
raw = {
    "pretty.json": json.dumps(base, indent=2) + "\n",
    "duplicate-field.json": '{"username":"a","username":"b","password":"p","totp":"1","public_key":"x"}',
    "nul-escape.json": '{"username":"al\\u0000ice","password":"p","totp":"1","public_key":"x"}',
    "array.json": "[1,2,3]",
    "truncated.json": json.dumps(base)[:40],
}
for name, text in raw.items():
    with open(f"{out}/{name}", "w") as f:
        f.write(text)
PY
