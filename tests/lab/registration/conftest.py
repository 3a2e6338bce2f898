"""Playbook tests of the registration modules against the in-process lab AWS endpoint.

``run_play(tasks, ...)`` runs one play with ``module_defaults`` aiming the collection's AWS modules at the
lab endpoint and returns a ``PlayResult`` (each task's per-host results from the ansible.posix.json
callback, the return code and the whole output). Every run gets its own ANSIBLE_LOCAL_TEMP, remote temp
and log file under the test's tmp_path, so that a test can search everything the controller wrote.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
AWS_MODULES = ("ecs_anywhere_activation", "ecs_anywhere_activation_info", "ecs_container_instance")


class PlayResult:
    def __init__(self, process, log_path):
        self.returncode = process.returncode
        self.stdout = process.stdout
        self.output = process.stdout + process.stderr
        self.log = log_path.read_text() if log_path.exists() else ""
        try:
            report = json.loads(process.stdout[process.stdout.index("{"):])
        except ValueError:
            report = {"plays": [], "stats": {}}
        self.stats = report.get("stats", {})
        self.tasks = {}
        for play in report["plays"]:
            for task in play["tasks"]:
                self.tasks[task["task"]["name"]] = task["hosts"]

    def __getitem__(self, name):
        return self.host(name, "localhost")

    def host(self, name, host):
        assert name in self.tasks, f"no task {name!r} ran:\n{self.output}"
        assert host in self.tasks[name], f"task {name!r} did not run on {host}:\n{self.output}"
        return self.tasks[name][host]

    def changed_count(self):
        return sum(host_stats.get("changed", 0) for host_stats in self.stats.values())


def connection(lab):
    return {"endpoint_url": lab.url, "region": lab.region, "access_key": "testing", "secret_key": "testing"}


def play_command(path, inventory, check=False, diff=False, verbosity=0, extra_args=()):
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(path), *extra_args]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    return command


def play_env(tmp_path, callback="ansible.posix.json"):
    return dict(
        os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"), ANSIBLE_STDOUT_CALLBACK=callback,
        ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"), ANSIBLE_LOG_PATH=str(tmp_path / "ansible.log"),
        ANSIBLE_HOST_KEY_CHECKING="0")


def write_play(path, lab, tasks, extra_vars=None):
    """A one-play playbook on localhost whose AWS modules aim at the lab endpoint."""
    defaults = {"group/fleetops.ecs_anywhere.ecs_anywhere": connection(lab)}
    # The integrator adds the modules to meta/runtime.yml's action group; until then name them one by one.
    defaults.update(("fleetops.ecs_anywhere." + name, connection(lab)) for name in AWS_MODULES)
    play = [{"name": "lab play", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "vars": dict(extra_vars or {}, ansible_python_interpreter=sys.executable),
             "module_defaults": defaults, "tasks": tasks}]
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


@pytest.fixture
def run_play(lab_aws, tmp_path):
    def run(tasks, check=False, diff=False, verbosity=0, extra_vars=None):
        path = write_play(tmp_path / "play.yml", lab_aws, tasks, extra_vars)
        callback = "default" if verbosity else "ansible.posix.json"
        process = subprocess.run(play_command(path, "localhost,", check, diff, verbosity), capture_output=True, text=True,
                                 env=play_env(tmp_path, callback), cwd=tmp_path, timeout=600)
        return PlayResult(process, tmp_path / "ansible.log")

    return run


def files_containing(root, secret):
    """Every file under root whose bytes contain secret."""
    needle = secret.encode()
    return [str(path) for path in Path(root).rglob("*") if path.is_file() and needle in path.read_bytes()]
