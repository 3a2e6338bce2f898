# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad task definitions are refused before any API call, with an error naming the field."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import definition_from_document
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import definition_from_options
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import ecr_image
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import task_cpu_units
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import task_memory_mib
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError


def _web(**overrides):
    container = {"name": "web", "image": "nginx:1.27", "memory": 256}
    container.update(overrides)
    return container


def _options(*containers, **task):
    options = {"family": "app", "containers": list(containers)}
    options.update(task)
    return options


# (id, module options, the start of the error message)
BAD_OPTIONS = [
    ("missing-family", {"containers": [_web()]}, "family: required"),
    ("bad-family", _options(_web(), family="my app"), "family: 'my app' must be"),
    ("no-containers", _options(), "containers: at least one container"),
    ("missing-name", _options({"image": "nginx", "memory": 64}), "containers[0].name: required"),
    ("missing-image", _options({"name": "web", "memory": 64}), "containers[0].image: required"),
    ("duplicate-names", _options(_web(), _web(image="busybox")), "containers[1].name: 'web' is already the name of containers[0]"),
    ("memory-too-small", _options(_web(memory=4)), "containers[0].memory: 4 MiB is below the 6 MiB minimum"),
    ("reservation-too-small", _options(_web(memory=None, memoryReservation=2)), "containers[0].memoryReservation: 2 MiB is below"),
    ("reservation-above-limit", _options(_web(memory=128, memory_reservation=256)),
     "containers[0].memoryReservation: 256 MiB exceeds the container's memory limit of 128 MiB"),
    ("container-above-task-memory", _options(_web(memory=1024), memory="512"), "containers[0].memory: 1024 MiB exceeds the task's memory"),
    ("no-memory-anywhere", _options(_web(memory=None)), "containers[0].memory: set memory or memoryReservation"),
    ("bad-task-memory", _options(_web(), memory="lots"), "memory: 'lots' is not MiB"),
    ("bad-task-cpu", _options(_web(), cpu="2 cores"), "cpu: '2 cores' is not CPU units"),
    ("conflicting-host-ports", _options(_web(portMappings=[{"containerPort": 80, "hostPort": 80}]),
                                        _web(name="api", portMappings=[{"containerPort": 8080, "hostPort": 80}])),
     "containers[1].portMappings[0]: host port 80/tcp is already used by containers[0].portMappings[0]"),
    ("conflicting-host-ports-host-mode", _options(_web(portMappings=[{"containerPort": 80}, {"containerPort": 80}]), network_mode="host"),
     "containers[0].portMappings[1]: host port 80/tcp is already used"),
    ("host-mode-port-mismatch", _options(_web(portMappings=[{"containerPort": 80, "hostPort": 8080}]), network_mode="host"),
     "containers[0].portMappings[0].hostPort: must equal containerPort in host network mode"),
    ("ports-with-network-none", _options(_web(portMappings=[{"containerPort": 80}]), network_mode="none"),
     "containers[0].portMappings[0]: port mappings are not allowed with network mode none"),
    ("awsvpc-on-external", _options(_web(), network_mode="awsvpc"), "network_mode: awsvpc is not supported on EXTERNAL"),
    ("awslogs-without-group", _options(_web(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-region": "us-east-1"}})),
     "containers[0].logConfiguration.options: the awslogs log driver needs 'awslogs-group'"),
    ("awslogs-without-region", _options(_web(log_configuration={"log_driver": "awslogs", "options": {"awslogs-group": "/ecs/web"}})),
     "containers[0].logConfiguration.options: the awslogs log driver needs 'awslogs-region'"),
    ("unknown-container-key", _options(_web(portMapings=[{"containerPort": 80}])), "containers[0].portMapings: unknown key"),
    ("unknown-nested-key", _options(_web(port_mappings=[{"container_port": 80, "hostport": 1, "proto": "tcp"}])),
     "containers[0].port_mappings[0].proto: unknown key"),
    ("bad-enum", _options(_web(portMappings=[{"containerPort": 80, "protocol": "sctp"}])),
     "containers[0].portMappings[0].protocol: 'sctp' is not one of tcp, udp"),
    ("bad-integer", _options(_web(memory="a lot")), "containers[0].memory: expected an integer, got 'a lot'"),
    ("list-expected", _options(_web(command="sleep 10")), "containers[0].command: expected a list, got a string"),
    ("same-key-twice", _options(_web(memory_reservation=64, memoryReservation=64)), "containers[0].memoryReservation: given twice"),
    ("unknown-volume", _options(_web(mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}])),
     "containers[0].mountPoints[0].sourceVolume: 'data' is not a volume"),
    ("unknown-dependency", _options(_web(dependsOn=[{"containerName": "db", "condition": "START"}])),
     "containers[0].dependsOn[0].containerName: 'db' is not a container"),
]


