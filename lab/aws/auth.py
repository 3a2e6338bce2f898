"""Who may call the lab endpoint: SigV4 signatures, expired session credentials and IAM policies.

The server runs ``check_request(environ)`` on every AWS request before moto sees it (after the counters and
injected faults); it answers an AWS error or None. What it checks, in AWS's order:

1. **Unsigned** requests are refused (``MissingAuthenticationTokenException``), except the SSM agent's
   RegisterManagedInstance, which the real agent sends with anonymous credentials
   (aws/amazon-ssm-agent agent/ssm/anonauth/anon_service.go, ``credentials.AnonymousCredentials``), and
   RequestManagedInstanceRoleToken, which it signs with the instance's RSA key instead of SigV4
   (agent/ssm/rsaauth/); the lab's stand-in sends both unsigned and the lab checks no RSA signature.
2. **The access key** must be an access key of a lab IAM user (moto IAM) or session credentials moto STS
   issued (the role credentials the lab's SSM and ECS hand out, or an AssumeRole) with their session token;
   else ``UnrecognizedClientException`` ("The security token included in the request is invalid.").
3. **Expired** session credentials (the lab's ``role_credentials_ttl``, lab clock): ``ExpiredTokenException``.
4. **The signature** is computed again with the key's secret (botocore's SigV4): a mismatch answers
   ``InvalidSignatureException``. The request date is not compared with the clock (the lab clock moves).
5. **IAM policies** of IAM users (inline, attached, group policies; moto's policy evaluator): Deny wins, an
   action needs an Allow, else ``AccessDeniedException`` "User: ARN is not authorized to perform: ACTION on
   resource: RES because no identity-based policy allows the ACTION action" (or "with an explicit deny in an
   identity-based policy"). Resources: CreateActivation also needs ``iam:PassRole`` on the activation's role
   ARN, IAM calls that name a role (GetRole, ListAttachedRolePolicies) are evaluated on that role's ARN
   (``arn:aws:iam::ACCOUNT:role/NAME``, path left out), every other action on the resource ``*`` (so a
   statement scoped to specific ECS or SSM ARNs allows nothing in the lab). Conditions are not evaluated.
   sts:GetCallerIdentity is always allowed.
   Session (role) credentials are authenticated but their role's policies are not evaluated.

Which actions each IAM user was allowed, in the order of their first use, is kept until the next reset and
served at ``GET /_lab/iam/used-actions`` (``{"users": {name: [action, ...]}}``): what IAM's action-level
"last accessed information" tells an administrator who trims a policy to what is used
(docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html), without the times.

Query-protocol services (IAM, STS) answer the same refusals with their own codes: MissingAuthenticationToken,
InvalidClientTokenId, ExpiredToken, SignatureDoesNotMatch, AccessDenied (HTTP 403); JSON services answer 400.
Codes and wording: AWS's Common Errors pages (e.g. docs.aws.amazon.com/mgn/latest/APIReference/CommonErrors.html),
ECS's InvalidSignatureException in teralytics/prometheus-ecs-discovery#7, UnrecognizedClientException in
aws/aws-sdk-php#1114, and IAM's "Troubleshoot access denied error messages" (docs.aws.amazon.com/IAM/latest/
UserGuide/troubleshoot_access-denied.html).

The account the lab starts with, again after every reset (``seed_account``): the IAM user ``lab-admin``
with the access key ``testing`` / secret ``testing`` (what ``lab.aws.testing`` and the fleet's controller
use) and an Allow-everything policy, and the role ``ecsAnywhereRole`` as AWS's ECS Anywhere guide creates it
(trusts ssm.amazonaws.com; AmazonSSMManagedInstanceCore and AmazonEC2ContainerServiceforEC2Role attached
when moto has AWS's managed policies loaded, ``MOTO_IAM_LOAD_MANAGED_POLICIES``).
"""
import json
import re
import threading
from urllib.parse import parse_qs, quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lab.aws import core

