# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Container-instance writes for ecs_container_instance: state (ACTIVE/DRAINING) in batches of 10,
deregistration, custom attributes and tags; plus the pure compare and the drain waiter.

Clients are RetryingClient instances. Nothing here takes the module.
"""

import copy
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from .._ssm.instances import describe_instance_information
from .._ssm.managed_instances import deregister_managed_instance
from ..errors import AnsibleECSAnywhereError
from ..errors import ECSErrorHandler
from ..iterators import UPDATE_BATCH_SIZE
from ..iterators import chunks
from .container_instances import describe_container_instances
from .container_instances import list_container_instance_arns
from .container_instances import managed_instance_query

# Attribute names ECS and its agent set; they are not the user's to put, change or purge.
RESERVED_ATTRIBUTE_PREFIXES = ("ecs.", "com.amazonaws.ecs.")
# PutAttributes and DeleteAttributes take at most 10 attributes per call.
ATTRIBUTE_BATCH_SIZE = 10
# Ids per ec2InstanceId query, keeping the cluster-query-language expression short.
IDS_PER_QUERY = 20
MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.\-/@:]{1,128}$")
_ATTRIBUTE_VALUE = re.compile(r"^[A-Za-z0-9_.\-/@: ]{1,128}$")
SETTABLE_STATES = ("ACTIVE", "DRAINING")


def _invalid(message):
    return AnsibleECSAnywhereError(message=message)


# --- layer 1: API calls ----------------------------------------------------------------------------

@ECSErrorHandler.common_error_handler("update container instances state")
def update_container_instances_state(client, cluster, arns, status):
    """Set status on arns, 10 per call (the API's limit). Returns the failures ECS reported."""
    failures = []
    for batch in chunks(arns, UPDATE_BATCH_SIZE):
        answer = client.update_container_instances_state(cluster=cluster, containerInstances=batch, status=status)
        failures.extend(answer.get("failures", []))
    return failures


@ECSErrorHandler.common_error_handler("deregister container instance")
def deregister_container_instance(client, cluster, arn, force):
    client.deregister_container_instance(cluster=cluster, containerInstance=arn, force=force)


@ECSErrorHandler.common_error_handler("put container instance attributes")
def put_attributes(client, cluster, attributes):
    """attributes: [{name, value, targetId}], 10 per call. targetId is always given: without it ECS
    applies the attribute to every instance of the cluster."""
    for batch in chunks(attributes, ATTRIBUTE_BATCH_SIZE):
        client.put_attributes(cluster=cluster, attributes=batch)


@ECSErrorHandler.common_error_handler("delete container instance attributes")
def delete_attributes(client, cluster, attributes):
    for batch in chunks(attributes, ATTRIBUTE_BATCH_SIZE):
        client.delete_attributes(cluster=cluster, attributes=batch)


@ECSErrorHandler.common_error_handler("tag container instance")
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=[{"key": key, "value": value} for key, value in sorted(tags.items())])


@ECSErrorHandler.common_error_handler("untag container instance")
def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=sorted(keys))


# --- layer 2: pure validation, normalizing and comparing --------------------------------------------

def check_options(params):
    """Raise naming the option for input ECS would refuse, before any call."""
    if not params.get("cluster"):
        raise _invalid("cluster must name a cluster")
    for value in params.get("managed_instance_ids") or []:
        if not MANAGED_INSTANCE_ID.match(value or ""):
            raise _invalid("managed_instance_ids: {0!r} is not a managed-instance id (mi- and 17 hex digits)".format(value))
    for option in ("container_instances", "exclude"):
        if not all(params.get(option) or []):
            raise _invalid("{0} must not hold empty ids".format(option))
    for attribute in params.get("attributes") or []:
        name, value = attribute.get("name"), attribute.get("value")
        if not name or not _ATTRIBUTE_NAME.match(name):
            raise _invalid("attributes: name {0!r} must have 1 to 128 letters, digits or _.-/@:".format(name))
        if name.startswith(RESERVED_ATTRIBUTE_PREFIXES):
            raise _invalid("attributes: {0} is reserved for ECS (names starting with {1})".format(name, " or ".join(RESERVED_ATTRIBUTE_PREFIXES)))
        if value is not None and not _ATTRIBUTE_VALUE.match(str(value)):
            raise _invalid("attributes: value of {0} must have 1 to 128 letters, digits, spaces or _.-/@:".format(name))
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 1:
        raise _invalid("wait_timeout must be at least 1 second")


def custom_attributes(described):
    """The user's attributes of a described container instance: name -> value (None when unset)."""
    return {
        a["name"]: a.get("value")
        for a in described.get("attributes") or []
        if not a["name"].startswith(RESERVED_ATTRIBUTE_PREFIXES)
    }


def attribute_changes(current, desired, purge):
    """(to_put: name -> value, to_delete: [names]) that turn current (name -> value) into desired
    ([{name, value}]); without purge, attributes not in desired stay."""
    wanted = {a["name"]: (None if a.get("value") is None else str(a["value"])) for a in desired or []}
    to_put = {name: value for name, value in wanted.items() if name not in current or current[name] != value}
    to_delete = sorted(name for name in current if name not in wanted) if purge else []
    return to_put, to_delete


