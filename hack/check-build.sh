#!/usr/bin/env bash
# The built artifact holds the collection only, installs, and ansible-doc lists its plugins.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/.tmp"
work=$(mktemp -d "$top/.tmp/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifact=$("$top/hack/build.sh" "$work")
echo "built $(basename "$artifact")"
leaks=$(tar -tzf "$artifact" | grep -E '^(lab|\.venv|\.tmp|tests/output|tests/lab|bench|hack)/|__pycache__|\.pyc$' || true)
if [ -n "$leaks" ]; then
  echo "FAIL: the artifact carries files that must stay out of it:"; echo "$leaks" | head -20; exit 1
fi
# Only the installed artifact may be visible, not the working tree that `make venv` links.
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
"$top/.venv/bin/ansible-galaxy" collection install --offline --no-deps -p "$work/collections" "$artifact" >/dev/null
listing=$("$top/.venv/bin/ansible-doc" -l fleetops.ecs_anywhere)
echo "$listing"
inventory=$("$top/.venv/bin/ansible-doc" -t inventory -l fleetops.ecs_anywhere)
echo "$inventory"
for plugin in "$top"/plugins/modules/*.py "$top"/plugins/inventory/*.py; do
  [ -e "$plugin" ] || continue
  name="fleetops.ecs_anywhere.$(basename "$plugin" .py)"
  grep -q "^$name " <<<"$listing"$'\n'"$inventory" || { echo "FAIL: ansible-doc does not list $name"; exit 1; }
done
