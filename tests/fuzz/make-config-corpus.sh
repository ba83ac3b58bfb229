#!/bin/bash
# Regenerates tests/fuzz/corpus/fuzz_config/: the example configs shipped with sshcert
# (deploy/sshcert.json.example, the README's, the demo's) and variants covering every key,
# both duration forms and the listen address forms. Needs python3. Usage: make-config-corpus.sh [OUTDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-$here/corpus/fuzz_config}
mkdir -p "$out"
cp "$src/deploy/sshcert.json.example" "$out/deploy-example.json"
# The README's config block (the first ```json fence).
awk '/^```json/{f=1; next} /^```/{if (f) exit} f' "$src/README.md" >"$out/readme.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
seeds = {
    "demo": {"listen": "127.0.0.1:8443", "data_dir": "data",
             "cert": {"default_ttl": "1h", "max_ttl": "8h"}},
    "tests": {"listen": "127.0.0.1:40000", "data_dir": "/tmp/x/data",
              "auth": {"password_hash": "min"}, "connection_timeout": 3},
    "empty": {},
    "ipv6": {"listen": "[::1]:8443"},
    "seconds": {"cert": {"default_ttl": 60, "max_ttl": 86400, "backdate": 0},
                "auth": {"lockout": 900}},
    "every-key": {"listen": "0.0.0.0:443", "data_dir": "/var/lib/sshcert",
                  "tls": {"cert_file": "tls/cert.pem", "key_file": "tls/key.pem"},
                  "cert": {"default_ttl": "15m", "max_ttl": "2d", "backdate": "90s",
                           "extensions": ["permit-pty", "permit-X11-forwarding"]},
                  "auth": {"password_hash": "moderate", "max_failures": 3, "lockout": "1h",
                           "client_max_failures": 50, "hash_workers": 4},
                  "threads": 8, "max_connections": 1024, "connection_timeout": 30,
                  "log": "syslog"},
    "no-extensions": {"cert": {"extensions": []}},
    "bad-unknown": {"listen": "127.0.0.1:8443", "colour": "blue"},
    "bad-ttl-order": {"cert": {"default_ttl": "9h", "max_ttl": "8h"}},
    "bad-tls-half": {"tls": {"cert_file": "c.pem"}},
}
for name, doc in seeds.items():
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
PY
