"""Helpers for tests that use the lab fleet (root needed: netns, mounts, nspawn). One lab at a time per lab id.

    shared = SessionLab()                    # one per pytest session (tests/lab/conftest.py's session_lab)
    state = shared.claim(hosts=3)            # up once, then reused: endpoint reset and hosts cleaned per claim
    lab_ok("exec", "--", "ansible", "all", "-m", "ping")
    island_python("import boto3, json; print(json.dumps(boto3.client('ssm').describe_activations()))")
    on_host(state["hosts"][0]["address"], "systemctl is-active ecs")
    shared.release()                         # down, nothing left behind (also at the session's end)
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from lab.fleet import config, hosts, island
from lab.fleet.proc import is_ours, state_of

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]


def lab(*args, env=None, timeout=300):
    """Run `python -m lab ARGS` and return the finished process. It runs in a session of its own: at the timeout
    everything it started (e.g. molecule's ansible-playbook children) is ended with it, not left running."""
    with subprocess.Popen([sys.executable, "-m", "lab", *args], cwd=config.REPO_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})),
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def lab_ok(*args, **kwargs):
    result = lab(*args, **kwargs)
    assert result.returncode == 0, f"python -m lab {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def island_python(code):
    """Run Python code inside the island (boto3 against the lab endpoint) and return what it prints as JSON."""
    return json.loads(lab_ok("exec", "--", sys.executable, "-c", code).stdout)


def lab_control(path, body=None):
    """A call to the lab endpoint's /_lab/ control API (lab/README.md), from inside the island: its JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    return island_python(f"""
import os, urllib.request
request = urllib.request.Request(os.environ["FLEETOPS_LAB_ENDPOINT_URL"].rstrip("/") + {urllib.parse.quote(path)!r},
                                 data={data!r}, method={"POST" if data is not None else "GET"!r},
                                 headers={{"Content-Type": "application/json"}})
print(urllib.request.urlopen(request, timeout=30).read().decode())
""")


def on_host(address, command):
    """A shell command on a lab host over SSH; the finished process (its return code is the command's)."""
    key = config.STATE_DIR / "id_ed25519"
    return lab("exec", "--", "ssh", "-i", str(key), *SSH_OPTIONS, f"root@{address}", command, timeout=120)


def create_clusters(*names):
    """The ECS clusters, on the lab endpoint (CreateCluster of an existing one changes nothing)."""
    island_python(f"""
import boto3
for name in {list(names)!r}:
    boto3.client("ecs").create_cluster(clusterName=name)
print("{{}}")
""")


def create_activation(cluster, registration_limit=10):
    """The cluster (created if missing) and a fresh SSM activation for the lab hosts: {"id", "code"}."""
    return island_python(f"""
import boto3, json
boto3.client("ecs").create_cluster(clusterName={cluster!r})
answer = boto3.client("ssm").create_activation(IamRole="ecsAnywhereRole", RegistrationLimit={registration_limit})
print(json.dumps({{"id": answer["ActivationId"], "code": answer["ActivationCode"]}}))
""")


def describe_container_instances(cluster):
    """Every container instance of the cluster as DescribeContainerInstances answers it (at most 100: a lab fleet)."""
    return island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
arns = [arn for page in ecs.get_paginator("list_container_instances").paginate(cluster={cluster!r})
        for arn in page["containerInstanceArns"]]
found = ecs.describe_container_instances(cluster={cluster!r}, containerInstances=arns)["containerInstances"] if arns else []
print(json.dumps(found, default=str))
""")


def lab_state():
    return json.loads((config.STATE_DIR / "lab.json").read_text())


def last_lab_state():
    """What the last lab recorded, as `down` kept it."""
    return json.loads((config.STATE_DIR / "logs" / "last-lab.json").read_text())


def leftovers(state):
    """Everything of the lab (described by its lab.json) that still exists."""
    found = []
    records = state.get("processes", {})
    found += [f"process {label} (pid {r['pid']})" for label, r in records.items() if is_ours(r)]
    if "netns_inode" in state:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                in_island = os.stat(proc / "ns" / "net").st_ino == state["netns_inode"]
            except OSError:
                continue
            if in_island and state_of(proc.name) not in (None, "Z", "X"):
                found.append(f"process {proc.name} in the island's network namespace")
    found += [f"mount {point}" for point in hosts.mounted_paths()]
    found += [f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if "overlay-lab-host" in line and line.split()[4].startswith(str(config.RUN_DIR) + "/")]
    namespaces = [line.split()[0] for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines() if line]
    if island.exists() or config.NETNS in namespaces:
        found.append(f"netns {config.NETNS}")
    links = [line.split(":")[1].strip().split("@")[0] for line in
             subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout.splitlines()]
    found += [f"link {link}" for link in links if link == config.BRIDGE or link.startswith("vb-lab-host")]
    if config.RUN_DIR.exists():
        found.append(f"directory {config.RUN_DIR}")
    return found


def wait_for(condition, timeout, what, interval=1.0):
    """Poll `condition` every `interval` s until it returns something truthy, and return that; AssertionError
    after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class SessionLab:
    """The one lab a pytest session (each pytest-xdist worker: its own lab id) shares between its fleet suites.

    ``claim(hosts)`` gives a lab of exactly that many hosts in a clean state: brought up the first time (or when
    the size changes, or with ``fresh=True`` for a suite that needs newly booted hosts); otherwise the endpoint is
    reset (AWS state, faults, counters, clock, settings) and lab/playbooks/clean-hosts.yml takes the agents, their
    state and every container off the hosts (when that fails, the lab is brought up anew). Docker and its pulled
    images stay, so the next rollout does not install them again. ``release()`` takes the lab down for a suite that
    brings its own up (and at the session's end) and checks that nothing is left behind.
    """

    CLEAN_HOSTS = config.REPO_ROOT / "lab" / "playbooks" / "clean-hosts.yml"

    def __init__(self):
        self.state = None

    def claim(self, hosts, fresh=False):
        if self.state is not None and (fresh or len(self.state["hosts"]) != hosts or not self._still_up()):
            self.release()
        if self.state is None:
            assert os.geteuid() == 0, "the fleet needs root (network namespaces, mounts, systemd-nspawn)"
            status = lab("status")
            assert "lab: down" in status.stdout, f"another lab is up; run `python -m lab down` first:\n{status.stdout}"
            lab_ok("up", "--hosts", str(hosts))
            self.state = lab_state()
        elif not self._clean():
            # A suite before left the lab broken (a host unreachable, say): the next one gets new hosts.
            self.release()
            return self.claim(hosts)
        return self.state

    def _clean(self):
        lab_control("/_lab/reset", {})
        return lab("exec", "--", "ansible-playbook", str(self.CLEAN_HOSTS), timeout=600).returncode == 0

    def release(self):
        if self.state is None:
            return
        state, self.state = self.state, None
        lab("down")
        assert leftovers(state) == []

    def _still_up(self):
        """False when a test took the lab down itself (the fleet suite's last test does)."""
        return (config.STATE_DIR / "lab.json").exists() and lab_state().get("status") == "up"
