"""ECS services with launch type EXTERNAL on the lab endpoint: the API and the service scheduler.

The background scheduler is paused (``service_scheduler_interval`` 0) and each test drives it with
``POST /_lab/services/reconcile``, playing the agents with ``/_lab/tasks/state`` or SubmitTaskStateChange.
A RUNNING task counts as healthy at once (``service_healthy_after`` 0) except in the test of AWS's 40 s wait.
"""
import time

import pytest
from botocore.exceptions import ClientError

from lab.aws._ecs_testing import CLUSTER, document_instance, error_of, external_task_definition, managed_agent, report
from lab.aws.testing import LabAWSError

WAIT_TIMEOUT = 30


@pytest.fixture(autouse=True)
def paused_scheduler(lab_aws):
    lab_aws.settings(service_scheduler_interval=0, service_healthy_after=0)


def reconcile(lab, passes=1):
    return lab.control("POST", "/_lab/services/reconcile", {"passes": passes})


def service(ecs, name="web"):
    return ecs.describe_services(cluster=CLUSTER, services=[name], include=["TAGS"])["services"][0]


def messages(ecs, name="web"):
    return [event["message"] for event in service(ecs, name)["events"]]


def live_tasks(ecs, name="web"):
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=name)["taskArns"]
    return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


def running(ecs, name="web"):
    return [t for t in live_tasks(ecs, name) if t["lastStatus"] == "RUNNING"]


def start_pending(lab, ecs, name="web"):
    """Play the agents: every PENDING task of the service reports RUNNING."""
    for task in live_tasks(ecs, name):
        if task["lastStatus"] == "PENDING":
            report(lab, task["taskArn"], "RUNNING")


def instance_ids(task_list):
    return {t["containerInstanceArn"].rsplit("/", 1)[-1] for t in task_list}


def create(ecs, task_definition, name="web", **arguments):
    arguments.setdefault("desiredCount", 2)
    return ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=task_definition["taskDefinitionArn"],
                              launchType="EXTERNAL", **arguments)["service"]


def steady(lab, ecs, name="web", limit=10):
    """Reconcile and start PENDING tasks until the primary deployment is COMPLETED (at most ``limit`` rounds)."""
    for _ in range(limit):
        reconcile(lab)
        start_pending(lab, ecs, name)
        described = service(ecs, name)
        if described["deployments"][0]["rolloutState"] == "COMPLETED" and len(described["deployments"]) == 1:
            return described
    raise AssertionError(f"service {name} did not complete: {service(ecs, name)['deployments']}")


@pytest.fixture
def fleet(ecs):
    return [document_instance(ecs, CLUSTER) for _ in range(4)]


# --- create, tasks, steady state ---------------------------------------------------------------

def test_create_replica_service_runs_tasks_until_steady(lab_aws, ecs, fleet):
    definition = external_task_definition(ecs)
    created = create(ecs, definition, desiredCount=3, placementConstraints=[{"type": "distinctInstance"}],
                     tags=[{"key": "team", "value": "edge"}], propagateTags="SERVICE")
    assert created["status"] == "ACTIVE" and created["launchType"] == "EXTERNAL"
    assert created["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert created["deploymentConfiguration"]["maximumPercent"] == 200
    deployment = created["deployments"][0]
    assert deployment["status"] == "PRIMARY" and deployment["rolloutState"] == "IN_PROGRESS"
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} in progress."
    assert deployment["id"].startswith("ecs-svc/") and len(deployment["id"]) == len("ecs-svc/") + 19

    reconcile(lab_aws)
    started = live_tasks(ecs)
    assert len(started) == 3 and len(instance_ids(started)) == 3
    assert {t["group"] for t in started} == {"service:web"}
    assert {t["startedBy"] for t in started} == {deployment["id"]}
    assert {t["lastStatus"] for t in started} == {"PENDING"}
    ids = " ".join(f"(task {t['taskArn'].rsplit('/', 1)[-1]})" for t in started)
    assert messages(ecs)[0] == f"(service web) has started 3 tasks: {ids}."
    tags = ecs.describe_tasks(cluster=CLUSTER, tasks=[started[0]["taskArn"]], include=["TAGS"])["tasks"][0]["tags"]
    assert tags == [{"key": "team", "value": "edge"}]
    assert service(ecs)["pendingCount"] == 3

    start_pending(lab_aws, ecs)
    reconcile(lab_aws)
    described = service(ecs)
    assert described["runningCount"] == 3 and described["pendingCount"] == 0
    assert described["deployments"][0]["rolloutState"] == "COMPLETED"
    assert described["deployments"][0]["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    assert messages(ecs)[:2] == ["(service web) has reached a steady state.",
                                 f"(service web) (deployment {deployment['id']}) deployment completed."]
    reconcile(lab_aws, passes=3)  # a steady service gets no more events and no more tasks
    assert len(messages(ecs)) == 3 and len(live_tasks(ecs)) == 3


