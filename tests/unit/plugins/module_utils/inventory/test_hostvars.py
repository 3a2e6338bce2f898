# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""prepare_host_vars and default_group_names over joined records."""

import json

import pytest

from ansible.module_utils.common.json import AnsibleJSONEncoder

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostvars import default_group_names
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostvars import prepare_host_vars
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.join import join_instances

MI_A = "mi-0a1b2c3d4e5f60001"
ARN_A = "arn:aws:ecs:us-east-1:123456789012:container-instance/edge-prod/aaa"


def one_record(clusters, managed, **kwargs):
    records = join_instances("us-east-1", clusters, managed, **kwargs)
    assert len(records) == 1
    return records[0]


def test_joined_host_has_the_ecs_and_ssm_variables(make_container_instance, make_managed_instance):
    ecs = make_container_instance("edge-prod", "aaa", MI_A, tags={"Name": "edge-a", "site": "lyon"})
    ssm = make_managed_instance(MI_A)

    host_vars = prepare_host_vars(one_record({"edge-prod": [ecs]}, [ssm]))

    assert host_vars == {
        "region": "us-east-1",
        "cluster": "edge-prod",
        "container_instance_arn": ARN_A,
        "container_instance_id": "aaa",
        "managed_instance_id": MI_A,
        "status": "ACTIVE",
        "agent_connected": True,
        "agent_version": "1.89.2",
        "docker_version": "DockerVersion: 25.0.6",
        "attributes": {"ecs.capability.external": None, "ecs.os-type": "linux", "ecs.cpu-architecture": "x86_64"},
        "registered_cpu": 2048,
        "registered_memory": 3840,
        "remaining_cpu": 1536,
        "remaining_memory": 3328,
        "running_tasks_count": 2,
        "pending_tasks_count": 1,
        "registered_at": "2026-11-20T08:30:00+00:00",
        "ecs_tags": {"Name": "edge-a", "site": "lyon"},
        "ping_status": "Online",
        "last_ping_date_time": "2026-11-24T09:15:00+00:00",
        "ip_address": "10.213.0.11",
        "computer_name": "edge-01",
        "platform_type": "Linux",
        "platform_name": "Debian GNU/Linux",
        "platform_version": "12",
        "ssm_agent_version": "3.3.1611.0",
        "activation_id": "0d1c5cc4-7d8f-4f5e-8b4a-2a3c1f7e9b10",
        "iam_role": "ecsAnywhereRole",
        "registration_date": "2026-11-20T08:29:00+00:00",
        "managed_instance_name": "edge",
        "ansible_host": "10.213.0.11",
    }


def test_managed_instance_tags_become_ssm_tags_only_when_read(make_container_instance, make_managed_instance):
    ssm = make_managed_instance(MI_A)
    ecs = make_container_instance("edge", "aaa", MI_A)
    assert "ssm_tags" not in prepare_host_vars(one_record({"edge": [ecs]}, [ssm]))

    ssm["Tags"] = [{"Key": "site", "Value": "lyon"}]
    assert prepare_host_vars(one_record({"edge": [ecs]}, [ssm]))["ssm_tags"] == {"site": "lyon"}


def test_ecs_without_ssm_data_has_no_ansible_host_but_keeps_its_mi_id(make_container_instance):
    host_vars = prepare_host_vars(one_record({"edge": [make_container_instance("edge", "aaa", MI_A)]}, []))

    assert host_vars["managed_instance_id"] == MI_A
    assert "ansible_host" not in host_vars
    assert "ping_status" not in host_vars


def test_ssm_only_host_has_only_ssm_variables(make_managed_instance):
    host_vars = prepare_host_vars(one_record({}, [make_managed_instance(MI_A)], include_ssm_only=True))

    assert host_vars["managed_instance_id"] == MI_A
    assert host_vars["ansible_host"] == "10.213.0.11"
    assert not {"cluster", "status", "container_instance_arn", "ecs_tags"} & set(host_vars)


def test_use_ssm_connection_reaches_the_host_through_aws_ssm(make_container_instance, make_managed_instance):
    record = one_record({"edge": [make_container_instance("edge", "aaa", MI_A)]}, [make_managed_instance(MI_A)])

    host_vars = prepare_host_vars(record, use_ssm_connection=True)

    assert host_vars["ansible_connection"] == "amazon.aws.aws_ssm"
    assert host_vars["ansible_aws_ssm_instance_id"] == MI_A
    assert host_vars["ansible_aws_ssm_region"] == "us-east-1"
    assert "ansible_connection" not in prepare_host_vars(record)


@pytest.mark.parametrize(
    "cluster,status,connected,ping,expected",
    [
        ("edge-prod", "ACTIVE", True, "Online", ["cluster_edge_prod", "status_active", "ping_status_online"]),
        ("Edge.Lyon", "DRAINING", False, "ConnectionLost", ["cluster_Edge_Lyon", "status_draining", "ping_status_connection_lost"]),
        ("edge", "REGISTRATION_FAILED", False, None, ["cluster_edge", "status_registration_failed"]),
    ],
)
def test_default_groups(make_container_instance, make_managed_instance, cluster, status, connected, ping, expected):
    managed = [make_managed_instance(MI_A, ping_status=ping)] if ping else []
    record = one_record({cluster: [make_container_instance(cluster, "aaa", MI_A, status=status, connected=connected)]}, managed)

    assert default_group_names(prepare_host_vars(record)) == expected


def test_ssm_only_hosts_are_grouped_as_ssm_only(make_managed_instance):
    record = one_record({}, [make_managed_instance(MI_A, ping_status="Inactive")], include_ssm_only=True)

    assert default_group_names(prepare_host_vars(record)) == ["ssm_only", "ping_status_inactive"]


def test_times_are_iso_strings_from_boto3_or_from_a_json_cache(make_container_instance, make_managed_instance):
    fresh = one_record({"edge": [make_container_instance("edge", "aaa", MI_A)]}, [make_managed_instance(MI_A)])
    cached = json.loads(json.dumps(fresh, cls=AnsibleJSONEncoder))

    assert prepare_host_vars(cached) == prepare_host_vars(fresh)
    assert prepare_host_vars(fresh)["last_ping_date_time"] == "2026-11-24T09:15:00+00:00"
