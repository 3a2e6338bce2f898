"""Shared state and helpers of the lab AWS endpoint (moto plus add-ons).

Everything here is process-wide and thread-safe; the server, the control API and the service add-ons
(``lab.aws.ssm``, ``lab.aws.ecs``) all use it. It imports no other module of ``lab.aws``: the add-ons
depend on it, never the other way round, and the server installs them (``lab.aws.server.install``).

Interface (other parts of the lab rely on these names):

- ``now()``: timezone-aware UTC datetime, shifted by the lab clock offset. Add-ons use it for every
  expiry and heartbeat decision so tests can move time without waiting.
- ``clock_offset()`` / ``set_clock_offset(seconds)``.
- ``setting(name)``, ``settings()``, ``update_settings(dict)``: lab settings; ``connection_lost_after``
  (seconds of silence before SSM ConnectionLost / ECS agentConnected false, default 60) and
  ``role_credentials_ttl`` (lifetime of managed-instance role credentials, default 3600) and
  ``service_scheduler_interval`` (seconds between the ECS service scheduler's passes, default 1; 0 pauses it),
  ``service_healthy_after`` (seconds a service task without container health checks must be RUNNING before
  it counts as healthy, default 40 as AWS documents), ``stopped_task_retention`` (seconds ECS still shows a
  STOPPED task, default 3600: "stopped tasks appear in the returned results for at least one hour").
- ``caller_access_key(headers)``: the access key id from a SigV4 ``Authorization`` header (or None).
  ``caller_region(headers)`` and ``caller_service(headers)`` read the same credential scope;
  ``UNSIGNED_REGION_HEADER`` names the region of an unsigned agent call.
- ``remember_access_key(akid, instance_id)``, ``forget_instance(instance_id)``,
  ``instance_for_access_key(akid)``: which ``mi-`` managed instance owns a set of role credentials.
- ``remember_session_expiry(akid, expires_at)``, ``session_expiry(akid)``: when session credentials the lab
  hands out expire (lab time), for the endpoint's ExpiredTokenException (``lab.aws.auth``).
- ``on_reset(fn)``: register a hook run by ``reset()`` (and so by ``POST /_lab/reset``) after moto's own
  reset. ``reset()`` clears moto, the add-ons' state, faults, counters, clock and settings.
- ``lab_route(path, methods)``: register a handler for a ``/_lab/...`` path. The handler gets a werkzeug
  ``Request`` and returns ``(status, json_payload)``; it raises ``LabError`` for bad input.
  ``json_body(request)`` parses a JSON object body or raises ``LabError``.
- Faults and counters, applied by the server to every AWS request (ECS, SSM, Logs, anything moto serves):
  ``set_faults(config)``, ``faults()``, ``counters()``, ``reset_counters()``, and
  ``before_request(environ)`` which the server calls. The operation name is the ``X-Amz-Target`` suffix
  or the query ``Action``. See ``set_faults`` for the configuration format.
- ``error_response(environ, service, status, code, message)``: an AWS error answer in the request's protocol
  (JSON ``__type`` or query XML), as ``(status, headers, body)``.
- ``model_violations(service, operation, params)``: the constraint checks AWS does on input and botocore
  does not (max, max length, enum), phrased as AWS phrases them in a ValidationException.
"""
import datetime
import io
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qs

import botocore.session

DEFAULT_SETTINGS = {"connection_lost_after": 60.0, "role_credentials_ttl": 3600.0, "service_scheduler_interval": 1.0,
                    "service_healthy_after": 40.0, "stopped_task_retention": 3600.0}
# A setting's value must lie in this range (seconds).
SETTING_RANGES = {"connection_lost_after": (1.0, 86400.0), "role_credentials_ttl": (60.0, 43200.0),
                  "service_scheduler_interval": (0.0, 3600.0), "service_healthy_after": (0.0, 3600.0),
                  "stopped_task_retention": (0.0, 86400.0)}

# Lab-only header in which the stand-in agents name the region of their unsigned calls: AWS knows it from
# the regional endpoint called, and the lab is one URL for every region (lab.aws.ssm.request_region).
UNSIGNED_REGION_HEADER = "X-Lab-Region"

# X-Amz-Target prefixes of the services the lab is used with, for unsigned requests and counters.
TARGET_SERVICES = {
    "AmazonSSM": "ssm",
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "Logs_20140328": "logs",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
}