def test_agent_picks_up_and_reports_service_tasks(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    assert agent.poll()[0] == 200
    create(ecs, external_task_definition(ecs), desiredCount=1)
    reconcile(lab_aws)
    status, payload = agent.poll()
    assert status == 200 and len(payload["tasks"]) == 1
    picked = payload["tasks"][0]
    assert picked["group"] == "service:web" and picked["startedBy"] == service(ecs)["deployments"][0]["id"]
    agent.report(picked["taskArn"], "RUNNING")
    reconcile(lab_aws)
    assert service(ecs)["runningCount"] == 1
    assert service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED"


def test_placement_constraints_and_strategy(lab_aws, ecs):
    small = document_instance(ecs, CLUSTER, cpu=1024, attributes={"zone": "a"})
    large = document_instance(ecs, CLUSTER, cpu=4096, attributes={"zone": "a"})
    document_instance(ecs, CLUSTER, cpu=4096, attributes={"zone": "b"})
    create(ecs, external_task_definition(ecs), desiredCount=2,
           placementConstraints=[{"type": "memberOf", "expression": "attribute:zone == a"}],
           placementStrategy=[{"type": "binpack", "field": "cpu"}])
    reconcile(lab_aws)
    # binpack on cpu fills the instance with the least CPU left first, among the zone a instances
    assert instance_ids(live_tasks(ecs)) == {small["containerInstanceArn"].rsplit("/", 1)[-1]}
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=8)
    reconcile(lab_aws)
    assert instance_ids(live_tasks(ecs)) == {small["containerInstanceArn"].rsplit("/", 1)[-1],
                                             large["containerInstanceArn"].rsplit("/", 1)[-1]}


def test_unplaceable_tasks_give_the_unable_to_place_event(lab_aws, ecs):
    definition = external_task_definition(ecs, memory=8192)
    create(ecs, definition, desiredCount=1)
    reconcile(lab_aws)
    assert messages(ecs)[0] == ("(service web) was unable to place a task because no container instance met all of "
                                "its requirements. Reason: No Container Instances were found in your cluster. "
                                "For more information, see the Troubleshooting section.")
    instance = document_instance(ecs, CLUSTER, memory=4096)
    reconcile(lab_aws, passes=2)
    assert messages(ecs)[0] == ("(service web) was unable to place a task because no container instance met all of "
                                "its requirements. The closest matching (container-instance "
                                f"{instance['containerInstanceArn'].rsplit('/', 1)[-1]}) has insufficient memory "
                                "available. For more information, see the Troubleshooting section.")
    assert len(messages(ecs)) == 2  # a repeated cause is not repeated in the events
    assert live_tasks(ecs) == []


# --- updates and rolling deployments -----------------------------------------------------------

