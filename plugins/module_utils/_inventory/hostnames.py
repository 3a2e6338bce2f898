# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Inventory host names from a preference list, over the host variables of hostvars.py. No API calls."""

import datetime

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


def _registered_at(host_vars):
    """registeredAt as an aware datetime (hostvars.py gives ISO 8601 text), or the earliest moment."""
    value = host_vars.get("registered_at")
    try:
        moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        moment = None
    if not isinstance(moment, datetime.datetime):
        return datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def claim_rank(host_vars):
    """How strongly a record claims a host name that several records share: a connected ECS agent first,
    then a live (not INACTIVE) container instance, then the newer registration.

    ECS registers a NEW container instance when an agent registers without the ARN it saved (its data
    directory was wiped), and the old one stays ACTIVE and, its agent gone, disconnected; both carry the
    host's managed-instance id, and so the same default name (aws/amazon-ecs-agent,
    ecs-agent/api/ecs/client/ecs_client.go, registerContainerInstance: "This is a new instance, not
    previously registered"). The stale one must not win the name.
    """
    return (host_vars.get("agent_connected") is True, host_vars.get("status") in ("ACTIVE", "DRAINING"), _registered_at(host_vars))


def pick_named_hosts(hosts):
    """(kept, passed_over) from (host name, what, host variables) triples.

    kept has one triple per host name, sorted by name: the record with the highest claim_rank, and on a tie
    the last one in the given order. passed_over lists (host name, what was kept, what was left out).
    """
    best = {}
    passed_over = []
    for host in hosts:
        name = host[0]
        current = best.get(name)
        if current is None:
            best[name] = host
        elif claim_rank(host[2]) >= claim_rank(current[2]):
            passed_over.append((name, host[1], current[1]))
            best[name] = host
        else:
            passed_over.append((name, current[1], host[1]))
    # A name passed over twice reports the final winner.
    passed_over = [(name, best[name][1], left_out) for name, dummy, left_out in passed_over]
    return [best[name] for name in sorted(best)], passed_over
