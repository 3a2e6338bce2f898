#!/usr/bin/env bash
# Build the collection artifact into DIR (default: the repo root).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top}
mkdir -p "$out"
cd "$top"
"$top/.venv/bin/ansible-galaxy" collection build --force --output-path "$out" >/dev/null
echo "$out/fleetops-ecs_anywhere-$(sed -n 's/^version: //p' galaxy.yml).tar.gz"