def test_rolling_update_50_200_never_drops_below_half(lab_aws, ecs, fleet):
    first = external_task_definition(ecs)
    create(ecs, first, desiredCount=4,
           deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200})
    before = steady(lab_aws, ecs)
    old_deployment = before["deployments"][0]["id"]
    second = external_task_definition(ecs, cpu=128)
    updated = ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=second["taskDefinitionArn"])["service"]
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
    new_deployment = updated["deployments"][0]["id"]
    assert updated["deployments"][0]["taskDefinition"] == second["taskDefinitionArn"]

    lowest, highest = 4, 0
    for _ in range(10):
        reconcile(lab_aws)
        tasks_now = live_tasks(ecs)
        lowest = min(lowest, sum(1 for t in tasks_now if t["lastStatus"] == "RUNNING"))
        highest = max(highest, len(tasks_now))
        start_pending(lab_aws, ecs)
        if service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED":
            break
    assert lowest >= 2 and highest <= 8
    described = service(ecs)
    assert [d["id"] for d in described["deployments"]] == [new_deployment]
    assert described["deployments"][0]["rolloutState"] == "COMPLETED" and described["runningCount"] == 4
    assert {t["taskDefinitionArn"] for t in live_tasks(ecs)} == {second["taskDefinitionArn"]}
    stopped_arns = ecs.list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="STOPPED")["taskArns"]
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=stopped_arns)["tasks"]
    assert len(stopped) == 4 and {t["startedBy"] for t in stopped} == {old_deployment}
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    assert {t["stoppedReason"] for t in stopped} == {f"Scaling activity initiated by (deployment {new_deployment})"}
    assert any(m.startswith("(service web) has stopped 2 running tasks: ") for m in messages(ecs))


def test_new_tasks_count_as_healthy_40_s_after_running(lab_aws, ecs, fleet):
    """AWS: without container health checks a task counts toward minimumHealthyPercent 40 s after RUNNING, so
    a 100/200 rollout keeps every old task until the new ones have run that long (lab clock)."""
    lab_aws.settings(service_healthy_after=40)
    first = external_task_definition(ecs)
    create(ecs, first, desiredCount=2, deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})
    reconcile(lab_aws)
    start_pending(lab_aws, ecs)
    reconcile(lab_aws)
    assert service(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"  # RUNNING, not yet healthy
    lab_aws.clock(advance=40)
    reconcile(lab_aws)
    assert service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED"
    second = external_task_definition(ecs, cpu=128)
    ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=second["taskDefinitionArn"])
    reconcile(lab_aws)
    start_pending(lab_aws, ecs)
    reconcile(lab_aws, passes=3)
    assert sorted(t["taskDefinitionArn"] for t in live_tasks(ecs)) == sorted([first["taskDefinitionArn"]] * 2 +
                                                                              [second["taskDefinitionArn"]] * 2)
    lab_aws.clock(advance=39)
    reconcile(lab_aws)
    assert len(live_tasks(ecs)) == 4
    lab_aws.clock(advance=1)
    reconcile(lab_aws)
    assert {t["taskDefinitionArn"] for t in live_tasks(ecs)} == {second["taskDefinitionArn"]}


def test_desired_count_update_scales_the_primary_deployment(lab_aws, ecs, fleet):
    create(ecs, external_task_definition(ecs), desiredCount=1)
    deployment = steady(lab_aws, ecs)["deployments"][0]["id"]
    updated = ecs.update_service(cluster=CLUSTER, service="web", desiredCount=3)["service"]
    assert [d["id"] for d in updated["deployments"]] == [deployment]
    assert updated["deployments"][0]["desiredCount"] == 3
    reconcile(lab_aws)
    assert len(live_tasks(ecs)) == 3
    start_pending(lab_aws, ecs)
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)
    reconcile(lab_aws)
    assert len(live_tasks(ecs)) == 1 and service(ecs)["deployments"][0]["id"] == deployment


def test_force_new_deployment_replaces_every_task(lab_aws, ecs, fleet):
    create(ecs, external_task_definition(ecs), desiredCount=2)
    steady(lab_aws, ecs)
    first = {t["taskArn"] for t in live_tasks(ecs)}
    updated = ecs.update_service(cluster=CLUSTER, service="web", forceNewDeployment=True)["service"]
    assert len(updated["deployments"]) == 2
    steady(lab_aws, ecs)
    assert not first & {t["taskArn"] for t in live_tasks(ecs)}


