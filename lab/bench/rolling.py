"""Rolling service deploys on the lab fleet, as bench/service_rollout.py and tests/lab/services run them.

The collection's own playbooks, inside the island, with the lab settings (lab/playbooks/lab-vars.yml): the
rollout (agent role, then the deploy role) and playbooks/deploy.yml. The web task is the docs' task definition
(docs/examples/task-definition.json) with the lab image's tag as its version; the deploy role runs it as a
REPLICA service behind HAProxy on the first host. `load()` sends requests through HAProxy meanwhile, `watch()`
counts a service's running tasks.
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from lab.fleet import config
from lab.fleet.testing import lab

TASK_DEFINITION = config.REPO_ROOT / "docs" / "examples" / "task-definition.json"
LAB_VARS = config.REPO_ROOT / "lab" / "playbooks" / "lab-vars.yml"
PLAYBOOKS = config.REPO_ROOT / "playbooks"
VENV_BIN = os.path.dirname(sys.executable)
LB_HOST = config.host_name(1)
# Each answer of the web tasks takes 50 ms, as an application's own work would, and load() keeps 6 requests going:
# about one request is in flight at each of 6 tasks at any time (a stop that cut one would show), at about 100
# requests/s (docs/services.md). 2 workers back to back without the delay kept fewer requests in flight for more
# CPU: the hosts used 0.85 of a core during the services suite against 0.36 now (their cpuacct groups, one run each).
RESPONSE_DELAY = "0.05"
LOAD_WORKERS = 6


def task_definition(version="1", command=None, family="web"):
    """The docs' web task definition with the image tag `version` (and a command override, e.g. one that exits)."""
    definition = json.loads(TASK_DEFINITION.read_text())
    definition["family"] = family
    container = definition["containerDefinitions"][0]
    container["image"] = container["image"].rsplit(":", 1)[0] + f":{version}"
    if command:
        container["command"] = command
    container["environment"] = [{"name": "WEB_RESPONSE_DELAY", "value": RESPONSE_DELAY}]
    return definition


def service_vars(definition, count=6, minimum=50, maximum=None, strategy="REPLICA", balanced=True):
    """The deploy role's settings for a service (behind HAProxy on the first host when balanced)."""
    settings = {"deploy_task_definition": definition, "deploy_mode": "service", "deploy_count": count,
                "deploy_service_scheduling_strategy": strategy, "deploy_service_minimum_healthy_percent": minimum,
                "deploy_service_maximum_percent": maximum or (100 if strategy == "DAEMON" else 200),
                # A bound, not a measure: a rollback on the 2-core machine under other labs' load took over 300 s.
                "deploy_wait_timeout": 900}
    if strategy == "REPLICA":  # spread over the hosts, so that a host's loss takes only its share
        settings["deploy_service_placement_strategy"] = [{"type": "spread", "field": "instanceId"}]
    if balanced:
        settings.update(deploy_lb_kind="haproxy", deploy_lb_host=LB_HOST, deploy_lb_port=80)
    return settings


def playbook(name, extra_vars, limit=None, timeout=1200):
    """Run playbooks/NAME.yml inside the island with the lab settings and extra_vars; the finished process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=config.STATE_DIR, delete=False) as handle:
        json.dump(extra_vars, handle)
    try:
        argv = ["exec", "--", os.path.join(VENV_BIN, "ansible-playbook"), str(PLAYBOOKS / f"{name}.yml"),
                "-e", f"@{LAB_VARS}", "-e", f"@{handle.name}"]
        if limit:
            argv += ["--limit", ",".join(limit)]
        return lab(*argv, env={"ANSIBLE_NOCOLOR": "1"}, timeout=timeout)
    finally:
        os.unlink(handle.name)


def lb_url():
    return f"http://{config.host_address(1)}:80/"


class IslandJob:
    """A lab.bench module run inside the island from start() until stop() (SIGTERM to its PID), writing its JSON
    summary to a file in the lab's state directory; `ready` tells when the summary shows it working."""

    def __init__(self, module, args, name, ready):
        self.out = config.STATE_DIR / f"{name}.json"
        self.module, self.args, self.ready = module, args, ready
        self.process = None

    def start(self, timeout=60):
        self.out.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lab", "exec", "--", sys.executable, "-m", self.module, *self.args, "--out", str(self.out)],
            cwd=config.REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while not self.ready(self.summary() or {}):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited: {self.process.stderr.read()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.module} showed no result within {timeout} s")
            time.sleep(0.5)
        return self

    def summary(self):
        try:
            return json.loads(self.out.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self):
        """SIGTERM to the job we started (lab exec replaced itself with it); its final summary."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        return self.summary()


@contextlib.contextmanager
def _running(job):
    job.start()
    try:
        yield job
    finally:
        job.stop()


def load(workers=LOAD_WORKERS):
    """lab.bench.loadgen sending requests through HAProxy meanwhile."""
    return _running(IslandJob("lab.bench.loadgen", ["--url", lb_url(), "--workers", str(workers)], "loadgen",
                              ready=lambda summary: summary.get("requests")))


def watch(service, cluster="lab"):
    """lab.bench.service_watch counting the service's RUNNING tasks meanwhile."""
    return _running(IslandJob("lab.bench.service_watch", ["--cluster", cluster, "--service", service], f"watch-{service}",
                              ready=lambda summary: summary.get("samples")))
