"""Task definitions, RunTask/StartTask placement and the task lifecycle on external instances, through
boto3 and the agent's own calls."""
import pytest
from botocore.exceptions import ClientError

from lab.aws._ecs_testing import CLUSTER, error_of, document_instance, external_task_definition, managed_agent, report, signed_post


def run(ecs, family="web", count=1, **kwargs):
    return ecs.run_task(cluster=CLUSTER, taskDefinition=family, launchType="EXTERNAL", count=count, **kwargs)


def describe_task(ecs, arn, **kwargs):
    [task] = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn], **kwargs)["tasks"]
    return task


def instance(ecs, arn):
    [found] = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=[arn])["containerInstances"]
    return found


def remaining(ecs, arn):
    return {r["name"]: r.get("stringSetValue", r["integerValue"]) for r in instance(ecs, arn)["remainingResources"]}


def list_tasks(ecs, **kwargs):
    pages = ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER, **kwargs)
    return [arn for page in pages for arn in page["taskArns"]]


# --- task definitions ---------------------------------------------------------------------------

@pytest.mark.parametrize("network_mode", [None, "bridge", "host", "none"])
def test_external_task_definition_kept_as_given(ecs, network_mode):
    definition = external_task_definition(ecs, network_mode=network_mode)
    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    for shown in (definition, described):
        assert shown["requiresCompatibilities"] == ["EXTERNAL"]
        assert shown["networkMode"] == (network_mode or "bridge")
        assert shown["compatibilities"] == ["EXTERNAL", "EC2"]


def test_awsvpc_is_refused_for_external(ecs):
    with pytest.raises(ClientError) as excinfo:
        external_task_definition(ecs, network_mode="awsvpc")
    assert error_of(excinfo)[0] == "ClientException"
    assert ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_plain_definitions_get_honest_compatibilities(ecs):
    container = {"name": "app", "image": "busybox", "memory": 128}
    plain = ecs.register_task_definition(family="plain", containerDefinitions=[container])["taskDefinition"]
    assert plain["compatibilities"] == ["EC2", "EXTERNAL"] and plain["networkMode"] == "bridge"
    fargate = ecs.register_task_definition(family="fg", containerDefinitions=[container], networkMode="awsvpc",
                                           requiresCompatibilities=["FARGATE"], cpu="256",
                                           memory="512")["taskDefinition"]
    assert fargate["compatibilities"] == ["FARGATE", "EC2"] and fargate["networkMode"] == "awsvpc"