def test_crashed_task_is_replaced(lab_aws, ecs, fleet):
    create(ecs, external_task_definition(ecs), desiredCount=2)
    steady(lab_aws, ecs)
    crashed = live_tasks(ecs)[0]["taskArn"]
    report(lab_aws, crashed, "STOPPED", exit_code=137, reason="OutOfMemoryError")
    reconcile(lab_aws)
    tasks_now = live_tasks(ecs)
    assert len(tasks_now) == 2 and crashed not in {t["taskArn"] for t in tasks_now}
    assert service(ecs)["deployments"][0]["failedTasks"] == 0  # a completed deployment does not count failures


# --- circuit breaker ---------------------------------------------------------------------------

def _fail_new_tasks(lab, ecs, deployment_id):
    for task in live_tasks(ecs):
        if task["startedBy"] == deployment_id and task["lastStatus"] == "PENDING":
            report(lab, task["taskArn"], "STOPPED", exit_code=1, reason="Essential container in task exited")


def test_circuit_breaker_fails_the_deployment_and_rolls_back(lab_aws, ecs, fleet):
    good = external_task_definition(ecs)
    create(ecs, good, desiredCount=2,
           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    completed = steady(lab_aws, ecs)["deployments"][0]["id"]
    bad = external_task_definition(ecs, cpu=100)
    failing = ecs.update_service(cluster=CLUSTER, service="web",
                                 taskDefinition=bad["taskDefinitionArn"])["service"]["deployments"][0]["id"]
    # threshold: 0.5 * desiredCount = 1, raised to the minimum of 3
    for _ in range(3):
        reconcile(lab_aws)
        _fail_new_tasks(lab_aws, ecs, failing)
        assert len(running(ecs)) == 2  # the completed deployment's tasks keep running
        if service(ecs)["deployments"][0]["id"] != failing:
            break
    reconcile(lab_aws)
    described = service(ecs)
    rollback, failed, original = described["deployments"]
    assert original["id"] == completed and original["status"] == "ACTIVE" and original["runningCount"] == 2
    assert failed["id"] == failing and failed["status"] == "ACTIVE" and failed["failedTasks"] >= 3
    assert failed["rolloutState"] == "FAILED"
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert rollback["status"] == "PRIMARY" and rollback["taskDefinition"] == good["taskDefinitionArn"]
    assert rollback["rolloutStateReason"] == f"ECS deployment circuit breaker: rolling back to deploymentId {completed}."
    assert f"(service web) (deployment {failing}) deployment failed: tasks failed to start." in messages(ecs)
    assert f"(service web) rolling back to deployment {completed}." in messages(ecs)
    after = steady(lab_aws, ecs)
    assert [d["id"] for d in after["deployments"]] == [rollback["id"]]
    assert {t["taskDefinitionArn"] for t in live_tasks(ecs)} == {good["taskDefinitionArn"]}


def test_circuit_breaker_without_rollback_stops_launching(lab_aws, ecs, fleet):
    create(ecs, external_task_definition(ecs), desiredCount=1,
           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    steady(lab_aws, ecs)
    bad = external_task_definition(ecs, cpu=100)
    failing = ecs.update_service(cluster=CLUSTER, service="web",
                                 taskDefinition=bad["taskDefinitionArn"])["service"]["deployments"][0]["id"]
    for _ in range(4):
        reconcile(lab_aws)
        _fail_new_tasks(lab_aws, ecs, failing)
    reconcile(lab_aws, passes=2)
    primary = service(ecs)["deployments"][0]
    assert primary["id"] == failing and primary["rolloutState"] == "FAILED" and primary["failedTasks"] == 3
    assert [t["startedBy"] for t in live_tasks(ecs)] != [failing]
    assert len(running(ecs)) == 1  # the earlier deployment's task is left running


# --- container instances: draining, DAEMON -----------------------------------------------------

def test_draining_instance_tasks_move_before_they_stop(lab_aws, ecs):
    a, b, c = (document_instance(ecs, CLUSTER) for _ in range(3))
    create(ecs, external_task_definition(ecs), desiredCount=2, placementConstraints=[{"type": "distinctInstance"}])
    steady(lab_aws, ecs)
    c_id = c["containerInstanceArn"].rsplit("/", 1)[-1]
    on = instance_ids(live_tasks(ecs))
    assert c_id not in on  # registration order breaks the tie: a and b
    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[a["containerInstanceArn"]],
                                         status="DRAINING")
    reconcile(lab_aws)
    tasks_now = live_tasks(ecs)
    assert len(tasks_now) == 3 and len(running(ecs)) == 2  # the replacement starts first (maximumPercent 200)
    start_pending(lab_aws, ecs)
    reconcile(lab_aws)
    a_id = a["containerInstanceArn"].rsplit("/", 1)[-1]
    assert instance_ids(live_tasks(ecs)) == {b["containerInstanceArn"].rsplit("/", 1)[-1], c_id}
    assert len(running(ecs)) == 2
    assert a_id not in instance_ids(live_tasks(ecs))
    assert service(ecs)["deployments"][0]["rolloutState"] == "COMPLETED"


def test_draining_with_no_room_stops_first_within_minimum(lab_aws, ecs):
    a, b, c = (document_instance(ecs, CLUSTER) for _ in range(3))
    create(ecs, external_task_definition(ecs), desiredCount=2,
           deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 100})
    steady(lab_aws, ecs)
    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[a["containerInstanceArn"],
                                                                              b["containerInstanceArn"]],
                                         status="DRAINING")
    c_id = c["containerInstanceArn"].rsplit("/", 1)[-1]
    reconcile(lab_aws)
    assert len(running(ecs)) == 1 and len(live_tasks(ecs)) == 1  # no room to start first: one stops (50% stay)
    for _ in range(6):
        reconcile(lab_aws)
        assert len(running(ecs)) >= 1 and len(live_tasks(ecs)) <= 2
        start_pending(lab_aws, ecs)
        if instance_ids(live_tasks(ecs)) == {c_id} and len(running(ecs)) == 2:
            break
    assert instance_ids(live_tasks(ecs)) == {c_id} and len(running(ecs)) == 2


