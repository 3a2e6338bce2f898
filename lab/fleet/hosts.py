"""Lab hosts: one overlay (base as lowerdir, own upper) per host, booted with systemd-nspawn on the island bridge."""
import os
import shutil
import uuid
from pathlib import Path

from lab.fleet import config
from lab.fleet.proc import in_island, run

# Sorts before nspawn's 80-container-host0.network, which would otherwise give host0 a link-local address.
NETWORK_FILE = "etc/systemd/network/10-host0.network"


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
    ))
    _write(root / "etc/hosts", "127.0.0.1 localhost\n" + hosts_table)
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(ssh_dir / "authorized_keys", public_key, 0o600)


def boot_argv(name):
    # --register=no --keep-unit: this machine's PID 1 is not systemd, so nspawn cannot ask machined for a scope.
    return in_island([
        "systemd-nspawn", "--quiet", "-D", str(root_of(name)), "-M", name, "--boot", "--register=no",
        "--keep-unit", f"--network-bridge={config.BRIDGE}", "--console=passive", "--resolv-conf=off",
        "--timezone=off", "--link-journal=no",
    ])


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
