# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_run_task's main(): option checks per operation (before any client is made) and the glue from options
to the task core, on FakeTasksECS (tests/unit/plugins/module_utils/ecs/fake_ecs.py)."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule
from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_run_task

from ..module_utils.ecs.fake_ecs import FakeTasksECS

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing", "cluster": "edge"}


@pytest.fixture
def ecs(monkeypatch):
    fake = FakeTasksECS(instances=3)
    monkeypatch.setattr(AnsibleECSAnywhereModule, "client", lambda self, service, retry_decorator=None, **extra: fake)
    return fake


def run_module(capsys, **args):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            ecs_run_task.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, message", [
    ({"task_definition": "web", "count": 0}, "count: must be at least 1"),
    ({"task_definition": "web", "task_ids": ["abc"]}, "task_ids: not used with operation=run (only with stop)"),
    ({"operation": "start", "task_definition": "web", "container_instances": ["mi-00000000000000000"], "count": 2},
     "count: not used with operation=start (only with run)"),
    ({"operation": "stop", "task_ids": ["abc"], "overrides": {}}, "overrides: not used with operation=stop (only with run, start, ensure)"),
    ({"task_definition": "web", "container_instances": ["mi-00000000000000000"]},
     "container_instances: not used with operation=run (only with start, ensure, stop)"),
    ({"operation": "ensure", "task_definition": "web", "container_instances": ["host-7"]},
     "container_instances[0]: 'host-7' is not a container instance ARN or id, an mi- id, or an inventory host with a "
     "container_instance_arn or managed_instance_id variable"),
    ({"task_definition": "web", "wait": True, "wait_timeout": 0}, "wait_timeout and wait_delay: must be at least 1 second"),
])
def test_bad_options_fail_before_any_call(ecs, capsys, args, message):
    result = run_module(capsys, **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert ecs.calls == {}


def test_run_and_wait_returns_running_tasks_with_their_hosts(ecs, capsys):
    def agents(tasks):
        for task in tasks:
            task["lastStatus"] = "RUNNING"

    # Agents report RUNNING before the first poll, so the wait never sleeps.
    ecs.before_describe = agents
    result = run_module(capsys, task_definition="web", count=3, wait=True, wait_delay=1, started_by="ci")
    assert result["changed"] is True
    assert sorted(task["managed_instance_id"] for task in result["tasks"]) == sorted(ecs.instances.values())
    assert {task["last_status"] for task in result["tasks"]} == {"RUNNING"}
    assert {task["started_by"] for task in result["tasks"]} == {"ci"}
    assert result["wait"]["target"] == "RUNNING"


def test_placement_failure_fails_the_module_and_keeps_the_started_tasks(ecs, capsys):
    result = run_module(capsys, task_definition="web", count=4)
    assert result["failed"] is True
    assert result["msg"].startswith("RunTask could not place 3 task(s): mi-00000000000000000 (container-instance/")
    assert len(result["tasks"]) == 3
