"""Debian's docker-registry (distribution 2.8.2) as the lab's ECR: TLS from a lab CA, htpasswd basic auth,
filesystem storage; and a client that pushes images over the registry HTTP API with urllib only.

The API (Docker Registry HTTP API V2, https://distribution.github.io/distribution/spec/api/):
  GET  /v2/                                  200 when authorized, 401 + WWW-Authenticate otherwise
  HEAD /v2/<name>/blobs/<digest>             200 when the blob is already there
  POST /v2/<name>/blobs/uploads/             202 + Location of an upload session
  PUT  <Location>?digest=<digest>            the whole blob in one request ("monolithic upload"), 201
  PUT  /v2/<name>/manifests/<tag>            201 + Docker-Content-Digest
"""
import base64
import ipaddress
import json
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.fleet import config
from lab.fleet.proc import LabError, run

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
VALIDITY = timedelta(days=10)
# Go's bcrypt runs on every request (basic auth has no session), and a pull is several requests per host:
# cost 5 (htpasswd -B's default) instead of 12 keeps that cheap for a lab-only password.
BCRYPT_ROUNDS = 5
TIMEOUT = 30


class RegistryError(LabError):
    """The registry answered something else than the API says."""


def extract_binary(debs_dir, dest_dir):
    """usr/bin/docker-registry of the docker-registry .deb in debs_dir, unpacked once into dest_dir."""
    dest_dir = Path(dest_dir)
    matches = sorted(Path(debs_dir).glob("docker-registry_*.deb"))
    if not matches:
        raise LabError(f"no docker-registry_*.deb in {debs_dir}")
    deb = matches[-1]
    binary = dest_dir / "usr" / "bin" / "docker-registry"
    marker = dest_dir / ".unpacked"
    # The marker names the .deb, so a newer package is unpacked again.
    with config.cache_lock():
        if not (binary.is_file() and marker.is_file() and marker.read_text().strip() == deb.name):
            dest_dir.mkdir(parents=True, exist_ok=True)
            run(["dpkg-deb", "-x", str(deb), str(dest_dir)])
            marker.write_text(deb.name + "\n")
    return binary


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fleetops lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(hostnames):
    names = []
    for name in dict.fromkeys(hostnames):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(names)


def _write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _certificates(hostnames):
    """A fresh lab CA and a server certificate for hostnames signed by it (EC P-256, which Go's TLS, OpenSSL
    and Docker all accept). The CA key is not kept: nothing else is signed with it."""
    now = datetime.now(timezone.utc)
    # Backdated an hour: a host clock slightly behind ours must not see a certificate from the future.
    start, end = now - timedelta(hours=1), now + VALIDITY
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fleetops lab registry CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(hostnames[0])).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_san(hostnames), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return ca, cert, key


def write_config(directory, *, address, port, hostnames, username, password):
    """CA, server certificate and key, htpasswd and config.yml under directory; returns their paths.

    A new CA each time: whoever trusts it (the hosts' /etc/docker/certs.d/NAME/ca.crt) gets it from here."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"config": directory / "config.yml", "ca": directory / "ca.crt", "cert": directory / "server.crt",
             "key": directory / "server.key", "htpasswd": directory / "htpasswd", "storage": directory / "storage"}
    paths["storage"].mkdir(exist_ok=True)
    # The listen address is a name clients may use too, so it is in the SANs.
    ca, cert, key = _certificates([*hostnames, str(address)])
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(paths["key"], key)
    # The registry's htpasswd accepts bcrypt only.
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()
    paths["htpasswd"].write_text(f"{username}:{hashed}\n")
    paths["htpasswd"].chmod(0o600)
    config = {
        "version": "0.1",
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(paths["storage"])}, "delete": {"enabled": True}},
        "http": {
            "addr": f"{address}:{port}",
            # Signs upload-session state; set so the registry does not warn about generating one.
            "secret": secrets.token_hex(16),
            "tls": {"certificate": str(paths["cert"]), "key": str(paths["key"])},
        },
        "auth": {"htpasswd": {"realm": "fleetops-lab-registry", "path": str(paths["htpasswd"])}},
    }
    # JSON is YAML: no YAML library needed.
    paths["config"].write_text(json.dumps(config, indent=2) + "\n")
    paths["config"].chmod(0o600)
    return paths


def argv(binary, config_path):
    return [str(binary), "serve", str(config_path)]


class _Client:
    def __init__(self, url, ca_path, username=None, password=None):
        self.url = url.rstrip("/")
        self.context = ssl.create_default_context(cafile=str(ca_path))
        self.headers = {}
        if username is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            # Sent up front: the registry's basic auth needs no challenge round trip.
            self.headers["Authorization"] = f"Basic {token}"

    def request(self, method, path_or_url, data=None, headers=None, expect=(200,)):
        """(status, headers, body); an answer outside expect raises RegistryError with the registry's errors."""
        url = urllib.parse.urljoin(self.url + "/", path_or_url)
        request = urllib.request.Request(url, data=data, method=method, headers={**self.headers, **(headers or {})})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=TIMEOUT) as response:
                status, reply, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, reply, body = error.code, error.headers, error.read()
        if status not in expect:
            raise RegistryError(f"{method} {url}: HTTP {status}: {body.decode(errors='replace').strip()}")
        return status, reply, body


def ready(url, ca_path):
    """True once the registry answers the API over TLS (401 counts: it is up, it wants credentials)."""
    try:
        _Client(url, ca_path).request("GET", "/v2/", expect=(200, 401))
        return True
    except (OSError, RegistryError):
        return False


def push_image(url, ca_path, username, password, repository, tag, image):
    """Push image (lab.images.build.Image) as repository:tag; returns the manifest digest."""
    client = _Client(url, ca_path, username, password)
    client.request("GET", "/v2/")
    for digest, data in image.blobs():
        status, _, _ = client.request("HEAD", f"/v2/{repository}/blobs/{digest}", expect=(200, 404))
        if status == 200:
            continue
        _, reply, _ = client.request("POST", f"/v2/{repository}/blobs/uploads/", data=b"", expect=(202,))
        location = reply["Location"]
        separator = "&" if "?" in location else "?"
        client.request("PUT", f"{location}{separator}digest={urllib.parse.quote(digest)}", data=data,
                       headers={"Content-Type": "application/octet-stream"}, expect=(201,))
    manifest = image.manifest
    _, reply, _ = client.request("PUT", f"/v2/{repository}/manifests/{tag}", data=manifest,
                                 headers={"Content-Type": MANIFEST_TYPE}, expect=(201,))
    digest = reply.get("Docker-Content-Digest")
    if digest != image.digest:
        raise RegistryError(f"{repository}:{tag}: the registry stored {digest}, the manifest is {image.digest}")
    return digest
