# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_task_definition's main(): options, dispatch, check mode, diff and failures, on an ECS client that
answers as AWS does (tests/unit/plugins/module_utils/ecs/fake_ecs.py)."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule
from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_task_definition

from ..module_utils.ecs.fake_ecs import FakeECS
from ..module_utils.ecs.test_task_definition_compare import SEED_JSON

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}


@pytest.fixture
def ecs(monkeypatch):
    fake = FakeECS()
    clients = []

    def client(self, service, retry_decorator=None, **extra_params):
        clients.append(service)
        return fake

    monkeypatch.setattr(AnsibleECSAnywhereModule, "client", client)
    fake.clients = clients
    return fake


def run_module(capsys, **args):
    """Run main() with args; returns the module's JSON result (failed ones included)."""
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            ecs_task_definition.main()
    return json.loads(capsys.readouterr().out)


def test_seed_document_registers_once_then_reports_ok(ecs, capsys):
    first = run_module(capsys, task_definition=SEED_JSON)
    second = run_module(capsys, task_definition=json.loads(SEED_JSON))
    assert first["changed"] is True
    assert first["task_definition"]["requires_compatibilities"] == ["EXTERNAL"]
    assert first["task_definition"]["container_definitions"][0]["log_configuration"]["options"]["awslogs-group"] == "/ecs/my-container"
    assert second["changed"] is False
    assert ecs.calls == {"DescribeTaskDefinition": 2, "RegisterTaskDefinition": 1}


def test_diff_only_when_asked(ecs, capsys):
    plain = run_module(capsys, task_definition=SEED_JSON, _ansible_check_mode=True)
    with_diff = run_module(capsys, task_definition=SEED_JSON, _ansible_check_mode=True, _ansible_diff=True)
    assert "diff" not in plain
    assert with_diff["diff"]["before"] == {}
    assert with_diff["diff"]["after"]["family"] == "my-task-definition"
    assert ecs.revisions == {}


def test_snake_case_options(ecs, capsys):
    result = run_module(capsys, family="web", network_mode="host", cpu=256, memory="0.5 GB", containers=[
        {"name": "web", "image": "nginx:1.27", "port_mappings": [{"container_port": 80}],
         "environment": [{"name": "PORT", "value": 80}]}])
    assert result["changed"] is True
    registered = ecs.revisions["web"][1]
    assert (registered["networkMode"], registered["cpu"], registered["memory"]) == ("host", "256", "512")
    assert registered["containerDefinitions"][0]["environment"] == [{"name": "PORT", "value": "80"}]


def test_bad_input_fails_naming_the_field_without_any_call(ecs, capsys):
    result = run_module(capsys, family="web", containers=[{"name": "web", "image": "nginx", "memory": 2}])
    assert result["failed"] is True
    assert result["msg"] == "containers[0].memory: 2 MiB is below the 6 MiB minimum"
    assert ecs.calls == {}


def test_document_and_options_are_exclusive(ecs, capsys):
    result = run_module(capsys, task_definition=SEED_JSON, cpu="256")
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"] and "cpu" in result["msg"]
    assert ecs.calls == {}


def test_ecr_image_without_execution_role_warns(ecs, capsys):
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
    result = run_module(capsys, family="app", containers=[{"name": "app", "image": image, "memory": 64}])
    warnings = [warning["event"]["msg"] if isinstance(warning, dict) else warning for warning in result["warnings"]]
    # Other modules run in this process may have left their own warnings in ansible's global list.
    assert "containers[0].image: {0} is in ECR, which needs an execution role to pull; set execution_role_arn".format(image) in warnings


def test_absent_takes_the_family_from_the_document(ecs, capsys):
    run_module(capsys, task_definition=SEED_JSON)
    result = run_module(capsys, task_definition=SEED_JSON, state="absent")
    assert result["changed"] is True
    assert result["task_definition_arns"] == ["arn:aws:ecs:us-east-1:123456789012:task-definition/my-task-definition:1"]
