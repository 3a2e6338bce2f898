# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task core of ecs_run_task: API-limit batching, host resolution, placement failures, ensure, stop and the
wait (with a fake clock), against FakeTasksECS, which enforces AWS's per-call limits."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import Hosts
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import TaskRunner
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import instance_reference_kind
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import sort_by_target
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import summarize_task
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import task_family
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.tasks import task_request
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError

from .fake_ecs import FakeTasksECS


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def runner(ecs, **kwargs):
    clock = FakeClock()
    return TaskRunner(ecs, "edge", sleep=clock.sleep, clock=clock, **kwargs)


@pytest.mark.parametrize("reference, kind", [
    ("arn:aws:ecs:us-east-1:123456789012:container-instance/edge/0123456789abcdef0123456789abcdef", "arn"),
    ("arn:aws:ecs:us-east-1:123456789012:container-instance/0123456789abcdef0123456789abcdef", "arn"),
    ("0123456789abcdef0123456789abcdef", "id"),
    ("3f2c1a7e-6f7b-4c1e-9f2d-0a1b2c3d4e5f", "id"),
    ("mi-0123456789abcdef0", "managed"),
    ("i-0123456789abcdef0", None),
    ("edge1", None),
    ("mi-0123", None),
])
def test_instance_reference_kind(reference, kind):
    assert instance_reference_kind(reference) == kind