def test_requires_attributes_for_log_driver_and_task_role(ecs):
    definition = external_task_definition(
        ecs, taskRoleArn="arn:aws:iam::123456789012:role/app",
        containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64,
                               "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}}}])
    assert definition["requiresAttributes"] == [
        {"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
        {"name": "com.amazonaws.ecs.capability.task-iam-role"}]


# --- RunTask ------------------------------------------------------------------------------------

def test_run_task_places_pending_task_and_holds_resources(ecs):
    arn = document_instance(ecs, CLUSTER, cpu=1024, memory=1024)["containerInstanceArn"]
    external_task_definition(ecs, cpu=256, memory=300, host_port=8080)
    answer = run(ecs, startedBy="ci-job", group="batch", tags=[{"key": "run", "value": "7"}],
                 overrides={"containerOverrides": [{"name": "app", "environment": [{"name": "A", "value": "1"}]}]})
    assert answer["failures"] == []
    [task] = answer["tasks"]
    assert (task["lastStatus"], task["desiredStatus"], task["launchType"]) == ("PENDING", "RUNNING", "EXTERNAL")
    assert task["containerInstanceArn"] == arn
    assert (task["startedBy"], task["group"]) == ("ci-job", "batch")
    assert task["overrides"]["containerOverrides"][0]["environment"] == [{"name": "A", "value": "1"}]
    assert [c["name"] for c in task["containers"]] == ["app"]
    assert describe_task(ecs, task["taskArn"], include=["TAGS"])["tags"] == [{"key": "run", "value": "7"}]

    left = remaining(ecs, arn)
    assert (left["CPU"], left["MEMORY"]) == (768, 724)
    assert "8080" in left["PORTS"]
    assert (instance(ecs, arn)["pendingTasksCount"], instance(ecs, arn)["runningTasksCount"]) == (1, 0)
    [cluster] = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert (cluster["pendingTasksCount"], cluster["runningTasksCount"]) == (1, 0)


@pytest.mark.parametrize("count", [0, 11])
def test_run_task_count_range(ecs, count):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    with pytest.raises(ClientError) as excinfo:
        run(ecs, count=count)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert list_tasks(ecs) == []


def test_run_task_without_external_instances(ecs):
    external_task_definition(ecs)
    with pytest.raises(ClientError) as excinfo:
        run(ecs)
    assert error_of(excinfo) == ("InvalidParameterException", "No Container Instances were found in your cluster.")


def test_run_task_on_ec2_does_not_use_external_instances(ecs):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(cluster=CLUSTER, taskDefinition="web", launchType="EC2")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_run_task_refuses_definition_without_external(ecs):
    document_instance(ecs, CLUSTER)
    ecs.register_task_definition(family="fg", containerDefinitions=[{"name": "a", "image": "b", "memory": 64}],
                                 networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
    with pytest.raises(ClientError) as excinfo:
        run(ecs, family="fg")
    assert error_of(excinfo) == ("InvalidParameterException", "Task definition does not support launch_type EXTERNAL.")


@pytest.mark.parametrize("case, reason", [
    ("memory", "RESOURCE:MEMORY"), ("cpu", "RESOURCE:CPU"), ("ports", "RESOURCE:PORTS")])
def test_run_task_resource_failures(ecs, case, reason):
    arn = document_instance(ecs, CLUSTER, cpu=1024, memory=1024)["containerInstanceArn"]
    sizes = {"memory": dict(cpu=10, memory=600), "cpu": dict(cpu=600, memory=10),
             "ports": dict(cpu=10, memory=10, host_port=8080)}[case]
    external_task_definition(ecs, **sizes)
    answer = run(ecs, count=2)
    assert len(answer["tasks"]) == 1
    assert answer["failures"] == [{"arn": arn, "reason": reason}]


def test_run_task_udp_port_conflict(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    external_task_definition(ecs, containerDefinitions=[{
        "name": "dns", "image": "coredns", "memory": 64,
        "portMappings": [{"containerPort": 53, "hostPort": 53, "protocol": "udp"}]}])
    answer = run(ecs, count=2)
    assert len(answer["tasks"]) == 1
    assert answer["failures"] == [{"arn": arn, "reason": "RESOURCE:PORTS_UDP"}]
    assert remaining(ecs, arn)["PORTS_UDP"] == ["53"]


def test_run_task_on_disconnected_agent_fails_with_agent(lab_aws, ecs):
    lab_aws.settings(connection_lost_after=60)
    arn = managed_agent(lab_aws, CLUSTER).arn
    external_task_definition(ecs)
    lab_aws.clock(advance=61)
    answer = run(ecs)
    assert (answer["tasks"], answer["failures"]) == ([], [{"arn": arn, "reason": "AGENT"}])


def test_run_task_missing_required_attribute(ecs):
    plain = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    capable = document_instance(
        ecs, CLUSTER, attributes={"com.amazonaws.ecs.capability.logging-driver.awslogs": None})["containerInstanceArn"]
    external_task_definition(ecs, containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64, "logConfiguration": {"logDriver": "awslogs"}}])
    answer = run(ecs, count=1)
    assert [t["containerInstanceArn"] for t in answer["tasks"]] == [capable]
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=capable, force=True)
    answer = run(ecs, count=1)
    assert answer["failures"] == [{"arn": plain, "reason": "ATTRIBUTE"}]


def test_member_of_constraint(ecs):
    web = document_instance(ecs, CLUSTER, attributes={"role": "web"})["containerInstanceArn"]
    db = document_instance(ecs, CLUSTER, attributes={"role": "db"})["containerInstanceArn"]
    external_task_definition(ecs)
    answer = run(ecs, count=3, placementConstraints=[{"type": "memberOf", "expression": "attribute:role == db"}])
    assert {t["containerInstanceArn"] for t in answer["tasks"]} == {db}
    assert answer["failures"] == []

    answer = run(ecs, placementConstraints=[{"type": "memberOf", "expression": "attribute:role == cache"}])
    assert answer["tasks"] == []
    assert sorted(f["arn"] for f in answer["failures"]) == sorted([web, db])
    assert {f["reason"] for f in answer["failures"]} == {"MemberOf placement constraint unsatisfied."}


def test_task_definition_member_of_constraint(ecs):
    document_instance(ecs, CLUSTER, attributes={"role": "web"})
    gpu = document_instance(ecs, CLUSTER, attributes={"gpu": "yes"})["containerInstanceArn"]
    external_task_definition(ecs, placementConstraints=[{"type": "memberOf", "expression": "attribute:gpu exists"}])
    assert [t["containerInstanceArn"] for t in run(ecs, count=2)["tasks"]] == [gpu, gpu]


def test_member_of_by_instance_id_and_registration_time(ecs):
    first = document_instance(ecs, CLUSTER)
    second = document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    expression = f"ec2InstanceId in [{second['ec2InstanceId']}] and agentConnected == true"
    placed = run(ecs, placementConstraints=[{"type": "memberOf", "expression": expression}])["tasks"]
    assert [t["containerInstanceArn"] for t in placed] == [second["containerInstanceArn"]]
    after = first["registeredAt"].date().isoformat()
    placed = run(ecs, placementConstraints=[{"type": "memberOf", "expression": f"registeredAt >= {after}"}])["tasks"]
    assert len(placed) == 1


def test_distinct_instance(ecs):
    arns = [document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(3)]
    external_task_definition(ecs)
    answer = run(ecs, count=4, placementConstraints=[{"type": "distinctInstance"}])
    assert sorted(t["containerInstanceArn"] for t in answer["tasks"]) == sorted(arns)
    assert {f["reason"] for f in answer["failures"]} == {"DistinctInstance placement constraint unsatisfied."}


@pytest.mark.parametrize("constraints, strategies", [
    ([{"type": "memberOf"}], []),
    ([{"type": "memberOf", "expression": "task:group == x"}], []),
    ([{"type": "distinctInstance", "expression": "attribute:a exists"}], []),
    ([{"type": "distinctInstance"}] * 11, []),
    ([], [{"type": "binpack", "field": "disk"}]),
    ([], [{"type": "spread"}]),
    ([], [{"type": "random", "field": "cpu"}]),
    ([], [{"type": "random"}] * 6),
])
def test_bad_placement_is_refused(ecs, constraints, strategies):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    with pytest.raises(ClientError) as excinfo:
        run(ecs, placementConstraints=constraints, placementStrategy=strategies)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert list_tasks(ecs) == []


def test_spread_and_binpack_strategies(ecs):
    big = document_instance(ecs, CLUSTER, cpu=4096, memory=8192, attributes={"zone": "a"})["containerInstanceArn"]
    small = document_instance(ecs, CLUSTER, cpu=1024, memory=2048, attributes={"zone": "b"})["containerInstanceArn"]
    external_task_definition(ecs, cpu=128, memory=128)

    spread = run(ecs, count=4, placementStrategy=[{"type": "spread", "field": "instanceId"}])["tasks"]
    assert sorted(t["containerInstanceArn"] for t in spread) == sorted([big, big, small, small])
    zones = run(ecs, count=2, group="zoned", placementStrategy=[{"type": "spread", "field": "attribute:zone"}])
    assert sorted(t["containerInstanceArn"] for t in zones["tasks"]) == sorted([big, small])
    packed = run(ecs, count=3, placementStrategy=[{"type": "binpack", "field": "memory"}])["tasks"]
    assert [t["containerInstanceArn"] for t in packed] == [small] * 3


def test_random_strategy_places_every_task(ecs):
    arns = {document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(3)}
    external_task_definition(ecs)
    placed = run(ecs, count=5, placementStrategy=[{"type": "random"}])["tasks"]
    assert len(placed) == 5 and {t["containerInstanceArn"] for t in placed} <= arns


def test_draining_instances_get_no_new_tasks(ecs):
    draining = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    active = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[draining], status="DRAINING")
    external_task_definition(ecs)
    assert {t["containerInstanceArn"] for t in run(ecs, count=3)["tasks"]} == {active}