@pytest.mark.parametrize("options, message", [case[1:] for case in BAD_OPTIONS], ids=[case[0] for case in BAD_OPTIONS])
def test_bad_options_name_the_field(register_shape, options, message):
    with pytest.raises(AnsibleECSAnywhereError) as raised:
        definition_from_options(options, register_shape)
    assert raised.value.message.startswith(message), raised.value.message


BAD_DOCUMENTS = [
    ("not-json", '{"family": "x",', "task_definition: not valid JSON"),
    ("not-a-dictionary", "[1, 2]", "task_definition: expected a dictionary, got a list"),
    ("unknown-top-level-key", {"family": "x", "containerDefinitions": [_web()], "launchType": "EXTERNAL"},
     "task_definition.launchType: unknown key"),
    ("missing-image", {"family": "x", "containerDefinitions": [{"name": "a", "memory": 64}]},
     "task_definition.containerDefinitions[0].image: required"),
    ("awsvpc", {"family": "x", "networkMode": "awsvpc", "containerDefinitions": [_web()]},
     "task_definition.networkMode: awsvpc is not supported on EXTERNAL"),
]


@pytest.mark.parametrize("document, message", [case[1:] for case in BAD_DOCUMENTS], ids=[case[0] for case in BAD_DOCUMENTS])
def test_bad_documents_name_the_field(register_shape, document, message):
    with pytest.raises(AnsibleECSAnywhereError) as raised:
        definition_from_document(document, register_shape)
    assert raised.value.message.startswith(message), raised.value.message


def test_tags_in_document_and_option_conflict(register_shape):
    document = {"family": "x", "containerDefinitions": [_web()], "tags": [{"key": "a", "value": "1"}]}
    with pytest.raises(AnsibleECSAnywhereError, match="^tags: given both"):
        definition_from_document(document, register_shape, tags={"b": "2"})


def test_document_tags_become_a_dictionary(register_shape):
    document = {"family": "x", "containerDefinitions": [_web()], "tags": [{"key": "team", "value": "ops"}]}
    request, tags, _warnings = definition_from_document(document, register_shape)
    assert tags == {"team": "ops"}
    assert "tags" not in request


def test_nulls_in_a_document_are_unset(register_shape):
    # Documents saved from describe-task-definition often carry nulls for unset members.
    document = {"family": "x", "ipcMode": None, "containerDefinitions": [_web(command=None, secrets=None)]}
    request, _tags, _warnings = definition_from_document(document, register_shape)
    assert "ipcMode" not in request
    assert request["containerDefinitions"][0] == {"name": "web", "image": "nginx:1.27", "memory": 256}


def test_external_and_bridge_are_the_defaults(register_shape):
    request, _tags, _warnings = definition_from_options(_options(_web()), register_shape)
    assert request["requiresCompatibilities"] == ["EXTERNAL"]
    assert request["networkMode"] == "bridge"


def test_enum_case_is_forgiven(register_shape):
    request, _tags, _warnings = definition_from_options(
        _options(_web(portMappings=[{"containerPort": 80, "protocol": "UDP"}]), network_mode="HOST"), register_shape)
    assert request["networkMode"] == "host"
    assert request["containerDefinitions"][0]["portMappings"][0]["protocol"] == "udp"


ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.4"


def test_ecr_image_without_execution_role_warns(register_shape):
    _request, _tags, warnings = definition_from_options(_options(_web(image=ECR)), register_shape)
    assert warnings == ["containers[0].image: {0} is in ECR, which needs an execution role to pull; set execution_role_arn".format(ECR)]


def test_ecr_image_with_execution_role_does_not_warn(register_shape):
    options = _options(_web(image=ECR), execution_role_arn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
    assert definition_from_options(options, register_shape)[2] == []


@pytest.mark.parametrize("image, expected", [
    (ECR, ("123456789012", "eu-west-1", "team/app", {"imageTag": "1.4"})),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", ("123456789012", "us-east-1", "app", {"imageTag": "latest"})),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:ab", ("123456789012", "us-east-1", "app", {"imageDigest": "sha256:ab"})),
    ("public.ecr.aws/nginx/nginx:1.27", None),
    ("nginx", None),
])
def test_ecr_image_reference(image, expected):
    assert ecr_image(image) == expected


@pytest.mark.parametrize("value, units", [("256", 256), (1024, 1024), ("1 vCPU", 1024), ("0.25vcpu", 256), (" 2 VCPU ", 2048)])
def test_task_cpu_units(value, units):
    assert task_cpu_units(value) == units


@pytest.mark.parametrize("value, mib", [("512", 512), (2048, 2048), ("1GB", 1024), ("0.5 gb", 512), ("2 GiB", 2048)])
def test_task_memory_mib(value, mib):
    assert task_memory_mib(value) == mib


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "one", "0.1 vCPU"])
def test_task_cpu_units_refuses(value):
    with pytest.raises(ValueError):
        task_cpu_units(value)
