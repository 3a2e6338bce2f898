# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Inventory host names from a preference list, over the host variables of hostvars.py. No API calls."""

# Preferences naming a host variable directly.
HOSTNAME_VARIABLES = ("computer_name", "ip_address", "managed_instance_id", "container_instance_id", "container_instance_arn")
# Preferences naming a tag (container-instance tags first, then managed-instance tags) or an ECS attribute.
TAG_PREFIX = "tag:"
ATTRIBUTE_PREFIX = "attribute:"
DEFAULT_HOSTNAMES = ("managed_instance_id", "container_instance_id")


def hostname_errors(hostnames):
    """Messages for the entries of the hostnames option that name nothing; empty when all are valid."""
    if not isinstance(hostnames, list):
        return ["hostnames must be a list, got {0}".format(type(hostnames).__name__)]
    errors = []
    for index, preference in enumerate(hostnames):
        if not isinstance(preference, str):
            errors.append("hostnames[{0}] must be a string, got {1}".format(index, type(preference).__name__))
        elif preference.startswith((TAG_PREFIX, ATTRIBUTE_PREFIX)):
            if not preference.split(":", 1)[1]:
                errors.append("hostnames[{0}] {1!r} names no tag or attribute".format(index, preference))
        elif preference not in HOSTNAME_VARIABLES:
            errors.append(
                "hostnames[{0}] {1!r} is not one of {2}, tag:NAME or attribute:NAME".format(index, preference, ", ".join(HOSTNAME_VARIABLES))
            )
    return errors


def hostname_candidate(host_vars, preference):
    """The value preference selects from host_vars, or None when the host has none."""
    if preference.startswith(TAG_PREFIX):
        name = preference[len(TAG_PREFIX):]
        for tags in (host_vars.get("ecs_tags") or {}, host_vars.get("ssm_tags") or {}):
            if tags.get(name):
                return tags[name]
        return None
    if preference.startswith(ATTRIBUTE_PREFIX):
        return (host_vars.get("attributes") or {}).get(preference[len(ATTRIBUTE_PREFIX):]) or None
    return host_vars.get(preference) or None


def preferred_hostname(host_vars, hostnames=None):
    """The first value found for the preferences in hostnames (DEFAULT_HOSTNAMES when empty), or None.

    A host that SSM does not know has no computer_name or ip_address, so the next preference
    applies; the default ends with container_instance_id, which every container instance has.
    """
    for preference in hostnames or DEFAULT_HOSTNAMES:
        value = hostname_candidate(host_vars, preference)
        if value:
            return str(value)
    return None