# --- StartTask ----------------------------------------------------------------------------------

def test_start_task_on_named_instances(ecs):
    arns = [document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(2)]
    external_task_definition(ecs)
    missing = "0123456789abcdef0123456789abcdef"
    answer = ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=arns + [missing],
                            startedBy="me", group="g1")
    assert [t["containerInstanceArn"] for t in answer["tasks"]] == arns
    assert {(t["launchType"], t["lastStatus"], t["startedBy"], t["group"]) for t in answer["tasks"]} == {
        ("EXTERNAL", "PENDING", "me", "g1")}
    assert [(f["arn"].rsplit("/", 1)[-1], f["reason"]) for f in answer["failures"]] == [(missing, "MISSING")]


def test_start_task_limits(ecs):
    arns = [document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(11)]
    external_task_definition(ecs)
    with pytest.raises(ClientError) as excinfo:
        ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=arns)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert list_tasks(ecs) == []
    assert len(ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=arns[:10])["tasks"]) == 10


def test_start_task_resource_failure(ecs):
    arn = document_instance(ecs, CLUSTER, memory=100)["containerInstanceArn"]
    external_task_definition(ecs, memory=200)
    answer = ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=[arn])
    assert (answer["tasks"], answer["failures"]) == ([], [{"arn": arn, "reason": "RESOURCE:MEMORY"}])


