"""Playbook tests of the task modules against the in-process lab AWS endpoint.

``run_play(tasks, check=False, diff=False)`` runs one play on localhost with ``module_defaults`` aiming the
collection's task modules at the lab endpoint, and returns a ``PlayResult``: each task's result by task name
(the ansible.posix.json callback's), plus the return code and output for failure messages.
"""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
TASK_MODULES = ("ecs_task_definition", "ecs_run_task", "ecs_task_logs", "ecs_service", "ecs_service_info")


class PlayResult:
    def __init__(self, process):
        self.returncode = process.returncode
        self.output = process.stdout + process.stderr
        try:
            report = json.loads(process.stdout)
        except ValueError:
            report = {"plays": []}
        self.tasks = dict(
            (task["task"]["name"], task["hosts"].get("localhost", {}))
            for play in report["plays"] for task in play["tasks"]
        )

    def __getitem__(self, name):
        assert name in self.tasks, f"no task {name!r} ran:\n{self.output}"
        return self.tasks[name]


def connection(lab):
    return {"endpoint_url": lab.url, "region": lab.region, "access_key": "testing", "secret_key": "testing"}


@pytest.fixture
def run_play(lab_aws, tmp_path):
    def run(tasks, check=False, diff=False, hosts="localhost", inventory="localhost,", extra_args=()):
        defaults = dict(("fleetops.ecs_anywhere." + name, connection(lab_aws)) for name in TASK_MODULES)
        play = [{"name": "lab play", "hosts": hosts, "gather_facts": False, "connection": "local",
                 "module_defaults": defaults, "tasks": tasks}]
        path = tmp_path / "play.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(path),
                   "-e", "ansible_python_interpreter=" + sys.executable, *extra_args]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"),
                   ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        process = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        return PlayResult(process)

    return run


CLUSTER = "edge"


@pytest.fixture
def edge_cluster(lab_aws):
    """A cluster with 3 external container instances (no hosts): [{"arn", "managed_instance_id"}, ...]."""
    from lab.aws._ecs_testing import new_mi_id, registration

    ecs = lab_aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    instances = []
    for _number in range(3):
        managed_instance_id = new_mi_id()
        arguments = registration(cpu=1024, memory=1024)
        # What the external agent advertises besides ecs.capability.external: the awslogs driver.
        arguments["attributes"].append({"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"})
        document = json.dumps({"instanceId": managed_instance_id, "region": lab_aws.region})
        instance = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document, **arguments)["containerInstance"]
        instances.append({"arn": instance["containerInstanceArn"], "managed_instance_id": managed_instance_id})
    return instances


class AgentStandIn:
    """Plays the ECS agent of every lab instance from a thread: PENDING tasks are reported RUNNING (with a
    network binding per port mapping) and, when exit_code is set, then STOPPED with that exit code."""

    def __init__(self, lab, cluster, exit_code=None):
        self.ecs = lab.client("ecs")
        self.cluster = cluster
        self.exit_code = exit_code
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="agent-stand-in", daemon=True)
        self.errors = []

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(timeout=30)
        assert not self.errors, self.errors

    def _loop(self):
        while not self.stopping.wait(0.2):
            try:
                self._report_pending()
            except Exception as e:  # reported at __exit__, so a failure is not silent
                self.errors.append(repr(e))
                return

    def _report_pending(self):
        arns = self.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return
        for task in self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]:
            if task["lastStatus"] != "PENDING":
                continue
            definition = self.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
            containers = [{"containerName": container["name"], "status": "RUNNING", "networkBindings": [
                {"bindIP": "0.0.0.0", "containerPort": mapping["containerPort"], "protocol": mapping.get("protocol", "tcp"),
                 "hostPort": mapping.get("hostPort") or 32768 + index}
                for index, mapping in enumerate(container.get("portMappings", []))]}
                for container in definition["containerDefinitions"]]
            self.ecs.submit_task_state_change(cluster=self.cluster, task=task["taskArn"], status="RUNNING", containers=containers)
            if self.exit_code is not None:
                self.ecs.submit_task_state_change(
                    cluster=self.cluster, task=task["taskArn"], status="STOPPED", reason="Essential container in task exited",
                    containers=[{"containerName": container["containerName"], "status": "STOPPED", "exitCode": self.exit_code}
                                for container in containers])


@pytest.fixture
def agent_stand_in(lab_aws):
    """agent_stand_in(exit_code=None) -> a context manager running AgentStandIn on the edge cluster."""
    return lambda exit_code=None: AgentStandIn(lab_aws, CLUSTER, exit_code)
