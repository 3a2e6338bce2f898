# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders of boto3-shaped container instances and managed instances for the inventory core tests."""

import datetime

import pytest

ACCOUNT = "123456789012"
ACTIVATION_ID = "0d1c5cc4-7d8f-4f5e-8b4a-2a3c1f7e9b10"


def container_instance(cluster, instance_id, managed_instance_id, status="ACTIVE", connected=True, tags=None, attributes=None):
    """A DescribeContainerInstances entry (include=TAGS) of an external instance, as ECS returns it."""
    return {
        "containerInstanceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:container-instance/{cluster}/{instance_id}",
        "ec2InstanceId": managed_instance_id,
        "versionInfo": {"agentVersion": "1.89.2", "agentHash": "5e4b1f9a", "dockerVersion": "DockerVersion: 25.0.6"},
        "remainingResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 1536},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 3328},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "51678"]},
        ],
        "registeredResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 3840},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "51678"]},
        ],
        "status": status,
        "agentConnected": connected,
        "runningTasksCount": 2,
        "pendingTasksCount": 1,
        "attributes": attributes
        if attributes is not None
        else [{"name": "ecs.capability.external"}, {"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "registeredAt": datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone.utc),
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }


def managed_instance(instance_id, ip_address="10.213.0.11", computer_name="edge-01", ping_status="Online", activation_id=ACTIVATION_ID):
    """A DescribeInstanceInformation entry of a hybrid (mi-) instance, as SSM returns it."""
    return {
        "InstanceId": instance_id,
        "PingStatus": ping_status,
        "LastPingDateTime": datetime.datetime(2026, 11, 24, 9, 15, tzinfo=datetime.timezone.utc),
        "AgentVersion": "3.3.1611.0",
        "IsLatestVersion": False,
        "PlatformType": "Linux",
        "PlatformName": "Debian GNU/Linux",
        "PlatformVersion": "12",
        "ActivationId": activation_id,
        "IamRole": "ecsAnywhereRole",
        "RegistrationDate": datetime.datetime(2026, 11, 20, 8, 29, tzinfo=datetime.timezone.utc),
        "ResourceType": "ManagedInstance",
        "Name": "edge",
        "IPAddress": ip_address,
        "ComputerName": computer_name,
    }


@pytest.fixture
def make_container_instance():
    return container_instance


@pytest.fixture
def make_managed_instance():
    return managed_instance
