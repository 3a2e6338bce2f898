"""What the lab suites share: one in-process lab AWS endpoint, reset before each test, and plays against it.

``run_play(tasks, check=False, diff=False, verbosity=0, extra_vars=None, inventory="localhost,")`` runs one
play on localhost whose collection modules aim at the lab endpoint (``module_defaults`` for the collection's
action group) and returns a ``PlayResult``: each task's per-host results from the ansible.posix.json
callback, the return code and the whole output. Every run gets its own ANSIBLE_LOCAL_TEMP, remote temp and
log file under the test's tmp_path, so that a test can search everything the controller wrote.
``write_play``, ``play_command`` and ``play_env`` are its parts, for a test that runs the play itself.

``session_lab`` (session scope): the one lab a test run (each pytest-xdist worker) shares, a
lab.fleet.testing.SessionLab, taken down as soon as the worker's next test is not a fleet test. Suites claim it with
the number of hosts they need and get it clean (endpoint reset, agents and containers off the hosts), or newly
booted with ``fresh=True``. ``fleet`` (module scope): a claim of 3 hosts. ``no_lab``: the shared lab taken down, for a
test that brings its own lab up (`make demo`, `lab up`). Fleet modules carry ``pytestmark = pytest.mark.fleet``
(tests/conftest.py: the xdist lanes). Needs root.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab.aws.pytest_plugin import lab_aws, lab_aws_env, lab_aws_server  # noqa: F401
from lab.fleet.testing import SessionLab

REPO_ROOT = Path(__file__).resolve().parents[2]


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

    def on(self, host="localhost"):
        """{task name: the host's result} of every task that ran ({} for a task the host did not run)."""
        return {name: hosts.get(host, {}) for name, hosts in self.tasks.items()}

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
    """A one-play playbook on localhost whose AWS modules (meta/runtime.yml's action group) aim at the lab."""
    play = [{"name": "lab play", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "vars": dict(extra_vars or {}, ansible_python_interpreter=sys.executable),
             "module_defaults": {"group/fleetops.ecs_anywhere.ecs_anywhere": connection(lab)}, "tasks": tasks}]
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


@pytest.fixture
def run_play(lab_aws, tmp_path):  # noqa: F811  (lab_aws is the fixture imported above)
    def run(tasks, check=False, diff=False, verbosity=0, extra_vars=None, inventory="localhost,"):
        path = write_play(tmp_path / "play.yml", lab_aws, tasks, extra_vars)
        callback = "default" if verbosity else "ansible.posix.json"
        process = subprocess.run(play_command(path, inventory, check, diff, verbosity), capture_output=True, text=True,
                                 env=play_env(tmp_path, callback), cwd=tmp_path, timeout=600)
        return PlayResult(process, tmp_path / "ansible.log")

    return run


_SHARED_LAB = SessionLab()


@pytest.fixture(scope="session")
def session_lab():
    yield _SHARED_LAB
    _SHARED_LAB.release()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Down as soon as the fleet tests of this worker are done (after the module fixtures' teardown): an idle lab's
    agents would keep polling the endpoint while the other tests run."""
    if nextitem is None or nextitem.get_closest_marker("fleet") is None:
        _SHARED_LAB.release()


@pytest.fixture(scope="module")
def fleet(session_lab):
    return session_lab.claim(hosts=3)


@pytest.fixture
def no_lab(session_lab):
    session_lab.release()
