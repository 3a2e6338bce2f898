# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_task_logs's main(): option checks before any call, and an empty selection."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule
from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_task_logs

from ..module_utils.ecs.fake_ecs import FakeTasksECS

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing", "cluster": "edge"}


@pytest.fixture
def ecs(monkeypatch):
    fake = FakeTasksECS()
    monkeypatch.setattr(AnsibleECSAnywhereModule, "client", lambda self, service, retry_decorator=None, **extra: fake)
    return fake


def run_module(capsys, **args):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(SystemExit):
            ecs_task_logs.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, message", [
    ({"task_definition": "job", "end_time": "tomorrow"},
     "end_time: 'tomorrow' is not epoch milliseconds, an ISO 8601 time or a relative time like -15m"),
    ({"task_definition": "job", "limit": 0}, "limit: must be at least 1"),
    ({"task_ids": ["abc"], "started_by": "x"}, "parameters are mutually exclusive: task_ids|started_by"),
])
def test_bad_options_fail_before_any_call(ecs, capsys, args, message):
    result = run_module(capsys, **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert ecs.calls == {}


def test_no_task_gives_an_empty_list(ecs, capsys):
    result = run_module(capsys, task_definition="job:3", start_time="-1h")
    assert (result["changed"], result["logs"]) == (False, [])
    assert ecs.calls == {"ListTasks": 2}