def test_daemon_service_follows_instances(lab_aws, ecs):
    first = document_instance(ecs, CLUSTER, attributes={"role": "edge"})
    document_instance(ecs, CLUSTER, attributes={"role": "edge"})
    document_instance(ecs, CLUSTER, attributes={"role": "storage"})
    created = ecs.create_service(cluster=CLUSTER, serviceName="agent", launchType="EXTERNAL",
                                 schedulingStrategy="DAEMON",
                                 taskDefinition=external_task_definition(ecs, family="agent")["taskDefinitionArn"],
                                 placementConstraints=[{"type": "memberOf",
                                                        "expression": "attribute:role == edge"}])["service"]
    assert created["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert created["deploymentConfiguration"]["maximumPercent"] == 100
    steady(lab_aws, ecs, "agent")
    assert len(instance_ids(live_tasks(ecs, "agent"))) == 2 and service(ecs, "agent")["desiredCount"] == 2

    joined = document_instance(ecs, CLUSTER, attributes={"role": "edge"})
    reconcile(lab_aws)
    joined_id = joined["containerInstanceArn"].rsplit("/", 1)[-1]
    assert joined_id in instance_ids(live_tasks(ecs, "agent")) and service(ecs, "agent")["desiredCount"] == 3
    start_pending(lab_aws, ecs, "agent")

    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[first["containerInstanceArn"]],
                                         status="DRAINING")
    steady(lab_aws, ecs, "agent")
    assert first["containerInstanceArn"].rsplit("/", 1)[-1] not in instance_ids(live_tasks(ecs, "agent"))
    assert len(live_tasks(ecs, "agent")) == 2 and service(ecs, "agent")["desiredCount"] == 2

    # a new revision: DAEMON's 0/100 stops the old task on an instance before starting the new one
    revision = external_task_definition(ecs, family="agent", cpu=128)
    ecs.update_service(cluster=CLUSTER, service="agent", taskDefinition=revision["taskDefinitionArn"])
    steady(lab_aws, ecs, "agent")
    assert {t["taskDefinitionArn"] for t in live_tasks(ecs, "agent")} == {revision["taskDefinitionArn"]}
    assert len(live_tasks(ecs, "agent")) == 2


# --- delete ------------------------------------------------------------------------------------

