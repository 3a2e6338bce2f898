"""The lab's ECR stand-in and its image, for real: Debian's docker-registry binary on 127.0.0.1, the image
built from busybox-static, pushed and read back over the HTTP API; the image's scripts run with its own
busybox (in a chroot of the unpacked layer, and /bin/web in a network namespace of its own for port 80)."""
import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509

from lab.fleet import base, debs, registry
from lab.images import build

USER, PASSWORD = "AWS", "123456789012-auth-token"
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/lab-cluster/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TASK_ID = TASK_ARN.rsplit("/", 1)[1]
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chroot and network namespaces need root")


@pytest.fixture(scope="session")
def registry_debs():
    """The lab's own cache of Debian packages (docker-registry, busybox-static among them), built once."""
    base.ensure()
    return debs.ensure()


@pytest.fixture(scope="session")
def busybox_deb(registry_debs):
    return sorted(registry_debs.glob("busybox-static_*.deb"))[-1]


@pytest.fixture(scope="session")
def image(busybox_deb):
    return build.web_image(busybox_deb)


@pytest.fixture(scope="session")
def layer(image):
    return tarfile.open(fileobj=io.BytesIO(gzip.decompress(image.layer)))


@pytest.fixture(scope="module")
def rootfs(image, tmp_path_factory):
    """The image's layer unpacked, plus the /dev/null a container runtime provides."""
    root = tmp_path_factory.mktemp("rootfs")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(image.layer))) as tar:
        tar.extractall(root, filter="tar")
    if os.geteuid() == 0:
        (root / "dev").mkdir()
        os.mknod(root / "dev" / "null", 0o20666, os.makedev(1, 3))
        (root / "dev" / "null").chmod(0o666)
    return root


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what, timeout=20.0, alive=None):
    deadline = time.monotonic() + timeout
    while not check():
        if alive is not None and not alive():
            pytest.fail(f"{what}: the process exited")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def stop(process):
    """SIGTERM to the process we started (by its PID), SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def lab_registry(registry_debs, tmp_path_factory):
    work = tmp_path_factory.mktemp("registry")
    binary = registry.extract_binary(registry_debs, work / "bin")
    port = free_port()
    paths = registry.write_config(work / "run", address="127.0.0.1", port=port,
                                  hostnames=[ECR_HOST, "localhost"], username=USER, password=PASSWORD)
    url = f"https://127.0.0.1:{port}"
    with open(work / "registry.log", "wb") as log:
        process = subprocess.Popen(registry.argv(binary, paths["config"]), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: registry.ready(url, paths["ca"]), "registry answering /v2/",
                   alive=lambda: process.poll() is None)
        yield {"url": url, "paths": paths, "binary": binary, "log": work / "registry.log"}
    finally:
        stop(process)


def api(lab, method, path, auth=(USER, PASSWORD), headers=None):
    """(status, headers, body) of one registry call, errors included."""
    request = urllib.request.Request(lab["url"] + path, method=method, headers=dict(headers or {}))
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=str(lab["paths"]["ca"]))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# --- the image ------------------------------------------------------------------------------------------

def test_image_is_reproducible(image, busybox_deb, tmp_path):
    again = build.web_image(busybox_deb)
    assert (again.layer, again.config, again.digest) == (image.layer, image.config, image.digest)
    # An unpacked package (what lab.fleet.debs.unpack gives) makes the same image.
    subprocess.run(["dpkg-deb", "-x", str(busybox_deb), str(tmp_path)], check=True)
    assert build.web_image(tmp_path).digest == image.digest
    assert build.web_image(busybox_deb, version_label="2").digest != image.digest


def test_layer_lists_busybox_and_its_applets(layer, image, tmp_path):
    members = {member.name: member for member in layer.getmembers()}
    names = [member.name for member in layer.getmembers()]
    assert names == sorted(names)
    assert all(m.mtime == build.EPOCH and m.uid == 0 and m.gid == 0 for m in members.values())

    busybox = members["bin/busybox"]
    assert busybox.isfile() and busybox.mode == 0o755 and busybox.size > 500_000
    unpacked = tmp_path / "busybox"
    unpacked.write_bytes(layer.extractfile("bin/busybox").read())
    unpacked.chmod(0o755)
    expected = build.applets(unpacked)
    assert {"sh", "httpd", "wget", "sed", "timeout", "hostname"} <= set(expected)
    for applet in expected:
        link = members[f"bin/{applet}"]
        assert link.issym() and link.linkname == "busybox", applet
    assert members["tmp"].isdir() and members["tmp"].mode == 0o1777
    for script in ("bin/web", "bin/task-arn", "www/cgi-bin/index.cgi"):
        assert members[script].isfile() and members[script].mode == 0o755
    assert not any(name.startswith("www/index.") for name in members), "GET / must reach cgi-bin/index.cgi"

    passwd = layer.extractfile("etc/passwd").read().decode()
    group = layer.extractfile("etc/group").read().decode()
    assert passwd.startswith("root:x:0:0:") and "\nnobody:x:65534:65534:" in passwd
    assert group.startswith("root:x:0:") and "\nnobody:x:65534:" in group
    assert layer.extractfile("www/health").read() == b"ok\n"
    assert layer.extractfile("etc/web-version").read() == b"1\n"

    assert image.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(image.layer)).hexdigest()
    config = json.loads(image.config)
    assert (config["architecture"], config["os"]) == ("amd64", "linux")
    assert config["config"]["Cmd"] == ["/bin/web"] and "Entrypoint" not in config["config"]
    assert config["config"]["Env"] == ["PATH=/bin"]
    assert config["config"]["ExposedPorts"] == {"80/tcp": {}}
    assert config["rootfs"] == {"type": "layers", "diff_ids": [image.diff_id]}
    manifest = json.loads(image.manifest)
    assert manifest["mediaType"] == registry.MANIFEST_TYPE
    assert manifest["config"]["digest"] == image.config_digest
    assert [entry["digest"] for entry in manifest["layers"]] == [image.layer_digest]


# --- the registry ---------------------------------------------------------------------------------------

def test_config_certificates_and_htpasswd(lab_registry):
    paths = lab_registry["paths"]
    config = json.loads(paths["config"].read_text())
    assert config["version"] == "0.1" and config["log"]["level"] == "warn"
    assert config["storage"]["filesystem"]["rootdirectory"] == str(paths["storage"])
    assert config["storage"]["delete"] == {"enabled": True}
    assert config["http"]["tls"] == {"certificate": str(paths["cert"]), "key": str(paths["key"])}
    assert config["auth"]["htpasswd"]["path"] == str(paths["htpasswd"])
    assert paths["htpasswd"].read_text().startswith(f"{USER}:$2b$")
    assert paths["key"].stat().st_mode & 0o077 == 0

    cert = x509.load_pem_x509_certificate(paths["cert"].read_bytes())
    ca = x509.load_pem_x509_certificate(paths["ca"].read_bytes())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {ECR_HOST, "localhost"}
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    days = (ca.not_valid_after_utc - ca.not_valid_before_utc).total_seconds() / 86400
    assert 10 <= days <= 10.1


def test_push_then_read_back_through_the_api(lab_registry, image, busybox_deb):
    digest = registry.push_image(lab_registry["url"], lab_registry["paths"]["ca"], USER, PASSWORD,
                                 "fleetops/web", "1", image)
    assert digest == image.digest

    accept = {"Accept": registry.MANIFEST_TYPE}
    status, headers, body = api(lab_registry, "GET", "/v2/fleetops/web/manifests/1", headers=accept)
    assert status == 200 and headers["Docker-Content-Digest"] == digest and body == image.manifest
    assert headers["Content-Type"] == registry.MANIFEST_TYPE
    # What a pull fetches next: the config and the layer, by digest.
    for blob_digest, data in image.blobs():
        status, _, body = api(lab_registry, "GET", f"/v2/fleetops/web/blobs/{blob_digest}")
        assert status == 200 and body == data

    # Docker's login/pull: the first unauthenticated call gets the Basic challenge.
    status, headers, body = api(lab_registry, "GET", "/v2/", auth=None)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
    status, _, body = api(lab_registry, "GET", "/v2/fleetops/web/manifests/1", auth=None, headers=accept)
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
    status, _, body = api(lab_registry, "GET", "/v2/fleetops/web/manifests/1", auth=(USER, "wrong"),
                          headers=accept)
    assert status == 401
    status, _, body = api(lab_registry, "GET", "/v2/fleetops/web/manifests/404", headers=accept)
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    with pytest.raises(registry.RegistryError, match="401"):
        registry.push_image(lab_registry["url"], lab_registry["paths"]["ca"], USER, "wrong",
                            "fleetops/web", "1", image)

    # Pushing again uploads nothing (HEAD finds the blobs); a second version shares nothing but the name.
    def blobs():
        return sorted(str(path) for path in lab_registry["paths"]["storage"].rglob("data"))

    before = blobs()
    assert registry.push_image(lab_registry["url"], lab_registry["paths"]["ca"], USER, PASSWORD,
                               "fleetops/web", "1", image) == digest
    assert blobs() == before
    two = build.web_image(busybox_deb, version_label="2")
    registry.push_image(lab_registry["url"], lab_registry["paths"]["ca"], USER, PASSWORD, "fleetops/web", "2", two)
    status, _, body = api(lab_registry, "GET", "/v2/fleetops/web/tags/list")
    assert status == 200 and sorted(json.loads(body)["tags"]) == ["1", "2"]


def test_tls_needs_the_lab_ca(lab_registry):
    request = urllib.request.Request(lab_registry["url"] + "/v2/")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(request, context=ssl.create_default_context(), timeout=10)


def test_ready_is_false_when_nothing_answers(lab_registry):
    assert not registry.ready(f"https://127.0.0.1:{free_port()}", lab_registry["paths"]["ca"])


def test_extract_binary_once(lab_registry, registry_debs):
    binary = lab_registry["binary"]
    mtime = binary.stat().st_mtime_ns
    assert registry.extract_binary(registry_debs, binary.parents[2]) == binary
    assert binary.stat().st_mtime_ns == mtime
    assert registry.argv(binary, "/c.yml") == [str(binary), "serve", "/c.yml"]


# --- the image's scripts, run with its busybox ----------------------------------------------------------

class _Metadata(http.server.BaseHTTPRequestHandler):
    """The ECS agent's task metadata endpoint v4, for one task: GET <URI>/task."""

    def do_GET(self):  # noqa: N802
        if self.path == "/v4/c0ffee/task":
            body = json.dumps({"Cluster": "lab-cluster", "TaskARN": TASK_ARN, "Family": "web", "Revision": "1",
                               "Containers": [{"Name": "web", "DockerId": "abc"}]}, indent=2).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def metadata():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/c0ffee"
    finally:
        server.shutdown()
        server.server_close()


