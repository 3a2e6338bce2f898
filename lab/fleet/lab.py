"""Bring the lab up and down, report its status, run commands in it.

Everything the lab starts or makes is written to STATE_DIR/lab.json as soon as it exists (processes by PID
and start time), so `down` can always undo it, also after a failed or interrupted `up`.
"""
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import sys
import time

from lab.fleet import base, config, debs, ecr, hosts, island, repo
from lab.fleet.proc import LabError, in_island, is_ours, lab_python, python_env, reap_children, run, spawn, stop

STATE_FILE = config.STATE_DIR / "lab.json"
KEY = config.STATE_DIR / "id_ed25519"
INVENTORY = config.STATE_DIR / "inventory.ini"
ANSIBLE_CFG = config.STATE_DIR / "ansible.cfg"
ENV_FILE = config.STATE_DIR / "lab.env"
LOGS = config.STATE_DIR / "logs"
CONTROL_DIR = config.RUN_DIR / "cp"
# Kept by `down`: the logs of the last lab and what it had recorded, for a post-mortem.
LOCK = config.STATE_DIR / ".lock"
KEPT = {LOGS.name, LOCK.name}
LAST_STATE = LOGS / "last-lab.json"
# Fault injection for tests of the teardown: `up` fails right after the named step (see FAIL_POINTS).
FAIL_AFTER = "FLEETOPS_LAB_FAIL_AFTER"
FAIL_POINTS = ("island", "boot", "repo")


def load_state():
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return None


def save_state(state):
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    temporary = STATE_FILE.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1) + "\n")
    temporary.replace(STATE_FILE)


@contextlib.contextmanager
def exclusive():
    """One `up` or `down` at a time on the machine: a second one would tear down a lab that is starting."""
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LabError("another `python -m lab up` or `down` is running; wait for it to finish") from None
        yield


def up(count, timeout=120.0, endpoint=True, log=print):
    """Build (or reuse) the base, make the island, start endpoint and apt repo, boot `count` hosts, wait for sshd."""
    if not 1 <= count <= config.MAX_HOSTS:
        raise LabError(f"--hosts must be between 1 and {config.MAX_HOSTS}, not {count}")
    with exclusive():
        return _locked_up(count, timeout, endpoint, log)


def _locked_up(count, timeout, endpoint, log):
    previous = load_state()
    if previous and previous.get("status") == "up" and island.exists():
        raise LabError(f"a lab is already up ({len(previous['hosts'])} hosts); run `python -m lab down` first")
    if previous or island.exists() or hosts.mounted_paths():
        log("cleaning up what an earlier lab left")
        _down(log)
    base_dir = base.ensure(log=log)
    debs.ensure(log=log)
    started = time.monotonic()
    state = {
        "status": "starting", "netns": config.NETNS, "bridge": config.BRIDGE, "run_dir": str(config.RUN_DIR),
        "gateway": str(config.GATEWAY), "subnet": str(config.SUBNET), "region": config.REGION,
        "endpoint_url": config.endpoint_url() if endpoint else None, "repo_url": config.repo_url(),
        "processes": {}, "hosts": [],
    }
    save_state(state)
    try:
        _up(state, count, base_dir, endpoint, timeout, log)
    except BaseException:
        log("lab up failed; tearing down what it made (logs kept in %s)" % LOGS)
        _down(log)
        raise
    log(f"lab up: {count} hosts answering ssh after {time.monotonic() - started:.1f} s "
        f"(inventory {INVENTORY}); run commands in it with `python -m lab exec -- CMD`")
    return state


