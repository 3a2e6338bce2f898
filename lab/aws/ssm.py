"""SSM add-ons: hybrid activations and managed instances, as ECS Anywhere uses them.

``install()`` adds these operations to moto's SSM response and backend classes in place (moto's URL map
is bound to its own classes, so subclassing would not be served):

- CreateActivation, DescribeActivations, DeleteActivation;
- RegisterManagedInstance and RequestManagedInstanceRoleToken: the agent's UNSIGNED JSON 1.1 calls
  (lab/PROTOCOL.md steps 1-2), routed to SSM through moto's unsigned-request table. Registration finds only
  activations of the region the call is addressed to (``request_region``), as on AWS;
- UpdateInstanceInformation: the agent's signed heartbeat (PROTOCOL step 3);
- DescribeInstanceInformation, DeregisterManagedInstance;
- Add/List/RemoveTagsForResource with ResourceType ManagedInstance (moto's tag store, lab existence check).

Errors use the codes AWS answers with (botocore's SSM model names them): ValidationException for input
that breaks a model constraint, InvalidParameters, InvalidActivation, InvalidActivationId,
InvalidInstanceId, InvalidFilterKey, InvalidFilter, InvalidInstanceInformationFilterValue,
InvalidNextToken, InvalidResourceId, TooManyTagsError.

Lab choices where AWS documents nothing: a registered instance whose agent has not reported yet, or
that was silent for more than the ``connection_lost_after`` setting, has PingStatus ConnectionLost;
pages default to 50 items; results are in registration order; deregistered instances disappear from
DescribeInstanceInformation. Only managed (mi-) instances are described; moto's EC2 instances are not.

Helpers for the other add-ons: ``find_managed_instance(instance_id)`` -> ``ManagedInstance`` or None,
``ping_status(instance)``.
"""
import base64
import binascii
import datetime
import json
import secrets
import string
import threading
import uuid

from moto.ssm import exceptions as moto_ssm_exceptions
from moto.ssm.exceptions import SSMException
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.moto_server import werkzeug_app

from lab.aws import core

MAX_EXPIRATION = datetime.timedelta(days=30)
DEFAULT_EXPIRATION = datetime.timedelta(hours=24)
DEFAULT_PAGE_SIZE = 50
MAX_TAGS_PER_RESOURCE = 50
INSTANCE_FILTER_KEYS = ("InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds", "IamRole",
                        "ResourceType", "AssociationStatus")
PING_STATUSES = ("Online", "ConnectionLost", "Inactive")
# moto's server is threaded: the registration limit check and its count must not interleave.
LOCK = threading.RLock()
PLATFORM_TYPES = ("Windows", "Linux", "MacOS")
RESOURCE_TYPES = ("ManagedInstance", "EC2Instance")


# --- errors (moto SSMException subclasses, so moto's serializer answers with the model's shape) ---

class _Error(SSMException):
    def __init__(self, message):
        super().__init__(self.code, message)


class InvalidParameters(_Error):
    code = "InvalidParameters"


class InvalidActivation(_Error):
    code = "InvalidActivation"


class InvalidActivationId(_Error):
    code = "InvalidActivationId"


class InvalidInstanceId(_Error):
    code = "InvalidInstanceId"


class InvalidFilter(_Error):
    code = "InvalidFilter"


class InvalidFilterKey(_Error):
    code = "InvalidFilterKey"


class InvalidInstanceInformationFilterValue(_Error):
    code = "InvalidInstanceInformationFilterValue"


class InvalidNextToken(_Error):
    code = "InvalidNextToken"


class TooManyTagsError(_Error):
    code = "TooManyTagsError"


ValidationException = moto_ssm_exceptions.ValidationException
InvalidResourceId = moto_ssm_exceptions.InvalidResourceId


# --- state --------------------------------------------------------------------------------------

