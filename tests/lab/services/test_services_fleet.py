"""ECS services on the lab fleet, with real containers behind HAProxy: 4 hosts of the lab, the agents rolled out on
the first 3 by the collection's rollout playbook, services run by the deploy role (lab.bench.rolling).

- A REPLICA service of 6 tasks on 3 hosts rolls to a new revision (50/200) while a load generator sends
  requests through HAProxy for the whole rollout: no request fails, and afterwards every answer is the new
  revision's.
- A revision whose container exits at once trips the circuit breaker: the service rolls back, ecs_service
  with wait fails with the rollback reason and the events, and the old revision keeps serving.
- A DAEMON service runs exactly one task per ACTIVE host; the 4th host, added by the rollout playbook, gets
  its task; a drained host loses it.
- The upgrade playbook (one host per batch) and the decommission playbook (the 4th host) drain hosts under
  load: ECS moves the REPLICA service's tasks off them before their agents stop, the service never has fewer
  RUNNING tasks than its minimum healthy count, and no request through HAProxy fails.

The module claims the session's lab (6 hosts, the first 4 used) (tests/lab/conftest.py's session_lab); the tests run in file
order on it (the later ones build on the service and hosts the earlier ones leave). Needs root.
"""
import json
import re

import pytest
import yaml

from lab.bench import rolling
from lab.fleet import config
from lab.fleet.testing import create_clusters, island_python, lab, on_host, wait_for

CLUSTER = "lab"  # lab-vars.yml's agent_cluster
HOSTS = [config.host_name(index) for index in range(1, 5)]
pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def fleet(session_lab):
    # 6 hosts, of which the tests use the first 4 (every playbook run is limited): the job slicing suite runs next
    # on the same lab (tests/conftest.py) and needs 6.
    state = session_lab.claim(hosts=6)
    create_clusters(CLUSTER)
    rolled = rolling.playbook("rollout", {}, limit=HOSTS[:3])
    assert rolled.returncode == 0, rolled.stdout[-5000:] + rolled.stderr[-2000:]
    return state


def ecs_state(service):
    """The service, its live tasks and the cluster's container instances, read with boto3 in the island."""
    return island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
service = ecs.describe_services(cluster="{CLUSTER}", services=["{service}"])["services"][0]
arns = ecs.list_tasks(cluster="{CLUSTER}", serviceName="{service}")["taskArns"]
tasks = ecs.describe_tasks(cluster="{CLUSTER}", tasks=arns)["tasks"] if arns else []
ci_arns = ecs.list_container_instances(cluster="{CLUSTER}", status="ACTIVE")["containerInstanceArns"]
ci_arns += ecs.list_container_instances(cluster="{CLUSTER}", status="DRAINING")["containerInstanceArns"]
instances = ecs.describe_container_instances(cluster="{CLUSTER}", containerInstances=ci_arns)["containerInstances"]
print(json.dumps({{"service": service, "tasks": tasks, "instances": instances}}, default=str))
""")


def diagnostics(service):
    """What to read when a wait times out: the service's deployments, events and live tasks, and each ECS agent's
    latest log lines."""
    state = ecs_state(service)
    tasks = [(t["taskArn"].rsplit("/", 1)[1], t["startedBy"], t["taskDefinitionArn"].rsplit("/", 1)[1], t["lastStatus"],
              t["desiredStatus"], t.get("startedAt"), t["containerInstanceArn"].rsplit("/", 1)[1]) for t in state["tasks"]]
    agents = {host: on_host(str(config.host_address(index + 1)), "journalctl -u ecs --no-pager | tail -40").stdout
              for index, host in enumerate(HOSTS)}
    return json.dumps({"deployments": state["service"]["deployments"], "events": state["service"]["events"][:30],
                       "tasks": tasks, "agents": agents}, indent=1, default=str)


def wait_for_service(service, condition, timeout, what):
    try:
        return wait_for(condition, timeout, what)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{diagnostics(service)}") from None


def running_by_instance(state):
    running = {}
    for task in state["tasks"]:
        if task["lastStatus"] == "RUNNING":
            running.setdefault(task["containerInstanceArn"], []).append(task)
    return running


def through_lb(count):
    """count requests through HAProxy from inside the island: the answering (task id, version) pairs."""
    answers = island_python(f"""
