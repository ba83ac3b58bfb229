#!/bin/bash
# Regenerates tests/fuzz/corpus/fuzz_agent_reply/ from real ssh-agent replies.
# Each seed is one selector byte (0 identities, 1 sign, 2 status; see fuzz_agent_reply.c)
# followed by a reply exactly as the agent sent it, minus its length prefix.
# Needs ssh-agent, ssh-add, ssh-keygen and python3. Usage: make-agent-corpus.sh [OUTDIR]
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_agent_reply}
work=$(mktemp -d)
agent_pid=""
cleanup() {
  if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"
cd "$work"

ssh-agent -D -a "$work/agent.sock" >/dev/null 2>&1 &
agent_pid=$!
for _ in $(seq 1 100); do [ -S "$work/agent.sock" ] && break; sleep 0.05; done
export SSH_AUTH_SOCK="$work/agent.sock"

ssh-keygen -q -t ed25519 -N '' -C ca -f ca
ssh-keygen -q -t ed25519 -N '' -C "user key" -f user
ssh-keygen -q -s ca -I user-id -n alice,bob -z 1234 -V -5m:+1h -O force-command=/bin/true user.pub

python3 - "$out" <<'PY'
import base64, os, socket, struct, subprocess, sys

out = sys.argv[1]
sock_path = os.environ["SSH_AUTH_SOCK"]

def s(b):
    return struct.pack(">I", len(b)) + b

def call(body):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sock_path)
    c.sendall(s(body))
    hdr = b""
    while len(hdr) < 4:
        hdr += c.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]
    data = b""
    while len(data) < n:
        data += c.recv(n - len(data))
    c.close()
    return data

def save(name, selector, reply):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([selector]) + reply)

def blob(path):
    return base64.b64decode(open(path).read().split()[1])

LIST = bytes([11])
def sign(key_blob, data):
    return bytes([13]) + s(key_blob) + s(data) + struct.pack(">I", 0)
def remove(key_blob):
    return bytes([18]) + s(key_blob)

save("identities-empty", 0, call(LIST))
subprocess.run(["ssh-add", "-q", "user"], check=True, stdin=subprocess.DEVNULL)
save("identities-key-and-cert", 0, call(LIST))
save("sign-key", 1, call(sign(blob("user.pub"), b"challenge")))
save("sign-cert", 1, call(sign(blob("user-cert.pub"), os.urandom(32))))
save("sign-unknown-key", 1, call(sign(blob("ca.pub"), b"x")))
save("status-remove-success", 2, call(remove(blob("user-cert.pub"))))
save("status-remove-failure", 2, call(remove(blob("user-cert.pub"))))
save("identities-key-only", 0, call(LIST))
PY
ls -l "$out"