class Activation:
    def __init__(self, iam_role, registration_limit, expiration_date, description, default_instance_name, tags):
        self.activation_id = str(uuid.uuid4())
        self.activation_code = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))
        self.iam_role = iam_role
        self.registration_limit = registration_limit
        self.registrations_count = 0
        self.expiration_date = expiration_date
        self.created_date = core.now()
        self.description = description
        self.default_instance_name = default_instance_name
        self.tags = tags

    @property
    def expired(self):
        return core.now() >= self.expiration_date

    def describe(self):
        described = {
            "ActivationId": self.activation_id,
            "IamRole": self.iam_role,
            "RegistrationLimit": self.registration_limit,
            "RegistrationsCount": self.registrations_count,
            "ExpirationDate": self.expiration_date,
            "Expired": self.expired,
            "CreatedDate": self.created_date,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }
        if self.description is not None:
            described["Description"] = self.description
        if self.default_instance_name is not None:
            described["DefaultInstanceName"] = self.default_instance_name
        return described


class ManagedInstance:
    def __init__(self, activation, fingerprint, public_key, sequence):
        self.instance_id = "mi-" + secrets.token_hex(9)[:17]
        self.activation_id = activation.activation_id
        self.iam_role = activation.iam_role
        self.name = activation.default_instance_name
        self.fingerprint = fingerprint
        self.public_key = public_key
        self.registration_date = core.now()
        self.sequence = sequence
        self.last_ping = None
        self.agent = {}


class _LabSSMState:
    """The add-ons' data in one moto SSM backend; moto's reset replaces the backend's __dict__, and this
    with it."""

    def __init__(self):
        self.activations = {}
        self.instances = {}
        self.by_fingerprint = {}  # the agent's key fingerprint -> its newest instance id
        self.sequence = 0
        self.issued_codes = []  # lab-only: every code handed out, for GET /_lab/ssm/activation-codes


def _state(backend):
    state = backend.__dict__.get("_lab_ssm")
    if state is None:
        state = backend.__dict__.setdefault("_lab_ssm", _LabSSMState())
    return state


def _all_backends():
    for account_backends in list(ssm_backends.values()):
        yield from list(account_backends.values())


def find_managed_instance(instance_id):
    """The registered ``ManagedInstance`` with this id in any account/region, or None."""
    for backend in _all_backends():
        instance = _state(backend).instances.get(instance_id)
        if instance:
            return instance
    return None


def _backend_of_instance(instance_id):
    for backend in _all_backends():
        if instance_id in _state(backend).instances:
            return backend
    return None


def ping_status(instance):
    if instance.last_ping is None:
        return "ConnectionLost"
    silence = (core.now() - instance.last_ping).total_seconds()
    return "Online" if silence <= core.setting("connection_lost_after") else "ConnectionLost"


# --- backend methods ----------------------------------------------------------------------------

def create_activation(self, iam_role, registration_limit, expiration_date, description, default_instance_name, tags):
    now = core.now()
    if expiration_date is None:
        expiration_date = now + DEFAULT_EXPIRATION
    elif expiration_date <= now:
        raise InvalidParameters("ExpirationDate must be in the future")
    elif expiration_date > now + MAX_EXPIRATION:
        raise InvalidParameters("ExpirationDate cannot be more than 30 days in the future")
    if not _role_trusts_ssm(self.account_id, iam_role):
        # AWS's answer, seen in hashicorp/terraform-provider-aws#27952 and #30441.
        raise ValidationException("Nonexistent role or missing ssm service principal in trust policy")
    activation = Activation(iam_role, registration_limit, expiration_date, description, default_instance_name, tags)
    _state(self).activations[activation.activation_id] = activation
    _state(self).issued_codes.append(activation.activation_code)
    return activation


def _role_trusts_ssm(account_id, iam_role):
    """Whether the IAM role (a name, optionally with its path: ``service-role/Name``) exists and its trust policy
    lets ssm.amazonaws.com assume it, as CreateActivation requires."""
    from moto.iam.models import iam_backends

    path, _, name = iam_role.rpartition("/")
    for role in iam_backends[account_id]["aws"].get_roles():
        if role.name == name and (not path or role.path.strip("/") == path.strip("/")):
            return _trusts_ssm(role.assume_role_policy_document)
    return False