_lock = threading.RLock()
# Injected latency sleeps through this name, so tests can observe it without timing anything.
_sleep = time.sleep
_reset_hooks = []
_routes = {}


class LabError(Exception):
    """Bad input to a lab control call: answered as HTTP ``status`` with ``{"error": message}``."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class _State:
    def __init__(self):
        self.clock_offset = 0.0
        self.settings = dict(DEFAULT_SETTINGS)
        self.access_keys = {}
        self.session_expiry = {}
        self.fault_rules = {}
        self.fault_seed = None
        self.rng = random.Random()
        self.calls = Counter()
        self.calls_by_service = defaultdict(Counter)
        self.injected = defaultdict(Counter)


_state = _State()


# --- clock and settings -------------------------------------------------------------------------

def now():
    """Current UTC time as the lab sees it (real time plus the clock offset)."""
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=_state.clock_offset)


def clock_offset():
    return _state.clock_offset


def set_clock_offset(seconds):
    seconds = _number("offset", seconds)
    with _lock:
        _state.clock_offset = seconds
    return seconds


def setting(name):
    return _state.settings[name]


def settings():
    with _lock:
        return dict(_state.settings)


def set_default_settings(values):
    """The settings a reset returns to (`python -m lab aws --setting NAME=VALUE`), validated like updates."""
    checked = update_settings(values)
    DEFAULT_SETTINGS.update((name, checked[name]) for name in values)


def update_settings(values):
    """Validate all values first so that bad input changes nothing."""
    if not isinstance(values, dict):
        raise LabError("settings must be a JSON object")
    checked = {}
    for name, value in values.items():
        if name not in DEFAULT_SETTINGS:
            raise LabError(f"unknown setting {name!r}; known: {', '.join(sorted(DEFAULT_SETTINGS))}")
        value = _number(name, value)
        low, high = SETTING_RANGES[name]
        if not low <= value <= high:
            raise LabError(f"setting {name!r} must be between {low:g} and {high:g}")
        checked[name] = value
    with _lock:
        _state.settings.update(checked)
        return dict(_state.settings)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LabError(f"{name!r} must be a number")
    return float(value)


# --- caller identity ----------------------------------------------------------------------------

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")


def _credential_scope(headers):
    if headers is None:
        return None
    auth = headers.get("Authorization") or headers.get("authorization") or headers.get("HTTP_AUTHORIZATION")
    if not auth:
        return None
    match = _CREDENTIAL.search(auth)
    return match.groups() if match else None


def caller_access_key(headers):
    """Access key id of a SigV4-signed request (``headers`` is any mapping, or a WSGI environ)."""
    scope = _credential_scope(headers)
    return scope[0] if scope else None


def caller_region(headers):
    scope = _credential_scope(headers)
    return scope[1] if scope else None


def caller_service(headers):
    scope = _credential_scope(headers)
    return scope[2] if scope else None


def remember_access_key(access_key_id, instance_id):
    with _lock:
        _state.access_keys[access_key_id] = instance_id


def forget_instance(instance_id):
    """Drop every credential of a deregistered instance, so its calls are no longer attributed to it."""
    with _lock:
        for key in [k for k, v in _state.access_keys.items() if v == instance_id]:
            del _state.access_keys[key]


def remember_session_expiry(access_key_id, expires_at):
    """When session credentials the lab handed out (SSM role tokens, task execution role) expire, lab time."""
    with _lock:
        _state.session_expiry[access_key_id] = expires_at


def session_expiry(access_key_id):
    """The lab-time expiry of session credentials the lab handed out, or None for any other key."""
    with _lock:
        return _state.session_expiry.get(access_key_id)


def instance_for_access_key(access_key_id):
    """The ``mi-`` id whose role credentials use this access key id, or None."""
    if not access_key_id:
        return None
    with _lock:
        return _state.access_keys.get(access_key_id)


# --- reset --------------------------------------------------------------------------------------

def on_reset(fn):
    """Register ``fn()`` to run on every lab reset (usable as a decorator). Idempotent per function."""
    with _lock:
        if fn not in _reset_hooks:
            _reset_hooks.append(fn)
    return fn


def reset():
    from moto.moto_api._internal.models import moto_api_backend

    with _lock:
        moto_api_backend.reset()
        _state.__init__()
        for hook in list(_reset_hooks):
            hook()


# --- control routes -----------------------------------------------------------------------------

def lab_route(path, methods=("POST",)):
    """Register ``handler(request) -> (status, payload)`` for ``path`` (must start with ``/_lab/``)."""
    if not path.startswith("/_lab/"):
        raise ValueError(f"lab routes live under /_lab/, not {path}")

    def register(handler):
        for method in methods:
            _routes[(method.upper(), path.rstrip("/"))] = handler
        return handler

    return register


def find_route(method, path):
    """The handler for a request, or raise LabError 404/405."""
    path = path.rstrip("/")
    handler = _routes.get((method.upper(), path))
    if handler:
        return handler
    if any(p == path for _, p in _routes):
        raise LabError(f"method {method} not allowed on {path}", status=405)
    raise LabError(f"no lab route {path}", status=404)


def json_body(request):
    """The request's JSON object body ({} when empty)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise LabError(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise LabError("body must be a JSON object")
    return body


