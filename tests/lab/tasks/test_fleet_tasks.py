"""The task modules on the lab fleet, with real containers: 3 booted hosts whose agent stand-ins register with
SSM and ECS and run each task as containers in the host's Docker Engine, pulled from the lab's ECR stand-in,
logging through dockerd's awslogs driver to the lab's CloudWatch Logs (lab/agents, lab/PROTOCOL.md).

The module fixture `fleet` (tests/lab/conftest.py) claims the session's lab with 3 hosts; the fleet needs root.
Each test uses its own task definition family and stops what it started, so the next one finds no task of it on
the hosts.
"""
import json

import pytest
import yaml

from lab.fleet import config, ecr
from lab.fleet.testing import create_activation, describe_container_instances, lab, lab_ok, on_host, wait_for

CLUSTER = "fleet-tasks"
AGENTS_PLAYBOOK = "tests/lab/fleet/files/agents.yml"
EXECUTION_ROLE = f"arn:aws:iam::{config.ACCOUNT_ID}:role/ecsTaskExecutionRole"
LOG_GROUP = "/ecs/fleet-tasks"
pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def registered_fleet(fleet):
    """Every host's agents installed and registered: {managed instance id: host address} once all are connected."""
    activation = create_activation(CLUSTER)
    lab_ok("exec", "--", "ansible-playbook", AGENTS_PLAYBOOK, "-e", f"activation_id={activation['id']}",
           "-e", f"activation_code={activation['code']}", "-e", f"cluster={CLUSTER}", timeout=600)

    def connected():
        found = describe_container_instances(CLUSTER)
        ready = [instance for instance in found if instance["status"] == "ACTIVE" and instance["agentConnected"]]
        return ready if len(ready) == len(fleet["hosts"]) else None

    wait_for(connected, 90, "every lab host ACTIVE and agentConnected")
    addresses = {}
    for host in fleet["hosts"]:
        registration = on_host(host["address"], "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey")
        addresses[json.loads(registration.stdout)["instanceID"]] = host["address"]
    return addresses


def container(name, image=None, **fields):
    """A container definition in the seed's shape: the lab registry's image, awslogs with a stream prefix."""
    definition = {"name": name, "image": image or ecr.image_uri(), "memory": 64, "essential": True,
                  "log_configuration": {"log_driver": "awslogs", "options": {
                      "awslogs-group": LOG_GROUP, "awslogs-region": config.REGION, "awslogs-stream-prefix": "ecs",
                      "awslogs-create-group": "true"}}}
    definition.update(fields)
    return definition


def define(family, containers, execution_role=True):
    task_definition = {"family": family, "network_mode": "bridge", "containers": containers}
    if execution_role:
        task_definition["execution_role_arn"] = EXECUTION_ROLE
    return {"name": f"define {family}", "fleetops.ecs_anywhere.ecs_task_definition": task_definition}


def module(module_name, name, register=None, **arguments):
    task = {"name": name, "fleetops.ecs_anywhere." + module_name: dict(cluster=CLUSTER, **arguments)}
    if register:
        task["register"] = register
    return task


# ecs_run_task resolves inventory hosts through their managed_instance_id variable.
LEARN_MANAGED_INSTANCE_IDS = {"name": "Learn each host's managed instance id", "hosts": "all", "gather_facts": False, "tasks": [
    {"name": "Read the SSM registration", "register": "registration",
     "ansible.builtin.slurp": {"src": "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"}},
    {"name": "Remember the mi- id", "ansible.builtin.set_fact": {
        "managed_instance_id": "{{ (registration.content | b64decode | from_json).instanceID }}"}},
]}


def run_play(tmp_path, tasks, expect_failure=False):
    """Run tasks on localhost inside the island (the modules aim at the lab endpoint); {task name: result}."""
    play = [LEARN_MANAGED_INSTANCE_IDS, {"name": "Tasks on the fleet", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "module_defaults": {"group/fleetops.ecs_anywhere.ecs_anywhere": {
                 "endpoint_url": "{{ lookup('env', 'AWS_ENDPOINT_URL') }}"}},
             "vars": {"fleet_hosts": "{{ groups['all'] | difference(['localhost']) }}"},
             "tasks": tasks}]
    playbook = tmp_path / "fleet-tasks.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    process = lab("exec", "--", "ansible-playbook", str(playbook), env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
                  timeout=900)
    report = json.loads(process.stdout) if process.stdout.startswith("{") else {"plays": []}
    results = dict((task["task"]["name"], task["hosts"].get("localhost", {})) for play in report["plays"]
                   for task in play["tasks"])
    if not expect_failure:
        assert process.returncode == 0, process.stdout[-6000:] + process.stderr[-3000:]
    return results


