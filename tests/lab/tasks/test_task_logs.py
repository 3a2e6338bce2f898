"""ecs_task_logs in playbooks against the lab endpoint: each container's awslogs stream is resolved from the task
definition and read back; the lab instances' "agent" writes the streams as the awslogs driver names them."""

import time

import pytest

from .conftest import CLUSTER

MODULE = "fleetops.ecs_anywhere.ecs_task_logs"
GROUP = "/ecs/job"


@pytest.fixture
def job_tasks(lab_aws, edge_cluster):
    """Two tasks of family job (one RUNNING, one STOPPED) on lab instances, whose "app" container logged
    lines; the "sidecar" container has not logged yet. Returns the task ARNs."""
    ecs, logs = lab_aws.client("ecs"), lab_aws.client("logs")
    options = {"awslogs-group": GROUP, "awslogs-region": lab_aws.region, "awslogs-stream-prefix": "ecs"}
    ecs.register_task_definition(family="job", requiresCompatibilities=["EXTERNAL"], containerDefinitions=[
        {"name": name, "image": "busybox", "memory": 64, "logConfiguration": {"logDriver": "awslogs", "options": options}}
        for name in ("app", "sidecar")])
    arns = [task["taskArn"] for task in ecs.start_task(
        cluster=CLUSTER, taskDefinition="job", startedBy="nightly", containerInstances=[i["arn"] for i in edge_cluster[:2]])["tasks"]]
    logs.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    for number, arn in enumerate(arns):
        stream = "ecs/app/" + arn.rsplit("/", 1)[-1]
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
            {"timestamp": now + line, "message": "task {0} line {1}".format(number, line)} for line in range(30)])
    lab_aws.control("POST", "/_lab/tasks/state", {"task": arns[0], "status": "RUNNING"})
    lab_aws.control("POST", "/_lab/tasks/state", {"task": arns[1], "status": "STOPPED", "exitCode": 0})
    return arns


def _task(name, **arguments):
    return {"name": name, MODULE: dict({"cluster": CLUSTER}, **arguments)}


def test_logs_of_running_and_stopped_tasks_are_fetched(lab_aws, run_play, edge_cluster, job_tasks):
    result = run_play([
        _task("by id", task_ids=[job_tasks[0].rsplit("/", 1)[-1]]),
        _task("by family, tail", task_definition="job", containers=["app"], tail=True, limit=5),
        _task("by starter, first lines", started_by="nightly", containers=["app"], limit=3),
    ])
    assert result.returncode == 0, result.output
    by_id = result["by id"]["logs"]
    assert [(entry["container_name"], entry["found"], len(entry["events"])) for entry in by_id] == [("app", True, 30), ("sidecar", False, 0)]
    assert by_id[0]["log_stream"] == "ecs/app/" + job_tasks[0].rsplit("/", 1)[-1]
    assert by_id[0]["log_group"] == GROUP
    assert by_id[0]["managed_instance_id"] == edge_cluster[0]["managed_instance_id"]
    assert by_id[0]["events"][0]["message"] == "task 0 line 0"

    tails = dict((entry["task_arn"], [event["message"] for event in entry["events"]]) for entry in result["by family, tail"]["logs"])
    assert tails == {arn: ["task {0} line {1}".format(number, line) for line in range(25, 30)] for number, arn in enumerate(job_tasks)}
    statuses = sorted(entry["last_status"] for entry in result["by family, tail"]["logs"])
    assert statuses == ["RUNNING", "STOPPED"]

    heads = [[event["message"] for event in entry["events"]] for entry in result["by starter, first lines"]["logs"]]
    assert sorted(heads) == [["task {0} line {1}".format(number, line) for line in range(3)] for number in range(2)]


def test_a_task_ecs_forgot_is_named_and_its_logs_read_from_the_task_definition(lab_aws, run_play, edge_cluster, job_tasks):
    running_id, stopped_id = (arn.rsplit("/", 1)[-1] for arn in job_tasks)
    # ECS describes a stopped task for about an hour (the lab's stopped_task_retention, 3600 s by default).
    lab_aws.clock(advance=lab_aws.settings()["stopped_task_retention"] + 10)
    result = run_play([
        _task("without definition", task_ids=[running_id, stopped_id], containers=["app"]),
        _task("with definition", task_ids=[running_id, stopped_id], task_definition="job:1", containers=["app"]),
        dict(_task("unknown definition", task_ids=[stopped_id], task_definition="job:9"), ignore_errors=True),
    ])
    assert result.returncode == 0, result.output

    without = result["without definition"]
    assert without["missing_tasks"] == [stopped_id]
    assert [(entry["task_id"], entry["task_found"], len(entry["events"])) for entry in without["logs"]] == [(running_id, True, 30)]
    [warning] = without["warnings"]
    assert stopped_id in warning and "cluster " + CLUSTER in warning and "about an hour" in warning
    assert "Set task_definition" in warning

    with_definition = result["with definition"]
    assert with_definition["missing_tasks"] == [stopped_id]
    entries = dict((entry["task_id"], entry) for entry in with_definition["logs"])
    assert entries[running_id]["task_found"] is True and entries[running_id]["last_status"] == "RUNNING"
    gone = entries[stopped_id]
    assert (gone["task_found"], gone["last_status"], gone["managed_instance_id"], gone["found"]) == (False, None, None, True)
    assert gone["log_stream"] == "ecs/app/" + stopped_id
    assert [event["message"] for event in gone["events"]] == ["task 1 line {0}".format(line) for line in range(30)]
    assert with_definition["warnings"][0].endswith("Their logs were read from the streams named by job:1.")

    unknown = result["unknown definition"]
    assert unknown["failed"] is True
    assert unknown["msg"].startswith("task_definition: job:9 does not exist")


def test_no_matching_task_gives_an_empty_list(lab_aws, run_play, edge_cluster):
    result = run_play([_task("none", task_definition="nothing-like-this")])
    assert result.returncode == 0, result.output
    assert result["none"]["logs"] == []


def test_bad_input_makes_no_aws_call(lab_aws, run_play, edge_cluster):
    lab_aws.reset_counters()
    result = run_play([
        dict(_task("bad time", task_definition="job", start_time="yesterday"), ignore_errors=True),
        dict(_task("bad limit", task_definition="job", limit=0), ignore_errors=True),
        dict(_task("nothing selected"), ignore_errors=True),
    ])
    messages = dict((name, task.get("msg")) for name, task in result.on().items())
    assert messages["bad time"] == "start_time: 'yesterday' is not epoch milliseconds, an ISO 8601 time or a relative time like -15m"
    assert messages["bad limit"] == "limit: must be at least 1"
    assert messages["nothing selected"] == "one of the following is required: task_ids, task_definition, started_by"
    assert lab_aws.counters() == {}
