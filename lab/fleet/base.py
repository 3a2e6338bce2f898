"""The Debian base every host boots from (as overlay lowerdir), built once with debootstrap and cached.

The cache lives at CACHE_DIR/base-bookworm with a stamp beside it: the hash of the recipe below. A changed
recipe (packages, mirror, post-install steps) rebuilds it; otherwise `lab up` reuses it as is.
"""
import hashlib
import json
import shutil
from pathlib import Path

from lab.fleet import config
from lab.fleet.proc import LabError, run

SUITE = "bookworm"
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "python3-apt", "iproute2", "procps",
    "sudo", "gnupg", "ca-certificates", "curl", "less",
)
# Units that cost boot time or CPU and mean nothing in a container of the lab.
MASKED_UNITS = (
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
    "fstrim.timer", "console-getty.service", "getty-static.service", "systemd-networkd-wait-online.service",
)
FILES = {
    # The lab's addresses are static; no outside sources: hosts reach only the lab apt repo.
    "etc/apt/sources.list": "",
    "etc/systemd/journald.conf.d/lab.conf": "[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n",
    "etc/ssh/sshd_config.d/lab.conf": "UseDNS no\nPermitRootLogin prohibit-password\nMaxStartups 100:30:200\n",
    "etc/machine-id": "",
    # nspawn mounts the cgroup v1 controllers read-only; Docker (runc) must create its groups there. The
    # mounts are the container's own, so making them writable opens nothing of the machine beyond the
    # host's own cgroup (its namespace root, see lab.fleet.hosts.make_cgroups).
    "etc/systemd/system/fleetops-lab-cgroups.service": (
        "[Unit]\nDescription=Writable cgroup v1 controllers for Docker (fleetops lab)\nDefaultDependencies=no\n"
        "Before=sysinit.target containerd.service docker.service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        "ExecStart=/bin/sh -c 'for group in /sys/fs/cgroup/*/; do mountpoint -q \"$group\" && "
        "mount -o remount,bind,rw \"$group\"; done; true'\n\n[Install]\nWantedBy=sysinit.target\n"
    ),
}
# Bump when a post-install step changes in a way the tuples above do not show.
RECIPE_REVISION = 2


def mirror():
    """The Debian mirror the machine's apt uses (deb822 sources first, then the one-line format)."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            uris = fields.get("URIs", "").split()
            suites = fields.get("Suites", "").split()
            if uris and SUITE in suites and "deb" in fields.get("Types", "").split():
                return uris[0].strip()
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and SUITE in parts:
                return next(p for p in parts[1:] if "://" in p)
    raise LabError(f"no apt source for Debian {SUITE} in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list")


def recipe():
    return {
        "suite": SUITE, "mirror": mirror(), "packages": PACKAGES, "masked": MASKED_UNITS, "files": FILES,
        "revision": RECIPE_REVISION,
    }


def stamp_of(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def base_dir():
    return config.CACHE_DIR / f"base-{SUITE}"


def stamp_path():
    return config.CACHE_DIR / f"base-{SUITE}.stamp"


def is_current():
    stamp = stamp_path()
    return base_dir().is_dir() and stamp.exists() and stamp.read_text().strip() == stamp_of(recipe())


def ensure(log=print):
    """Return the base directory, building it first when missing or built from another recipe."""
    if is_current():
        return base_dir()
    with config.cache_lock():
        if is_current():  # another lab built it while this one waited
            return base_dir()
        return _build(log)


def _build(log):
    data = recipe()
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    building = config.CACHE_DIR / f"base-{SUITE}.building"
    shutil.rmtree(building, ignore_errors=True)
    log(f"building the {SUITE} base with debootstrap from {data['mirror']} (once; cached in {base_dir()})")
    keyring = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
    run([
        "debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "--components=main",
        *([f"--keyring={keyring}"] if keyring.exists() else []), SUITE, str(building), data["mirror"],
    ])
    _configure(building)
    stamp_path().unlink(missing_ok=True)
    shutil.rmtree(base_dir(), ignore_errors=True)
    building.rename(base_dir())
    stamp_path().write_text(stamp_of(data) + "\n")
    return base_dir()


def _configure(root):
    for relative, content in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for leftover in ("etc/apt/sources.list.d", "var/lib/apt/lists", "var/cache/apt/archives"):
        for child in (root / leftover).glob("*"):
            if child.is_file():
                child.unlink()
    run(["chroot", str(root), "systemctl", "enable", "systemd-networkd.service", "fleetops-lab-cgroups.service"])
    run(["chroot", str(root), "systemctl", "mask", *MASKED_UNITS])
