# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ecs_anywhere_register must change on a host, and why: pure decisions over observed facts.

The module observes the host (HostState), this plans (Plan), and the module carries the plan out in
a fixed order. Check mode returns the plan without carrying it out.
"""

from collections import namedtuple

from . import ecs_config

SSM_SERVICE = "amazon-ssm-agent"
ECS_SERVICE = "ecs"
# ecs-init registers into this cluster when ECS_CLUSTER is unset.
DEFAULT_CLUSTER = "default"

ServiceState = namedtuple("ServiceState", ["installed", "enabled", "active"])

# registration: vault.Registration or None; vault_problem: why the Vault could not be read (or None);
# texts: config role (ecs_config.ETC / VAR) -> text (None when missing); config_paths: role -> path;
# services: name -> ServiceState; agent_data: whether the ECS agent's data directory holds state;
# metadata: the introspection answer or None.
HostState = namedtuple("HostState", ["registration", "vault_problem", "texts", "config_paths", "services", "agent_data", "metadata"])

# to_set / to_remove: owned ecs.config keys (ecs_config.desired_keys).
Desired = namedtuple("Desired", ["cluster", "region", "to_set", "to_remove", "force_register"])


class Plan:
    """Steps in execution order; changes lists them as {action, reason} for the module's result."""

    def __init__(self):
        self.register = False
        self.clear_registration = False
        self.files = {}  # file path -> (before, after) for files that change
        self.wipe_agent_data = False
        self.stop = []  # services to stop before the changes
        self.disable = []
        self.enable = []
        self.start = []  # services to start (or restart, if still running) after the changes
        self.changes = []

    @property
    def changed(self):
        return bool(self.changes)

    def note(self, action, reason):
        self.changes.append({"action": action, "reason": reason})


def describe_key_changes(before, after):
    """A short reason naming each owned key a file edit adds, changes, removes or de-duplicates."""
    old, new = ecs_config.parse(before), ecs_config.parse(after)
    parts = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            parts.append("remove {0}".format(key))
        elif key not in old:
            parts.append("set {0}={1}".format(key, new[key]))
        elif old[key] != new[key]:
            parts.append("change {0} from {1} to {2}".format(key, old[key], new[key]))
    duplicates = _assignments(before) - len(old) - (_assignments(after) - len(new))
    if duplicates > 0:
        parts.append("drop {0} duplicate line(s)".format(duplicates))
    return "; ".join(parts) or "normalize owned key lines"


def _assignments(text):
    return sum(1 for line in (text or "").splitlines() if ecs_config.parse(line))


def _registration_reason(state, desired):
    registration = state.registration
    if desired.force_register:
        return "force_register is set"
    if registration is None:
        if state.vault_problem:
            return "the SSM registration cannot be read ({0})".format(state.vault_problem)
        return "the host is not registered with SSM"
    if registration.region != desired.region:
        return "registered as {0} in {1}, not in {2}".format(registration.managed_instance_id, registration.region, desired.region)
    return None


def plan_present(state, desired):
    """The Plan that brings a host to the desired registration, config and running services."""
    plan = Plan()
    register_reason = _registration_reason(state, desired)
    if register_reason:
        plan.register = True
        if state.services[SSM_SERVICE].active:
            plan.stop.append(SSM_SERVICE)
        plan.note("register with SSM", register_reason)

    planned = ecs_config.plan_files(state.texts, desired.to_set, desired.to_remove)
    for role in sorted(planned):
        before, after = state.texts.get(role), planned[role]
        path = state.config_paths[role]
        if after != (before or ""):
            plan.files[path] = (before, after)
            plan.note("update {0}".format(path), describe_key_changes(before, after))

    reset_reasons = []
    if plan.register and state.registration is not None:
        reset_reasons.append("the host gets a new managed-instance id")
    old_cluster = ecs_config.effective_value(state.texts, "ECS_CLUSTER") or DEFAULT_CLUSTER
    if old_cluster != desired.cluster:
        reset_reasons.append("cluster changes from {0} to {1}".format(old_cluster, desired.cluster))
    old_region = ecs_config.effective_value(state.texts, "AWS_DEFAULT_REGION")
    if old_region and old_region != desired.region:
        reset_reasons.append("region changes from {0} to {1}".format(old_region, desired.region))
    if state.agent_data and reset_reasons:
        # Stale agent data (the old container instance) keeps the agent from starting in the new place.
        plan.wipe_agent_data = True
        plan.note("clear ECS agent data", "; ".join(reset_reasons))

    restart_ecs = bool(plan.files) or plan.wipe_agent_data or plan.register
    if state.services[ECS_SERVICE].active and plan.wipe_agent_data:
        plan.stop.append(ECS_SERVICE)
    for name, restart, why in (
        (SSM_SERVICE, plan.register, "new registration"),
        (ECS_SERVICE, restart_ecs, "configuration or registration changed"),
    ):
        service = state.services[name]
        if not service.enabled:
            plan.enable.append(name)
            plan.note("enable {0}".format(name), "it is not enabled at boot")
        if restart:
            plan.start.append(name)
            verb = "restart" if service.active else "start"
            plan.note("{0} {1}".format(verb, name), why)
        elif not service.active:
            plan.start.append(name)
            plan.note("start {0}".format(name), "it is not running")
    return plan


def plan_absent(state):
    """The Plan that stops both agents and removes the registration and the ECS agent's data."""
    plan = Plan()
    for name in (ECS_SERVICE, SSM_SERVICE):
        service = state.services[name]
        if service.active:
            plan.stop.append(name)
            plan.note("stop {0}".format(name), "the host leaves ECS Anywhere")
        if service.enabled:
            plan.disable.append(name)
            plan.note("disable {0}".format(name), "it must not start again at boot")
    if state.registration is not None:
        plan.clear_registration = True
        plan.note("clear SSM registration", "registered as {0} in {1}".format(state.registration.managed_instance_id, state.registration.region))
    if state.agent_data:
        plan.wipe_agent_data = True
        plan.note("clear ECS agent data", "its container instance is deregistered with the host")
    return plan
