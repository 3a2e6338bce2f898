"""The rollout as AWX runs it: ansible-runner jobs, each with its own private data directory (project, inventory,
extra variables, artifacts), run inside the lab's island through `python -m lab exec` (the EE's place).

The project is what docs/awx.md tells users to keep: a playbook that imports fleetops.ecs_anywhere.rollout.
Each job gets its own controller package cache, as each AWX job gets its own EE container. Needs root; each test
module claims the session's lab (tests/lab/conftest.py's session_lab) with the hosts it needs.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from lab.fleet import config
from lab.fleet.testing import create_clusters, describe_container_instances, island_python, lab_control, wait_for

REPO_ROOT = Path(__file__).resolve().parents[3]
LAB_VARS = REPO_ROOT / "lab" / "playbooks" / "lab-vars.yml"
CLUSTER = "lab"
PROJECT_PLAYBOOK = """---
- name: Roll ECS Anywhere out
  ansible.builtin.import_playbook: fleetops.ecs_anywhere.rollout
"""
# What ansible shows instead of a no_log option's value.
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


class RunnerJob:
    """One `ansible-runner run` of the rollout in its own private data directory."""

    def __init__(self, workdir, name, limit=None):
        self.name, self.limit = name, limit
        self.private_data_dir = Path(workdir).resolve() / name
        (self.private_data_dir / "project").mkdir(parents=True)
        (self.private_data_dir / "project" / "rollout.yml").write_text(PROJECT_PLAYBOOK)
        (self.private_data_dir / "inventory").mkdir()
        (self.private_data_dir / "inventory" / "hosts").write_text((config.STATE_DIR / "inventory.ini").read_text())
        extravars = yaml.safe_load(LAB_VARS.read_text())
        extravars["agent_local_cache_path"] = str(self.private_data_dir / "controller-cache")
        (self.private_data_dir / "env").mkdir()
        (self.private_data_dir / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        self.output = self.private_data_dir / "runner-output.txt"
        self.process = None

    def start(self):
        argv = [sys.executable, "-m", "lab", "exec", "--", "ansible-runner", "run", str(self.private_data_dir),
                "--playbook", "rollout.yml", "--ident", self.name]
        if self.limit:
            argv += ["--limit", ",".join(self.limit)]
        # Its own session, so that a job that hangs can be stopped with everything it started.
        with self.output.open("w") as output:
            self.process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, text=True,
                                            start_new_session=True)
        return self

    def wait(self, timeout):
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
            raise AssertionError(f"ansible-runner job {self.name} still ran after {timeout} s:\n{self.text()}")
        return self

    def text(self):
        return self.output.read_text()

    @property
    def artifacts(self):
        return self.private_data_dir / "artifacts" / self.name

    @property
    def status(self):
        return (self.artifacts / "status").read_text().strip()

    @property
    def rc(self):
        return int((self.artifacts / "rc").read_text())

    def events(self):
        """The job events, what AWX stores and shows for a job."""
        files = sorted((self.artifacts / "job_events").glob("*.json"), key=lambda path: int(path.name.split("-")[0]))
        return [json.loads(path.read_text()) for path in files]

    def stats(self):
        """The play recap: {ok, changed, failures, dark, ...: {host: count}}."""
        recaps = [event["event_data"] for event in self.events() if event["event"] == "playbook_on_stats"]
        assert len(recaps) == 1, f"job {self.name} has {len(recaps)} play recaps:\n{self.text()}"
        return recaps[0]

    def hosts(self):
        return set(self.stats()["processed"])

    def window(self):
        """(first event's time, last event's time) as ISO strings, to tell whether jobs overlapped."""
        times = [event["created"] for event in self.events()]
        return min(times), max(times)

    def failure_report(self):
        return f"job {self.name}: status {self.status}, rc {self.rc}\n{self.text()[-6000:]}"


def values_of_key(data, key):
    """Every value stored under `key` anywhere in nested dicts and lists."""
    if isinstance(data, dict):
        found = [data[key]] if key in data else []
        return found + [v for value in data.values() for v in values_of_key(value, key)]
    if isinstance(data, list):
        return [v for item in data for v in values_of_key(item, key)]
    return []


def create_cluster():
    create_clusters(CLUSTER)


def call_counts():
    return lab_control("/_lab/counters")["calls"]


def ssm_state():
    """Every managed instance (DescribeInstanceInformation, all pages) and every activation left."""
    return island_python("""
import boto3, json
ssm = boto3.client("ssm")
pages = ssm.get_paginator("describe_instance_information").paginate()
instances = [i for page in pages for i in page["InstanceInformationList"]]
activations = [a for page in ssm.get_paginator("describe_activations").paginate() for a in page["ActivationList"]]
print(json.dumps({"instances": instances, "activations": activations}, default=str))
""")


def wait_online(count, timeout=60):
    """The Online managed instances, once at least `count` are (an SSM agent's first heartbeat may lag the job)."""
    def online():
        instances = [i for i in ssm_state()["instances"] if i["PingStatus"] == "Online"]
        return instances if len(instances) >= count else None
    return wait_for(online, timeout, f"{count} managed instances Online")


def container_instances():
    """The cluster's container instances: mi- id -> (status, agent connected)."""
    return {i["ec2InstanceId"]: [i["status"], i["agentConnected"]] for i in describe_container_instances(CLUSTER)}
