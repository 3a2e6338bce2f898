"""ecs_run_task in playbooks against the lab endpoint, on 3 lab-registered external instances (no hosts).

The agent's side (PENDING -> RUNNING -> STOPPED) is played by AgentStandIn (conftest), which reports task state
changes as the ECS agent does. The same scenarios on booted lab hosts are in test_fleet_tasks.py.
"""

import pytest

from .conftest import CLUSTER

MODULE = "fleetops.ecs_anywhere.ecs_run_task"


@pytest.fixture
def web_definition(lab_aws):
    """A bridge task definition with one fixed host port, so two tasks cannot share an instance."""
    return lab_aws.client("ecs").register_task_definition(
        family="web", requiresCompatibilities=["EXTERNAL"], networkMode="bridge",
        containerDefinitions=[{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128,
                               "portMappings": [{"containerPort": 80, "hostPort": 8080}]}])["taskDefinition"]


def _task(name, **arguments):
    task = {"name": name, MODULE: dict({"cluster": CLUSTER, "wait_delay": 1, "wait_timeout": 60}, **arguments)}
    return task


def test_run_places_a_task_on_each_of_3_hosts_and_waits_for_running(lab_aws, run_play, edge_cluster, web_definition, agent_stand_in):
    with agent_stand_in():
        result = run_play([_task("run", task_definition="web", count=3, wait=True,
                                 placement_strategy=[{"type": "spread", "field": "instanceId"}])])
    assert result.returncode == 0, result.output
    tasks = result["run"]["tasks"]
    assert result["run"]["changed"] is True
    assert [task["last_status"] for task in tasks] == ["RUNNING"] * 3
    assert sorted(task["managed_instance_id"] for task in tasks) == sorted(i["managed_instance_id"] for i in edge_cluster)
    assert all(task["network_bindings"][0]["address"] == "0.0.0.0:8080" for task in tasks)
    assert result["run"]["wait"]["target"] == "RUNNING"


def test_start_by_mi_ids_and_container_instance_arns(lab_aws, run_play, edge_cluster, web_definition, agent_stand_in):
    references = [edge_cluster[0]["managed_instance_id"], edge_cluster[1]["arn"], edge_cluster[2]["managed_instance_id"]]
    with agent_stand_in():
        result = run_play([_task("start", operation="start", task_definition="web", container_instances=references, wait=True)])
    assert result.returncode == 0, result.output
    tasks = result["start"]["tasks"]
    assert [task["container_instance_arn"] for task in tasks] == [instance["arn"] for instance in edge_cluster]
    assert all(task["last_status"] == "RUNNING" for task in tasks)


def test_ensure_resolves_inventory_hostnames_and_a_rerun_changes_nothing(lab_aws, run_play, edge_cluster, web_definition,
                                                                          agent_stand_in, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n" + "".join(
        "    edge{0}:\n      managed_instance_id: {1}\n".format(index, instance["managed_instance_id"])
        for index, instance in enumerate(edge_cluster)) + "    localhost:\n      ansible_connection: local\n")
    ensure = _task("ensure", operation="ensure", task_definition="web", container_instances="{{ groups['all'] | difference(['localhost']) }}",
                   started_by="ansible-ensure", wait=True)
    with agent_stand_in():
        first = run_play([ensure], inventory=str(inventory))
        lab_aws.reset_counters()
        second = run_play([ensure], inventory=str(inventory))
    assert first.returncode == 0, first.output
    assert first["ensure"]["changed"] is True
    assert len(first["ensure"]["tasks"]) == 3
    assert second.returncode == 0, second.output
    assert second["ensure"]["changed"] is False
    assert sorted(task["managed_instance_id"] for task in second["ensure"]["already_running"]) == sorted(
        instance["managed_instance_id"] for instance in edge_cluster)
    assert "StartTask" not in lab_aws.counters()


def test_placement_failure_is_surfaced(lab_aws, run_play, edge_cluster, web_definition):
    # Every instance has 1024 MiB; a 4096 MiB task fits nowhere.
    lab_aws.client("ecs").register_task_definition(
        family="big", requiresCompatibilities=["EXTERNAL"],
        containerDefinitions=[{"name": "big", "image": "busybox", "memory": 4096}])
    result = run_play([
        dict(_task("fatal", task_definition="big", operation="start",
                   container_instances=[edge_cluster[0]["managed_instance_id"]]), ignore_errors=True),
        _task("returned", task_definition="big", count=2, fail_on_placement_failure=False),
    ])
    fatal = result["fatal"]
    assert fatal["failed"] is True
    assert fatal["msg"] == "StartTask could not place 1 task(s): {0} (container-instance/{1}): RESOURCE:MEMORY".format(
        edge_cluster[0]["managed_instance_id"], edge_cluster[0]["arn"].rsplit("/", 1)[-1])
    returned = result["returned"]
    assert returned.get("failed") is not True
    assert returned["changed"] is False
    assert returned["tasks"] == []
    assert {failure["reason"] for failure in returned["failures"]} == {"RESOURCE:MEMORY"}
    assert sorted(failure["managed_instance_id"] for failure in returned["failures"]) == sorted(
        instance["managed_instance_id"] for instance in edge_cluster)