def normalize_container_instance(described):
    """A described container instance as the module returns it: snake_case, tags as a dict, custom
    attributes as a dict (all attributes stay in attributes_all)."""
    result = boto3_resource_to_ansible_dict(described, transform_tags=False, ignore_list=["attributes", "tags"], force_tags=False)
    result.pop("tags", None)
    result.pop("attributes", None)
    result["tags"] = boto3_tag_list_to_ansible_dict(described.get("tags") or [], "key", "value")
    result["attributes"] = custom_attributes(described)
    return result


class InstanceChange:
    """What one container instance needs: a status, attributes to put/delete, tags to set/unset."""

    def __init__(self, described, status=None, desired_attributes=None, purge_attributes=False, tags=None, purge_tags=True):
        self.arn = described["containerInstanceArn"]
        current_status = described.get("status")
        self.status = status if status and status != current_status else None
        self.put, self.delete = ({}, [])
        if desired_attributes is not None:
            self.put, self.delete = attribute_changes(custom_attributes(described), desired_attributes, purge_attributes)
        self.set_tags, self.unset_tags = ({}, [])
        if tags is not None:
            current_tags = boto3_tag_list_to_ansible_dict(described.get("tags") or [], "key", "value")
            self.set_tags, self.unset_tags = compare_aws_tags(current_tags, tags, purge_tags)

    @property
    def changed(self):
        return bool(self.status or self.put or self.delete or self.set_tags or self.unset_tags)

    def applied_to(self, normalized):
        """A copy of the normalized instance with the change made (check mode's would-be result)."""
        after = copy.deepcopy(normalized)
        if self.status:
            after["status"] = self.status
        after["attributes"].update(self.put)
        for name in self.delete:
            after["attributes"].pop(name, None)
        after["tags"].update({key: str(value) for key, value in self.set_tags.items()})
        for key in self.unset_tags:
            after["tags"].pop(key, None)
        return after


def diff_view(normalized):
    """The part of a normalized instance the diff shows."""
    return {"status": normalized.get("status"), "attributes": normalized.get("attributes"), "tags": normalized.get("tags")}


# --- selection and waiting --------------------------------------------------------------------------

def select_container_instances(client, cluster, container_instances=None, managed_instance_ids=None, query=None, exclude=None):
    """(described instances, missing) for the selectors. missing names the container instances and mi- ids
    that matched nothing; ids are deduplicated and results ordered by ARN. Instances named in exclude (ARN or
    id) are left out of the result; an mi- id whose only instance is excluded is not missing."""
    arns = list(container_instances or [])
    managed_instance_ids = sorted(set(managed_instance_ids or []))
    for batch in chunks(managed_instance_ids, IDS_PER_QUERY):
        arns.extend(list_container_instance_arns(client, cluster, query=managed_instance_query(batch)))
    if query:
        arns.extend(list_container_instance_arns(client, cluster, query=query))
    described, failures = describe_container_instances(client, cluster, sorted(set(arns))) if arns else ([], [])
    found_ids = {i.get("ec2InstanceId") for i in described}
    missing = {
        "container_instances": sorted(f.get("arn") for f in failures if f.get("reason") == "MISSING"),
        "managed_instance_ids": [i for i in managed_instance_ids if i not in found_ids],
    }
    other_failures = [f for f in failures if f.get("reason") != "MISSING"]
    if other_failures:
        raise _invalid("ECS could not describe {0}".format(", ".join("{0} ({1})".format(f.get("arn"), f.get("reason")) for f in other_failures)))
    excluded = {container_instance_id(value) for value in exclude or []}
    unique = {i["containerInstanceArn"]: i for i in described if container_instance_id(i["containerInstanceArn"]) not in excluded}
    return [unique[arn] for arn in sorted(unique)], missing


def container_instance_id(arn_or_id):
    """The id of a container instance given by ARN (container-instance/[CLUSTER/]ID) or id."""
    return arn_or_id.rsplit("/", 1)[-1]


def wait_until_drained(client, cluster, arns, timeout, sleep=time.sleep, clock=time.monotonic):
    """Described instances once none of arns runs or starts a task; raises after timeout seconds."""
    deadline = clock() + timeout
    delay = 1.0
    while True:
        described, dummy = describe_container_instances(client, cluster, arns)
        busy = [i for i in described if i.get("runningTasksCount") or i.get("pendingTasksCount")]
        if not busy:
            return described
        remaining = deadline - clock()
        if remaining <= 0:
            still = ", ".join(
                "{0} ({1} running, {2} pending)".format(i["containerInstanceArn"], i.get("runningTasksCount", 0), i.get("pendingTasksCount", 0)) for i in busy
            )
            raise _invalid("timed out after {0}s waiting for tasks to stop on {1}".format(timeout, still))
        sleep(min(delay, remaining))
        delay = min(delay * 2, 15)


# --- service: what ecs_container_instance calls ------------------------------------------------------

def _missing_message(missing):
    parts = ["{0} {1}".format(option, ", ".join(values)) for option, values in sorted(missing.items()) if values]
    return "; ".join(parts)