import json, urllib.request
print(json.dumps([urllib.request.urlopen({rolling.lb_url()!r}, timeout=10).read().decode() for _ in range({count})]))
""")
    pairs = []
    for answer in answers:
        match = re.match(r"^task=([0-9a-f-]+) arn=\S+ host=\S+ version=(\S+)", answer)
        assert match, answer
        pairs.append(match.groups())
    return pairs


def fleet_managed_id(host):
    address = str(config.host_address(HOSTS.index(host) + 1))
    found = island_python(f"""
import boto3, json
info = boto3.client("ssm").describe_instance_information()["InstanceInformationList"]
print(json.dumps([i["InstanceId"] for i in info if i.get("IPAddress") == "{address}"]))
""")
    assert len(found) == 1, found
    return found[0]


def set_status(container_instance_arn, status):
    island_python(f"""
import boto3, json
boto3.client("ecs").update_container_instances_state(cluster="{CLUSTER}", containerInstances=["{container_instance_arn}"],
                                                     status="{status}")
print("{{}}")
""")


def delete_service(name):
    island_python(f"""
import boto3, json
boto3.client("ecs").delete_service(cluster="{CLUSTER}", service="{name}", force=True)
print("{{}}")
""")


def test_replica_rolling_update_behind_haproxy_drops_no_request(fleet):
    first = rolling.playbook("deploy", rolling.service_vars(rolling.task_definition("1")), limit=HOSTS[:3])
    assert first.returncode == 0, first.stdout[-5000:]
    assert {version for _task, version in through_lb(12)} == {"1"}
    with rolling.load() as generator:
        second = rolling.playbook("deploy", rolling.service_vars(rolling.task_definition("2")), limit=HOSTS[:3])
        assert second.returncode == 0, second.stdout[-5000:]
        before_stop = generator.summary()
    summary = generator.stop()
    assert summary["requests"] > before_stop["requests"] > 0
    assert summary["failures"] == 0, summary["failure_samples"]
    assert set(summary["versions"]) == {"1", "2"}  # the rollout happened while requests flowed

    state = ecs_state("web")
    running = [t for t in state["tasks"] if t["lastStatus"] == "RUNNING"]
    assert len(running) == 6 and len({t["containerInstanceArn"] for t in running}) == 3  # spread by instanceId
    new_revision = state["service"]["taskDefinition"]
    assert {t["taskDefinitionArn"] for t in running} == {new_revision}
    answers = through_lb(24)
    assert {version for _task, version in answers} == {"2"}
    assert {task for task, _version in answers} <= {t["taskArn"].rsplit("/", 1)[1] for t in running}


def test_circuit_breaker_rolls_back_and_the_old_revision_keeps_serving(fleet, tmp_path):
    serving = ecs_state("web")["service"]["taskDefinition"]
    crashing = rolling.task_definition("2", command=["sh", "-c", "echo crashing; exit 1"])
    # ecs_service with wait fails with the rollback's reason and the service's events; the loaded HAProxy keeps
    # answering from the old revision while the breaker trips.
    play = [{"name": "A revision that exits at once", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "module_defaults": {"group/fleetops.ecs_anywhere.ecs_anywhere": {
                 "endpoint_url": "{{ lookup('env', 'AWS_ENDPOINT_URL') }}", "region": config.REGION}},
             "tasks": [
                 {"name": "register", "register": "crashing", "fleetops.ecs_anywhere.ecs_task_definition": {
                     "task_definition": crashing}},
                 {"name": "update", "fleetops.ecs_anywhere.ecs_service": {
                     "cluster": CLUSTER, "name": "web", "task_definition": "{{ crashing.task_definition.task_definition_arn }}",
                     "wait": True, "wait_delay": 2, "wait_timeout": 300}},
             ]}]
    path = tmp_path / "crash.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    with rolling.load() as generator:
        process = lab("exec", "--", "ansible-playbook", str(path), env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
                      timeout=600)
    summary = generator.stop()
    assert summary["failures"] == 0, summary["failure_samples"]
    assert set(summary["versions"]) == {"2"}
    report = json.loads(process.stdout) if process.stdout.startswith("{") else {"plays": []}
    results = dict((t["task"]["name"], t["hosts"].get("localhost", {})) for p in report["plays"] for t in p["tasks"])
    assert process.returncode == 2, process.stdout[-3000:]
    update = results["update"]
    assert update["failed"] is True and "circuit breaker" in update["msg"], update["msg"]
    assert any("circuit breaker" in event["message"] or "rolling back" in event["message"] for event in update["events"])

    def rolled_back():
        now = ecs_state("web")
        deployments = now["service"]["deployments"]
        return now if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED" else None

    assert wait_for_service("web", rolled_back, 180, "the rollback deployment COMPLETED")["service"]["taskDefinition"] == serving
    # The next run of the deploy role with the serving revision changes nothing in ECS and points HAProxy at the
    # rollback's tasks.
    resynced = rolling.playbook("deploy", rolling.service_vars(rolling.task_definition("2")), limit=HOSTS[:3])
    assert resynced.returncode == 0, resynced.stdout[-5000:]
    assert {version for _task, version in through_lb(12)} == {"2"}


def test_daemon_service_one_task_per_active_host_follows_hosts_joining_and_draining(fleet):
    daemon = rolling.service_vars(rolling.task_definition("1", family="agent-daemon"), strategy="DAEMON", balanced=False)
    deployed = rolling.playbook("deploy", daemon, limit=HOSTS[:3])
    assert deployed.returncode == 0, deployed.stdout[-5000:]
    state = ecs_state("agent-daemon")
    active = [i["containerInstanceArn"] for i in state["instances"] if i["status"] == "ACTIVE"]
    assert len(active) == 3
    assert {arn: len(tasks) for arn, tasks in running_by_instance(state).items()} == dict.fromkeys(active, 1)

    # The 4th host joins through the rollout playbook; the service gives it its task.
    joined = rolling.playbook("rollout", daemon, limit=[HOSTS[3]])
    assert joined.returncode == 0, joined.stdout[-5000:]
    state = ecs_state("agent-daemon")
    active = [i["containerInstanceArn"] for i in state["instances"] if i["status"] == "ACTIVE"]
    assert len(active) == 4
    assert {arn: len(tasks) for arn, tasks in running_by_instance(state).items()} == dict.fromkeys(active, 1)

    # Draining the 4th host stops its daemon task and starts none elsewhere; reactivating it brings one back.
    fourth = next(i for i in state["instances"] if i["ec2InstanceId"] == fleet_managed_id(HOSTS[3]))
    set_status(fourth["containerInstanceArn"], "DRAINING")

    def drained():
        now = ecs_state("agent-daemon")
        running = running_by_instance(now)
        return now if fourth["containerInstanceArn"] not in running and len(running) == 3 else None

    state = wait_for(drained, 90, "the drained host's daemon task stopped")
    assert all(len(tasks) == 1 for tasks in running_by_instance(state).values())
    set_status(fourth["containerInstanceArn"], "ACTIVE")
    wait_for(lambda: len(running_by_instance(ecs_state("agent-daemon"))) == 4, 90, "the host's daemon task back")
    delete_service("agent-daemon")


def test_upgrade_batches_and_decommission_move_replica_tasks_keeping_the_minimum_healthy(fleet):
    web = rolling.service_vars(rolling.task_definition("2"))
    minimum = web["deploy_count"] * web["deploy_service_minimum_healthy_percent"] // 100
    fourth = fleet_managed_id(HOSTS[3])
    with rolling.load() as generator, rolling.watch("web") as watcher:
        upgraded = rolling.playbook("upgrade", dict(web, agent_ecs_init_version="1.1.0", agent_ssm_agent_version="1.1.0"),
                                    limit=HOSTS)
        assert upgraded.returncode == 0, upgraded.stdout[-5000:]
        removed = rolling.playbook("decommission", {}, limit=[HOSTS[3]])
        assert removed.returncode == 0, removed.stdout[-5000:]
    summary, watched = generator.stop(), watcher.stop()
    assert summary["failures"] == 0, summary["failure_samples"]
    assert watched["samples"] > 0 and watched["minimum"] >= minimum, watched

    state = ecs_state("web")
    running = [t for t in state["tasks"] if t["lastStatus"] == "RUNNING"]
    assert len(running) == 6
    assert fourth not in {i["ec2InstanceId"] for i in state["instances"]}
    assert {t["containerInstanceArn"] for t in running} <= {i["containerInstanceArn"] for i in state["instances"]}
    # Every task of the serving revision that stopped meanwhile was stopped by the service scheduler (moved off a
    # drained host), none by an agent going away under it.
    stopped = island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
arns = ecs.list_tasks(cluster="{CLUSTER}", serviceName="web", desiredStatus="STOPPED")["taskArns"]
tasks = ecs.describe_tasks(cluster="{CLUSTER}", tasks=arns)["tasks"] if arns else []
print(json.dumps([t.get("stopCode") for t in tasks if t["taskDefinitionArn"] == "{state['service']['taskDefinition']}"]))
""")
    assert stopped and set(stopped) == {"ServiceSchedulerInitiated"}, stopped
