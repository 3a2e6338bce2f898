"""Playbook tests of the task modules against the in-process lab AWS endpoint.

``run_play(tasks, check=False, diff=False)`` runs one play on localhost with ``module_defaults`` aiming the
collection's task modules at the lab endpoint, and returns a ``PlayResult``: each task's result by task name
(the ansible.posix.json callback's), plus the return code and output for failure messages.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
TASK_MODULES = ("ecs_task_definition", "ecs_run_task", "ecs_task_logs")


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
        defaults = dict(("fleetops.ecs_anywhere." + name, connection(lab_aws)) for name in TASK_MODULES
                        if (REPO_ROOT / "plugins" / "modules" / (name + ".py")).exists())
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
