"""The lab apt repository of the agent stand-ins, signed with a key the lab generates, served over HTTP.

Layout under STATE_DIR/repo (the HTTP root, http://GW:8080/):
  fleetops-lab-archive-key.asc                       the public key (armored)
  dists/bookworm/{InRelease,Release,Release.gpg}      signed index
  dists/bookworm/main/binary-amd64/Packages[.gz]
  pool/main/<name>_<version>_amd64.deb[.asc]          the stand-ins, each with a detached signature
  pool/main/<debian package>.deb                      Debian's own packages the hosts install (lab.fleet.debs):
                                                      docker.io, haproxy... (the hosts' distribution mirror)
  ecs/amazon-ecs-init-<version|latest>.amd64.deb[.asc] the names the official install script downloads
  ssm/<version|latest>/debian_amd64/amazon-ssm-agent.deb[.sig]
"""
import email.utils
import gzip
import hashlib
import os
import shutil
from pathlib import Path

from lab.agents import build as agents_build
from lab.fleet import config, debs as debian
from lab.fleet.proc import run

HASHES = (("MD5Sum", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256"))
LAB_UID = "fleetops lab archive key <lab-archive@fleetops.invalid>"


def repo_dir():
    return config.STATE_DIR / "repo"


def gnupg_home():
    return config.STATE_DIR / "gnupg"


def public_key_path():
    return repo_dir() / f"{config.KEY_NAME}.asc"


def keyring_path():
    """The binary keyring, usable as apt's Signed-By and with `gpgv --keyring`."""
    return config.STATE_DIR / f"{config.KEY_NAME}.gpg"


def source_line():
    return (f"deb [signed-by=/etc/apt/keyrings/{config.KEY_NAME}.asc] {config.repo_url()} "
            f"{config.APT_SUITE} {config.APT_COMPONENT}")


def gpg(*args):
    env = dict(os.environ, GNUPGHOME=str(gnupg_home()))
    return run(["gpg", "--batch", "--yes", "--quiet", *args], env=env)


def build():
    """Build the stand-in packages, add Debian's, generate the lab key, write and sign the index."""
    shutil.rmtree(repo_dir(), ignore_errors=True)
    pool = repo_dir() / "pool" / config.APT_COMPONENT
    debs = agents_build.build_all(pool)
    mirrored = [_link(deb, pool / deb.name) for deb in debian.host_debs()]
    home = gnupg_home()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, mode=0o700)
    try:
        gpg("--passphrase", "", "--quick-gen-key", LAB_UID, "ed25519", "sign", "never")
        gpg("--armor", "--output", str(public_key_path()), "--export", LAB_UID)
        gpg("--output", str(keyring_path()), "--export", LAB_UID)
        for deb in debs:
            gpg("--armor", "--detach-sign", "--output", f"{deb}.asc", str(deb))
        _download_aliases(debs)
        dist = repo_dir() / "dists" / config.APT_SUITE
        _write_packages(dist / config.APT_COMPONENT / "binary-amd64", debs + mirrored)
        release = dist / "Release"
        release.write_text(_release_text(dist))
        gpg("--clearsign", "--output", str(dist / "InRelease"), str(release))
        gpg("--armor", "--detach-sign", "--output", str(dist / "Release.gpg"), str(release))
    finally:
        # Signing started a gpg-agent for this home; end it (by its socket) so nothing outlives `up`.
        run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    return debs


def _link(source, target):
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)
    return target


def _control(deb):
    return run(["dpkg-deb", "-f", str(deb)]).stdout.rstrip("\n")


def _digests(path):
    data = path.read_bytes()
    return len(data), {field: hashlib.new(algo, data).hexdigest() for field, algo in HASHES}


def _write_packages(directory, debs):
    directory.mkdir(parents=True, exist_ok=True)
    stanzas = []
    for deb in sorted(debs):
        size, digests = _digests(deb)
        lines = [_control(deb), f"Filename: {deb.relative_to(repo_dir())}", f"Size: {size}"]
        lines += [f"{field}: {value}" for field, value in digests.items()]
        stanzas.append("\n".join(lines) + "\n")
    text = "\n".join(stanzas)
    (directory / "Packages").write_text(text)
    with gzip.open(directory / "Packages.gz", "wt") as packed:
        packed.write(text)


def _release_text(dist):
    indexes = sorted(p for p in dist.rglob("Packages*") if p.is_file())
    lines = [
        "Origin: fleetops-lab", "Label: fleetops-lab", f"Suite: {config.APT_SUITE}", f"Codename: {config.APT_SUITE}",
        f"Date: {email.utils.formatdate(usegmt=True)}", "Architectures: amd64",
        f"Components: {config.APT_COMPONENT}", "Description: agent stand-ins of the fleetops lab",
    ]
    for field, _algo in HASHES:
        lines.append(f"{field}:")
        for index in indexes:
            size, digests = _digests(index)
            lines.append(f" {digests[field]} {size:>8} {index.relative_to(dist)}")
    return "\n".join(lines) + "\n"


def _download_aliases(debs):
    """Copies under the file names of the official S3 buckets, for roles that download packages directly."""
    newest = {}
    for deb in debs:
        name, version = deb.name.split("_")[:2]
        if name == "amazon-ecs-init":
            targets = [repo_dir() / "ecs" / f"amazon-ecs-init-{version}.amd64.deb"]
            suffix = ".asc"
        else:
            targets = [repo_dir() / "ssm" / version / "debian_amd64" / "amazon-ssm-agent.deb"]
            suffix = ".sig"
        if agents_build.version_key(version) >= agents_build.version_key(newest.get(name, ("0", None))[0]):
            newest[name] = (version, deb)
        _copy_signed(deb, targets, suffix)
    for name, (_version, deb) in newest.items():
        if name == "amazon-ecs-init":
            _copy_signed(deb, [repo_dir() / "ecs" / "amazon-ecs-init-latest.amd64.deb"], ".asc")
        else:
            _copy_signed(deb, [repo_dir() / "ssm" / "latest" / "debian_amd64" / "amazon-ssm-agent.deb"], ".sig")


def _copy_signed(deb, targets, suffix):
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(deb, target)
        shutil.copyfile(f"{deb}.asc", Path(f"{target}{suffix}"))
