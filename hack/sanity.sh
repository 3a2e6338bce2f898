#!/usr/bin/env bash
# ansible-test sanity on exactly what ships: the built collection, unpacked where ansible-test
# expects it (…/ansible_collections/fleetops/ecs_anywhere with git metadata), without Docker.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/.venv/bin"
work="$top/.tmp/sanity"
dest="$work/ansible_collections/fleetops/ecs_anywhere"

# ansible-test bootstraps pip in its sanity venvs with a script from an unreachable host; provide it.
pip_version=$(sed -n "s/^ *pip=.\([0-9.]*\).,/\1/p" "$("$bin/python" -c "import ansible_test, os; print(os.path.dirname(ansible_test.__file__))")/_internal/python_requirements.py" | head -1)
cache="$HOME/.ansible/test/cache"
standin="$cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$standin" ] || ! ls "$cache"/pip-"$pip_version"-*.whl >/dev/null 2>&1; then
  mkdir -p "$cache"
  "$bin/pip" download -q --no-deps -d "$cache" "pip==$pip_version"
  cp "$top/hack/get_pip_standin.py" "$standin"
fi

rm -rf "$work" && mkdir -p "$dest"
"$top/hack/build.sh" "$work"
tar -xzf "$work"/fleetops-ecs_anywhere-*.tar.gz -C "$dest"
# Dependencies are found next to the collection, as ansible-test expects.
site=$("$bin/python" -c 'import ansible_collections.amazon.aws as c, os; print(os.path.dirname(c.__file__))' 2>/dev/null \
  || "$bin/python" -c 'import ansible_collections, os; print(os.path.join(list(ansible_collections.__path__)[0], "amazon", "aws"))')
mkdir -p "$work/ansible_collections/amazon" && ln -s "$site" "$work/ansible_collections/amazon/aws"
cd "$dest"
printf "tests/output/\n" > .gitignore
git init -q && git add -A && git -c user.email=ci@lab -c user.name=ci commit -qm sanity
"$bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