def _trusts_ssm(document):
    try:
        statements = json.loads(document).get("Statement", [])
    except (TypeError, ValueError, AttributeError):
        return False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        services = (statement.get("Principal") or {}).get("Service", []) if isinstance(statement.get("Principal"), dict) else []
        actions = [actions] if isinstance(actions, str) else actions
        services = [services] if isinstance(services, str) else services
        if (statement.get("Effect") == "Allow" and "ssm.amazonaws.com" in services
                and any(action in ("sts:AssumeRole", "sts:*", "*") for action in actions)):
            return True
    return False


def describe_activations(self, filters):
    matches = []
    for activation in _state(self).activations.values():
        if all(_activation_matches(activation, f) for f in filters):
            matches.append(activation)
    return matches


def _activation_matches(activation, activation_filter):
    key = activation_filter.get("FilterKey")
    values = activation_filter.get("FilterValues") or []
    field = {"ActivationIds": activation.activation_id, "DefaultInstanceName": activation.default_instance_name,
             "IamRole": activation.iam_role}[key]
    return field in values


def delete_activation(self, activation_id):
    if not _is_uuid(activation_id):
        raise InvalidActivationId(f"Activation ID {activation_id} is not valid")
    if _state(self).activations.pop(activation_id, None) is None:
        raise InvalidActivation(f"Activation {activation_id} does not exist")


def deregister_managed_instance(self, instance_id):
    state = _state(self)
    instance = state.instances.pop(instance_id, None)
    if instance is None:
        raise InvalidInstanceId(f"Instance {instance_id} is not a registered managed instance")
    if state.by_fingerprint.get(instance.fingerprint) == instance_id:
        del state.by_fingerprint[instance.fingerprint]
    self._resource_tags.get("ManagedInstance", {}).pop(instance_id, None)
    core.forget_instance(instance_id)


def _is_uuid(value):
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError):
        return False


def request_region(response):
    """The region an SSM call is addressed to.

    AWS knows it from the regional endpoint the call reached. The real agent sends RegisterManagedInstance
    unsigned (anonymous credentials) to the SSM endpoint of its ``-region`` (aws/amazon-ssm-agent,
    agent/ssm/anonauth/anon_service.go, NewAnonymousService; a maintainer in aws/amazon-ssm-agent#223: "you
    pass in a region which will determine the endpoint the agent will call to register"). The lab is one URL
    for every region, so: a signed call's credential scope; else the lab-only ``X-Lab-Region`` header, which
    the stand-in agents put on their unsigned calls (lab/PROTOCOL.md step 1); else what moto reads (a
    regional host name such as ssm.eu-west-1.amazonaws.com, or us-east-1).
    """
    headers = response.headers
    return core.caller_region(headers) or headers.get(core.UNSIGNED_REGION_HEADER) or response.region


def _register(region, activation_id, activation_code, fingerprint, public_key):
    """Register a managed instance (the agent's unsigned call) with an activation of ``region``, in any
    account: activations are regional, and an unsigned call names no account."""
    with LOCK:
        return _register_locked(region, activation_id, activation_code, fingerprint, public_key)


def _register_locked(region, activation_id, activation_code, fingerprint, public_key):
    for backend in _all_backends():
        activation = _state(backend).activations.get(activation_id) if backend.region_name == region else None
        if activation is not None:
            break
    else:
        # Also for an activation of another region: AWS does not look there (InvalidActivation).
        raise InvalidActivation("Activation not found")
    if not secrets.compare_digest(activation.activation_code, activation_code):
        raise InvalidActivation("Activation ID or code is not valid")
    if activation.expired:
        raise InvalidActivation("Activation expired")
    if activation.registrations_count >= activation.registration_limit:
        raise InvalidActivation("Registration limit reached")
    state = _state(backend)
    state.sequence += 1
    instance = ManagedInstance(activation, fingerprint, public_key, state.sequence)
    state.instances[instance.instance_id] = instance
    state.by_fingerprint[fingerprint] = instance.instance_id
    activation.registrations_count += 1
    backend._resource_tags["ManagedInstance"][instance.instance_id] = dict(activation.tags)
    return instance


