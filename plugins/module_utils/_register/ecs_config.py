# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Key management in the ECS agent's KEY=VALUE files (/etc/ecs/ecs.config, /var/lib/ecs/ecs.config).

Pure text in, text out: the module owns a few keys and leaves every other line (the user's keys,
comments, blank lines) exactly as it was. Each owned key ends up on exactly one line in exactly one
file, so re-running never appends a duplicate.
"""

import re

# The two files, by role; texts and plans are keyed by role so that tests can place them anywhere.
ETC = "etc"
VAR = "var"
ETC_ECS_CONFIG = "/etc/ecs/ecs.config"
VAR_ECS_CONFIG = "/var/lib/ecs/ecs.config"
CONFIG_FILES = {ETC: ETC_ECS_CONFIG, VAR: VAR_ECS_CONFIG}

# Where ecs-init and the external agent read each key (LAB-NOTES "Real agent behaviour"; the official
# ecs-anywhere-install.sh writes the same split).
KEY_FILES = {
    "ECS_CLUSTER": ETC,
    "HTTP_PROXY": ETC,
    "NO_PROXY": ETC,
    "AWS_DEFAULT_REGION": VAR,
    "ECS_EXTERNAL": VAR,
    "ECS_BACKEND_HOST": VAR,
    "ECS_ENABLE_GPU_SUPPORT": VAR,
}
MANAGED_KEYS = frozenset(KEY_FILES)

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def _key_of(line):
    match = _ASSIGNMENT.match(line)
    return match.group(1) if match else None


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse(text):
    """The key -> value map of a config file's text; a key set twice takes its last value, as
    systemd's EnvironmentFile= (which loads these files for ecs-init) does."""
    values = {}
    for line in (text or "").splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            values[match.group(1)] = _unquote(match.group(2))
    return values


def value_problem(field, value):
    """Why value cannot live on one KEY=VALUE line (naming field), or None."""
    if any(character in value for character in "\n\r\0"):
        return "{0} must not contain line breaks or NUL characters".format(field)
    return None


def update(text, set_keys=None, remove_keys=()):
    """text with set_keys assigned (in place of their first occurrence, else appended) and every
    other occurrence of those keys and of remove_keys dropped. Other lines are kept verbatim."""
    set_keys = dict(set_keys or {})
    remove_keys = set(remove_keys) - set(set_keys)
    lines = []
    written = set()
    for line in (text or "").splitlines():
        key = _key_of(line)
        if key in remove_keys or key in written:
            continue
        if key in set_keys:
            lines.append("{0}={1}".format(key, set_keys[key]))
            written.add(key)
            continue
        lines.append(line)
    lines.extend("{0}={1}".format(key, value) for key, value in set_keys.items() if key not in written)
    return "\n".join(lines) + "\n" if lines else ""


def desired_keys(cluster, region, ecs_endpoint=None, enable_gpu=None, http_proxy=None, no_proxy=None):
    """(set, remove) for the owned keys: an option left unset (None) leaves its key alone, an empty
    string (or enable_gpu=False) removes it, and a value sets it."""
    wanted = {
        "ECS_CLUSTER": cluster,
        "AWS_DEFAULT_REGION": region,
        "ECS_EXTERNAL": "true",
        "ECS_BACKEND_HOST": ecs_endpoint,
        "ECS_ENABLE_GPU_SUPPORT": {True: "true", False: ""}.get(enable_gpu),
        "HTTP_PROXY": http_proxy,
        "NO_PROXY": no_proxy,
    }
    to_set = {key: value for key, value in wanted.items() if value}
    to_remove = {key for key, value in wanted.items() if value == ""}
    return to_set, to_remove


def plan_files(texts, to_set, to_remove):
    """New text per file (role -> text; a missing file's text is None): each owned key is written to
    its home file and removed from the other, so the two files never disagree."""
    planned = {}
    for role, text in texts.items():
        mine = {key: value for key, value in to_set.items() if KEY_FILES[key] == role}
        elsewhere = {key for key in to_set if KEY_FILES[key] != role}
        planned[role] = update(text, mine, set(to_remove) | elsewhere)
    return planned


def effective_value(texts, key):
    """The value of key the agent sees (texts: role -> text). ecs-init loads /var/lib/ecs/ecs.config
    first and then /etc/ecs/ecs.config, whose keys win."""
    values = parse(texts.get(VAR))
    values.update(parse(texts.get(ETC)))
    return values.get(key)