def _result(changes, before, after, extra=None):
    return {
        "changed": any(change.changed for change in changes) or bool((extra or {}).get("changed")),
        "container_instances": after,
        "diff": {
            "before": {i["container_instance_arn"]: diff_view(i) for i in before},
            "after": {i["container_instance_arn"]: diff_view(i) for i in after},
        },
    }


def _checked_selection(client, params):
    """check_options, then select_container_instances with the module's selectors."""
    check_options(params)
    return select_container_instances(
        client, params["cluster"], params.get("container_instances"), params.get("managed_instance_ids"), params.get("filter"), params.get("exclude")
    )


def ensure_state(client, params, check_mode):
    """Make the selected container instances carry the status (state active/draining; present keeps
    it), attributes and tags asked for; with wait, wait for draining instances to run no tasks."""
    cluster = params["cluster"]
    described, missing = _checked_selection(client, params)
    if any(missing.values()):
        raise _invalid("no container instance in cluster {0} for {1}".format(cluster, _missing_message(missing)))
    status = {"active": "ACTIVE", "draining": "DRAINING"}.get(params.get("state"))
    unsettable = [i["containerInstanceArn"] for i in described if status and i.get("status") not in SETTABLE_STATES]
    if unsettable:
        raise _invalid("cannot set {0} on container instances that are not ACTIVE or DRAINING: {1}".format(status, ", ".join(unsettable)))
    changes = [
        InstanceChange(i, status, params.get("attributes"), params.get("purge_attributes"), params.get("tags"), params.get("purge_tags", True))
        for i in described
    ]
    before = [normalize_container_instance(i) for i in described]
    if check_mode:
        return _result(changes, before, [change.applied_to(i) for change, i in zip(changes, before)])
    _apply(client, cluster, changes)
    arns = [change.arn for change in changes]
    if status == "DRAINING" and params.get("wait"):
        wait_until_drained(client, cluster, arns, params.get("wait_timeout") or 300)
    if any(change.changed for change in changes) or (status == "DRAINING" and params.get("wait")):
        described, dummy = describe_container_instances(client, cluster, arns)
    return _result(changes, before, [normalize_container_instance(i) for i in sorted(described, key=lambda i: i["containerInstanceArn"])])


def _apply(client, cluster, changes):
    to_put = [{"name": name, "value": value, "targetId": c.arn} for c in changes for name, value in sorted(c.put.items())]
    to_delete = [{"name": name, "targetId": c.arn} for c in changes for name in c.delete]
    for attributes in to_put:
        if attributes["value"] is None:
            del attributes["value"]
    if to_put:
        put_attributes(client, cluster, to_put)
    if to_delete:
        delete_attributes(client, cluster, to_delete)
    for change in changes:
        if change.set_tags:
            tag_resource(client, change.arn, change.set_tags)
        if change.unset_tags:
            untag_resource(client, change.arn, change.unset_tags)
    for status in SETTABLE_STATES:
        arns = [c.arn for c in changes if c.status == status]
        failures = update_container_instances_state(client, cluster, arns, status) if arns else []
        if failures:
            raise _invalid("ECS refused to set {0} on {1}".format(status, ", ".join("{0} ({1})".format(f.get("arn"), f.get("reason")) for f in failures)))


def ensure_absent(client, ssm_client, params, check_mode):
    """Deregister the selected container instances (force optional) and, with
    deregister_managed_instance, their SSM managed instances (and any selected mi- id without one)."""
    cluster = params["cluster"]
    described, missing = _checked_selection(client, params)
    live = [i for i in described if i.get("status") != "INACTIVE"]
    before = [normalize_container_instance(i) for i in live]
    managed_ids = sorted({i["ec2InstanceId"] for i in live if MANAGED_INSTANCE_ID.match(i.get("ec2InstanceId") or "")} | set(missing["managed_instance_ids"]))
    if not params.get("deregister_managed_instance", True):
        managed_ids = []
    after, deregistered = [], []
    if check_mode:
        after = [dict(i, status="INACTIVE") for i in before]
        known = {i["InstanceId"] for i in describe_instance_information(ssm_client, instance_ids=managed_ids)} if managed_ids else set()
        deregistered = [mi for mi in managed_ids if mi in known]
    else:
        for instance in live:
            deregister_container_instance(client, cluster, instance["containerInstanceArn"], bool(params.get("force")))
        if live:
            # Described again (INACTIVE instances still describe) rather than taken from each answer, so the
            # result has the tags DeregisterContainerInstance leaves out.
            described, dummy = describe_container_instances(client, cluster, [i["containerInstanceArn"] for i in live])
            after = [normalize_container_instance(i) for i in sorted(described, key=lambda i: i["containerInstanceArn"])]
        deregistered = [mi for mi in managed_ids if deregister_managed_instance(ssm_client, mi)]
    result = _result([], before, after, {"changed": bool(live or deregistered)})
    result["deregistered_managed_instance_ids"] = deregistered
    result["diff"]["before"]["managed_instance_ids"] = deregistered
    result["diff"]["after"]["managed_instance_ids"] = []
    return result