def test_delete_service_drains_then_goes_inactive(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    agent.poll()
    create(ecs, external_task_definition(ecs), desiredCount=1)
    reconcile(lab_aws)
    task_arn = agent.poll()[1]["tasks"][0]["taskArn"]
    agent.report(task_arn, "RUNNING")
    with pytest.raises(ClientError) as refused:
        ecs.delete_service(cluster=CLUSTER, service="web")
    assert error_of(refused) == ("InvalidParameterException",
                                 "The service cannot be stopped while it is scaled above 0.")
    assert service(ecs)["status"] == "ACTIVE" and len(running(ecs)) == 1
    with pytest.raises(ClientError) as busy:
        ecs.delete_cluster(cluster=CLUSTER)
    assert error_of(busy)[0] == "ClusterContainsContainerInstancesException"

    deleted = ecs.delete_service(cluster=CLUSTER, service="web", force=True)["service"]
    assert deleted["status"] == "DRAINING" and deleted["desiredCount"] == 0
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    assert agent.poll()[1]["tasks"][0]["desiredStatus"] == "STOPPED"
    agent.report(task_arn, "STOPPED")
    reconcile(lab_aws)
    assert service(ecs)["status"] == "INACTIVE"
    with pytest.raises(ClientError) as inactive:
        ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)
    assert error_of(inactive) == ("ServiceNotActiveException", "Service was not ACTIVE.")
    create(ecs, external_task_definition(ecs), desiredCount=0)  # the name is free again
    assert service(ecs)["status"] == "ACTIVE"


def test_delete_cluster_refused_while_a_service_is_active(lab_aws, ecs):
    create(ecs, external_task_definition(ecs), desiredCount=0)
    with pytest.raises(ClientError) as refused:
        ecs.delete_cluster(cluster=CLUSTER)
    assert error_of(refused) == ("ClusterContainsServicesException",
                                 "The Cluster cannot be deleted while Services are active.")
    ecs.delete_service(cluster=CLUSTER, service="web")
    assert service(ecs)["status"] == "INACTIVE"
    ecs.delete_cluster(cluster=CLUSTER)


# --- describe, list ----------------------------------------------------------------------------

def test_describe_and_list_services(lab_aws, ecs):
    definition = external_task_definition(ecs)
    for number in range(12):
        create(ecs, definition, name=f"svc-{number:02d}", desiredCount=0)
    ecs.create_service(cluster=CLUSTER, serviceName="daemon", launchType="EXTERNAL", schedulingStrategy="DAEMON",
                       taskDefinition=definition["taskDefinitionArn"])
    first = ecs.list_services(cluster=CLUSTER)
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    rest = ecs.list_services(cluster=CLUSTER, nextToken=first["nextToken"])
    assert len(rest["serviceArns"]) == 3 and "nextToken" not in rest
    assert rest["serviceArns"][-1].endswith("service/edge/daemon")
    assert len(ecs.list_services(cluster=CLUSTER, maxResults=100)["serviceArns"]) == 13
    assert ecs.list_services(cluster=CLUSTER, schedulingStrategy="DAEMON")["serviceArns"] == [
        rest["serviceArns"][-1]]
    assert len(ecs.list_services(cluster=CLUSTER, launchType="EXTERNAL", maxResults=100)["serviceArns"]) == 13
    assert ecs.list_services(cluster=CLUSTER, launchType="EC2")["serviceArns"] == []
    for bad in (0, 101):
        with pytest.raises(ClientError) as refused:
            ecs.list_services(cluster=CLUSTER, maxResults=bad)
        assert error_of(refused)[0] == "InvalidParameterException"

    described = ecs.describe_services(cluster=CLUSTER, services=["svc-00", first["serviceArns"][1], "nope"])
    assert [s["serviceName"] for s in described["services"]] == ["svc-00", "svc-01"]
    assert described["failures"] == [{"arn": "arn:aws:ecs:us-east-1:123456789012:service/edge/nope",
                                      "reason": "MISSING"}]
    assert "tags" not in described["services"][0]
    with pytest.raises(ClientError) as too_many:
        ecs.describe_services(cluster=CLUSTER, services=[f"svc-{n:02d}" for n in range(11)])
    assert error_of(too_many) == ("InvalidParameterException", "services can have at most 10 items.")


