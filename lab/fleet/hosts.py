"""Lab hosts: one overlay (base as lowerdir, own upper) per host, booted with systemd-nspawn on the island bridge."""
import os
import shutil
import uuid
from pathlib import Path

from lab.fleet import config
from lab.fleet.proc import in_island, run

# Sorts before nspawn's 80-container-host0.network, which would otherwise give host0 a link-local address.
NETWORK_FILE = "etc/systemd/network/10-host0.network"


# AWS: on external instances awslogs needs the task execution role (docs.aws.amazon.com/AmazonECS/latest/
# developerguide/ecs-iam-role-overview.html, "Task execution role"); the agent hands dockerd that role's
# credentials through awslogs-credentials-endpoint. dockerd 20.10's AWS SDK would otherwise fall back to root's
# home and find the SSM agent's /root/.aws/credentials, so the lab closes that path: without an execution role
# the driver fails as it does with no credentials ("NoCredentialProviders: no valid providers in chain").
DOCKER_DROP_IN = "etc/systemd/system/docker.service.d/10-fleetops-lab-no-host-credentials.conf"
DOCKER_NO_HOST_CREDENTIALS = (
    "[Service]\nEnvironment=AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent "
    "AWS_EC2_METADATA_DISABLED=true\n")


def host_dir(name):
    return config.RUN_DIR / "hosts" / name


def root_of(name):
    return host_dir(name) / "root"


def mount(name, base):
    top = host_dir(name)
    for part in ("upper", "work", "root"):
        (top / part).mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={base},upperdir={top / 'upper'},workdir={top / 'work'}"
    run(["mount", "-t", "overlay", f"overlay-{name}", "-o", options, str(top / "root")])


def personalize(name, address, hosts_table, public_key):
    """The files that make a host itself: name, machine id, static address, hosts table, root's SSH key."""
    root = root_of(name)
    _write(root / "etc/hostname", f"{name}\n")
    _write(root / "etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
    _write(root / NETWORK_FILE, (
        "[Match]\nName=host0\n\n[Network]\n"
        f"Address={address}/{config.SUBNET.prefixlen}\n"
        # No Gateway=: the island has no way out and a host must not believe it has one.
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
        # ECS's task metadata and credentials address: ecs-init DNATs it to the agent in the nat table, which
        # a packet only reaches once a route exists. Real hosts have their default route; the island has none.
        f"\n[Route]\nDestination={config.TASK_METADATA_ADDRESS}/32\nScope=link\n"
    ))
    _write(root / "etc/hosts", "127.0.0.1 localhost\n" + hosts_table)
    _write(root / DOCKER_DROP_IN, DOCKER_NO_HOST_CREDENTIALS)
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(ssh_dir / "authorized_keys", public_key, 0o600)


def trust_registry(name, ca_pem):
    """Docker's per-registry CA: the host pulls ECR-style names from the lab registry over TLS."""
    _write(root_of(name) / "etc/docker/certs.d" / config.registry_host() / "ca.crt", ca_pem)


def add_apt_source(name, key_text, source_line):
    """The lab repo as the host's distribution mirror (what `apt-get install docker.io` uses)."""
    root = root_of(name)
    _write(root / f"etc/apt/keyrings/{config.KEY_NAME}.asc", key_text)
    _write(root / "etc/apt/sources.list.d/fleetops-lab.list", source_line + "\n")


def docker_dir(name):
    return host_dir(name) / "docker"


def boot_argv(name):
    docker_dir(name).mkdir(parents=True, exist_ok=True)
    # --register=no --keep-unit: this machine's PID 1 is not systemd, so nspawn cannot ask machined for a scope.
    return in_island([
        "systemd-nspawn", "--quiet", "-D", str(root_of(name)), "-M", name, "--boot", "--register=no",
        "--keep-unit", f"--network-bridge={config.BRIDGE}", "--console=passive", "--resolv-conf=off",
        "--timezone=off", "--link-journal=no",
        # runc puts each container in a new session keyring (keyctl), which nspawn's default filter refuses.
        "--system-call-filter=@keyring",
        # Docker's overlay2 cannot stack on the overlay root; its own directory on the machine's disk can.
        f"--bind={docker_dir(name)}:/var/lib/docker",
    ])


# cgroup v1 on this machine: each host gets its own group under the lab's, in every controller, so its
# dockerd's groups (cgroup namespace root + /docker/ID) are its own and `down` can remove them all.
def _v1_controllers():
    """(mount point, our cgroup path) of each cgroup v1 controller hierarchy this process is in."""
    points = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        if fields[separator + 1] == "cgroup":
            options = fields[separator + 3].split(",")
            points[frozenset(o for o in options if o not in ("rw", "ro") and "=" not in o)] = fields[4]
    controllers = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _number, names, path = line.split(":", 2)
        key = frozenset(names.split(",")) if names and not names.startswith("name=") else None
        if key in points:
            controllers.append((Path(points[key]), path.lstrip("/")))
    return controllers


def lab_cgroups():
    return [point / own / f"fleetops-lab{config.LAB_ID or ''}" for point, own in _v1_controllers()]


def make_cgroups(name):
    """The host's cgroup directories (created, cpuset initialised), for spawn()'s preexec."""
    directories = []
    for lab_group in lab_cgroups():
        group = lab_group / name
        for level in (lab_group, group):
            if not level.is_dir():
                level.mkdir()
                cpuset_cpus = level.parent / "cpuset.cpus"
                if cpuset_cpus.exists():  # a cpuset group admits no task until it has cpus and mems
                    for knob in ("cpuset.cpus", "cpuset.mems"):
                        (level / knob).write_text((level.parent / knob).read_text())
        directories.append(group)
    return directories


def remove_cgroups():
    """rmdir the lab's cgroup trees, deepest first (a group empties once its processes are gone)."""
    left = []
    for lab_group in lab_cgroups():
        if not lab_group.is_dir():
            continue
        groups = sorted((p for p in lab_group.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for group in [*groups, lab_group]:
            try:
                group.rmdir()
            except OSError:
                left.append(str(group))
    return left


def mounted_paths():
    """Mount points of the lab (under RUN_DIR), deepest first, read from the kernel rather than from state."""
    prefix = str(config.RUN_DIR) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all():
    for point in mounted_paths():
        if run(["umount", point], check=False).returncode != 0:
            # Still busy after its processes are gone: detach it so the next `up` starts clean.
            run(["umount", "--lazy", point])


def remove_dirs():
    if not mounted_paths():
        shutil.rmtree(config.RUN_DIR, ignore_errors=True)


def _write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
