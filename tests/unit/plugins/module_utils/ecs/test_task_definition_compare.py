# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the task-definition normalize/compare core.

Each case pairs what a user asks for with what DescribeTaskDefinition returns for a revision, in the shape
AWS returns it (defaults filled in, response-only keys present). "Same" cases are the spurious revisions
community.aws ecs_taskdefinition registers; "changed" cases are changes it misses or that must be seen.
"""

import copy
import json

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import definition_from_document
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import definition_from_options
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import normalize_task_definition
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import task_definition_differences

# The AWS docs' example the issue quotes, with its two placeholders filled in.
SEED_JSON = (
    '{"family":"my-task-definition","containerDefinitions":[{"name":"my-container","image":"<image>","cpu":256,'
    '"memory":512,"essential":true,"portMappings":[{"containerPort":80,"hostPort":80}],"logConfiguration":'
    '{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/my-container","awslogs-region":"<region>",'
    '"awslogs-stream-prefix":"ecs"}}}]}'
).replace("<image>", "public.ecr.aws/nginx/nginx:1.27").replace("<region>", "us-east-1")

# What AWS returns for SEED_JSON registered with requiresCompatibilities EXTERNAL.
SEED_DESCRIBED = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/my-task-definition:3",
    "containerDefinitions": [{
        "name": "my-container", "image": "public.ecr.aws/nginx/nginx:1.27", "cpu": 256, "memory": 512,
        "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}], "essential": True,
        "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": [],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/my-container", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
    }],
    "family": "my-task-definition", "networkMode": "bridge", "revision": 3, "volumes": [], "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
    "placementConstraints": [], "compatibilities": ["EC2", "EXTERNAL"], "requiresCompatibilities": ["EXTERNAL"],
    "registeredAt": "2026-11-24T10:00:00+00:00", "registeredBy": "arn:aws:iam::123456789012:user/ops",
}


def _web(**overrides):
    container = {"name": "web", "image": "nginx:1.27", "memory": 256}
    container.update(overrides)
    return container


def _described_web(**overrides):
    """A container as AWS describes it: every default present."""
    container = {"name": "web", "image": "nginx:1.27", "cpu": 0, "memory": 256, "portMappings": [], "essential": True,
                 "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": []}
    container.update(overrides)
    return container


def _described(*containers, **task):
    described = {"family": "app", "revision": 7, "status": "ACTIVE", "networkMode": "bridge", "volumes": [],
                 "placementConstraints": [], "requiresCompatibilities": ["EXTERNAL"], "compatibilities": ["EC2", "EXTERNAL"],
                 "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
                 "containerDefinitions": list(containers)}
    described.update(task)
    return described


def _options(*containers, **task):
    options = {"family": "app", "containers": list(containers)}
    options.update(task)
    return options


ENV_ABC = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
SECRETS = [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
           {"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api"}]

# (id, module options, described revision): the revision already matches, so nothing may be registered.
SAME = [
    ("ansible-22547-protocol-defaults-to-tcp",
     _options(_web(port_mappings=[{"container_port": 80, "host_port": 8080}])),
     _described(_described_web(portMappings=[{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}]))),
    ("ansible-22547-essential-defaults-to-true",
     _options(_web()),
     _described(_described_web(essential=True))),
    ("community-aws-690-bridge-host-port-omitted-is-0",
     _options(_web(portMappings=[{"containerPort": 3000}])),
     _described(_described_web(portMappings=[{"containerPort": 3000, "hostPort": 0, "protocol": "tcp"}]))),
    ("bridge-host-port-0-given",
     _options(_web(portMappings=[{"containerPort": 3000, "hostPort": 0}])),
     _described(_described_web(portMappings=[{"containerPort": 3000, "hostPort": 0, "protocol": "tcp"}]))),
    ("host-mode-host-port-is-container-port",
     _options(_web(portMappings=[{"containerPort": 9100}]), network_mode="host"),
     _described(_described_web(portMappings=[{"containerPort": 9100, "hostPort": 9100, "protocol": "tcp"}]),
                networkMode="host")),
    ("awsvpc-on-ec2-host-port-is-container-port",
     _options(_web(portMappings=[{"containerPort": 80}]), network_mode="awsvpc", requires_compatibilities=["EC2"]),
     _described(_described_web(portMappings=[{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]),
                networkMode="awsvpc", requiresCompatibilities=["EC2"])),
    ("community-aws-45-secrets-order",
     _options(_web(secrets=SECRETS)),
     _described(_described_web(secrets=list(reversed(SECRETS))))),
    ("environment-order",
     _options(_web(environment=ENV_ABC)),
     _described(_described_web(environment=[ENV_ABC[2], ENV_ABC[0], ENV_ABC[1]]))),
    ("environment-values-given-as-numbers-and-booleans",
     _options(_web(environment=[{"name": "PORT", "value": 8080}, {"name": "DEBUG", "value": False}])),
     _described(_described_web(environment=[{"name": "DEBUG", "value": "false"}, {"name": "PORT", "value": "8080"}]))),
    ("container-order",
     _options(_web(), _web(name="sidecar", image="busybox:1.36")),
     _described(_described_web(name="sidecar", image="busybox:1.36"), _described_web())),
    ("port-mapping-order",
     _options(_web(portMappings=[{"containerPort": 443, "hostPort": 443}, {"containerPort": 80, "hostPort": 80}])),
     _described(_described_web(portMappings=[{"containerPort": 80, "hostPort": 80, "protocol": "tcp"},
                                             {"containerPort": 443, "hostPort": 443, "protocol": "tcp"}]))),
    ("task-cpu-memory-units",
     _options(_web(), cpu="0.25 vCPU", memory="1 GB"),
     _described(_described_web(), cpu="256", memory="1024")),
    ("task-cpu-memory-as-numbers",
     _options(_web(), cpu=512, memory=2048),
     _described(_described_web(), cpu="512", memory="2048")),
    ("empty-values-dropped",
     _options(_web(command=[], links=[], environment=[], dockerLabels={}), task_role_arn="", volumes=[], placement_constraints=[]),
     _described(_described_web())),
    ("network-mode-omitted-is-bridge",
     _options(_web()),
     _described(_described_web(), networkMode="bridge")),
    ("false-booleans-are-defaults",
     _options(_web(privileged=False, readonlyRootFilesystem=False, mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}]),
              volumes=[{"name": "data", "host": {"sourcePath": "/srv/data"}}]),
     _described(_described_web(mountPoints=[{"sourceVolume": "data", "containerPath": "/d", "readOnly": False}]),
                volumes=[{"name": "data", "host": {"sourcePath": "/srv/data"}}])),
    ("health-check-defaults",
     _options(_web(healthCheck={"command": ["CMD", "true"]})),
     _described(_described_web(healthCheck={"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3}))),
    ("placement-constraints-order",
     _options(_web(), placement_constraints=[{"type": "memberOf", "expression": "attribute:b == 2"},
                                             {"type": "memberOf", "expression": "attribute:a == 1"}]),
     _described(_described_web(), placementConstraints=[{"type": "memberOf", "expression": "attribute:a == 1"},
                                                        {"type": "memberOf", "expression": "attribute:b == 2"}])),
    ("snake-and-camel-keys-alike",
     _options(_web(memory_reservation=128, docker_labels={"com.example.Team": "ops"}, port_mappings=[{"containerPort": 80}])),
     _described(_described_web(memoryReservation=128, dockerLabels={"com.example.Team": "ops"},
                               portMappings=[{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]))),
]


# (id, module options, described revision, the difference that must be reported)
CHANGED = [
    ("environment-value", _options(_web(environment=[{"name": "A", "value": "2"}])),
     _described(_described_web(environment=[{"name": "A", "value": "1"}])), "containerDefinitions[web].environment"),
    ("environment-added", _options(_web(environment=ENV_ABC)),
     _described(_described_web(environment=ENV_ABC[:2])), "containerDefinitions[web].environment"),
    ("environment-removed", _options(_web()),
     _described(_described_web(environment=ENV_ABC)), "containerDefinitions[web].environment"),
    ("container-cpu", _options(_web(cpu=512)), _described(_described_web(cpu=256)), "containerDefinitions[web].cpu"),
    ("container-memory", _options(_web(memory=512)), _described(_described_web(memory=256)), "containerDefinitions[web].memory"),
    ("task-cpu", _options(_web(), cpu="512"), _described(_described_web(), cpu="256"), "cpu"),
    ("task-memory", _options(_web(), memory="1024"), _described(_described_web(), memory="512"), "memory"),
    ("network-mode", _options(_web(), network_mode="host"), _described(_described_web()), "networkMode"),
    ("image", _options(_web(image="nginx:1.28")), _described(_described_web()), "containerDefinitions[web].image"),
    ("essential-false", _options(_web(essential=False)), _described(_described_web()), "containerDefinitions[web].essential"),
    ("protocol-udp", _options(_web(portMappings=[{"containerPort": 53, "protocol": "udp"}])),
     _described(_described_web(portMappings=[{"containerPort": 53, "hostPort": 0, "protocol": "tcp"}])),
     "containerDefinitions[web].portMappings"),
    ("bridge-fixed-host-port", _options(_web(portMappings=[{"containerPort": 80, "hostPort": 8080}])),
     _described(_described_web(portMappings=[{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}])),
     "containerDefinitions[web].portMappings"),
    ("secret-source", _options(_web(secrets=[{"name": "K", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/new"}])),
     _described(_described_web(secrets=[{"name": "K", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/old"}])),
     "containerDefinitions[web].secrets"),
    ("container-added", _options(_web(), _web(name="sidecar")), _described(_described_web()), "containerDefinitions[sidecar]"),
    ("compatibilities", _options(_web()), _described(_described_web(), requiresCompatibilities=["EC2"]), "requiresCompatibilities"),
    ("command-order-matters", _options(_web(command=["serve", "--port", "80"])),
     _described(_described_web(command=["--port", "80", "serve"])), "containerDefinitions[web].command"),
    ("task-role", _options(_web(), task_role_arn="arn:aws:iam::1:role/new"),
     _described(_described_web(), taskRoleArn="arn:aws:iam::1:role/old"), "taskRoleArn"),
    ("docker-label", _options(_web(dockerLabels={"team": "a"})),
     _described(_described_web(dockerLabels={"team": "b"})), "containerDefinitions[web].dockerLabels.team"),
]


@pytest.mark.parametrize("options, described", [case[1:] for case in SAME], ids=[case[0] for case in SAME])
def test_matching_revision_reports_no_difference(register_shape, options, described):
    request, _tags, _warnings = definition_from_options(options, register_shape)
    assert task_definition_differences(normalize_task_definition(request), normalize_task_definition(described)) == []


@pytest.mark.parametrize("options, described, difference", [case[1:] for case in CHANGED], ids=[case[0] for case in CHANGED])
def test_change_is_detected(register_shape, options, described, difference):
    request, _tags, _warnings = definition_from_options(options, register_shape)
    assert difference in task_definition_differences(normalize_task_definition(request), normalize_task_definition(described))


def test_seed_document_matches_what_aws_returns(register_shape):
    request, tags, _warnings = definition_from_document(SEED_JSON, register_shape)
    assert tags is None
    assert request["requiresCompatibilities"] == ["EXTERNAL"]
    assert request["networkMode"] == "bridge"
    assert task_definition_differences(normalize_task_definition(request), normalize_task_definition(SEED_DESCRIBED)) == []


def test_seed_document_as_dict_and_as_json_give_the_same_request(register_shape):
    from_text = definition_from_document(SEED_JSON, register_shape)
    from_dict = definition_from_document(json.loads(SEED_JSON), register_shape)
    assert from_text == from_dict


def test_normalizing_does_not_change_its_input():
    described = copy.deepcopy(SEED_DESCRIBED)
    normalize_task_definition(described)
    assert described == SEED_DESCRIBED


def test_normalized_form_drops_response_only_keys_and_fills_defaults():
    normalized = normalize_task_definition(_described(_described_web(portMappings=[{"containerPort": 80}])))
    assert set(normalized) == {"family", "networkMode", "requiresCompatibilities", "containerDefinitions"}
    assert normalized["containerDefinitions"] == [
        {"name": "web", "image": "nginx:1.27", "memory": 256, "essential": True,
         "portMappings": [{"containerPort": 80, "protocol": "tcp"}]}]


def test_every_difference_is_listed(register_shape):
    request, _tags, _warnings = definition_from_options(
        _options(_web(image="nginx:1.28", environment=[{"name": "A", "value": "1"}]), network_mode="host", cpu="512"),
        register_shape)
    differences = task_definition_differences(normalize_task_definition(request), normalize_task_definition(_described(_described_web())))
    assert differences == ["containerDefinitions[web].environment", "containerDefinitions[web].image", "cpu", "networkMode"]