# --- refusals: AWS's code and text, nothing changed --------------------------------------------

REFUSED_CREATES = [
    ({"loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1",
                         "containerName": "app", "containerPort": 80}]},
     "InvalidParameterException", "loadBalancers: load balancers are not supported"),
    ({"serviceRegistries": [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]},
     "InvalidParameterException", "serviceRegistries: service discovery is not supported"),
    ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}},
     "InvalidParameterException", "networkConfiguration: the awsvpc network mode is not supported"),
    ({"capacityProviderStrategy": [{"capacityProvider": "edge", "weight": 1}]},
     "InvalidParameterException",
     "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."),
    ({"deploymentController": {"type": "CODE_DEPLOY"}}, "InvalidParameterException",
     "deploymentController: CODE_DEPLOY needs a load balancer"),
    ({"deploymentController": {"type": "EXTERNAL"}}, "InvalidParameterException",
     "deploymentController: a service with the EXTERNAL deployment controller"),
    ({"desiredCount": -1}, "InvalidParameterException", "desiredCount must be an integer of 0 or more"),
    ({"deploymentConfiguration": {"maximumPercent": 90}}, "InvalidParameterException",
     "deploymentConfiguration.maximumPercent must be at least 100"),
    ({"deploymentConfiguration": {"minimumHealthyPercent": 110}}, "InvalidParameterException",
     "deploymentConfiguration.minimumHealthyPercent must be between 0 and 100"),
    ({"deploymentConfiguration": {"minimumHealthyPercent": -1}}, "InvalidParameterException",
     "deploymentConfiguration.minimumHealthyPercent must be between 0 and 100"),
    ({"taskDefinition": None}, "InvalidParameterException", "taskDefinition: a task definition is required"),
    ({"desiredCount": None}, "InvalidParameterException", "desiredCount is required for the REPLICA"),
    ({"schedulingStrategy": "DAEMON", "desiredCount": 1}, "InvalidParameterException",
     "desiredCount: the DAEMON scheduling strategy does not support a desired count"),
    ({"schedulingStrategy": "DAEMON", "desiredCount": None, "placementStrategy": [{"type": "random"}]},
     "InvalidParameterException", "placementStrategy: placement strategies are not supported with the DAEMON"),
    ({"cluster": "nowhere"}, "ClusterNotFoundException", "Cluster not found."),
    ({"serviceName": "taken"}, "InvalidParameterException", "Creation of service was not idempotent."),
]


@pytest.mark.parametrize("change, code, message", REFUSED_CREATES,
                         ids=[f"{next(iter(c))}-{i}" for i, (c, _, _) in enumerate(REFUSED_CREATES)])
def test_create_refusals_change_nothing(lab_aws, ecs, change, code, message):
    document_instance(ecs, CLUSTER)
    definition = external_task_definition(ecs)
    create(ecs, definition, name="taken", desiredCount=1)
    before = service(ecs, "taken")
    arguments = {"cluster": CLUSTER, "serviceName": "web", "taskDefinition": definition["taskDefinitionArn"],
                 "desiredCount": 1, "launchType": "EXTERNAL", **change}
    arguments = {k: v for k, v in arguments.items() if v is not None}
    lab_aws.reset_counters()
    with pytest.raises(ClientError) as refused:
        ecs.create_service(**arguments)
    assert error_of(refused)[0] == code and error_of(refused)[1].startswith(message)
    assert lab_aws.counters() == {"CreateService": 1}
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == [before["serviceArn"]]
    assert service(ecs, "taken") == before
    assert reconcile(lab_aws)["services"] == 1  # nothing new for the scheduler either


REFUSED_UPDATES = [
    ({"service": "nope"}, "ServiceNotFoundException", "Service not found."),
    ({"loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1",
                         "containerName": "app", "containerPort": 80}]},
     "InvalidParameterException", "loadBalancers: load balancers are not supported"),
    ({"capacityProviderStrategy": [{"capacityProvider": "edge", "weight": 1}]}, "InvalidParameterException",
     "capacityProviderStrategy: capacity providers cannot be used"),
    ({"desiredCount": -2}, "InvalidParameterException", "desiredCount must be an integer of 0 or more"),
    ({"deploymentConfiguration": {"maximumPercent": 50}}, "InvalidParameterException",
     "deploymentConfiguration.maximumPercent must be at least 100"),
    ({"taskDefinition": "missing:1"}, "ClientException", "Unable to describe task definition."),
]


