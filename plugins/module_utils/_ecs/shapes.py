# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Conform user input to a botocore request shape. No API calls.

Users write AWS documents in camelCase (copied from the AWS docs) or in snake_case (Ansible style), and
YAML/Jinja turn numbers into strings and back. Walking botocore's own model of the request maps every key
to its AWS member name, coerces scalars to the member's type, checks enums, and reports unknown keys with
the path the user wrote, before any API call. botocore's parameter validation would reject the same input
later, but only after other calls were made and with the camelCase path of the request.
"""

from ansible.module_utils.parsing.convert_bool import BOOLEANS
from ansible.module_utils.parsing.convert_bool import boolean

from ..errors import AnsibleECSAnywhereError


def request_shape(service_model, operation):
    """The input shape of operation (e.g. "RegisterTaskDefinition") in a botocore service model."""
    return service_model.operation_model(operation).input_shape


def member_for_key(shape, key):
    """The member name of structure shape that key names (any case, with or without underscores), or None."""
    if key in shape.members:
        return key
    folded = str(key).replace("_", "").lower()
    for member in shape.members:
        if member.lower() == folded:
            return member
    return None


def conform(value, shape, path):
    """Return value with AWS member names and types of shape; None values are dropped as unset.

    Raises AnsibleECSAnywhereError naming path (e.g. "containers[0].port_mappings[1].host_port")."""
    handler = _CONFORMERS.get(shape.type_name)
    return handler(value, shape, path) if handler else value


def _structure(value, shape, path):
    if not isinstance(value, dict):
        raise _error(path, "expected a dictionary, got {0}".format(_type_name(value)))
    result = {}
    for key, item in value.items():
        member = member_for_key(shape, key)
        if member is None:
            raise _error(_join(path, key), "unknown key; expected one of {0}".format(", ".join(sorted(shape.members))))
        if member in result:
            raise _error(_join(path, key), "given twice (as {0} and another spelling)".format(member))
        if item is not None:
            result[member] = conform(item, shape.members[member], _join(path, key))
    return result


def _list(value, shape, path):
    if not isinstance(value, (list, tuple)):
        raise _error(path, "expected a list, got {0}".format(_type_name(value)))
    return [conform(item, shape.member, "{0}[{1}]".format(path, index)) for index, item in enumerate(value)]


def _map(value, shape, path):
    if not isinstance(value, dict):
        raise _error(path, "expected a dictionary, got {0}".format(_type_name(value)))
    return dict((str(key), conform(item, shape.value, _join(path, key))) for key, item in value.items() if item is not None)


def _string(value, shape, path):
    if isinstance(value, bool):
        # YAML turns "true" into a boolean; AWS stores environment values and the like as text.
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    elif not isinstance(value, str):
        raise _error(path, "expected a string, got {0}".format(_type_name(value)))
    allowed = shape.enum
    if allowed and value not in allowed:
        matches = [choice for choice in allowed if choice.lower() == value.lower()]
        if not matches:
            raise _error(path, "{0!r} is not one of {1}".format(value, ", ".join(allowed)))
        value = matches[0]
    return value


def _integer(value, shape, path):
    if isinstance(value, bool):
        raise _error(path, "expected an integer, got a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _error(path, "expected an integer, got {0!r}".format(value))


def _boolean(value, shape, path):
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and value in BOOLEANS:
        return boolean(value)
    raise _error(path, "expected a boolean, got {0!r}".format(value))


def _double(value, shape, path):
    if isinstance(value, bool):
        raise _error(path, "expected a number, got a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _error(path, "expected a number, got {0!r}".format(value))


_CONFORMERS = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "boolean": _boolean,
    "double": _double,
    "float": _double,
}


def _join(path, key):
    return "{0}.{1}".format(path, key) if path else str(key)


def _type_name(value):
    return {dict: "a dictionary", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)


def _error(path, message):
    return AnsibleECSAnywhereError(message="{0}: {1}".format(path, message))