def _instance_by_fingerprint(fingerprint):
    """(backend, instance) of the newest registration with this key fingerprint, or None."""
    latest = None
    for backend in _all_backends():
        state = _state(backend)
        instance = state.instances.get(state.by_fingerprint.get(fingerprint))
        if instance and (latest is None or instance.registration_date > latest[1].registration_date):
            latest = (backend, instance)
    return latest


def _role_credentials(backend, instance):
    from moto.sts.models import sts_backends

    ttl = int(core.setting("role_credentials_ttl"))
    role_arn = f"arn:aws:iam::{backend.account_id}:role/{instance.iam_role}"
    role = sts_backends[backend.account_id]["global"].assume_role(
        region_name=backend.region_name, role_session_name=instance.instance_id, role_arn=role_arn,
        policy="", duration=ttl, external_id="")
    core.remember_access_key(role.access_key_id, instance.instance_id)
    core.remember_session_expiry(role.access_key_id, core.now() + datetime.timedelta(seconds=ttl))
    return {
        "AccessKeyId": role.access_key_id,
        "SecretAccessKey": role.secret_access_key,
        "SessionToken": role.session_token,
        "TokenExpirationDate": int((core.now() + datetime.timedelta(seconds=ttl)).timestamp()),
        "UpdateKeyPair": False,
    }


# --- response methods ---------------------------------------------------------------------------

