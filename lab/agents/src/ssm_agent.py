"""Stand-in for amazon-ssm-agent: registration CLI and the heartbeat service (see lab/PROTOCOL.md).

CLI (Go-style single-dash flags, as the real agent):
  amazon-ssm-agent -register -code CODE -id ID -region REGION [-y]
  amazon-ssm-agent -clear
  amazon-ssm-agent -version
  amazon-ssm-agent                 run the service (systemd unit amazon-ssm-agent)
"""
import argparse
import base64
import datetime
import json
import math
import os
import secrets
import sys
import time
import uuid

import awsapi
import hostinfo
from agent_version import VERSION

CONFIG = "/etc/amazon/ssm/amazon-ssm-agent.json"
STORE = "/var/lib/amazon/ssm/Vault/Store"
REGISTRATION = f"{STORE}/RegistrationKey"
FINGERPRINT = f"{STORE}/InstanceFingerprint"
CREDENTIALS = "/root/.aws/credentials"
LOG = "/var/log/amazon/ssm/amazon-ssm-agent.log"
# Lab only: heartbeat period (AWS pings every few minutes; the lab wants quick Online/ConnectionLost).
DEFAULT_PING_SECONDS = 10
# Ask for new role credentials this long before the current ones expire.
REFRESH_MARGIN_SECONDS = 300


def load_config():
    return awsapi.read_json(CONFIG) or {}


def ssm_endpoint(config, region):
    return awsapi.endpoint_url(config.get("Ssm", {}).get("Endpoint", ""), "ssm", region)


def ping_seconds(config):
    return float(config.get("Lab", {}).get("PingIntervalSeconds", DEFAULT_PING_SECONDS))


# ---- RSA key pair for registration (the real agent sends an RSA public key and keeps the private key) ----

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(math.isqrt(p)) + 1))]


def _probable_prime(n, rounds=24):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return n in SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits):
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if _probable_prime(candidate):
            return candidate


def _der_length(length):
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_integer(value):
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(raw)) + raw


def _der_sequence(*items):
    body = b"".join(items)
    return b"\x30" + _der_length(len(body)) + body