@pytest.mark.parametrize("task_definition", ["web", "web:3", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"])
def test_task_family(task_definition):
    assert task_family(task_definition) == "web"


def test_run_splits_count_into_calls_of_ten_with_their_own_tokens():
    ecs = FakeTasksECS(instances=30)
    result = runner(ecs).run({"taskDefinition": "web"}, 25, client_token="deploy-7")
    assert ecs.calls["RunTask"] == 3
    assert sorted(ecs.tokens) == ["deploy-7", "deploy-7-1", "deploy-7-2"]
    assert len(result["tasks"]) == 25
    assert result["changed"] is True and "failed" not in result


def test_run_with_the_same_token_places_no_more_tasks():
    ecs = FakeTasksECS(instances=3)
    runner(ecs).run({"taskDefinition": "web"}, 2, client_token="once")
    runner(ecs).run({"taskDefinition": "web"}, 2, client_token="once")
    assert len(ecs.tasks) == 2


def test_placement_failures_fail_naming_instance_and_reason():
    ecs = FakeTasksECS(instances=1)
    result = runner(ecs).run({"taskDefinition": "web"}, 2)
    assert result["failed"] is True
    assert result["msg"] == ("RunTask could not place 1 task(s): mi-00000000000000000 "
                             "(container-instance/00000000000000000000000000000000): RESOURCE:MEMORY")
    assert len(result["tasks"]) == 1


def test_placement_failures_returned_when_not_fatal():
    ecs = FakeTasksECS(instances=1)
    result = runner(ecs, fail_on_placement_failure=False).run({"taskDefinition": "web"}, 2)
    assert "failed" not in result
    assert result["failures"] == [{"arn": next(iter(ecs.instances)), "reason": "RESOURCE:MEMORY",
                                   "managed_instance_id": "mi-00000000000000000"}]


def test_start_calls_start_task_per_ten_instances():
    ecs = FakeTasksECS(instances=25)
    result = runner(ecs).start({"taskDefinition": "web"}, list(ecs.instances))
    assert ecs.calls["StartTask"] == 3
    assert [task["container_instance_arn"] for task in result["tasks"]] == list(ecs.instances)
    assert [task["managed_instance_id"] for task in result["tasks"]] == list(ecs.instances.values())


def test_resolve_keeps_order_and_maps_mi_ids():
    ecs = FakeTasksECS(instances=3)
    arns = list(ecs.instances)
    resolved = Hosts(ecs, "edge").resolve(["mi-00000000000000002", arns[0], "mi-00000000000000001"])
    assert resolved == [arns[2], arns[0], arns[1]]
    assert ecs.calls == {"ListContainerInstances": 1, "DescribeContainerInstances": 1}


def test_resolve_names_an_unknown_mi_id():
    ecs = FakeTasksECS(instances=1)
    with pytest.raises(AnsibleECSAnywhereError, match=r"^container_instances\[1\]: mi-0000000000000000f is not a container instance of cluster edge$"):
        Hosts(ecs, "edge").resolve(["mi-00000000000000000", "mi-0000000000000000f"])


def test_resolve_refuses_a_bad_reference_before_any_call():
    ecs = FakeTasksECS()
    with pytest.raises(AnsibleECSAnywhereError, match=r"^container_instances\[0\]: 'web1' is not a container instance ARN"):
        Hosts(ecs, "edge").resolve(["web1"])
    assert ecs.calls == {}


def test_ensure_starts_only_where_the_family_is_missing_then_changes_nothing():
    ecs = FakeTasksECS(instances=3, capacity=5)
    arns = list(ecs.instances)
    ecs.start_task(containerInstances=[arns[1]], taskDefinition="web")
    ecs.start_task(containerInstances=[arns[0]], taskDefinition="other")
    first = runner(ecs).ensure({"taskDefinition": "web:4"}, arns)
    assert first["changed"] is True
    assert [task["container_instance_arn"] for task in first["tasks"]] == [arns[0], arns[2]]
    assert [task["container_instance_arn"] for task in first["already_running"]] == [arns[1]]
    ecs.calls.clear()
    second = runner(ecs).ensure({"taskDefinition": "web:4"}, arns)
    assert second["changed"] is False
    assert len(second["already_running"]) == 3
    assert "StartTask" not in ecs.calls


def test_ensure_counts_only_tasks_started_by_the_same_starter():
    ecs = FakeTasksECS(instances=2, capacity=5)
    arns = list(ecs.instances)
    ecs.start_task(containerInstances=arns, taskDefinition="web", startedBy="someone-else")
    result = runner(ecs).ensure({"taskDefinition": "web", "startedBy": "ansible"}, arns, started_by="ansible")
    assert len(result["tasks"]) == 2


def test_ensure_in_check_mode_reports_without_starting():
    ecs = FakeTasksECS(instances=2)
    result = runner(ecs, check_mode=True).ensure({"taskDefinition": "web"}, list(ecs.instances))
    assert result["changed"] is True
    assert result["container_instance_arns"] == list(ecs.instances)
    assert ecs.tasks == {}


def test_run_in_check_mode_calls_nothing():
    ecs = FakeTasksECS()
    assert runner(ecs, check_mode=True).run({"taskDefinition": "web"}, 3)["changed"] is True
    assert ecs.calls == {}


def _run_running(ecs, count):
    return runner(ecs).run({"taskDefinition": "web"}, count)


def test_wait_polls_unfinished_tasks_only_in_batches_of_100():
    ecs = FakeTasksECS(instances=250)
    task_runner = runner(ecs)
    result = task_runner.run({"taskDefinition": "web"}, 250)
    described = []

    def agents(tasks):
        described.append(len(tasks))
        for task in tasks[:60]:  # some tasks of each batch start per poll
            task["lastStatus"] = "RUNNING"

    ecs.before_describe = agents
    ecs.calls.clear()
    result = task_runner.wait(result, "RUNNING", timeout=300, delay=5)
    assert "failed" not in result
    assert all(task["last_status"] == "RUNNING" for task in result["tasks"])
    # 250 tasks: batches of 100/100/50, then only those still pending are described again.
    assert described == [100, 100, 50, 80, 20]
    assert result["wait"]["progress"][0] == {"PENDING": 80, "RUNNING": 170, "elapsed": 0.0}
    assert result["wait"]["progress"][-1] == {"RUNNING": 250, "elapsed": 10.0}


def test_wait_timeout_names_pending_tasks_and_hosts():
    ecs = FakeTasksECS(instances=2)
    task_runner = runner(ecs)
    result = task_runner.run({"taskDefinition": "web"}, 2)
    result = task_runner.wait(result, "RUNNING", timeout=20, delay=6)
    assert result["failed"] is True
    # Polls at 0, 6, 12 and 18 s; another would come after the timeout.
    assert result["wait"]["polls"] == 4
    assert result["msg"] == (
        "Timed out after 20 s waiting for 2 of 2 task(s) to be RUNNING: "
        "task/00000000000000000000000000000001 on mi-00000000000000000 (container-instance/00000000000000000000000000000000): PENDING; "
        "task/00000000000000000000000000000002 on mi-00000000000000001 (container-instance/00000000000000000000000000000001): PENDING")


def test_wait_for_running_fails_at_once_when_a_task_stops():
    ecs = FakeTasksECS(instances=2)
    task_runner = runner(ecs)
    result = task_runner.run({"taskDefinition": "web"}, 2)

    def agents(tasks):
        tasks[0].update(lastStatus="STOPPED", stoppedReason="CannotPullContainerError: pull access denied", stopCode="TaskFailedToStart")

    ecs.before_describe = agents
    result = task_runner.wait(result, "RUNNING", timeout=300, delay=6)
    assert result["wait"]["polls"] == 1
    assert result["msg"] == ("1 of 2 task(s) will not be RUNNING: task/00000000000000000000000000000001 on mi-00000000000000000 "
                             "(container-instance/00000000000000000000000000000000): STOPPED (CannotPullContainerError: pull access denied)")


@pytest.mark.parametrize("tasks, target, check_exit_codes, sorted_as", [
    ([{"lastStatus": "RUNNING"}], "RUNNING", True, "done"),
    ([{"lastStatus": "PENDING"}], "RUNNING", True, "pending"),
    ([{"lastStatus": "ACTIVATING"}], "RUNNING", True, "pending"),
    ([{"lastStatus": "STOPPED"}], "RUNNING", True, "failed"),
    ([{"lastStatus": "RUNNING"}], "STOPPED", True, "pending"),
    ([{"lastStatus": "STOPPED", "containers": [{"exitCode": 0}]}], "STOPPED", True, "done"),
    ([{"lastStatus": "STOPPED", "containers": [{"exitCode": 0}, {"exitCode": 2}]}], "STOPPED", True, "failed"),
    ([{"lastStatus": "STOPPED", "stopCode": "TaskFailedToStart", "containers": [{}]}], "STOPPED", True, "failed"),
    ([{"lastStatus": "STOPPED", "containers": [{"exitCode": 137}]}], "STOPPED", False, "done"),
])
def test_sort_by_target(tasks, target, check_exit_codes, sorted_as):
    done, pending, failed = sort_by_target(tasks, target, check_exit_codes)
    assert {"done": done, "pending": pending, "failed": failed}[sorted_as] == tasks


def test_stop_skips_stopped_tasks_and_reports_missing_ones():
    ecs = FakeTasksECS(instances=3)
    arns = [task["task_arn"] for task in _run_running(ecs, 3)["tasks"]]
    ecs.stop_task(cluster="edge", task=arns[0])
    gone = "arn:aws:ecs:us-east-1:123456789012:task/edge/ffffffffffffffffffffffffffffffff"
    ecs.calls.clear()
    result = runner(ecs).stop(task_references=arns + [gone], reason="maintenance")
    assert [task["task_arn"] for task in result["tasks"]] == arns[1:]
    assert {task["stopped_reason"] for task in result["tasks"]} == {"maintenance"}
    assert result["failures"] == [{"arn": gone, "reason": "MISSING"}]
    assert ecs.calls["StopTask"] == 2


def test_stop_by_group_on_chosen_instances_in_check_mode():
    ecs = FakeTasksECS(instances=3, capacity=2)
    arns = list(ecs.instances)
    ecs.start_task(containerInstances=arns, taskDefinition="web", group="blue")
    ecs.start_task(containerInstances=arns, taskDefinition="web", group="green")
    result = runner(ecs, check_mode=True).stop(family="web", group="blue", instance_arns=arns[:2])
    assert result["changed"] is True
    assert [(task["group"], task["container_instance_arn"]) for task in result["tasks"]] == [("blue", arns[0]), ("blue", arns[1])]
    assert "StopTask" not in ecs.calls


def test_summary_names_host_and_bindings():
    task = {"taskArn": "arn:aws:ecs:us-east-1:1:task/edge/abc", "containerInstanceArn": "ci-arn", "lastStatus": "RUNNING",
            "containers": [{"name": "web", "lastStatus": "RUNNING", "networkBindings": [
                {"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 32768, "protocol": "tcp"}]}]}
    summary = summarize_task(task, {"ci-arn": "mi-0123456789abcdef0"})
    assert summary["managed_instance_id"] == "mi-0123456789abcdef0"
    assert summary["task_id"] == "abc"
    assert summary["network_bindings"] == [{"bind_ip": "0.0.0.0", "container_port": 80, "host_port": 32768, "protocol": "tcp",
                                            "container_name": "web", "address": "0.0.0.0:32768"}]


def test_task_request_conforms_snake_case_overrides(ecs_model):
    shape = ecs_model.operation_model("RunTask").input_shape
    request = task_request(shape, task_definition="web", overrides={"container_overrides": [{"name": "web", "command": ["x"], "memory": "64"}]},
                           tags={"team": "ops"})
    assert request == {"taskDefinition": "web", "overrides": {"containerOverrides": [{"name": "web", "command": ["x"], "memory": 64}]},
                       "tags": [{"key": "team", "value": "ops"}]}


def test_task_request_refuses_what_start_task_does_not_take(ecs_model):
    shape = ecs_model.operation_model("StartTask").input_shape
    with pytest.raises(AnsibleECSAnywhereError, match="^placement_strategy: not used by this operation$"):
        task_request(shape, task_definition="web", placement_strategy=[{"type": "random"}])


def test_wait_for_stopped_jobs_waits_for_every_job_and_reports_each_failure():
    ecs = FakeTasksECS(instances=3)
    task_runner = runner(ecs)
    result = task_runner.run({"taskDefinition": "job"}, 3)

    def agents(unfinished):  # one more job stops with exit 3 at each poll
        unfinished[0].update(lastStatus="STOPPED", stoppedReason="Essential container in task exited",
                             containers=[{"name": "job", "exitCode": 3}])

    ecs.before_describe = agents
    result = task_runner.wait(result, "STOPPED", timeout=300, delay=6)
    assert result["wait"]["polls"] == 3
    assert [task["last_status"] for task in result["tasks"]] == ["STOPPED"] * 3
    assert result["msg"].startswith("3 of 3 task(s) will not be STOPPED: ") and result["msg"].count("job exited 3") == 3


def test_wait_for_stopped_jobs_at_the_timeout_names_the_failed_and_the_pending_jobs():
    ecs = FakeTasksECS(instances=2)
    task_runner = runner(ecs)
    result = task_runner.run({"taskDefinition": "job"}, 2)

    def agents(unfinished):  # the first job exits 1, the second runs on
        for task in unfinished:
            failed = task["taskArn"].endswith("1")
            task.update(lastStatus="STOPPED" if failed else "RUNNING", containers=[{"name": "job", "exitCode": 1 if failed else None}])

    ecs.before_describe = agents
    result = task_runner.wait(result, "STOPPED", timeout=10, delay=6)
    assert result["msg"].startswith("1 of 2 task(s) will not be STOPPED: task/00000000000000000000000000000001")
    assert ". Timed out after 10 s waiting for 1 of 2 task(s) to be STOPPED: task/00000000000000000000000000000002" in result["msg"]