def test_wait_timeout_names_pending_tasks_and_hosts(lab_aws, run_play, edge_cluster, web_definition):
    # No agent reports: the task stays PENDING.
    result = run_play([dict(_task("run", task_definition="web", wait=True, wait_timeout=2), ignore_errors=True)])
    task = result["run"]
    assert task["failed"] is True
    pending = task["tasks"][0]
    assert task["msg"] == "Timed out after 2 s waiting for 1 of 1 task(s) to be RUNNING: task/{0} on {1} (container-instance/{2}): PENDING".format(
        pending["task_id"], pending["managed_instance_id"], pending["container_instance_arn"].rsplit("/", 1)[-1])
    assert task["wait"]["polls"] >= 2


@pytest.mark.parametrize("exit_code, failed", [(0, False), (3, True)])
def test_one_shot_job_waits_for_stopped_and_fails_on_a_non_zero_exit(lab_aws, run_play, edge_cluster, web_definition,
                                                                       agent_stand_in, exit_code, failed):
    with agent_stand_in(exit_code=exit_code):
        result = run_play([dict(_task("job", task_definition="web", wait=True, wait_for="stopped"), ignore_errors=True)])
    job = result["job"]
    assert job["tasks"][0]["last_status"] == "STOPPED"
    assert job["tasks"][0]["containers"][0]["exit_code"] == exit_code
    assert job.get("failed", False) is failed
    if failed:
        assert job["msg"].startswith("1 of 1 task(s) will not be STOPPED: task/")
        assert job["msg"].endswith(": STOPPED (Essential container in task exited; web exited 3)")


def test_stop_by_started_by_then_nothing_left_to_stop(lab_aws, run_play, edge_cluster, web_definition, agent_stand_in):
    with agent_stand_in():
        result = run_play([
            _task("start", operation="start", task_definition="web", started_by="ops",
                  container_instances=[instance["managed_instance_id"] for instance in edge_cluster], wait=True),
            _task("stop", operation="stop", started_by="ops", reason="maintenance", wait=True),
            _task("stop again", operation="stop", started_by="ops"),
        ])
    assert result.returncode == 0, result.output
    assert [task["last_status"] for task in result["stop"]["tasks"]] == ["STOPPED"] * 3
    assert {task["stopped_reason"] for task in result["stop"]["tasks"]} == {"maintenance"}
    assert result["stop again"]["changed"] is False


def test_check_mode_starts_nothing(lab_aws, run_play, edge_cluster, web_definition):
    result = run_play([_task("run", task_definition="web", count=2)], check=True)
    assert result.returncode == 0, result.output
    assert result["run"]["changed"] is True
    assert "RunTask" not in lab_aws.counters()


def test_bad_input_makes_no_aws_call(lab_aws, run_play, edge_cluster, web_definition):
    lab_aws.reset_counters()
    bad = {"ignore_errors": True}
    result = run_play([
        dict(_task("count below one", task_definition="web", count=0), **bad),
        dict(_task("placement with start", operation="start", task_definition="web",
                   container_instances=[edge_cluster[0]["arn"]], placement_strategy=[{"type": "random"}]), **bad),
        dict(_task("unknown host", operation="start", task_definition="web", container_instances=["edge9"]), **bad),
        dict(_task("bad override key", task_definition="web", overrides={"container_overrides": [{"name": "web", "comand": ["x"]}]}), **bad),
        dict(_task("stop without selection", operation="stop"), **bad),
    ])
    messages = dict((name, task.get("msg")) for name, task in result.on().items())
    assert messages["count below one"] == "count: must be at least 1"
    assert messages["placement with start"] == "placement_strategy: not used with operation=start (only with run)"
    assert messages["unknown host"].startswith("container_instances[0]: 'edge9' is not a container instance ARN or id, an mi- id")
    assert messages["bad override key"].startswith("overrides.container_overrides[0].comand: unknown key")
    assert messages["stop without selection"].startswith("operation is stop but any of the following are missing")
    assert lab_aws.counters() == {}