# --- faults and counters ------------------------------------------------------------------------

FAULT_KEYS = {"throttle_rate", "error_rate", "latency", "error_code", "error_status"}


def set_faults(config):
    """Replace the fault configuration.

    ``config`` is ``{"seed": int|null, "operations": {KEY: RULE}}``. KEY is an operation name
    (``RunTask``), ``service:Operation`` (``ssm:ListTagsForResource``) or ``*`` (every AWS call); the most
    specific key wins. RULE holds ``throttle_rate`` (0-1: answer ThrottlingException, HTTP 400),
    ``error_rate`` (0-1: answer a server error, HTTP ``error_status``, default 500, code ``error_code``,
    default the service's own: ServerException for ECS, InternalServerError for SSM, else InternalFailure)
    and ``latency`` (seconds added before answering). The throttle draw comes first, then the error draw,
    from one ``random.Random(seed)`` so a seeded run injects the same faults in the same call order.
    """
    if not isinstance(config, dict):
        raise LabError("faults must be a JSON object")
    unknown = set(config) - {"seed", "operations"}
    if unknown:
        raise LabError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    seed = config.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise LabError("'seed' must be an integer or null")
    operations = config.get("operations", {})
    if not isinstance(operations, dict):
        raise LabError("'operations' must be an object of operation name -> rule")
    rules = {}
    for key, rule in operations.items():
        rules[key] = _checked_rule(key, rule)
    with _lock:
        _state.fault_rules = rules
        _state.fault_seed = seed
        _state.rng = random.Random(seed)
    return faults()


def _checked_rule(key, rule):
    if not isinstance(rule, dict):
        raise LabError(f"fault rule for {key!r} must be an object")
    unknown = set(rule) - FAULT_KEYS
    if unknown:
        raise LabError(f"fault rule for {key!r}: unknown field(s) {', '.join(sorted(unknown))}")
    checked = {}
    for name in ("throttle_rate", "error_rate"):
        value = _number(f"{key}.{name}", rule.get(name, 0.0))
        if not 0.0 <= value <= 1.0:
            raise LabError(f"fault rule for {key!r}: {name} must be between 0 and 1")
        checked[name] = value
    latency = _number(f"{key}.latency", rule.get("latency", 0.0))
    if not 0.0 <= latency <= 60.0:
        raise LabError(f"fault rule for {key!r}: latency must be between 0 and 60 seconds")
    checked["latency"] = latency
    status = rule.get("error_status", 500)
    if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
        raise LabError(f"fault rule for {key!r}: error_status must be an integer 500-599")
    checked["error_status"] = status
    code = rule.get("error_code")
    if code is not None and (not isinstance(code, str) or not code):
        raise LabError(f"fault rule for {key!r}: error_code must be a non-empty string")
    checked["error_code"] = code
    return checked


def faults():
    with _lock:
        return {"seed": _state.fault_seed, "operations": {k: dict(v) for k, v in _state.fault_rules.items()}}


def counters():
    """``{"calls": {op: n}, "by_service": {service: {op: n}}, "injected": {op: {"throttle": n, "error": n}}}``."""
    with _lock:
        return {
            "calls": dict(_state.calls),
            "by_service": {s: dict(c) for s, c in _state.calls_by_service.items()},
            "injected": {op: dict(c) for op, c in _state.injected.items()},
        }


def reset_counters():
    with _lock:
        _state.calls.clear()
        _state.calls_by_service.clear()
        _state.injected.clear()


