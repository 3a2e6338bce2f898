"""Debian packages the lab serves from its own apt repo (Docker Engine, HAProxy, the agents' Python
dependencies) and unpacks for itself (the registry, busybox for the images).

The hosts have no way out of the island, so what `apt-get install docker.io` would fetch from Debian must
already be in the lab repo. The exact set is what apt itself resolves on top of the lab base: `apt-get
install --download-only` in a throw-away overlay of the base (a chroot on this machine, which reaches the
Debian mirror), cached at CACHE_DIR/debs-bookworm with a stamp (this list, the mirror, the base's stamp).
"""
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from lab.fleet import base, config
from lab.fleet.proc import LabError, run

# Installed on the hosts by the collection's roles (docker.io through agent_docker_source=distro) or by the
# lab (haproxy on the load-balancer host); python3-docker is what the ECS agent stand-in drives Docker with.
HOST_PACKAGES = ("docker.io", "python3-docker", "haproxy")
# Unpacked on this machine, never installed: the registry binary and busybox for the lab's images.
LAB_PACKAGES = ("docker-registry", "busybox-static")
RECIPE_REVISION = 1


def debs_dir():
    return config.CACHE_DIR / f"debs-{base.SUITE}"


def _stamp():
    data = {"packages": HOST_PACKAGES + LAB_PACKAGES, "mirror": base.mirror(), "base": base.stamp_of(base.recipe()),
            "revision": RECIPE_REVISION}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def stamp_path():
    return config.CACHE_DIR / f"debs-{base.SUITE}.stamp"


def ensure(log=print):
    """The directory of .debs (downloaded once per recipe); the base must exist already."""
    stamp = _stamp()
    with config.cache_lock():
        if debs_dir().is_dir() and stamp_path().exists() and stamp_path().read_text().strip() == stamp:
            return debs_dir()
        return _fetch(stamp, log)


def _fetch(stamp, log):
    base_root = base.base_dir()
    if not base_root.is_dir():
        raise LabError(f"the lab base {base_root} must be built before its packages are fetched")
    log(f"fetching {', '.join(HOST_PACKAGES + LAB_PACKAGES)} and their dependencies from {base.mirror()} (once)")
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=config.CACHE_DIR, prefix="debs-") as tmp:
        work = Path(tmp)
        root = work / "root"
        for part in ("upper", "work", "root"):
            (work / part).mkdir()
        run(["mount", "-t", "overlay", "fleetops-lab-debs", "-o",
             f"lowerdir={base_root},upperdir={work / 'upper'},workdir={work / 'work'}", str(root)])
        try:
            _download(root, work / "debs")
        finally:
            run(["umount", str(root)], check=False)
        shutil.rmtree(debs_dir(), ignore_errors=True)
        (work / "debs").rename(debs_dir())
    stamp_path().write_text(stamp + "\n")
    return debs_dir()


def _download(root, out):
    (root / "etc/apt/sources.list").write_text(f"deb {base.mirror()} {base.SUITE} main\n")
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    # Only apt runs in the chroot, and only to download: nothing is unpacked or configured.
    chroot = ["chroot", str(root)]
    run([*chroot, "apt-get", "-qq", "update"])
    run([*chroot, "apt-get", "-qq", "install", "--download-only", "--no-install-recommends", "--yes",
         *HOST_PACKAGES, *LAB_PACKAGES])
    out.mkdir()
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        shutil.copyfile(deb, out / deb.name)


def host_debs():
    """The .debs the lab repo serves to the hosts (everything but the lab's own tools)."""
    return sorted(d for d in debs_dir().glob("*.deb") if d.name.split("_")[0] not in LAB_PACKAGES)


def unpack(package, dest):
    """Extract one of LAB_PACKAGES into dest (once) and return dest."""
    marker = dest / ".unpacked"
    with config.cache_lock():
        if not marker.exists():
            _unpack(package, dest, marker)
    return dest


def _unpack(package, dest, marker):
    matches = sorted(debs_dir().glob(f"{package}_*.deb"))
    if not matches:
        raise LabError(f"no {package} package in {debs_dir()}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    run(["dpkg-deb", "-x", str(matches[-1]), str(dest)])
    marker.write_text(matches[-1].name + "\n")