def _up(state, count, base_dir, endpoint, timeout, log):
    island.create()
    state["netns_inode"] = island.inode()
    save_state(state)
    _fail_point("island")
    processes = state["processes"]
    if endpoint:
        processes["endpoint"] = spawn(
            in_island(lab_python("-m", "lab", "aws", "--host", str(config.GATEWAY), "--port", str(config.ENDPOINT_PORT),
                                 *(f"--setting={name}={value}" for name, value in config.ENDPOINT_SETTINGS.items()))),
            LOGS / "endpoint.log", env=python_env())
        save_state(state)
    KEY.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleetops-lab", "-f", str(KEY)])
    public_key = KEY.with_suffix(".pub").read_text()
    members = [(config.host_name(i), str(config.host_address(i))) for i in range(1, count + 1)]
    table = f"{config.GATEWAY} lab-gateway {config.registry_host()}\n" + "".join(f"{address} {name}\n" for name, address in members)
    for name, address in members:
        state["hosts"].append({"name": name, "address": address, "root": str(hosts.root_of(name))})
        save_state(state)
        hosts.mount(name, base_dir)
        hosts.personalize(name, address, table, public_key)
    # All hosts boot at once; they share the two cores, sshd answers in seconds.
    registry = ecr.prepare(log)
    for name, _address in members:
        hosts.trust_registry(name, registry["ca_pem"])
    for name, _address in members:
        processes[f"host:{name}"] = spawn(hosts.boot_argv(name), LOGS / "hosts" / f"{name}.log",
                                          cgroups=hosts.make_cgroups(name))
    save_state(state)
    _fail_point("boot")
    repo.build()
    key_text = repo.public_key_path().read_text()
    for name, _address in members:
        hosts.add_apt_source(name, key_text, repo.source_line())
    processes["registry"] = spawn(in_island(registry["argv"]), LOGS / "registry.log")
    save_state(state)
    processes["repo"] = spawn(
        in_island(lab_python("-m", "http.server", str(config.REPO_PORT), "--bind", str(config.GATEWAY),
                             "--directory", str(repo.repo_dir()))),
        LOGS / "repo.log")
    save_state(state)
    _fail_point("repo")
    _write_ansible_files(members)
    checks = [f"ssh:{address}:22" for _name, address in members]
    checks.append(f"http:{config.GATEWAY}:{config.REPO_PORT}")
    checks.append(f"tcp:{config.GATEWAY}:{config.REGISTRY_PORT}")
    if endpoint:
        checks.append(f"http:{config.GATEWAY}:{config.ENDPOINT_PORT}")
    watches = [f"--watch={record['pid']}:{label} (log {record['log']})" for label, record in processes.items()]
    probe = run(in_island(lab_python("-m", "lab.fleet.probe", f"--timeout={timeout}", *watches, *checks)),
                check=False, env=python_env(), cwd=config.REPO_ROOT)
    if probe.returncode != 0:
        raise LabError(f"the lab did not come up: {probe.stderr.strip()}")
    ecr.push_all(log)
    state["status"] = "up"
    save_state(state)


def _fail_point(step):
    if os.environ.get(FAIL_AFTER) == step:
        raise LabError(f"failing after step {step!r} as {FAIL_AFTER} asks")


def _write_ansible_files(members):
    INVENTORY.write_text(
        "# Written by `python -m lab up`, removed by `python -m lab down`.\n[lab]\n"
        + "".join(f"{name} ansible_host={address}\n" for name, address in members)
        + "\n[lab:vars]\nansible_user=root\n"
        f"ansible_ssh_private_key_file={KEY}\nansible_python_interpreter=/usr/bin/python3\n"
    )
    CONTROL_DIR.mkdir(parents=True, exist_ok=True)
    ANSIBLE_CFG.write_text(
        "# The lab's Ansible settings (ANSIBLE_CONFIG in `python -m lab exec`); copy these into your own\n"
        "# ansible.cfg to reuse them. Host keys change on every `lab up`, so they are neither checked nor kept.\n"
        f"[defaults]\ninventory = {INVENTORY}\nremote_user = root\nprivate_key_file = {KEY}\n"
        "host_key_checking = False\ninterpreter_python = /usr/bin/python3\nforks = 20\ntimeout = 30\n\n"
        "[ssh_connection]\npipelining = True\n"
        "ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null "
        "-o StrictHostKeyChecking=no -o LogLevel=ERROR -o ServerAliveInterval=3 -o ServerAliveCountMax=3\n"
        # `down` ends the control masters found here, so no ssh process outlives the lab.
        f"control_path_dir = {CONTROL_DIR}\ncontrol_path = %(directory)s/%%C\n"
    )
    ENV_FILE.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(lab_environment().items())))


