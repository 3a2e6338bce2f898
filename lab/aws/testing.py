"""In-process lab AWS endpoint for tests.

``LabAWS`` serves moto plus the add-ons on a free 127.0.0.1 port from a thread (``LabEndpoint(url)``
is the same client side for an endpoint that runs elsewhere, e.g. ``python -m lab aws``)::

    with LabAWS() as lab:
        ssm = lab.client("ssm")
        activation = lab.create_activation(registration_limit=2)
        instance_id, credentials = lab.register_managed_instance(activation["ActivationId"],
                                                                 activation["ActivationCode"])
        lab.heartbeat(instance_id, credentials)

- ``.url``; ``.client(service, region=None, credentials=None, **config)``: a boto3 client for the lab with
  the lab admin's credentials (or the given ``{"AccessKeyId", "SecretAccessKey", "SessionToken"}``), region
  us-east-1 by default and NO botocore retries (``retries={"total_max_attempts": 1}``) so that counters and
  injected faults are seen exactly; pass ``retries=...`` to change that.
- Control API: ``.reset()``, ``.counters()`` (``{op: calls}``), ``.counters_detail()``, ``.reset_counters()``,
  ``.set_faults(operations, seed=None)``, ``.clear_faults()``, ``.clock(offset=None, advance=None)``,
  ``.settings(**values)``, ``.control(method, path, body)``.
- IAM: ``.create_instance_role(name)``: a role trusting ssm.amazonaws.com (CreateActivation refuses others);
  ``.create_user(name, policy)`` -> credentials of a lab IAM user limited to ``policy`` (the default
  credentials are the lab's admin user ``testing``, see lab.aws.auth).
- ``StandInThread``: the base of the tests' stand-ins (agents, hosts) that run in a thread for a ``with`` block.
- Agent calls: ``.register_managed_instance(activation_id, code, fingerprint=None, region=None)`` ->
  (instance_id, credentials) does the real unsigned RegisterManagedInstance (in ``region``, default the
  lab's: activations are regional) then RequestManagedInstanceRoleToken; ``.role_token(fingerprint)``;
  ``.heartbeat(instance_id, credentials, **fields)`` sends the signed UpdateInstanceInformation;
  ``.agent_call(target, body, credentials=None, region=None)`` sends any JSON 1.1 call, signed with SigV4
  when credentials are given (else with the region in the ``X-Lab-Region`` header, as the stand-in agents
  send their unsigned calls), and returns ``(status, payload)``.

moto keeps its state in module globals, so one process holds one lab: do not mix LabAWS with
``moto.mock_aws`` in the same test run.
"""
import json
import secrets
import threading
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lab.aws import auth, core, server

# The lab admin's access key (lab.aws.auth seeds it after every reset): allowed everything.
DUMMY_CREDENTIALS = {"AccessKeyId": auth.ADMIN_ACCESS_KEY, "SecretAccessKey": auth.ADMIN_SECRET_KEY, "SessionToken": None}
# The ECS Anywhere agents' credential scope service for each X-Amz-Target prefix.
_SIGNING_NAMES = {"AmazonSSM": "ssm", "AmazonEC2ContainerServiceV20141113": "ecs", "Logs_20140328": "logs"}


class LabAWSError(Exception):
    """A control or agent call answered with an unexpected status."""