def curl(address, port, timeout=5):
    """GET / of address:port from inside the island; the finished curl process."""
    return lab("exec", "--", "curl", "--silent", "--show-error", "--max-time", str(timeout),
               f"http://{address}:{port}/", timeout=60)


def containers_of(address, task_arn, running_only=True):
    """Docker ids of the task's containers on the host, found by the label the agent sets."""
    listing = on_host(address, f"docker ps -q {'' if running_only else '-a '}--filter label=com.amazonaws.ecs.task-arn={task_arn}")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    return listing.stdout.split()


# Run on a lab host: the first half of a GET to the task's port, then, once the container logs that it is draining
# (ECS stopped the task), the rest; the answer goes to /tmp/in-flight.out.
IN_FLIGHT_REQUEST = """
import pathlib, socket, subprocess, sys, time
container, port = sys.argv[1], int(sys.argv[2])
connection = socket.create_connection(("127.0.0.1", port), timeout=60)
connection.sendall(b"GET / HTTP/1.0\\r\\nHost: web\\r\\n")
pathlib.Path("/tmp/in-flight.sent").touch()
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    if "web: draining" in logs.stdout + logs.stderr:
        break
    time.sleep(0.1)
connection.sendall(b"\\r\\n")
answer = b""
while chunk := connection.recv(65536):
    answer += chunk
pathlib.Path("/tmp/in-flight.out").write_bytes(answer)
"""


def test_web_task_on_3_hosts_answers_on_its_port_and_stopping_frees_it(registered_fleet, tmp_path):
    tasks = run_play(tmp_path, [
        define("web", [container("web", cpu=128, port_mappings=[{"container_port": 80, "host_port": 0}])]),
        module("ecs_run_task", "ensure web everywhere", operation="ensure", task_definition="web",
               container_instances="{{ fleet_hosts }}", started_by="fleet-web", wait=True, wait_delay=1, wait_timeout=180),
        module("ecs_run_task", "ensure web again", operation="ensure", task_definition="web",
               container_instances="{{ fleet_hosts }}", started_by="fleet-web", wait=True, wait_delay=1, wait_timeout=180),
    ])
    started = tasks["ensure web everywhere"]
    assert started["changed"] is True
    assert sorted(task["managed_instance_id"] for task in started["tasks"]) == sorted(registered_fleet)
    assert [task["last_status"] for task in started["tasks"]] == ["RUNNING"] * 3
    again = tasks["ensure web again"]
    assert again["changed"] is False
    assert sorted(t["task_arn"] for t in again["already_running"]) == sorted(t["task_arn"] for t in started["tasks"])

    endpoints = []
    for task in started["tasks"]:
        binding = task["network_bindings"][0]
        assert binding["container_port"] == 80 and binding["host_port"] >= 32768  # Docker's ephemeral range
        address = registered_fleet[task["managed_instance_id"]]
        answer = curl(address, binding["host_port"])
        assert answer.returncode == 0, answer.stdout + answer.stderr
        # The container's own page: the task id it read from its task metadata endpoint, and its Docker host name.
        assert answer.stdout.startswith(f"task={task['task_id']} arn={task['task_arn']} host="), answer.stdout
        assert len(containers_of(address, task["task_arn"])) == 1
        endpoints.append((address, binding["host_port"], task["task_arn"]))

    # A request in flight when ECS stops the task is still answered: the agent stops the container with SIGTERM
    # and the web server lets it finish (lab/images/files/web) before the container exits.
    address, port, task_arn = endpoints[0]
    [container_id] = containers_of(address, task_arn)
    started_request = on_host(address, f"rm -f /tmp/in-flight.*; nohup python3 -c '{IN_FLIGHT_REQUEST}' {container_id} "
                                       f"{port} </dev/null >/tmp/in-flight.log 2>&1 &")
    assert started_request.returncode == 0, started_request.stdout + started_request.stderr
    wait_for(lambda: on_host(address, "test -e /tmp/in-flight.sent").returncode == 0, 30, "the request's first half sent")

    stopped = run_play(tmp_path, [module("ecs_run_task", "stop web", operation="stop", started_by="fleet-web", wait=True,
                                         wait_delay=1, wait_timeout=180)])["stop web"]
    assert [task["last_status"] for task in stopped["tasks"]] == ["STOPPED"] * 3
    answer = wait_for(lambda: on_host(address, "cat /tmp/in-flight.out").stdout, 30, "the in-flight request's answer")
    assert answer.split()[1] == "200" and f"task={task_arn.rsplit('/', 1)[1]} " in answer, (
        answer + on_host(address, "cat /tmp/in-flight.log").stdout)
    for address, port, task_arn in endpoints:
        refused = curl(address, port)
        assert refused.returncode == 7, refused.stdout + refused.stderr  # curl: failed to connect
        assert containers_of(address, task_arn) == []


