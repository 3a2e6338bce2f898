"""Commands, and processes the lab starts: recorded by PID plus start time, so a reused PID is never signalled."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab.fleet import config


class LabError(Exception):
    """A lab step failed; the message says which and why."""


def run(argv, check=True, **kwargs):
    """Run a command, capturing its output; raise LabError with its stderr when it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise LabError(f"{' '.join(map(str, argv))} failed ({result.returncode}): {detail}")
    return result


def in_island(argv):
    """argv run in the island's network namespace. nsenter, not `ip netns exec`: the latter remounts /sys,
    which breaks systemd-nspawn."""
    return ["nsenter", f"--net={config.NETNS_PATH}", "--", *argv]


def python_env():
    """Environment for the lab's own Python helpers: the repo on sys.path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(config.REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def lab_python(*args):
    return [sys.executable, *args]


def start_time(pid):
    """The process's start time in clock ticks since boot, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    return int(stat.rsplit(")", 1)[1].split()[19])


def state_of(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def spawn(argv, log_path, env=None, cgroups=()):
    """Start a long-lived process detached from our session (in the given cgroup directories); return its record."""
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def enter_cgroups():
        for group in cgroups:
            Path(group, "cgroup.procs").write_text(f"{os.getpid()}\n")

    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=config.REPO_ROOT, preexec_fn=enter_cgroups if cgroups else None,
        )
    return {"pid": child.pid, "start": start_time(child.pid), "argv": argv[:8], "log": str(log_path)}


def is_ours(record):
    """True while the recorded process still runs (not yet exited nor a zombie) and is the one we started."""
    pid = record["pid"]
    return start_time(pid) == record["start"] and state_of(pid) not in (None, "Z", "X")


def signal_all(records, sig):
    for record in records:
        try:
            os.kill(record["pid"], sig)
        except ProcessLookupError:
            pass


def stop(records, timeout=45.0, log=print):
    """SIGTERM each recorded process still ours, wait until all are gone or zombies, then SIGKILL leftovers.
    The machine's PID 1 reaps slowly, so a zombie counts as stopped. SIGTERM is repeated while waiting: a
    container now and then misses the first (seen 2 in 100 hosts), and a repeat is harmless."""
    alive = [r for r in records if is_ours(r)]
    signal_all(alive, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    next_repeat = time.monotonic() + 5.0
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [r for r in alive if is_ours(r)]
        if alive and time.monotonic() > next_repeat:
            signal_all(alive, signal.SIGTERM)
            next_repeat += 5.0
    if alive:
        log(f"still running {timeout:.0f} s after SIGTERM, killing: {', '.join(r['log'] for r in alive)}")
        signal_all(alive, signal.SIGKILL)
        deadline = time.monotonic() + 15.0
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [r for r in alive if is_ours(r)]
    return alive


def reap_children():
    """Collect exit statuses of our own finished children so they do not linger as zombies."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
