# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ecs_anywhere_register's two states: validate, observe, plan, carry out (unless check mode), wait."""

import re

from . import ecs_config
from . import plan as planning
from .host import cluster_name

# ECS cluster names: up to 255 letters, digits, hyphens and underscores (or the cluster's ARN).
_CLUSTER = re.compile(r"^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/)?[A-Za-z0-9_-]{1,255}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


class OptionError(ValueError):
    """A module option is invalid; the message names it."""


def desired_from_params(params):
    """planning.Desired from the module's parameters; OptionError naming the field for bad input."""
    cluster, region = params["cluster"], params["region"]
    if not cluster or not _CLUSTER.match(cluster):
        raise OptionError("cluster must be an ECS cluster name (letters, digits, - and _, at most 255) or cluster ARN, got {0!r}".format(cluster))
    if not region or not _REGION.match(region):
        raise OptionError("region must be an AWS region name such as us-east-1, got {0!r}".format(region))
    for field in ("ecs_endpoint", "http_proxy", "no_proxy"):
        problem = ecs_config.value_problem(field, params[field]) if params.get(field) is not None else None
        if problem:
            raise OptionError(problem)
    if params.get("activation_id") is not None and not params["activation_id"].strip():
        raise OptionError("activation_id must not be empty")
    to_set, to_remove = ecs_config.desired_keys(
        cluster_name(cluster), region, ecs_endpoint=params.get("ecs_endpoint"), enable_gpu=params.get("enable_gpu"),
        http_proxy=params.get("http_proxy"), no_proxy=params.get("no_proxy"))
    return planning.Desired(cluster_name(cluster), region, to_set, to_remove, bool(params.get("force_register")))


def _diff(plan):
    return [
        {"before_header": path, "after_header": path, "before": before or "", "after": after}
        for path, (before, after) in sorted(plan.files.items())
    ]


def _run(host, state, plan, register=None):
    """Carry out plan's steps in order; register() performs the SSM registration when planned."""
    running = {name: service.active for name, service in state.services.items()}
    for name in plan.stop:
        host.systemctl("stop", name)
        running[name] = False
    registration = register() if plan.register else None
    if plan.clear_registration:
        host.clear_registration()
    for path, (dummy, after) in sorted(plan.files.items()):
        host.write_file(path, after)
    if plan.wipe_agent_data:
        host.wipe_agent_data()
    for name in plan.disable:
        host.systemctl("disable", name)
    for name in plan.enable:
        host.systemctl("enable", name)
    for name in plan.start:
        host.systemctl("restart" if running[name] else "start", name)
    return registration


def ensure_present(host, params, check_mode=False, diff=False):
    """Register (unless registered in the region), configure and start the agents, wait for the
    container instance. The result names the ids the host left behind (previous_*)."""
    desired = desired_from_params(params)
    state = host.observe()
    host.require_installed(state)
    plan = planning.plan_present(state, desired)
    activation_id, activation_code = params.get("activation_id"), params.get("activation_code")
    if plan.register and not check_mode and not (activation_id and activation_code):
        host.fail("needs an SSM activation ({0}): give activation_id and activation_code".format(plan.changes[0]["reason"]))

    previous_arn = (state.metadata or {}).get("ContainerInstanceArn")
    current_arn = previous_arn if cluster_name((state.metadata or {}).get("Cluster")) == desired.cluster else None
    registration = state.registration
    result = {"changed": plan.changed, "changes": plan.changes, "needs_activation": plan.register,
              "cluster": desired.cluster, "region": desired.region}
    if diff:
        result["diff"] = _diff(plan)

    if not check_mode:
        new = _run(host, state, plan, register=lambda: host.register(activation_id, activation_code, desired.region, state.registration))
        registration = new or registration
    if plan.register:
        result["previous_managed_instance_id"] = state.registration.managed_instance_id if state.registration else None
        if check_mode:
            registration = None
    if plan.register or plan.wipe_agent_data:
        current_arn = None
    if not check_mode and params.get("wait", True):
        current_arn = host.wait_for_container_instance(desired.cluster, params.get("wait_timeout", 120))["ContainerInstanceArn"]
    result["managed_instance_id"] = registration.managed_instance_id if registration else None
    result["container_instance_arn"] = current_arn
    if previous_arn and previous_arn != current_arn and (plan.register or plan.wipe_agent_data):
        result["previous_container_instance_arn"] = previous_arn
    return result


def ensure_absent(host, params, check_mode=False, diff=False):
    """Stop and disable the agents, clear the registration and the agent data; return the ids the host
    had so that the controller can deregister them."""
    state = host.observe()
    plan = planning.plan_absent(state)
    metadata = state.metadata or {}
    result = {
        "changed": plan.changed,
        "changes": plan.changes,
        "needs_activation": False,
        "managed_instance_id": None,
        "container_instance_arn": None,
        "previous_managed_instance_id": state.registration.managed_instance_id if state.registration else None,
        "previous_container_instance_arn": metadata.get("ContainerInstanceArn"),
        "cluster": cluster_name(metadata.get("Cluster")) or ecs_config.effective_value(state.texts, "ECS_CLUSTER"),
        "region": state.registration.region if state.registration else ecs_config.effective_value(state.texts, "AWS_DEFAULT_REGION"),
    }
    if diff:
        result["diff"] = []
    if plan.clear_registration:
        host.require_ssm_agent()
    if not check_mode:
        _run(host, state, plan)
    return result
