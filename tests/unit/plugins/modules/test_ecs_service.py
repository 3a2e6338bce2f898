# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_service's main(): option checks (before any client call), dispatch, check mode, diff, the wait and its
failures, on FakeServicesECS (tests/unit/plugins/module_utils/ecs/test_services.py)."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_service

from .conftest import run_main
from ..module_utils.ecs.test_services import task_definition_arn

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing", "cluster": "edge", "name": "web"}
WEB = {"task_definition": "web:2", "desired_count": 2, "tags": {"team": "ops"}}


def run_module(capsys, **args):
    return run_main(capsys, ecs_service, dict(CONNECTION, **args))


def test_create_then_the_same_again_makes_no_mutating_call(ecs, capsys):
    first = run_module(capsys, **WEB)
    ecs.calls.clear()
    second = run_module(capsys, **WEB)
    assert first["changed"] is True and first["service"]["launch_type"] == "EXTERNAL"
    assert second["changed"] is False and second["changes"] == []
    assert ecs.calls == {"DescribeServices": 1}
    assert "diff" not in second


def test_update_shows_the_normalized_diff(ecs, capsys):
    run_module(capsys, **WEB)
    result = run_module(capsys, _ansible_diff=True, deployment_configuration={"maximum_percent": 150}, desired_count=3)
    assert result["changes"] == ["deploymentConfiguration.maximumPercent", "desiredCount"]
    assert (result["diff"]["before"]["desiredCount"], result["diff"]["after"]["desiredCount"]) == (2, 3)
    assert result["diff"]["after"]["deploymentConfiguration"] == {
        "minimumHealthyPercent": 100, "maximumPercent": 150, "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    assert ecs.calls["UpdateService"] == 1


def test_check_mode_creates_nothing(ecs, capsys):
    result = run_module(capsys, _ansible_check_mode=True, _ansible_diff=True, **WEB)
    assert result["changed"] is True and result["diff"]["before"] == {}
    assert result["service"]["desired_count"] == 2 and result["deployments"] == []
    assert ecs.services == {} and ecs.mutating_calls == {}


@pytest.mark.parametrize("args, message", [
    ({"desired_count": -1}, "desired_count: must be 0 or more, got -1"),
    ({"deployment_configuration": {"maximum_percent": 50}}, "deployment_configuration.maximum_percent: must be at least 100, got 50"),
    ({"deployment_configuration": {"minimum_healthy_percent": 150}},
     "deployment_configuration.minimum_healthy_percent: must be between 0 and 100, got 150"),
    ({"scheduling_strategy": "DAEMON", "desired_count": 1},
     "desired_count: not used with scheduling_strategy=DAEMON, which runs one task on each container instance"),
    ({"wait": True, "wait_delay": 0}, "wait_delay: must be at least 1 second, got 0"),
    ({"placement_strategy": [{"kind": "spread"}]}, "placement_strategy[0].kind: unknown key; expected one of field, type"),
])
def test_bad_input_fails_naming_the_field_without_any_call(ecs, capsys, args, message):
    result = run_module(capsys, **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert ecs.calls == {}


def test_unknown_cluster_fails_with_the_aws_error(ecs, capsys):
    result = run_module(capsys, cluster="nowhere", **WEB)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to describe services")
    assert result["error"]["code"] == "ClusterNotFoundException"
    assert ecs.mutating_calls == {}


def test_wait_until_completed(ecs, capsys):
    ecs.before_describe = ecs.settle
    result = run_module(capsys, wait=True, **WEB)
    assert result["changed"] is True and result["wait"]["outcome"] == "completed"
    assert result["deployments"][0]["rollout_state"] == "COMPLETED" and result["service"]["running_count"] == 2


def test_wait_failure_fails_the_module_with_the_reason_and_events(ecs, capsys):
    run_module(capsys, **WEB)
    ecs.settle(ecs.services[("edge", "web")])
    ecs.before_describe = ecs.trip_circuit_breaker
    result = run_module(capsys, task_definition="web:3", wait=True, deployment_configuration={
        "deployment_circuit_breaker": {"enable": True, "rollback": True}})
    assert result["failed"] is True and result["changed"] is True
    assert "failed: ECS deployment circuit breaker: tasks failed to start.; rolled back to deployment" in result["msg"]
    assert result["events"][0]["message"].startswith("(service web) rolling back to deployment")
    assert result["service"]["task_definition"] == task_definition_arn("web", 2)


def test_delete_needs_force_for_a_running_service(ecs, capsys):
    run_module(capsys, **WEB)
    refused = run_module(capsys, state="absent")
    deleted = run_module(capsys, state="absent", force=True)
    assert refused["failed"] is True and refused["msg"].startswith("force: service web still has desiredCount 2")
    assert deleted["changed"] is True and deleted["service"]["status"] == "DRAINING"
    assert ecs.calls["DeleteService"] == 1