class LabEndpoint:
    """Client side of a running lab endpoint at ``url``: boto3 clients, control API and agent calls."""

    def __init__(self, url, region="us-east-1"):
        self._url = url.rstrip("/")
        self.region = region

    @property
    def url(self):
        return self._url

    # --- clients --------------------------------------------------------------------------------

    def client(self, service, region=None, credentials=None, **config):
        credentials = credentials or DUMMY_CREDENTIALS
        config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        return boto3.client(
            service, region_name=region or self.region, endpoint_url=self.url,
            aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"), config=Config(**config))

    # --- control API ----------------------------------------------------------------------------

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        status, payload = _send(request)
        if status != 200:
            raise LabAWSError(f"{method} {path} answered {status}: {payload}")
        return payload

    def reset(self):
        self.control("POST", "/_lab/reset")

    def counters(self):
        """Calls received per operation name (injected faults included)."""
        return self.control("GET", "/_lab/counters")["calls"]

    def counters_detail(self):
        return self.control("GET", "/_lab/counters")

    def reset_counters(self):
        self.control("POST", "/_lab/counters/reset")

    def set_faults(self, operations, seed=None):
        """``operations``: ``{"RunTask": {"throttle_rate": 1.0}, ...}`` (see lab.aws.core.set_faults)."""
        return self.control("POST", "/_lab/faults", {"seed": seed, "operations": operations})

    def clear_faults(self):
        return self.control("POST", "/_lab/faults", {})

    def clock(self, offset=None, advance=None):
        """Set (``offset``) or move (``advance``) the lab clock, in seconds; returns the clock state."""
        if offset is not None:
            return self.control("POST", "/_lab/clock", {"offset": offset})
        if advance is not None:
            return self.control("POST", "/_lab/clock", {"advance": advance})
        return self.control("GET", "/_lab/clock")

    def settings(self, **values):
        if values:
            return self.control("POST", "/_lab/settings", values)
        return self.control("GET", "/_lab/settings")

    # --- agent calls ----------------------------------------------------------------------------

    def agent_call(self, target, body, credentials=None, region=None):
        """POST a JSON 1.1 call with ``X-Amz-Target: target`` to ``region`` (default: the lab's); SigV4-signed
        when credentials are given, else with the region in the lab-only header the stand-in agents send."""
        headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
        data = json.dumps(body).encode()
        if not credentials:
            headers[core.UNSIGNED_REGION_HEADER] = region or self.region
        else:
            signing_name = _SIGNING_NAMES[target.split(".", 1)[0]]
            aws_request = AWSRequest(method="POST", url=self.url + "/", data=data, headers=headers)
            signer_credentials = Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                             credentials.get("SessionToken"))
            SigV4Auth(signer_credentials, signing_name, region or self.region).add_auth(aws_request)
            headers = dict(aws_request.headers.items())
        return _send(urllib.request.Request(self.url + "/", data=data, method="POST", headers=headers))

    def _agent_ok(self, target, body, credentials=None, region=None):
        status, payload = self.agent_call(target, body, credentials, region)
        if status != 200:
            raise LabAWSError(f"{target} answered {status}: {payload}")
        return payload

    def create_instance_role(self, name=auth.INSTANCE_ROLE):
        """An IAM role that trusts ssm.amazonaws.com, as CreateActivation requires (kept when it exists; the lab's
        account starts with ecsAnywhereRole)."""
        iam = self.client("iam")
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(auth.SSM_TRUST_POLICY))
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        return name

    def create_activation(self, iam_role=auth.INSTANCE_ROLE, registration_limit=1, **kwargs):
        """CreateActivation through boto3, for ``iam_role`` (created first, trusting SSM, unless it is the seeded one); extra
        keyword arguments are boto3's (Tags=..., ...)."""
        if iam_role != auth.INSTANCE_ROLE:  # the lab's account starts with that one: no IAM call to count
            self.create_instance_role(iam_role)
        result = self.client("ssm").create_activation(IamRole=iam_role, RegistrationLimit=registration_limit, **kwargs)
        return {"ActivationId": result["ActivationId"], "ActivationCode": result["ActivationCode"]}

    def create_user(self, name, policy):
        """A lab IAM user whose only permissions are ``policy`` (a policy document), and its credentials."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"], "SessionToken": None}

    def used_actions(self, user):
        """The actions the lab IAM user was allowed since the last reset, in the order of their first use."""
        return self.control("GET", "/_lab/iam/used-actions")["users"].get(user, [])

    def register_managed_instance(self, activation_id, code, fingerprint=None, region=None):
        """Register as the agent does (unsigned, in ``region``, default the lab's) and fetch role credentials:
        (instance_id, credentials)."""
        fingerprint = fingerprint or secrets.token_hex(20)
        registered = self._agent_ok("AmazonSSM.RegisterManagedInstance", {
            "ActivationCode": code, "ActivationId": activation_id, "PublicKey": secrets.token_urlsafe(32),
            "PublicKeyType": "Rsa", "Fingerprint": fingerprint}, region=region)
        return registered["InstanceId"], self.role_token(fingerprint)

    def role_token(self, fingerprint):
        return self._agent_ok("AmazonSSM.RequestManagedInstanceRoleToken", {"Fingerprint": fingerprint})

    def heartbeat(self, instance_id, credentials, **fields):
        body = {"InstanceId": instance_id, "AgentName": "amazon-ssm-agent", "AgentVersion": "3.3.1611.0",
                "AgentStatus": "Active", "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
                "PlatformVersion": "12", "IPAddress": "10.213.0.10", "ComputerName": instance_id}
        body.update(fields)
        return self._agent_ok("AmazonSSM.UpdateInstanceInformation", body, credentials)



class LabAWS(LabEndpoint):
    """A lab endpoint served from a thread of this process (port 0: a free port)."""

    def __init__(self, host="127.0.0.1", port=0, region="us-east-1"):
        super().__init__("", region)
        self.host = host
        self.port = port
        self._server = None
        self._thread = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._server = server.make_server_for(self.host, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="lab-aws", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _send(request):
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    return status, payload


class StandInThread:
    """A stand-in (agents, hosts) that runs ``run()`` in a daemon thread for a ``with`` block: ``stopping`` is set
    when the block ends, and what ``run`` appended to ``errors`` fails the block's exit, so a failure is not
    silent."""

    def __init__(self, name):
        self.stopping = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(timeout=30)
        assert not self.errors, self.errors

    def run(self):
        raise NotImplementedError