def generate_key_pair(bits=2048):
    """(public key as base64 PKCS#1 DER, private key as PKCS#1 PEM)."""
    e = 65537
    while True:
        p, q = _prime(bits // 2), _prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(e, phi) == 1:
            break
    n, d = p * q, pow(e, -1, phi)
    public = _der_sequence(_der_integer(n), _der_integer(e))
    private = _der_sequence(*map(_der_integer, (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
    pem_body = base64.encodebytes(private).decode().replace("\n", "")
    lines = [pem_body[i:i + 64] for i in range(0, len(pem_body), 64)]
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----\n"
    return base64.b64encode(public).decode(), pem


# ---- registration ----

def fingerprint():
    """The instance fingerprint, made once per host and kept in the vault like the real agent's."""
    stored = awsapi.read_json(FINGERPRINT)
    if stored and stored.get("fingerprint"):
        return stored["fingerprint"]
    value = str(uuid.uuid4())
    awsapi.write_atomically(FINGERPRINT, json.dumps({"fingerprint": value, "similarityThreshold": 40}))
    return value


def registration():
    stored = awsapi.read_json(REGISTRATION)
    return stored if stored and stored.get("instanceID") else None


def register(code, activation_id, region, override):
    if registration() and not override and not _confirm_override():
        print("Registration cancelled: the instance is already registered (use -y to override).", file=sys.stderr)
        return 1
    public_key, private_key = generate_key_pair()
    # As the real agent does, the vault is rewritten with an empty id and region (and the new private key)
    # BEFORE the call, to check that it can be written (aws/amazon-ssm-agent, agent/cli-main/cli-main.go,
    # registerManagedInstance: registration.UpdateServerInfo("", "", privateKey, keyType)). A failed call
    # therefore leaves the host unregistered, and its old mi- id orphaned in SSM.
    awsapi.write_atomically(REGISTRATION, json.dumps({
        "instanceID": "", "region": "", "privateKey": private_key, "privateKeyType": "Rsa"}))
    client = awsapi.Client(ssm_endpoint(load_config(), region), region, "ssm")
    try:
        answer = client.call("RegisterManagedInstance", {
            "ActivationCode": code, "ActivationId": activation_id, "PublicKey": public_key,
            "PublicKeyType": "Rsa", "Fingerprint": fingerprint(),
        })
    except awsapi.ApiError as error:
        print(f"Registration failed due to error registering the instance with AWS SSM. {error}", file=sys.stderr)
        return 1
    instance_id = answer["InstanceId"]
    awsapi.write_atomically(REGISTRATION, json.dumps({
        "instanceID": instance_id, "region": region, "privateKey": private_key, "privateKeyType": "Rsa",
        "privateKeyCreatedDate": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "availabilityZone": "", "availabilityZoneId": "",
    }))
    print(f"Successfully registered the instance with AWS SSM using Managed instance-id: {instance_id}")
    return 0


def _confirm_override():
    if not sys.stdin.isatty():
        return False
    reply = input("Instance already registered. Would you like to override existing with new registration "
                  "information? [Yes/No]: ")
    return reply.strip().lower() in ("y", "yes")


def clear():
    path = awsapi.root_path(REGISTRATION)
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    print("Registration information has been removed from the instance.")
    return 0


# ---- service ----

class Service:
    """Keeps role credentials fresh in /root/.aws/credentials and sends UpdateInstanceInformation heartbeats."""

    def __init__(self, log):
        self.log = log
        self.instance_id = None
        self.expires = 0.0

    def round(self):
        reg = registration()
        if not reg:
            self.log.info("instance is not registered yet; waiting for -register")
            return
        config = load_config()
        region = reg["region"]
        endpoint = ssm_endpoint(config, region)
        if reg["instanceID"] != self.instance_id or time.time() > self.expires - REFRESH_MARGIN_SECONDS:
            self.refresh_credentials(endpoint, region, reg["instanceID"])
        name, version = hostinfo.platform()
        client = awsapi.Client(endpoint, region, "ssm", lambda: awsapi.shared_credentials(CREDENTIALS))
        client.call("UpdateInstanceInformation", {
            "InstanceId": reg["instanceID"], "AgentName": "amazon-ssm-agent", "AgentVersion": VERSION,
            "AgentStatus": "Active", "PlatformType": "Linux", "PlatformName": name, "PlatformVersion": version,
            "IPAddress": hostinfo.address_towards(endpoint), "ComputerName": hostinfo.hostname(),
        })

    def refresh_credentials(self, endpoint, region, instance_id):
        client = awsapi.Client(endpoint, region, "ssm")
        token = client.call("RequestManagedInstanceRoleToken", {"Fingerprint": fingerprint()})
        awsapi.write_atomically(CREDENTIALS, (
            "[default]\n"
            f"aws_access_key_id = {token['AccessKeyId']}\n"
            f"aws_secret_access_key = {token['SecretAccessKey']}\n"
            f"aws_session_token = {token['SessionToken']}\n"
        ))
        self.instance_id = instance_id
        self.expires = float(token.get("TokenExpirationDate", time.time() + 3600))
        self.log.info("role credentials for %s written to %s", instance_id, CREDENTIALS)


def serve():
    log = hostinfo.setup_logging(LOG, "amazon-ssm-agent")
    hostinfo.stop_on_signals()
    log.info("amazon-ssm-agent %s starting", VERSION)
    service = Service(log)
    while True:
        try:
            service.round()
        except awsapi.ApiError as error:
            log.warning("call failed: %s", error)
            if error.code == "InvalidInstanceId":
                service.instance_id = None
            elif error.code == "ExpiredTokenException":
                # The lab clock can jump past the expiry this agent read by its own clock: ask again next round.
                service.expires = 0.0
        if hostinfo.wait(ping_seconds(load_config())):
            log.info("amazon-ssm-agent stopping")
            return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="amazon-ssm-agent", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag in ("register", "clear", "version", "y"):
        parser.add_argument(f"-{flag}", f"--{flag}", action="store_true", dest=flag)
    for option in ("code", "id", "region"):
        parser.add_argument(f"-{option}", f"--{option}", dest=option)
    args = parser.parse_args(argv)
    if args.version:
        print(f"SSM Agent version: {VERSION}")
        return 0
    if args.clear:
        return clear()
    if args.register:
        missing = [f"-{name}" for name in ("code", "id", "region") if not getattr(args, name)]
        if missing:
            parser.error(f"-register needs {', '.join(missing)}")
        return register(args.code, args.id, args.region, args.y)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