ACCOUNT_ID = "123456789012"  # moto's default account, the one every lab call lands in
ADMIN_USER = "lab-admin"
ADMIN_ACCESS_KEY = "testing"
ADMIN_SECRET_KEY = "testing"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
INSTANCE_ROLE = "ecsAnywhereRole"
# docs.aws.amazon.com/AmazonECS/latest/developerguide/iam-role-ecsanywhere.html
SSM_TRUST_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
INSTANCE_ROLE_POLICIES = ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                          "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")
# Sent without SigV4 by the real SSM agent (see the module docstring).
UNSIGNED_OPERATIONS = {("ssm", "RegisterManagedInstance"), ("ssm", "RequestManagedInstanceRoleToken")}
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.")
# (JSON services' code, query services' code, message)
REFUSALS = {
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken", "Missing Authentication Token"),
    "unknown": ("UnrecognizedClientException", "InvalidClientTokenId",
                "The security token included in the request is invalid."),
    "expired": ("ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired"),
    "signature": ("InvalidSignatureException", "SignatureDoesNotMatch", SIGNATURE_MISMATCH),
    "denied": ("AccessDeniedException", "AccessDenied", None),
}

_sessions_lock = threading.Lock()
_sessions = {}  # access key id -> moto AssumedRole, indexed as moto STS issues them
_sessions_seen = [0]
_used_actions = {}  # IAM user name -> the actions it was allowed, in the order of their first use


class Identity:
    """A caller: its secret and session token, its ARN, and its IAM user name (None for sessions)."""

    def __init__(self, secret, token, arn, user_name=None):
        self.secret = secret
        self.token = token
        self.arn = arn
        self.user_name = user_name


class Refused(Exception):
    def __init__(self, kind, message=None):
        super().__init__(kind)
        self.kind = kind
        self.message = message


def check_request(environ):
    """None when the request may go on to moto, else the AWS error answer ``(status, headers, body)``."""
    service, operation = core.request_operation(environ)
    if operation is None:
        return None
    try:
        _check(environ, service, operation)
    except Refused as refused:
        json_code, query_code, message = REFUSALS[refused.kind]
        if core.is_json_protocol(environ):
            return core.error_response(environ, service, 400, json_code, refused.message or message)
        return core.error_response(environ, service, 403, query_code, refused.message or message)
    return None


def _check(environ, service, operation):
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        if (service, operation) in UNSIGNED_OPERATIONS:
            return
        raise Refused("missing")
    fields = _authorization_fields(authorization)
    try:
        access_key, _day, region, scope_service, _terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise Refused("signature") from None
    identity = find_identity(access_key)
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    if identity is None or (token or None) != identity.token:
        raise Refused("unknown")
    expires_at = core.session_expiry(access_key)
    if expires_at is not None and core.now() >= expires_at:
        raise Refused("expired")
    if signature != _signature(environ, identity, access_key, region, scope_service, signed_headers):
        raise Refused("signature")
    if identity.user_name is None:
        return
    _authorize(identity, f"{scope_service}:{operation}", _resource(environ, scope_service))
    if (service, operation) == ("ssm", "CreateActivation"):
        role = _json_body(environ).get("IamRole")
        if isinstance(role, str) and role:
            _authorize(identity, "iam:PassRole", _role_arn(role))


def _resource(environ, service):
    """The resource an action is evaluated on: the role of IAM calls that name one (GetRole,
    ListAttachedRolePolicies...), else ``*``."""
    if service == "iam" and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        role = parse_qs(core.request_body(environ).decode("utf-8", "replace")).get("RoleName")
        if role:
            return _role_arn(role[0])
    return "*"


def _role_arn(name):
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def _authorization_fields(authorization):
    fields = {}
    for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def _signature(environ, identity, access_key, region, service, signed_headers):
    """The SigV4 signature of the request as botocore computes it, with the identity's secret."""
    body = core.request_body(environ)
    headers = {}
    for name in signed_headers:
        key = name.upper().replace("-", "_")
        value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")
        if value is not None:
            headers[name] = value
    path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    if "?" not in path and environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    request = AWSRequest(method=environ.get("REQUEST_METHOD", "POST"), url=f"http://{environ.get('HTTP_HOST', '')}{path}",
                         data=body, headers=headers)
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(access_key, identity.secret, identity.token), service, region)
    canonical_request = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical_request), request)


