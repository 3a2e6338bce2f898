"""The task modules on the lab fleet: 3 booted hosts whose agent stand-ins register with SSM and ECS, pick up
tasks, run simulated containers and write their awslogs streams (lab/agents, lab/PROTOCOL.md).

One playbook, run inside the island: register the task definitions, `ensure` a service-like task on every
host by inventory hostname (resolved through hostvars by the action plugin) and wait until it is RUNNING, run
`ensure` again (no change), run a one-shot job on every host and wait until it STOPPED, fetch its logs, stop
the service. The module fixture brings its own 3-host lab up and down (lab.fleet.testing.fleet_lab); the fleet
needs root and no other lab running.
"""
import json

import pytest
import yaml

from lab.fleet.testing import fleet_lab, island_python, lab, lab_ok, wait_for

CLUSTER = "fleet-tasks"
AGENTS_PLAYBOOK = "tests/lab/fleet/files/agents.yml"


@pytest.fixture(scope="module")
def fleet():
    with fleet_lab(hosts=3) as state:
        yield state


@pytest.fixture(scope="module")
def registered_fleet(fleet):
    """Every host's agents installed and registered; {hostname: container instance} once all are connected."""
    activation = island_python(f"""
import boto3, json
boto3.client("ecs").create_cluster(clusterName="{CLUSTER}")
answer = boto3.client("ssm").create_activation(IamRole="ecsAnywhereRole", RegistrationLimit=10)
print(json.dumps({{"id": answer["ActivationId"], "code": answer["ActivationCode"]}}))
""")
    lab_ok("exec", "--", "ansible-playbook", AGENTS_PLAYBOOK, "-e", f"activation_id={activation['id']}",
           "-e", f"activation_code={activation['code']}", "-e", f"cluster={CLUSTER}")

    def connected():
        found = island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
arns = ecs.list_container_instances(cluster="{CLUSTER}")["containerInstanceArns"]
found = ecs.describe_container_instances(cluster="{CLUSTER}", containerInstances=arns)["containerInstances"] if arns else []
print(json.dumps(found, default=str))
""")
        ready = [instance for instance in found if instance["status"] == "ACTIVE" and instance["agentConnected"]]
        return ready if len(ready) == len(fleet["hosts"]) else None

    return wait_for(connected, 90, "every lab host ACTIVE and agentConnected")


def _module(module, name, **arguments):
    return {"name": name, "fleetops.ecs_anywhere." + module: arguments}


def _awslogs():
    return {"log_driver": "awslogs", "options": {
        "awslogs-group": "/ecs/fleet-tasks", "awslogs-region": "{{ lookup('env', 'AWS_REGION') }}",
        "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}


PLAY = [
    {"name": "Learn each host's managed instance id", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "Read the SSM registration", "ansible.builtin.slurp": {"src": "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"},
         "register": "registration"},
        {"name": "Remember the mi- id", "ansible.builtin.set_fact": {
            "managed_instance_id": "{{ (registration.content | b64decode | from_json).instanceID }}"}},
    ]},
    {"name": "Tasks on the fleet", "hosts": "localhost", "connection": "local", "gather_facts": False,
     "module_defaults": {"group/fleetops.ecs_anywhere.ecs_anywhere": {"endpoint_url": "{{ lookup('env', 'AWS_ENDPOINT_URL') }}"}},
     "vars": {"fleet_hosts": "{{ groups['all'] | difference(['localhost']) }}"},
     "tasks": [
         _module("ecs_task_definition", "define web", family="web", containers=[{
             "name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 64, "command": ["serve"],
             "port_mappings": [{"container_port": 80, "host_port": 8080}], "log_configuration": _awslogs()}]),
         _module("ecs_task_definition", "define job", family="job", containers=[{
             "name": "job", "image": "public.ecr.aws/docker/library/busybox:1.36", "memory": 32,
             "command": ["echo", "hello", "from", "the", "lab"], "log_configuration": _awslogs()}]),
         _module("ecs_run_task", "ensure web everywhere", cluster=CLUSTER, operation="ensure", task_definition="web",
                 container_instances="{{ fleet_hosts }}", started_by="ansible-ensure", wait=True, wait_delay=1, wait_timeout=120),
         _module("ecs_run_task", "ensure web again", cluster=CLUSTER, operation="ensure", task_definition="web",
                 container_instances="{{ fleet_hosts }}", started_by="ansible-ensure", wait=True, wait_delay=1, wait_timeout=120),
         dict(_module("ecs_run_task", "run the job on every host", cluster=CLUSTER, operation="start", task_definition="job",
                      container_instances="{{ fleet_hosts }}", wait=True, wait_for="stopped", wait_delay=1, wait_timeout=120),
              register="job"),
         _module("ecs_task_logs", "fetch the job's logs", cluster=CLUSTER, task_ids="{{ job.tasks | map(attribute='task_id') }}"),
         _module("ecs_run_task", "stop web", cluster=CLUSTER, operation="stop", started_by="ansible-ensure", wait=True,
                 wait_delay=1, wait_timeout=120),
     ]},
]


def test_tasks_run_on_3_lab_hosts_and_their_logs_are_fetched(fleet, registered_fleet, tmp_path):
    playbook = tmp_path / "fleet-tasks.yml"
    playbook.write_text(yaml.safe_dump(PLAY, sort_keys=False))
    process = lab("exec", "--", "ansible-playbook", str(playbook), env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}, timeout=900)
    report = json.loads(process.stdout) if process.stdout.startswith("{") else {"plays": []}
    tasks = dict((task["task"]["name"], task["hosts"].get("localhost", {})) for play in report["plays"][1:] for task in play["tasks"])
    assert process.returncode == 0, process.stdout[-5000:] + process.stderr[-3000:]

    hosts_by_mi = dict((instance["ec2InstanceId"], instance["containerInstanceArn"]) for instance in registered_fleet)
    first = tasks["ensure web everywhere"]
    assert first["changed"] is True
    assert sorted(task["managed_instance_id"] for task in first["tasks"]) == sorted(hosts_by_mi)
    assert [task["last_status"] for task in first["tasks"]] == ["RUNNING"] * 3
    assert all(task["network_bindings"][0]["host_port"] == 8080 for task in first["tasks"])

    again = tasks["ensure web again"]
    assert again["changed"] is False
    assert sorted(task["task_arn"] for task in again["already_running"]) == sorted(task["task_arn"] for task in first["tasks"])

    job = tasks["run the job on every host"]
    assert [(task["last_status"], task["containers"][0]["exit_code"]) for task in job["tasks"]] == [("STOPPED", 0)] * 3

    logs = tasks["fetch the job's logs"]["logs"]
    assert len(logs) == 3
    for entry in logs:
        assert entry["found"] is True
        assert entry["log_stream"] == "ecs/job/" + entry["task_id"]
        assert any("hello from the lab" in event["message"] for event in entry["events"]), entry["events"]
    assert sorted(entry["managed_instance_id"] for entry in logs) == sorted(hosts_by_mi)

    stopped = tasks["stop web"]
    assert [task["last_status"] for task in stopped["tasks"]] == ["STOPPED"] * 3
