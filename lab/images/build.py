"""The lab's container images, built offline from Debian's busybox-static: no Docker, no base image.

`web_image()` gives one gzip'd layer plus a Docker image config (manifest v2 schema 2 media types, which
Docker Engine 20.10 pulls). The same image is the lab's "job" image: a task overrides the command, e.g.
["sh", "-c", "echo one; exit 3"]. Layout of the layer:

  bin/busybox, bin/<applet> -> busybox   every applet of `busybox --list`; PATH=/bin
  bin/web                                the command: names the task on stdout, then `httpd -f -vv -p 80`; on SIGTERM
                                         it stops listening and lets requests in flight finish
  bin/task-arn                           the task's ARN from $ECS_CONTAINER_METADATA_URI_V4/task
  www/cgi-bin/index.cgi                  GET /: task=<id> arn=<arn> host=<hostname> version=<version> (after
                                         $WEB_RESPONSE_DELAY seconds when the task sets it)
  www/health                             GET /health: ok
  etc/passwd, etc/group                  root and nobody
  etc/web-version                        version_label: the page's version unless the task sets APP_VERSION
  tmp (1777), root (0700)

Reproducible: fixed mtimes, sorted entries, uid/gid 0, gzip without name or time, so the same inputs give
the same digests.
"""
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

FILES = Path(__file__).resolve().parent / "files"
# 2024-01-01T00:00:00Z: every entry's mtime and the config's "created".
EPOCH = 1704067200
CREATED = "2024-01-01T00:00:00Z"

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"

# (path in the image, file under files/, mode)
ADDED = (
    ("bin/web", "web", 0o755),
    ("bin/task-arn", "task-arn", 0o755),
    ("www/cgi-bin/index.cgi", "index.cgi", 0o755),
    ("www/health", "health", 0o644),
    ("etc/passwd", "passwd", 0o644),
    ("etc/group", "group", 0o644),
)
DIRECTORIES = {"bin": 0o755, "etc": 0o755, "root": 0o700, "tmp": 0o1777, "www": 0o755, "www/cgi-bin": 0o755}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Image:
    layer: bytes       # gzip'd tar, the blob pushed
    config: bytes      # the image config JSON, the config blob
    diff_id: str       # digest of the uncompressed tar (rootfs.diff_ids)

    @property
    def layer_digest(self):
        return sha256(self.layer)

    @property
    def config_digest(self):
        return sha256(self.config)

    @property
    def manifest(self):
        """The manifest's exact bytes: its digest is what the registry stores and answers."""
        return _json({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "size": len(self.config), "digest": self.config_digest},
            "layers": [{"mediaType": LAYER_TYPE, "size": len(self.layer), "digest": self.layer_digest}],
        })

    @property
    def digest(self):
        return sha256(self.manifest)

    def blobs(self):
        """(digest, bytes) of every blob the manifest refers to."""
        return [(self.layer_digest, self.layer), (self.config_digest, self.config)]


def _json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def busybox_binary(source, workdir):
    """bin/busybox of busybox-static: `source` is the .deb or a directory it was already unpacked into
    (lab.fleet.debs.unpack)."""
    source = Path(source)
    if source.is_dir():
        binary = source / "bin" / "busybox"
    else:
        subprocess.run(["dpkg-deb", "-x", str(source), str(workdir)], check=True, capture_output=True)
        binary = Path(workdir) / "bin" / "busybox"
    if not binary.is_file():
        raise FileNotFoundError(f"no bin/busybox in {source}")
    return binary


def applets(binary):
    """The applet names the static binary was built with (it runs on this x86_64 machine)."""
    out = subprocess.run([str(binary), "--list"], check=True, capture_output=True, text=True).stdout
    return sorted({name for name in out.split() if name and "/" not in name and name != "busybox"})


def _entry(name, kind, mode, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, linkname
    info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "root", "root"
    return info


def layer_tar(busybox, version_label):
    """The uncompressed layer. Entries sorted by name, so parents come before their children."""
    members = {name: (_entry(name, tarfile.DIRTYPE, mode), None) for name, mode in DIRECTORIES.items()}
    binary = Path(busybox).read_bytes()
    members["bin/busybox"] = (_entry("bin/busybox", tarfile.REGTYPE, 0o755, len(binary)), binary)
    for applet in applets(busybox):
        name = f"bin/{applet}"
        # Relative target: resolves the same inside the container and in an unpacked copy of the layer.
        members.setdefault(name, (_entry(name, tarfile.SYMTYPE, 0o777, linkname="busybox"), None))
    added = [(path, (FILES / source).read_bytes(), mode) for path, source, mode in ADDED]
    added.append(("etc/web-version", f"{version_label}\n".encode(), 0o644))
    for path, data, mode in added:
        members[path] = (_entry(path, tarfile.REGTYPE, mode, len(data)), data)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(members):
            info, data = members[name]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def image_config(diff_id, version_label):
    return _json({
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Cmd": ["/bin/web"],
            "Env": ["PATH=/bin"],
            "ExposedPorts": {"80/tcp": {}},
            "WorkingDir": "/",
            "Labels": {"org.opencontainers.image.version": str(version_label)},
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "lab/images/build.py (busybox-static)"}],
    })


def web_image(busybox_deb, version_label="1"):
    """The web/job image from busybox-static (its .deb, or the directory it was unpacked into)."""
    with tempfile.TemporaryDirectory(prefix="lab-image-") as workdir:
        tar = layer_tar(busybox_binary(busybox_deb, workdir), version_label)
    diff_id = sha256(tar)
    # mtime=0 and no file name in the gzip header: the compressed bytes depend on the tar only.
    layer = gzip.compress(tar, compresslevel=9, mtime=0)
    return Image(layer=layer, config=image_config(diff_id, version_label), diff_id=diff_id)