@pytest.mark.parametrize("change, code, message", REFUSED_UPDATES,
                         ids=[f"{next(iter(c))}-{i}" for i, (c, _, _) in enumerate(REFUSED_UPDATES)])
def test_update_refusals_change_nothing(lab_aws, ecs, change, code, message):
    create(ecs, external_task_definition(ecs), desiredCount=1)
    before = service(ecs)
    with pytest.raises(ClientError) as refused:
        ecs.update_service(**{"cluster": CLUSTER, "service": "web", "desiredCount": 3, **change})
    assert error_of(refused)[0] == code and error_of(refused)[1].startswith(message)
    assert service(ecs) == before


def test_daemon_refuses_a_desired_count_update(lab_aws, ecs):
    ecs.create_service(cluster=CLUSTER, serviceName="agent", launchType="EXTERNAL", schedulingStrategy="DAEMON",
                       taskDefinition=external_task_definition(ecs)["taskDefinitionArn"])
    before = service(ecs, "agent")
    with pytest.raises(ClientError) as refused:
        ecs.update_service(cluster=CLUSTER, service="agent", desiredCount=2)
    assert error_of(refused)[0] == "InvalidParameterException"
    assert "DAEMON scheduling strategy does not support a desired count" in error_of(refused)[1]
    assert service(ecs, "agent") == before


# --- the scheduler process, reset, faults ------------------------------------------------------

def test_background_scheduler_makes_progress_on_its_own(lab_aws, ecs):
    document_instance(ecs, CLUSTER)
    create(ecs, external_task_definition(ecs), desiredCount=1)
    assert live_tasks(ecs) == []
    lab_aws.settings(service_scheduler_interval=0.05)
    deadline = time.monotonic() + WAIT_TIMEOUT
    while not live_tasks(ecs):
        assert time.monotonic() < deadline, "the background scheduler started no task"
        time.sleep(0.05)
    assert len(live_tasks(ecs)) == 1


def test_reconcile_route_checks_its_input(lab_aws):
    for body, field in (({"passes": 0}, "passes"), ({"passes": "2"}, "passes"), ({"other": 1}, "other")):
        with pytest.raises(LabAWSError) as refused:
            lab_aws.control("POST", "/_lab/services/reconcile", body)
        assert "answered 400" in str(refused.value) and field in str(refused.value)
    with pytest.raises(LabAWSError) as refused:
        lab_aws.settings(service_scheduler_interval=-1)
    assert "answered 400" in str(refused.value) and "service_scheduler_interval" in str(refused.value)
    assert lab_aws.settings()["service_scheduler_interval"] == 0


def test_reset_clears_services(lab_aws, ecs):
    create(ecs, external_task_definition(ecs), desiredCount=0)
    lab_aws.reset()
    lab_aws.settings(service_scheduler_interval=0)
    ecs.create_cluster(clusterName=CLUSTER)
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    assert reconcile(lab_aws)["services"] == 0


def test_faults_and_counters_cover_service_operations(lab_aws, ecs):
    definition = external_task_definition(ecs)
    lab_aws.set_faults({"CreateService": {"throttle_rate": 1.0}})
    lab_aws.reset_counters()
    with pytest.raises(ClientError) as throttled:
        create(ecs, definition)
    assert error_of(throttled)[0] == "ThrottlingException"
    lab_aws.clear_faults()
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    create(ecs, definition, desiredCount=0)
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=0)
    ecs.describe_services(cluster=CLUSTER, services=["web"])
    ecs.delete_service(cluster=CLUSTER, service="web")
    detail = lab_aws.counters_detail()
    assert detail["by_service"]["ecs"] == {"CreateService": 2, "ListServices": 1, "UpdateService": 1,
                                           "DescribeServices": 1, "DeleteService": 1}
    assert detail["injected"] == {"CreateService": {"throttle": 1}}