def in_image(rootfs, argv, env=None, **kwargs):
    """argv run in a chroot of the image, with the image's environment (PATH=/bin) plus env. Output decoded
    without newline translation: the CGI's header lines end in CRLF."""
    result = subprocess.run([CHROOT, str(rootfs), *argv], env={"PATH": "/bin", **(env or {})},
                            capture_output=True, timeout=30, **kwargs)
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    return result


@pytest.fixture
def page_cache(rootfs):
    """Where index.cgi keeps the page once the endpoint named the task; each test starts without it."""
    cache = rootfs / "tmp" / "web-page"
    cache.unlink(missing_ok=True)
    yield cache
    cache.unlink(missing_ok=True)


@needs_root
def test_index_cgi_names_the_task_and_keeps_the_page(rootfs, metadata, page_cache):
    hostname = socket.gethostname()
    cgi = ["/bin/busybox", "sh", "/www/cgi-bin/index.cgi"]
    page = f"task={TASK_ID} arn={TASK_ARN} host={hostname} version=1\n"
    result = in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Content-Type: text/plain\r\n\r\n{page}"
    assert result.stderr == ""
    # Kept: the next requests do not ask the endpoint (a dead one changes nothing).
    assert page_cache.read_text() == page
    dead = f"http://127.0.0.1:{free_port()}/v4/x"
    assert in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": dead}).stdout.endswith(page)
    page_cache.unlink()
    result = in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata, "APP_VERSION": "7"})
    assert result.stdout.endswith(" version=7\n")
    page_cache.unlink()
    # Not in ECS, or the endpoint fails: the page still answers, and is not kept (the next request asks again).
    unknown = f"task=unknown arn=unknown host={hostname} version=1\n"
    assert in_image(rootfs, cgi).stdout.endswith(unknown)
    assert in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata + "x"}).stdout.endswith(unknown)
    assert in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": dead}).stdout.endswith(unknown)
    assert not page_cache.exists()
    assert in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata}).stdout.endswith(page)