def test_job_exits_3_and_its_own_lines_are_in_cloudwatch_logs(registered_fleet, tmp_path):
    lines = ["job: one", "job: two has  two spaces", "job: three"]
    script = "; ".join(f"echo '{line}'" for line in lines) + "; exit 3"
    tasks = run_play(tmp_path, [
        define("job", [container("job", command=["sh", "-c", script])]),
        # A job that exits non-zero fails the module (the operator's signal); its logs are fetched anyway.
        dict(module("ecs_run_task", "run the job on every host", register="job", operation="start", task_definition="job",
                    container_instances="{{ fleet_hosts }}", wait=True, wait_for="stopped", wait_delay=1,
                    wait_timeout=180), ignore_errors=True),
        module("ecs_task_logs", "fetch the job's logs", task_ids="{{ job.tasks | map(attribute='task_id') }}"),
    ])
    job = tasks["run the job on every host"]
    assert job["failed"] is True and job["msg"].count("job exited 3") == 3, job["msg"]
    assert [(t["last_status"], t["containers"][0]["exit_code"]) for t in job["tasks"]] == [("STOPPED", 3)] * 3
    assert {t["stopped_reason"] for t in job["tasks"]} == {"Essential container in task exited"}
    logs = tasks["fetch the job's logs"]["logs"]
    assert sorted(entry["managed_instance_id"] for entry in logs) == sorted(registered_fleet)
    for entry in logs:
        assert entry["found"] is True and entry["log_stream"] == "ecs/job/" + entry["task_id"]
        assert [event["message"] for event in entry["events"]] == lines


BAD_CASES = {
    "bad image reference": (
        dict(image="INVALID::reference"),
        "CannotPullContainerError: Error response from daemon: invalid reference format"),
    "missing tag": (
        dict(image=ecr.image_uri(tag="404")),
        f"CannotPullContainerError: Error response from daemon: manifest for {ecr.image_uri(tag='404')} not found: "
        "manifest unknown"),
    "awslogs without an execution role": (
        dict(execution_role=False),
        "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create "
        "Cloudwatch log stream: NoCredentialProviders: no valid providers in chain"),
    "host port in use": (
        dict(port_mappings=[{"container_port": 80, "host_port": 8089}]),
        "CannotStartContainerError: Error response from daemon: driver failed programming external connectivity on "
        "endpoint"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_task_that_cannot_start_stops_with_the_real_reason_and_leaves_nothing_running(registered_fleet, tmp_path, case):
    fields, reason = BAD_CASES[case]
    fields = dict(fields)
    execution_role = fields.pop("execution_role", True)
    family = "bad-" + case.replace(" ", "-")
    address = sorted(registered_fleet.values())[0]
    holder = None
    if case == "host port in use":
        # Something else on the host holds the port: a listener outside ECS, as a site's own daemon would.
        holder = on_host(address, "systemd-run --unit=port-holder --property=Type=exec "
                                  "python3 -m http.server 8089 --bind 0.0.0.0")
        assert holder.returncode == 0, holder.stdout + holder.stderr
        wait_for(lambda: on_host(address, "ss -Hltn 'sport = :8089' | grep -q LISTEN").returncode == 0, 30,
                 "the port holder listening")
    try:
        tasks = run_play(tmp_path, [
            define(family, [container("app", **fields)], execution_role=execution_role),
            module("ecs_run_task", "start it", register="started", operation="start", task_definition=family,
                   container_instances=[host for host, addr in _names(registered_fleet) if addr == address],
                   wait=True, wait_delay=1, wait_timeout=180),
        ], expect_failure=True)
    finally:
        if holder is not None:
            on_host(address, "systemctl stop port-holder")
    result = tasks["start it"]
    assert result.get("failed") is True, result
    # The module fails naming the task's stopped reason, and the task record carries it.
    assert reason in result["msg"], result["msg"]
    (task,) = result["tasks"]
    assert task["last_status"] == "STOPPED" and task["stopped_reason"].startswith(reason), task
    assert containers_of(address, task["task_arn"]) == []


def _names(registered_fleet):
    """(inventory host name, address) of each registered host."""
    by_address = {str(config.host_address(index)): config.host_name(index) for index in range(1, 4)}
    return [(by_address[address], address) for address in registered_fleet.values()]
