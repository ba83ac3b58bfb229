#!/bin/bash
# Installs the Debian packages sshcert builds and tests with, when any is missing.
# Needs root (or sudo). Never starts the system sshd: policy-rc.d blocks service starts
# during the install and is removed afterwards if we created it.
set -eu
PKGS=(build-essential cmake pkg-config clang libfuzzer-14-dev libclang-rt-14-dev
  nettle-dev libsodium-dev libargon2-dev libmicrohttpd-dev libjansson-dev liboath-dev
  libsqlite3-dev libssh-dev libcurl4-openssl-dev libqrencode-dev libpam0g-dev libcmocka-dev
  openssh-server openssh-client oathtool pamtester curl sqlite3 openssl
  python3 python3-jsonschema python3-pil zbar-tools procps iproute2 util-linux valgrind strace)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created=1
fi
trap '[ $created = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