@needs_root
def test_index_cgi_holds_the_answer_for_the_response_delay(rootfs, metadata, page_cache):
    """A lower bound only: the answer comes no sooner than WEB_RESPONSE_DELAY."""
    cgi = ["/bin/busybox", "sh", "/www/cgi-bin/index.cgi"]
    started = time.monotonic()
    result = in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata, "WEB_RESPONSE_DELAY": "0.3"})
    assert time.monotonic() - started >= 0.3
    assert result.returncode == 0 and result.stdout.endswith(f"task={TASK_ID} arn={TASK_ARN} "
                                                              f"host={socket.gethostname()} version=1\n")
    bad = in_image(rootfs, cgi, {"ECS_CONTAINER_METADATA_URI_V4": metadata, "WEB_RESPONSE_DELAY": "soon"})
    assert bad.returncode == 0 and bad.stdout.endswith(" version=1\n")  # a bad value delays nothing


@needs_root
def test_httpd_serves_the_page_and_health(rootfs, metadata, tmp_path, page_cache):
    """busybox httpd has no index.html to send for "/", so it runs cgi-bin/index.cgi."""
    port = free_port()
    with open(tmp_path / "stderr", "wb") as stderr:
        process = subprocess.Popen(
            [CHROOT, str(rootfs), "/bin/busybox", "httpd", "-f", "-vv", "-p", f"127.0.0.1:{port}", "-h", "/www"],
            env={"PATH": "/bin", "ECS_CONTAINER_METADATA_URI_V4": metadata}, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/health"), "httpd answering", alive=lambda: process.poll() is None)
        with urllib.request.urlopen(base + "/", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain"
            assert response.read().decode() == (f"task={TASK_ID} arn={TASK_ARN} host={socket.gethostname()} "
                                                f"version=1\n")
        with urllib.request.urlopen(base + "/health", timeout=10) as response:
            assert response.read() == b"ok\n"
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(base + "/missing", timeout=10)
    finally:
        stop(process)
    log = (tmp_path / "stderr").read_text()
    assert "url:/\n" in log and "url:/health\n" in log and "response:404" in log


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@needs_root
def test_web_entrypoint_on_port_80(rootfs, page_cache):
    """/bin/web itself, in a network namespace of its own (port 80 there is free), with a metadata
    endpoint stand-in inside it (busybox httpd serving a file)."""
    task = rootfs / "tmp" / "meta" / "v4" / "feed" / "task"
    task.parent.mkdir(parents=True)
    task.write_text(json.dumps({"TaskARN": TASK_ARN}))
    script = (
        "ip link set lo up; "
        "httpd -f -p 127.0.0.1:51679 -h /tmp/meta & meta=$!; "
        "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:51679/v4/feed /bin/web >/tmp/web.out 2>/tmp/web.err & "
        "web=$!; trap 'kill $meta' EXIT; "
        "i=0; until wget -q -O /tmp/page http://127.0.0.1/ 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || exit 1; "
        "sleep 0.05; done; "
        "wget -q -O- http://127.0.0.1/health >>/tmp/page; cat /tmp/page; "
        # SIGTERM (what `docker stop` sends) ends it, with no request in flight at once, and with status 0.
        "kill -TERM $web; wait $web; echo \"web exited $?\" >&2"
    )
    try:
        result = subprocess.run([UNSHARE, "--net", CHROOT, str(rootfs), "/bin/sh", "-c", script],
                                env={"PATH": "/bin"}, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"task={TASK_ID} arn={TASK_ARN} host={socket.gethostname()} version=1\nok\n"
        assert result.stderr == "web exited 0\n"
        assert (rootfs / "tmp" / "web.out").read_text() == (f"web: serving on :80 as task {TASK_ID} (version 1)\n"
                                                            "web: draining\nweb: stopped\n")
        assert "url:/\n" in (rootfs / "tmp" / "web.err").read_text()
    finally:
        shutil.rmtree(rootfs / "tmp" / "meta")


@needs_root
def test_job_command_override(rootfs):
    result = in_image(rootfs, ["sh", "-c", "echo one; echo two; exit 3"])
    assert (result.returncode, result.stdout) == (3, "one\ntwo\n")
