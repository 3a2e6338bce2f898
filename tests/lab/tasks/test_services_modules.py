"""ecs_service and ecs_service_info in playbooks against the lab endpoint and its service scheduler, with the
agent stand-in reporting the tasks: a rollout completes and a second run changes nothing (the lab's counters
show no mutating call), and a deployment whose tasks exit is stopped by the circuit breaker and rolled back,
failing the module with the rolloutStateReason and the events."""

import pytest

from .conftest import CLUSTER
from ..conftest import connection

MUTATING = ("CreateService", "UpdateService", "DeleteService", "TagResource", "UntagResource")


@pytest.fixture(autouse=True)
def quick_health(lab_aws):
    """A task counts as healthy 1 s after RUNNING instead of AWS's 40 s: the same rule, a shorter wait."""
    lab_aws.settings(service_healthy_after=1)


def _definition(name, image):
    return {"name": name, "fleetops.ecs_anywhere.ecs_task_definition": {
        "family": "web", "containers": [{"name": "web", "image": image, "memory": 64}]}}


def _service(lab, name, **arguments):
    return {"name": name, "fleetops.ecs_anywhere.ecs_service": dict(connection(lab), cluster=CLUSTER, name="web", **arguments)}


def _calls(lab):
    return lab.counters()


def test_rollout_completes_then_the_same_run_changes_nothing(lab_aws, run_play, edge_cluster, agent_stand_in):
    service = dict(task_definition="web", desired_count=2, wait=True, wait_delay=1, wait_timeout=120,
                   deployment_configuration={"deployment_circuit_breaker": {"enable": True, "rollback": True}},
                   placement_constraints=[{"type": "distinctInstance"}])
    with agent_stand_in():
        result = run_play([_definition("define", "public.ecr.aws/nginx/nginx:1.27"), _service(lab_aws, "create", **service)])
        assert result.returncode == 0, result.output
        created = result["create"]
        assert created["changed"] is True and created["wait"]["outcome"] == "completed"
        assert created["service"]["running_count"] == 2 and created["deployments"][0]["rollout_state"] == "COMPLETED"
        before = _calls(lab_aws)
        again = run_play([_service(lab_aws, "again", **dict(service, wait=False)),
                          {"name": "info", "fleetops.ecs_anywhere.ecs_service_info": dict(connection(lab_aws), cluster=CLUSTER,
                                                                                          tasks=True)}])
        assert again.returncode == 0, again.output
    assert again["again"]["changed"] is False
    assert [service["service_name"] for service in again["info"]["services"]] == ["web"]
    # The tasks, each on its own host (distinctInstance), with the host's mi- id and the agent's bindings.
    tasks = again["info"]["services"][0]["tasks"]
    assert [task["last_status"] for task in tasks] == ["RUNNING"] * 2
    assert {task["managed_instance_id"] for task in tasks} <= {instance["managed_instance_id"] for instance in edge_cluster}
    assert len({task["container_instance_arn"] for task in tasks}) == 2
    assert all(task["started_by"] == created["deployments"][0]["id"] for task in tasks)
    after = _calls(lab_aws)
    assert dict((operation, after.get(operation, 0) - before.get(operation, 0)) for operation in MUTATING) == dict.fromkeys(MUTATING, 0)


def test_circuit_breaker_rollback_fails_the_wait_with_the_reason_and_events(lab_aws, run_play, edge_cluster, agent_stand_in):
    breaker = {"deployment_circuit_breaker": {"enable": True, "rollback": True}}
    with agent_stand_in():
        result = run_play([_definition("define", "public.ecr.aws/nginx/nginx:1.27"),
                           _service(lab_aws, "create", task_definition="web", desired_count=2, wait=True, wait_delay=1,
                                    wait_timeout=120, deployment_configuration=breaker)])
        assert result.returncode == 0, result.output
    # The new revision's tasks exit as soon as they run: the breaker trips and rolls back to revision 1.
    with agent_stand_in(exit_code=1):
        result = run_play([_definition("redefine", "public.ecr.aws/nginx/nginx:broken"),
                           _service(lab_aws, "deploy", task_definition="web", wait=True, wait_delay=1, wait_timeout=300)])
    deploy = result["deploy"]
    assert deploy["failed"] is True, result.output
    assert deploy["wait"]["outcome"] == "failed"
    # The lab (like ECS) drops the failed deployment once its tasks are gone, so whether the module sees it FAILED or
    # already replaced depends on the poll's timing; either way the message names the circuit breaker and rollback.
    assert "ECS deployment circuit breaker" in deploy["msg"] and "roll" in deploy["msg"], deploy["msg"]
    assert deploy["events"] and "Latest events: " in deploy["msg"]