def request_body(environ):
    """The request's body, read once and put back for moto (and the next reader)."""
    body = environ.get("lab.body")
    if body is None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["lab.body"] = body
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def request_operation(environ):
    """(service, operation) of an AWS request from its WSGI environ; either may be None.

    Reads the form body of query-protocol requests and puts it back for moto.
    """
    target = environ.get("HTTP_X_AMZ_TARGET")
    service = caller_service(environ)
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        return service or TARGET_SERVICES.get(prefix), operation
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return service, query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(request_body(environ).decode("utf-8", "replace")).get("Action")
        if action:
            return service, action[0]
    return service, None


def before_request(environ):
    """Count an AWS request and decide its fault.

    Returns None to let moto answer, or ``(status, headers, body)`` of an injected error. Added latency is
    slept here, before either.
    """
    service, operation = request_operation(environ)
    if operation is None:
        return None
    with _lock:
        _state.calls[operation] += 1
        _state.calls_by_service[service or "unknown"][operation] += 1
        rule = (_state.fault_rules.get(f"{service}:{operation}") or _state.fault_rules.get(operation)
                or _state.fault_rules.get("*"))
        if not rule:
            return None
        throttled = rule["throttle_rate"] > 0 and _state.rng.random() < rule["throttle_rate"]
        failed = not throttled and rule["error_rate"] > 0 and _state.rng.random() < rule["error_rate"]
        if throttled:
            _state.injected[operation]["throttle"] += 1
        elif failed:
            _state.injected[operation]["error"] += 1
    if rule["latency"]:
        _sleep(rule["latency"])
    if throttled:
        return error_response(environ, service, 400, _throttle_code(environ, service), "Rate exceeded")
    if failed:
        code = rule["error_code"] or _server_error_code(environ, service)
        return error_response(environ, service, rule["error_status"], code, "Injected by the lab")
    return None


def is_json_protocol(environ):
    """JSON 1.0/1.1 services (ECS, SSM, Logs, ECR) name the operation in X-Amz-Target; query ones (IAM, STS) do not."""
    return bool(environ.get("HTTP_X_AMZ_TARGET"))


def _throttle_code(environ, service):
    if is_json_protocol(environ):
        return "ThrottlingException"
    return "RequestLimitExceeded" if service == "ec2" else "Throttling"


def _server_error_code(environ, service):
    if service == "ecs":
        return "ServerException"
    if service == "ssm":
        return "InternalServerError"
    if service == "ec2":
        return "InternalError"
    return "InternalFailure"


def error_response(environ, service, status, code, message):
    """An AWS error answer ``(status, headers, body)`` in the request's protocol: JSON (``X-Amz-Target``),
    EC2's XML or the query protocol's ``ErrorResponse``."""
    request_id = f"{random.getrandbits(128):032x}"
    request_id = f"{request_id[:8]}-{request_id[8:12]}-{request_id[12:16]}-{request_id[16:20]}-{request_id[20:]}"
    if is_json_protocol(environ):
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code,
                   "x-amzn-RequestId": request_id}
    elif service == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        headers = {"Content-Type": "text/xml"}
    else:
        kind = "Receiver" if status >= 500 else "Sender"
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    return status, headers, body


# --- input constraints --------------------------------------------------------------------------

def model_violations(service, operation, params):
    """Messages for input that breaks the botocore model's max/maxLength/enum constraints.

    botocore's client checks required members, types and minimums but not these; AWS rejects them
    with a ValidationException worded like ``Value '51' at 'maxResults' failed to satisfy constraint:
    Member must have value less than or equal to 50``.
    """
    model = _service_model(service).operation_model(operation).input_shape
    problems = []
    if model is not None:
        _check_shape(model, params, "", problems)
    return problems


_models = {}


def _service_model(service):
    if service not in _models:
        _models[service] = botocore.session.get_session().get_service_model(service)
    return _models[service]


def _check_shape(shape, value, path, problems):
    meta = shape.metadata
    where = path or "input"
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                member_path = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                _check_shape(member, value[name], member_path, problems)
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have "
                            f"length less than or equal to {meta['max']}")
        for index, item in enumerate(value):
            _check_shape(shape.member, item, f"{path}.{index + 1}.member", problems)
    elif shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have "
                            f"length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy "
                            f"enum value set: [{', '.join(shape.enum)}]")
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "max" in meta and value > meta["max"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have "
                            f"value less than or equal to {meta['max']}")
        if "min" in meta and value < meta["min"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have "
                            f"value greater than or equal to {meta['min']}")


def _lower_first(name):
    return name[:1].lower() + name[1:]


def validation_message(problems):
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(problems)