def lab_environment():
    """What `lab exec` adds to the caller's environment."""
    endpoint = config.endpoint_url()
    env = {
        "FLEETOPS_LAB_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL": endpoint,
        "FLEETOPS_LAB_REPO_URL": config.repo_url(), "FLEETOPS_LAB_REPO_KEY": str(repo.public_key_path()),
        "FLEETOPS_LAB_APT_SOURCE": repo.source_line(), "FLEETOPS_LAB_STATE_DIR": str(config.STATE_DIR),
        "FLEETOPS_LAB_GATEWAY": str(config.GATEWAY), "FLEETOPS_LAB_ID": str(config.LAB_ID),
        "FLEETOPS_LAB_NETNS": config.NETNS, "FLEETOPS_LAB_RUN_DIR": str(config.RUN_DIR),
        # Where task definitions find the lab's images: ACCOUNT.dkr.ecr.REGION.amazonaws.com (the ECR stand-in).
        "FLEETOPS_LAB_REGISTRY": config.registry_host(),
        "AWS_ACCESS_KEY_ID": config.DUMMY_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": config.DUMMY_SECRET_KEY,
        "AWS_DEFAULT_REGION": config.REGION, "AWS_REGION": config.REGION,
        # Never fall back to a profile or token of the machine's user.
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "ANSIBLE_INVENTORY": str(INVENTORY), "ANSIBLE_CONFIG": str(ANSIBLE_CFG),
        "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_PRIVATE_KEY_FILE": str(KEY), "ANSIBLE_REMOTE_USER": "root",
    }
    venv_collections = config.REPO_ROOT / ".venv" / "collections"
    if "ANSIBLE_COLLECTIONS_PATH" not in os.environ and venv_collections.is_dir():
        env["ANSIBLE_COLLECTIONS_PATH"] = str(venv_collections)
    return env


def exec_in(argv):
    """Replace this process with argv run inside the island, with the lab's environment."""
    state = load_state()
    if not state or state.get("status") != "up" or not island.exists():
        raise LabError("the lab is not up; run `python -m lab up --hosts N` first")
    if not argv:
        raise LabError("exec needs a command: python -m lab exec -- CMD [ARGS...]")
    env = dict(os.environ)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(proxy, None)  # nothing in the island can reach a proxy
    env.update(lab_environment())
    # The venv's tools (ansible, pytest, aws…) come first when the lab runs from the venv.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    if state.get("endpoint_url") is None:
        for name in ("FLEETOPS_LAB_ENDPOINT_URL", "AWS_ENDPOINT_URL"):
            env.pop(name)
    argv = in_island(argv)
    os.execvpe(argv[0], argv, env)


def down(log=print):
    """Stop what the lab started (by PID), unmount, remove netns and bridge. Safe to repeat."""
    with exclusive():
        _down(log)


def _down(log):
    state = load_state() or {}
    _close_control_masters()
    records = list(state.get("processes", {}).values())
    left = stop(records, log=log)
    reap_children()
    if left:
        raise LabError(f"processes of the lab did not exit: {', '.join(str(r['pid']) for r in left)}")
    hosts.unmount_all()
    left_groups = hosts.remove_cgroups()
    if left_groups:
        raise LabError(f"cgroups of the lab still in use: {', '.join(left_groups)}")
    island.remove()
    hosts.remove_dirs()
    if STATE_FILE.exists():
        LOGS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STATE_FILE, LAST_STATE)
    if config.STATE_DIR.exists():
        for entry in config.STATE_DIR.iterdir():
            if entry.name not in KEPT:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    if records or state:
        log(f"lab down: stopped {len(records)} processes")


def _close_control_masters():
    if not CONTROL_DIR.is_dir():
        return
    for socket_path in CONTROL_DIR.iterdir():
        run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "lab"], check=False, timeout=10)


def status():
    """A summary of what is up: {"status", "hosts": [...], "processes": {...}, "netns": bool}."""
    state = load_state()
    if not state:
        return {"status": "down", "netns": island.exists(), "mounts": hosts.mounted_paths()}
    processes = {label: is_ours(record) for label, record in state.get("processes", {}).items()}
    return {
        "status": state["status"], "netns": island.exists(), "endpoint_url": state.get("endpoint_url"),
        "repo_url": state.get("repo_url"), "inventory": str(INVENTORY), "ansible_cfg": str(ANSIBLE_CFG),
        "hosts": [dict(h, running=processes.get(f"host:{h['name']}", False)) for h in state.get("hosts", [])],
        "processes": processes, "mounts": len(hosts.mounted_paths()),
    }