def _json_body(environ):
    try:
        body = json.loads(core.request_body(environ) or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- identities ---------------------------------------------------------------------------------

def _iam():
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT_ID]["aws"]


def find_identity(access_key):
    """The lab IAM user or moto STS session that owns ``access_key``, or None."""
    iam = _iam()
    key = iam.access_keys.get(access_key)
    if key is not None and key.status == "Active" and key.user_name in iam.users:
        user = iam.users[key.user_name]
        return Identity(key.secret_access_key, None, user.arn, user.name)
    session = _session(access_key)
    if session is not None:
        return Identity(session.secret_access_key, session.session_token, session.arn)
    return None


def _session(access_key):
    from moto.sts.models import sts_backends

    issued = sts_backends[ACCOUNT_ID]["global"].assumed_roles
    with _sessions_lock:
        # moto only appends to the list: index what is new since the last look.
        for session in issued[_sessions_seen[0]:]:
            _sessions[session.access_key_id] = session
        _sessions_seen[0] = len(issued)
        return _sessions.get(access_key)


def _user_policies(user_name):
    iam = _iam()
    documents = [iam.get_user_policy(user_name, name)["policy_document"] for name in iam.list_user_policies(user_name)]
    attached, _ = iam.list_attached_user_policies(user_name)
    for group in iam.get_groups_for_user(user_name):
        documents += [iam.get_group_policy(group.name, name)["policy_document"]
                      for name in iam.list_group_policies(group.name)]
        attached += iam.list_attached_group_policies(group.name)[0]
    return documents + list(attached)


def _authorize(identity, action, resource):
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if action in ALWAYS_ALLOWED:
        return
    allowed = False
    for policy in _user_policies(identity.user_name):
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            raise Refused("denied", f"User: {identity.arn} is not authorized to perform: {action} on resource: "
                                    f"{resource} with an explicit deny in an identity-based policy")
        allowed = allowed or result == PermissionResult.PERMITTED
    if not allowed:
        raise Refused("denied", f"User: {identity.arn} is not authorized to perform: {action} on resource: "
                                f"{resource} because no identity-based policy allows the {action} action")
    with _sessions_lock:
        used = _used_actions.setdefault(identity.user_name, [])
        if action not in used:
            used.append(action)


@core.lab_route("/_lab/iam/used-actions", methods=("GET",))
def used_actions(request):
    with _sessions_lock:
        return 200, {"users": {name: list(actions) for name, actions in _used_actions.items()}}


# --- the account the lab starts with ------------------------------------------------------------

def seed_account():
    """Create the lab's admin user (key ``testing``) and ``ecsAnywhereRole`` in a fresh moto IAM."""
    with _sessions_lock:
        _sessions.clear()
        _sessions_seen[0] = 0
        _used_actions.clear()
    iam = _iam()
    if ADMIN_USER not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=ADMIN_USER)
        iam.put_user_policy(ADMIN_USER, "lab-full-access", json.dumps(ADMIN_POLICY))
        key = iam.create_access_key(ADMIN_USER)
        del iam.access_keys[key.access_key_id]
        key.access_key_id, key.secret_access_key = ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY
        iam.access_keys[ADMIN_ACCESS_KEY] = key
    if not any(role.name == INSTANCE_ROLE for role in iam.get_roles()):
        iam.create_role(role_name=INSTANCE_ROLE, assume_role_policy_document=json.dumps(SSM_TRUST_POLICY), path="/",
                        permissions_boundary=None, description="ECS Anywhere instances (lab)", tags=[],
                        max_session_duration=None)
        for policy_arn in INSTANCE_ROLE_POLICIES:
            if policy_arn in iam.managed_policies:
                iam.attach_role_policy(policy_arn, INSTANCE_ROLE)


def install():
    """Seed the account now and after every reset; let moto name the caller of any access key id."""
    from moto.core.responses import BaseResponse

    # moto only takes 20-character upper-case key ids from the Authorization header (else its callers become
    # "AKIAEXAMPLE", GetCallerIdentity says user/moto); the lab's admin key is "testing".
    BaseResponse.access_key_regex = re.compile(r"Credential=(?P<access_key>[^/,\s]+)/")
    core.on_reset(seed_account)
    seed_account()
