# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Host variables and default groups of the inventory plugin, from a joined host record.

No API calls. Names are boto3's in snake_case, except where ECS and SSM would clash
(ssm_agent_version) or ansible reserves the name (tags: ecs_tags and ssm_tags). Attributes and
tags are dicts rather than lists of pairs, so that templates and keyed_groups can use them.
Times are ISO 8601 strings whether boto3 (datetimes) or a cache plugin (strings, for JSON ones)
gave them.
"""

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

SSM_CONNECTION = "amazon.aws.aws_ssm"

# Instance-information field -> host variable.
_MANAGED_INSTANCE_FIELDS = {
    "InstanceId": "managed_instance_id",
    "PingStatus": "ping_status",
    "LastPingDateTime": "last_ping_date_time",
    "IPAddress": "ip_address",
    "ComputerName": "computer_name",
    "PlatformType": "platform_type",
    "PlatformName": "platform_name",
    "PlatformVersion": "platform_version",
    "AgentVersion": "ssm_agent_version",
    "ActivationId": "activation_id",
    "IamRole": "iam_role",
    "RegistrationDate": "registration_date",
    "Name": "managed_instance_name",
}

# Fields that boto3 returns as datetimes and a cache plugin may return as ISO 8601 strings.
_TIMESTAMP_FIELDS = ("LastPingDateTime", "RegistrationDate", "registeredAt")

# Container-instance field -> host variable.
_CONTAINER_INSTANCE_FIELDS = {
    "containerInstanceArn": "container_instance_arn",
    "ec2InstanceId": "managed_instance_id",
    "status": "status",
    "statusReason": "status_reason",
    "agentConnected": "agent_connected",
    "runningTasksCount": "running_tasks_count",
    "pendingTasksCount": "pending_tasks_count",
    "registeredAt": "registered_at",
}


def _value(entry, field):
    value = entry[field]
    if field in _TIMESTAMP_FIELDS and isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def container_instance_vars(container_instance):
    """Host variables from a described container instance (include=TAGS)."""
    host_vars = {name: _value(container_instance, field) for field, name in _CONTAINER_INSTANCE_FIELDS.items() if field in container_instance}
    if "containerInstanceArn" in container_instance:
        # ARNs end in container-instance/CLUSTER/ID (or container-instance/ID in the old format).
        host_vars["container_instance_id"] = container_instance["containerInstanceArn"].rsplit("/", 1)[-1]
    version_info = container_instance.get("versionInfo") or {}
    host_vars["agent_version"] = version_info.get("agentVersion")
    host_vars["docker_version"] = version_info.get("dockerVersion")
    # An attribute without a value (ecs.capability.external) is present, with the value None.
    host_vars["attributes"] = {attribute["name"]: attribute.get("value") for attribute in container_instance.get("attributes") or []}
    for prefix, resources in (("registered", "registeredResources"), ("remaining", "remainingResources")):
        values = {resource["name"]: resource.get("integerValue") for resource in container_instance.get(resources) or []}
        host_vars[prefix + "_cpu"] = values.get("CPU")
        host_vars[prefix + "_memory"] = values.get("MEMORY")
    host_vars["ecs_tags"] = boto3_tag_list_to_ansible_dict(container_instance.get("tags") or [])
    return host_vars


def managed_instance_vars(managed_instance):
    """Host variables from an instance-information entry.

    DescribeInstanceInformation returns no tags; the plugin adds a Tags list (ListTagsForResource's
    TagList) to the entry when it reads them, and only then is ssm_tags set.
    """
    host_vars = {name: _value(managed_instance, field) for field, name in _MANAGED_INSTANCE_FIELDS.items() if field in managed_instance}
    if "Tags" in managed_instance:
        host_vars["ssm_tags"] = boto3_tag_list_to_ansible_dict(managed_instance["Tags"])
    return host_vars


def prepare_host_vars(record, use_ssm_connection=False):
    """Host variables of a joined record (see join.join_instances).

    ansible_host is the SSM IP address when SSM knows it. With use_ssm_connection, the host is
    reached through amazon.aws.aws_ssm with its managed-instance id and region.
    """
    host_vars = {"region": record["region"]}
    if record["cluster"] is not None:
        host_vars["cluster"] = record["cluster"]
    if record["container_instance"] is not None:
        host_vars.update(container_instance_vars(record["container_instance"]))
    if record["managed_instance"] is not None:
        host_vars.update(managed_instance_vars(record["managed_instance"]))
    if host_vars.get("ip_address"):
        host_vars["ansible_host"] = host_vars["ip_address"]
    if use_ssm_connection and host_vars.get("managed_instance_id"):
        host_vars["ansible_connection"] = SSM_CONNECTION
        host_vars["ansible_aws_ssm_instance_id"] = host_vars["managed_instance_id"]
        host_vars["ansible_aws_ssm_region"] = record["region"]
    return host_vars


def default_group_names(host_vars):
    """The built-in groups of a host: cluster_NAME, status_STATUS and ping_status_STATUS, or
    ssm_only for a managed instance that is no container instance.

    Statuses are lower case (DRAINING -> status_draining, ConnectionLost ->
    ping_status_connection_lost); cluster names keep their case, as ECS does. Every character
    that is not a letter, digit or underscore becomes an underscore, so that the names are valid
    whatever TRANSFORM_INVALID_GROUP_CHARS says.
    """
    groups = ["cluster_" + host_vars["cluster"] if "cluster" in host_vars else "ssm_only"]
    if host_vars.get("status"):
        groups.append("status_" + host_vars["status"].lower())
    if host_vars.get("ping_status"):
        groups.append("ping_status_" + re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", host_vars["ping_status"]).lower())
    return [re.sub(r"[^A-Za-z0-9_]", "_", name) for name in groups]