def _params(response, operation, required=()):
    """The JSON body, checked against the model (for modeled operations) and ``required``."""
    try:
        params = json.loads(response.body or "{}")
    except ValueError:
        raise ValidationException("Request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise ValidationException("Request body must be a JSON object")
    missing = [name for name in required if params.get(name) in (None, "")]
    if missing:
        problems = [f"Value null at '{core._lower_first(name)}' failed to satisfy constraint: Member must not be null"
                    for name in missing]
        raise ValidationException(core.validation_message(problems))
    if operation:
        problems = core.model_violations("ssm", operation, params)
        if problems:
            raise ValidationException(core.validation_message(problems))
    return params


def _timestamp(value, name):
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationException(f"{name} is not a valid timestamp") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    raise ValidationException(f"{name} is not a valid timestamp")


def _tags(tag_list):
    return {tag["Key"]: tag["Value"] for tag in tag_list or []}


def _raw(payload):
    """Answer of an operation that botocore's public model lacks (the agent's private API)."""
    return json.dumps(payload), {"status": 200, "Content-Type": "application/x-amz-json-1.1"}


def _page(items, max_results, next_token, default=DEFAULT_PAGE_SIZE):
    """One page of ``items`` (sorted by .sequence or creation) and the token for the next one."""
    start = 0
    if next_token:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidNextToken("The specified token isn't valid") from None
        if start < 0 or start > len(items):
            raise InvalidNextToken("The specified token isn't valid")
    size = max_results or default
    page = items[start:start + size]
    token = None
    if start + size < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
    return page, token


def r_create_activation(self):
    params = _params(self, "CreateActivation", required=("IamRole",))
    activation = self.ssm_backend.create_activation(
        iam_role=params["IamRole"],
        registration_limit=params.get("RegistrationLimit", 1),
        expiration_date=_timestamp(params.get("ExpirationDate"), "ExpirationDate"),
        description=params.get("Description"),
        default_instance_name=params.get("DefaultInstanceName"),
        tags=_tags(params.get("Tags")),
    )
    return ActionResult({"ActivationId": activation.activation_id, "ActivationCode": activation.activation_code})


def r_describe_activations(self):
    params = _params(self, "DescribeActivations")
    filters = params.get("Filters") or []
    for activation_filter in filters:
        if activation_filter.get("FilterKey") is None:
            raise InvalidFilter("FilterKey is required")
    activations = self.ssm_backend.describe_activations(filters)
    activations.sort(key=lambda a: (a.created_date, a.activation_id))
    page, token = _page(activations, params.get("MaxResults"), params.get("NextToken"))
    result = {"ActivationList": [a.describe() for a in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def r_delete_activation(self):
    params = _params(self, "DeleteActivation", required=("ActivationId",))
    self.ssm_backend.delete_activation(params["ActivationId"])
    return EmptyResult()


def r_register_managed_instance(self):
    params = _params(self, None, required=("ActivationCode", "ActivationId", "PublicKey", "Fingerprint"))
    if params.get("PublicKeyType", "Rsa") != "Rsa":
        raise ValidationException("PublicKeyType must be Rsa")
    instance = _register(request_region(self), params["ActivationId"], params["ActivationCode"],
                         params["Fingerprint"], params["PublicKey"])
    return _raw({"InstanceId": instance.instance_id})


def r_request_managed_instance_role_token(self):
    params = _params(self, None, required=("Fingerprint",))
    found = _instance_by_fingerprint(params["Fingerprint"])
    if found is None:
        raise InvalidInstanceId("No managed instance is registered with this fingerprint")
    return _raw(_role_credentials(*found))


def r_update_instance_information(self):
    params = _params(self, None, required=("InstanceId",))
    instance_id = params["InstanceId"]
    instance = find_managed_instance(instance_id)
    if instance is None:
        raise InvalidInstanceId(f"Instance {instance_id} is not a registered managed instance")
    caller = core.instance_for_access_key(core.caller_access_key(self.headers))
    if caller is not None and caller != instance_id:
        # Role credentials of one instance cannot report for another.
        raise InvalidInstanceId(f"The caller is {caller}, not {instance_id}")
    instance.last_ping = core.now()
    for field in ("AgentName", "AgentVersion", "AgentStatus", "PlatformType", "PlatformName", "PlatformVersion",
                  "IPAddress", "ComputerName"):
        if params.get(field) is not None:
            instance.agent[field] = params[field]
    return _raw({})


def r_describe_instance_information(self):
    params = _params(self, "DescribeInstanceInformation")
    backend = self.ssm_backend
    predicates = _instance_predicates(backend, params.get("InstanceInformationFilterList") or [],
                                      params.get("Filters") or [])
    instances = sorted(_state(backend).instances.values(), key=lambda i: i.sequence)
    matches = [i for i in instances if all(p(i) for p in predicates)]
    page, token = _page(matches, params.get("MaxResults"), params.get("NextToken"))
    result = {"InstanceInformationList": [_describe_instance(i) for i in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _describe_instance(instance):
    described = {
        "InstanceId": instance.instance_id,
        "PingStatus": ping_status(instance),
        "IsLatestVersion": False,
        "ActivationId": instance.activation_id,
        "IamRole": instance.iam_role,
        "RegistrationDate": instance.registration_date,
        "ResourceType": "ManagedInstance",
        "SourceId": instance.instance_id,
        "SourceType": "AWS::SSM::ManagedInstance",
    }
    if instance.last_ping is not None:
        described["LastPingDateTime"] = instance.last_ping
    if instance.name is not None:
        described["Name"] = instance.name
    for field in ("AgentVersion", "PlatformType", "PlatformName", "PlatformVersion", "IPAddress", "ComputerName"):
        if field in instance.agent:
            described[field] = instance.agent[field]
    return described


def _instance_field(backend, instance, key):
    """The instance's values for a filter key (a set, so list-valued keys match any)."""
    if key == "InstanceIds":
        return {instance.instance_id}
    if key == "AgentVersion":
        return {instance.agent.get("AgentVersion")}
    if key == "PingStatus":
        return {ping_status(instance)}
    if key == "PlatformTypes":
        return {instance.agent.get("PlatformType")}
    if key == "ActivationIds":
        return {instance.activation_id}
    if key == "IamRole":
        return {instance.iam_role}
    if key == "ResourceType":
        return {"ManagedInstance"}
    if key == "AssociationStatus":
        return set()  # the lab runs no State Manager associations
    tags = backend._resource_tags.get("ManagedInstance", {}).get(instance.instance_id, {})
    if key == "tag-key":
        return set(tags)
    return {tags[key[4:]]} if key[4:] in tags else set()


def _check_filter_values(key, values):
    allowed = {"PingStatus": PING_STATUSES, "PlatformTypes": PLATFORM_TYPES, "ResourceType": RESOURCE_TYPES}.get(key)
    for value in values:
        if allowed and value not in allowed:
            raise InvalidInstanceInformationFilterValue(
                f"{value} is not a valid value for filter {key}; valid values: {', '.join(allowed)}")
        if key == "InstanceIds" and not (value.startswith(("mi-", "i-"))):
            raise InvalidInstanceId(f"Invalid instance id {value}")


def _instance_predicates(backend, legacy_filters, filters):
    predicates = []
    pairs = [(f["key"], f["valueSet"]) for f in legacy_filters] + [(f["Key"], f["Values"]) for f in filters]
    for key, values in pairs:
        if key not in INSTANCE_FILTER_KEYS and key != "tag-key" and not (key.startswith("tag:") and len(key) > 4):
            raise InvalidFilterKey(f"The filter key {key} isn't valid")
        _check_filter_values(key, values)
        wanted = set(values)
        predicates.append(lambda i, key=key, wanted=wanted: bool(_instance_field(backend, i, key) & wanted))
    return predicates


def r_deregister_managed_instance(self):
    params = _params(self, "DeregisterManagedInstance", required=("InstanceId",))
    instance_id = params["InstanceId"]
    backend = _backend_of_instance(instance_id)
    if backend is None or backend is not self.ssm_backend:
        raise InvalidInstanceId(f"Instance {instance_id} is not a registered managed instance")
    with LOCK:
        backend.deregister_managed_instance(instance_id)
    return EmptyResult()


# --- ManagedInstance tagging (moto's tag store, our existence check and limit) ------------------

_original_validate = SimpleSystemManagerBackend._validate_resource_type_and_id
_original_add_tags = SimpleSystemManagerBackend.add_tags_to_resource


def _validate_resource_type_and_id(self, resource_type, resource_id):
    if resource_type == "ManagedInstance":
        if resource_id not in _state(self).instances:
            raise InvalidResourceId()
        return resource_id
    return _original_validate(self, resource_type, resource_id)


def add_tags_to_resource(self, resource_type, resource_id, tags):
    if resource_type == "ManagedInstance":
        resource_id = self._validate_resource_type_and_id(resource_type, resource_id)
        existing = self._resource_tags[resource_type][resource_id]
        if len(set(existing) | set(tags)) > MAX_TAGS_PER_RESOURCE:
            raise TooManyTagsError(f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags")
    return _original_add_tags(self, resource_type, resource_id, tags)


# --- installation -------------------------------------------------------------------------------

BACKEND_METHODS = {
    "create_activation": create_activation,
    "describe_activations": describe_activations,
    "delete_activation": delete_activation,
    "deregister_managed_instance": deregister_managed_instance,
    "_validate_resource_type_and_id": _validate_resource_type_and_id,
    "add_tags_to_resource": add_tags_to_resource,
}
RESPONSE_METHODS = {
    "create_activation": r_create_activation,
    "describe_activations": r_describe_activations,
    "delete_activation": r_delete_activation,
    "register_managed_instance": r_register_managed_instance,
    "request_managed_instance_role_token": r_request_managed_instance_role_token,
    "update_instance_information": r_update_instance_information,
    "describe_instance_information": r_describe_instance_information,
    "deregister_managed_instance": r_deregister_managed_instance,
}


# --- lab-only control call -----------------------------------------------------------------------

@core.lab_route("/_lab/ssm/activation-codes", methods=("GET",))
def activation_codes(request):
    """Every activation code handed out since the last reset, deleted activations' included. AWS returns a
    code only in the CreateActivation answer, so secrecy tests of code that creates its own activations
    (the agent role) learn the codes to search logs and files for here."""
    return 200, {"codes": [code for backend in _all_backends() for code in _state(backend).issued_codes]}


def install():
    """Add the operations to moto's SSM classes and route unsigned AmazonSSM calls to SSM."""
    for name, function in BACKEND_METHODS.items():
        setattr(SimpleSystemManagerBackend, name, function)
    for name, function in RESPONSE_METHODS.items():
        setattr(SimpleSystemManagerResponse, name, function)
    # The agent's registration is unsigned; without this moto would route it to S3.
    werkzeug_app.UNSIGNED_REQUESTS.setdefault("AmazonSSM", ("ssm", "us-east-1"))
