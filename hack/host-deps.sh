#!/usr/bin/env bash
# Install the Debian packages the lab needs (lab/apt-packages.txt) when any is missing.
set -euo pipefail
list="$(cd "$(dirname "$0")/.." && pwd)/lab/apt-packages.txt"
[ -f "$list" ] || exit 0
missing=()
for package in $(grep -v '^[[:space:]]*#' "$list"); do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
apt-get update -qq
# Without --no-install-recommends, systemd-container pulls libnss-mymachines into nsswitch.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