# --- task states --------------------------------------------------------------------------------

def test_task_stays_pending_until_reported(ecs):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    for _ in range(5):  # describing never moves a task
        assert describe_task(ecs, arn)["lastStatus"] == "PENDING"


def test_agent_reports_running_then_stopped(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER, cpu=1024, memory=1024)
    external_task_definition(ecs, cpu=512, memory=512, host_port=8080)
    arn = run(ecs)["tasks"][0]["taskArn"]

    binding = {"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080, "protocol": "tcp"}
    answer = agent.report(arn, "RUNNING", containers=[{"containerName": "app", "status": "RUNNING",
                                                       "networkBindings": [binding]}])
    assert answer["acknowledgment"]
    task = describe_task(ecs, arn)
    assert task["lastStatus"] == "RUNNING" and "startedAt" in task
    assert task["containers"][0]["networkBindings"] == [binding]
    assert (instance(ecs, agent.arn)["runningTasksCount"], instance(ecs, agent.arn)["pendingTasksCount"]) == (1, 0)

    agent.report(arn, "STOPPED", containers=[{"containerName": "app", "status": "STOPPED", "exitCode": 3}],
                 reason="Essential container in task exited")
    task = describe_task(ecs, arn)
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert task["containers"][0]["exitCode"] == 3
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stopCode"] == "EssentialContainerExited"
    assert {"stoppedAt", "executionStoppedAt"} <= set(task)
    # Resources come back once the task stopped.
    left = remaining(ecs, agent.arn)
    assert (left["CPU"], left["MEMORY"], "8080" in left["PORTS"]) == (1024, 1024, False)
    assert instance(ecs, agent.arn)["runningTasksCount"] == 0
    # STOPPED is final.
    agent.report(arn, "RUNNING")
    assert describe_task(ecs, arn)["lastStatus"] == "STOPPED"


def test_container_state_change(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    agent.ecs.submit_container_state_change(cluster=CLUSTER, task=arn, containerName="app", status="RUNNING",
                                            runtimeId="abc123")
    container = describe_task(ecs, arn)["containers"][0]
    assert (container["lastStatus"], container["runtimeId"]) == ("RUNNING", "abc123")
    with pytest.raises(ClientError) as excinfo:
        agent.ecs.submit_container_state_change(cluster=CLUSTER, task=arn, containerName="nope", status="RUNNING")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_agent_cannot_report_for_another_instance(lab_aws, ecs):
    owner = managed_agent(lab_aws, CLUSTER)
    other = managed_agent(lab_aws, CLUSTER)
    external_task_definition(ecs)
    arn = ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=[owner.arn])["tasks"][0]["taskArn"]
    with pytest.raises(ClientError) as excinfo:
        other.report(arn, "RUNNING")
    assert error_of(excinfo)[0] == "AccessDeniedException"
    assert describe_task(ecs, arn)["lastStatus"] == "PENDING"


def test_report_unknown_task(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    with pytest.raises(ClientError) as excinfo:
        agent.report("arn:aws:ecs:us-east-1:123456789012:task/edge/0123456789abcdef0123456789abcdef", "RUNNING")
    assert error_of(excinfo) == ("InvalidParameterException", "The referenced task was not found.")


def test_lab_task_state_call(lab_aws, ecs):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    assert report(lab_aws, arn, "RUNNING")["lastStatus"] == "RUNNING"
    shown = report(lab_aws, arn, "STOPPED", exit_code=137, reason="OOM killed")
    assert (shown["lastStatus"], shown["stoppedReason"]) == ("STOPPED", "OOM killed")
    task = describe_task(ecs, arn)
    assert task["containers"][0]["exitCode"] == 137
    assert task["stoppedReason"] == "OOM killed"


@pytest.mark.parametrize("body, status", [
    ({"status": "RUNNING"}, 400),
    ({"task": "not-an-arn", "status": "RUNNING"}, 400),
    ({"task": "TASK", "status": "DONE"}, 400),
    ({"task": "TASK", "status": "STOPPED", "exitCode": "1"}, 400),
    ({"task": "arn:aws:ecs:us-east-1:123456789012:task/edge/0123456789abcdef0123456789abcdef",
      "status": "RUNNING"}, 404),
])
def test_lab_task_state_call_rejects_bad_input(lab_aws, ecs, body, status):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    body = {k: (arn if v == "TASK" else v) for k, v in body.items()}
    answer_status, payload = signed_post(lab_aws, "/_lab/tasks/state", body)
    assert answer_status == status and payload["error"]
    assert describe_task(ecs, arn)["lastStatus"] == "PENDING"


def test_stop_task_without_agent_stops_at_once(ecs):
    arn_instance = document_instance(ecs, CLUSTER, memory=1000)["containerInstanceArn"]
    external_task_definition(ecs, memory=600)
    arn = run(ecs)["tasks"][0]["taskArn"]
    stopped = ecs.stop_task(cluster=CLUSTER, task=arn, reason="maintenance")["task"]
    assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert (stopped["stoppedReason"], stopped["stopCode"]) == ("maintenance", "UserInitiated")
    assert remaining(ecs, arn_instance)["MEMORY"] == 1000
    assert run(ecs)["failures"] == []


def test_stop_task_with_agent_waits_for_its_report(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    status, payload = agent.poll()
    assert status == 200 and [t["taskArn"] for t in payload["tasks"]] == [arn]
    agent.report(arn, "RUNNING")

    ecs.stop_task(cluster=CLUSTER, task=arn)
    task = describe_task(ecs, arn)
    assert (task["lastStatus"], task["desiredStatus"]) == ("RUNNING", "STOPPED")
    [picked] = agent.poll()[1]["tasks"]
    assert picked["desiredStatus"] == "STOPPED"
    agent.report(arn, "STOPPED", containers=[{"containerName": "app", "exitCode": 0}])
    task = describe_task(ecs, arn)
    assert (task["lastStatus"], task["stopCode"], task["containers"][0]["exitCode"]) == ("STOPPED", "UserInitiated", 0)
    assert agent.poll()[1]["tasks"] == []


def test_stop_unknown_task(ecs):
    with pytest.raises(ClientError) as excinfo:
        ecs.stop_task(cluster=CLUSTER, task="0123456789abcdef0123456789abcdef")
    assert error_of(excinfo) == ("InvalidParameterException", "The referenced task was not found.")


def test_deregister_with_tasks_needs_force(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    external_task_definition(ecs)
    task_arn = run(ecs)["tasks"][0]["taskArn"]
    with pytest.raises(ClientError) as excinfo:
        ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn)
    assert error_of(excinfo) == ("InvalidParameterException", "Found running tasks on the instance.")
    assert instance(ecs, arn)["status"] == "ACTIVE"
    forced = ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn, force=True)
    assert forced["containerInstance"]["status"] == "INACTIVE"
    assert describe_task(ecs, task_arn)["lastStatus"] == "PENDING"  # orphaned, as AWS leaves it


# --- agent task pickup --------------------------------------------------------------------------

def test_poll_returns_tasks_with_full_definitions(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    external_task_definition(ecs, host_port=8080)
    overrides = {"containerOverrides": [{"name": "app", "command": ["echo", "hi"]}]}
    arn = run(ecs, overrides=overrides)["tasks"][0]["taskArn"]
    status, payload = agent.poll()
    assert status == 200
    [task] = payload["tasks"]
    assert (task["taskArn"], task["desiredStatus"], task["lastStatus"]) == (arn, "RUNNING", "PENDING")
    assert task["overrides"] == overrides
    definition = task["taskDefinition"]
    assert definition["family"] == "web" and definition["networkMode"] == "bridge"
    assert definition["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 8080
    assert definition["requiresCompatibilities"] == ["EXTERNAL"]


def test_poll_is_a_heartbeat_and_checks_the_caller(lab_aws, ecs):
    lab_aws.settings(connection_lost_after=60)
    agent = managed_agent(lab_aws, CLUSTER)
    other = managed_agent(lab_aws, CLUSTER)
    lab_aws.clock(advance=61)
    assert agent.poll()[0] == 200
    assert instance(ecs, agent.arn)["agentConnected"] is True
    other.container_instance = agent.container_instance
    status, payload = other.poll()
    assert (status, payload["__type"]) == (403, "AccessDeniedException")


def test_poll_for_deregistered_instance(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=agent.arn)
    status, payload = agent.poll()
    assert (status, payload["__type"]) == (400, "ClientException")
    assert "is not ACTIVE" in payload["message"]


# --- ListTasks / DescribeTasks ------------------------------------------------------------------

def test_list_tasks_filters_and_pages(ecs):
    first = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    second = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    external_task_definition(ecs)
    external_task_definition(ecs, family="batch")
    web = [t["taskArn"] for t in ecs.start_task(cluster=CLUSTER, taskDefinition="web",
                                                containerInstances=[first, second], startedBy="ops")["tasks"]]
    batch = [t["taskArn"] for t in ecs.start_task(cluster=CLUSTER, taskDefinition="batch",
                                                  containerInstances=[first])["tasks"]]
    ecs.stop_task(cluster=CLUSTER, task=batch[0])

    assert list_tasks(ecs) == web
    assert list_tasks(ecs, desiredStatus="STOPPED") == batch
    assert list_tasks(ecs, containerInstance=first) == web[:1]
    assert list_tasks(ecs, family="web", startedBy="ops") == web
    assert list_tasks(ecs, family="batch") == []
    assert list_tasks(ecs, launchType="EXTERNAL") == web
    page = ecs.list_tasks(cluster=CLUSTER, maxResults=1)
    assert page["taskArns"] == web[:1]
    assert ecs.list_tasks(cluster=CLUSTER, maxResults=1, nextToken=page["nextToken"])["taskArns"] == web[1:]
    with pytest.raises(ClientError) as excinfo:
        ecs.list_tasks(cluster=CLUSTER, maxResults=101)
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_describe_tasks_limits_and_failures(ecs):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    arn = run(ecs)["tasks"][0]["taskArn"]
    answer = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn, "0123456789abcdef0123456789abcdef"])
    assert [t["taskArn"] for t in answer["tasks"]] == [arn]
    assert [f["reason"] for f in answer["failures"]] == ["MISSING"]
    assert "tags" not in answer["tasks"][0]
    assert "startedBy" not in answer["tasks"][0]
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_tasks(cluster=CLUSTER, tasks=[arn] * 101)
    assert error_of(excinfo)[0] == "InvalidParameterException"


@pytest.mark.parametrize("retention", [None, 600])
def test_stopped_tasks_are_forgotten_after_the_retention(lab_aws, ecs, retention):
    if retention:
        lab_aws.settings(stopped_task_retention=retention)
    kept_for = retention or 3600  # the default: AWS shows stopped tasks for at least an hour
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    stopped, running = [task["taskArn"] for task in run(ecs, count=2)["tasks"]]
    report(lab_aws, stopped, "STOPPED", exit_code=0)
    report(lab_aws, running, "RUNNING")

    # Margins of 10 s either side of the retention: real time also passes between the calls.
    lab_aws.clock(advance=kept_for - 10)
    assert [t["lastStatus"] for t in ecs.describe_tasks(cluster=CLUSTER, tasks=[stopped])["tasks"]] == ["STOPPED"]
    assert list_tasks(ecs, desiredStatus="STOPPED") == [stopped]

    lab_aws.clock(advance=20)
    answer = ecs.describe_tasks(cluster=CLUSTER, tasks=[stopped, running])
    assert [t["taskArn"] for t in answer["tasks"]] == [running]
    assert answer["failures"] == [{"arn": stopped, "reason": "MISSING"}]
    assert list_tasks(ecs, desiredStatus="STOPPED") == []
    assert list_tasks(ecs) == [running]  # a task that is not STOPPED stays, however old
    with pytest.raises(ClientError) as excinfo:
        ecs.stop_task(cluster=CLUSTER, task=stopped)
    assert error_of(excinfo) == ("InvalidParameterException", "The referenced task was not found.")


# --- RunTask clientToken, DeleteCluster ---------------------------------------------------------

def test_run_task_client_token_is_idempotent(ecs):
    document_instance(ecs, CLUSTER)
    external_task_definition(ecs)
    first = run(ecs, count=2, clientToken="deploy-42")
    again = run(ecs, count=2, clientToken="deploy-42")
    assert [t["taskArn"] for t in again["tasks"]] == [t["taskArn"] for t in first["tasks"]]
    assert len(list_tasks(ecs)) == 2
    with pytest.raises(ClientError) as excinfo:
        run(ecs, count=3, clientToken="deploy-42")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        run(ecs, clientToken="x" * 65)
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert len(run(ecs, count=1)["tasks"]) == 1  # botocore's own token differs on every call
    assert len(list_tasks(ecs)) == 3


def test_delete_cluster_refused_while_in_use(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    external_task_definition(ecs)
    task_arn = run(ecs)["tasks"][0]["taskArn"]
    with pytest.raises(ClientError) as excinfo:
        ecs.delete_cluster(cluster=CLUSTER)
    assert error_of(excinfo)[0] == "ClusterContainsContainerInstancesException"
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn, force=True)
    with pytest.raises(ClientError) as excinfo:
        ecs.delete_cluster(cluster=CLUSTER)
    assert error_of(excinfo)[0] == "ClusterContainsTasksException"
    ecs.stop_task(cluster=CLUSTER, task=task_arn)
    assert ecs.delete_cluster(cluster=CLUSTER)["cluster"]["status"] == "INACTIVE"
