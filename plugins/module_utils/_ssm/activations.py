# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM hybrid activations: API calls, request building and validation, selection, ensure_*.

Clients are RetryingClient instances. The activation code exists only in CreateActivation's answer;
it is returned to the caller once and kept out of every normalized dict and diff.
"""

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ..errors import AnsibleECSAnywhereError
from ..errors import SSMErrorHandler
from ..iterators import SSM_PAGE_SIZE
from ..iterators import paginate

# CreateActivation limits (botocore's SSM model and the API reference).
MAX_EXPIRATION = datetime.timedelta(days=30)
MAX_REGISTRATION_LIMIT = 1000
MAX_DESCRIPTION = 256
MAX_INSTANCE_NAME = 256
MAX_ROLE_NAME = 64
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256
_INSTANCE_NAME = re.compile(r"^[\w\s.:/=+\-@]*$")
_DURATION = re.compile(r"^(?:\s*\d+\s*[smhdw])+\s*$")
_DURATION_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# DescribeActivations filter keys for the module options that the API can filter on.
SERVER_FILTERS = {"activation_ids": "ActivationIds", "default_instance_name": "DefaultInstanceName", "iam_role": "IamRole"}


class ActivationErrorHandler(SSMErrorHandler):
    """DeleteActivation answers InvalidActivation for an activation that is already gone."""

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidActivation", "InvalidActivationId"])


def _invalid(message):
    return AnsibleECSAnywhereError(message=message)


# --- layer 1: API calls ----------------------------------------------------------------------------

@SSMErrorHandler.common_error_handler("create activation")
def create_activation(client, request):
    """(activation_id, activation_code) of a new activation."""
    answer = client.create_activation(**request)
    return answer["ActivationId"], answer["ActivationCode"]


@SSMErrorHandler.list_error_handler("describe activations", default_value=[])
def describe_activations(client, filters=None):
    """Every ActivationList entry matching the DescribeActivations filters, 50 per page."""
    return list(paginate(client.describe_activations, "ActivationList", token_key="NextToken", Filters=list(filters or []), MaxResults=SSM_PAGE_SIZE))


@ActivationErrorHandler.deletion_error_handler("delete activation")
def delete_activation(client, activation_id):
    client.delete_activation(ActivationId=activation_id)
    return True


# --- layer 2: pure request building, normalizing and selection -----------------------------------

def parse_expiration(value, now):
    """The aware UTC datetime value names: a duration from now (1h, 90m, 1d12h; units s m h d w) or
    an ISO 8601 timestamp (UTC unless it carries an offset). At most 30 days ahead, as AWS allows."""
    text = str(value).strip()
    if _DURATION.match(text):
        expires = now + datetime.timedelta(seconds=sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text)))
    else:
        try:
            expires = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _invalid("expiration must be a duration such as 1h, 90m or 7d, or an ISO 8601 timestamp, got {0!r}".format(value)) from None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        expires = expires.astimezone(datetime.timezone.utc)
    if expires <= now:
        raise _invalid("expiration must be in the future, got {0!r} ({1})".format(value, expires.isoformat()))
    if expires - now > MAX_EXPIRATION:
        raise _invalid("expiration must be at most 30 days from now, got {0!r} ({1})".format(value, expires.isoformat()))
    return expires


def role_name(iam_role):
    """The role name CreateActivation and IAM take, from a role name or ARN."""
    if iam_role and iam_role.startswith("arn:"):
        return iam_role.rsplit("/", 1)[-1]
    return iam_role


def _check_tags(tags):
    for key, value in (tags or {}).items():
        if not key or len(key) > MAX_TAG_KEY:
            raise _invalid("tags: key {0!r} must have 1 to {1} characters".format(key, MAX_TAG_KEY))
        if value is None or len(str(value)) > MAX_TAG_VALUE:
            raise _invalid("tags: value of {0!r} must be a string of at most {1} characters".format(key, MAX_TAG_VALUE))


def activation_request(params, now):
    """The CreateActivation request for the module's options; errors name the option."""
    iam_role = role_name(params.get("iam_role"))
    if not iam_role or len(iam_role) > MAX_ROLE_NAME:
        raise _invalid("iam_role must name an IAM role (at most {0} characters)".format(MAX_ROLE_NAME))
    limit = params.get("registration_limit")
    limit = 1 if limit is None else limit
    if not 1 <= limit <= MAX_REGISTRATION_LIMIT:
        raise _invalid("registration_limit must be between 1 and {0}, got {1}".format(MAX_REGISTRATION_LIMIT, limit))
    request = {"IamRole": iam_role, "RegistrationLimit": limit}
    if params.get("expiration") is not None:
        request["ExpirationDate"] = parse_expiration(params["expiration"], now)
    description = params.get("description")
    if description is not None:
        if len(description) > MAX_DESCRIPTION:
            raise _invalid("description must have at most {0} characters".format(MAX_DESCRIPTION))
        request["Description"] = description
    name = params.get("default_instance_name")
    if name is not None:
        if len(name) > MAX_INSTANCE_NAME or not _INSTANCE_NAME.match(name):
            raise _invalid("default_instance_name must have at most {0} letters, digits, spaces or _.:/=+-@".format(MAX_INSTANCE_NAME))
        request["DefaultInstanceName"] = name
    _check_tags(params.get("tags"))
    if params.get("tags"):
        request["Tags"] = [{"Key": key, "Value": str(value)} for key, value in sorted(params["tags"].items())]
    return request


def _timestamp(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def normalize_activation(described):
    """A DescribeActivations entry as the module returns it (snake_case, tags as a dict, ISO times)."""
    return {
        "activation_id": described["ActivationId"],
        "description": described.get("Description"),
        "default_instance_name": described.get("DefaultInstanceName"),
        "iam_role": described.get("IamRole"),
        "registration_limit": described.get("RegistrationLimit"),
        "registrations_count": described.get("RegistrationsCount", 0),
        "expiration_date": _timestamp(described.get("ExpirationDate")),
        "expired": bool(described.get("Expired")),
        "created_date": _timestamp(described.get("CreatedDate")),
        "tags": {tag["Key"]: tag["Value"] for tag in described.get("Tags") or []},
    }


def activation_from_request(request, now):
    """The activation a request would create (check mode), normalized; AWS defaults to 24 hours."""
    return normalize_activation({
        "ActivationId": None,
        "Description": request.get("Description"),
        "DefaultInstanceName": request.get("DefaultInstanceName"),
        "IamRole": request["IamRole"],
        "RegistrationLimit": request["RegistrationLimit"],
        "ExpirationDate": request.get("ExpirationDate") or now + datetime.timedelta(hours=24),
        "CreatedDate": now,
        "Tags": request.get("Tags"),
    })


def server_filters(params):
    """DescribeActivations filters for the options the API filters on (ids, name, role)."""
    filters = []
    for option, key in SERVER_FILTERS.items():
        value = params.get(option)
        if value:
            values = value if isinstance(value, list) else [role_name(value) if option == "iam_role" else value]
            filters.append({"FilterKey": key, "FilterValues": values})
    return filters


def select_activations(activations, tags=None, expired=None):
    """The normalized activations carrying every tag in tags and, unless expired is None, whose
    Expired flag equals expired. Sorted by creation, then id, for stable results."""
    wanted = {key: str(value) for key, value in (tags or {}).items()}
    chosen = [
        a for a in activations
        if all(a["tags"].get(key) == value for key, value in wanted.items()) and (expired is None or a["expired"] is expired)
    ]
    return sorted(chosen, key=lambda a: (a["created_date"] or "", a["activation_id"] or ""))


# --- service: what the modules call ----------------------------------------------------------------

def find_activations(client, params):
    """Normalized activations matching the selectors in params (activation_ids, default_instance_name,
    iam_role, tags, expired)."""
    _check_tags(params.get("tags"))
    described = describe_activations(client, server_filters(params))
    return select_activations([normalize_activation(a) for a in described], params.get("tags"), params.get("expired"))


def ensure_present(client, params, check_mode, now=None, validate=None):
    """Create an activation. Each run creates a new one: AWS returns the code only at creation, so an
    existing activation can never be handed out again. validate(role_name) checks the role first."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    request = activation_request(params, now)
    if validate:
        validate(request["IamRole"])
    if check_mode:
        activation = activation_from_request(request, now)
        return {"changed": True, "activation_id": None, "activation_code": None, "activation": activation,
                "diff": {"before": {}, "after": activation}}
    activation_id, activation_code = create_activation(client, request)
    found = describe_activations(client, [{"FilterKey": "ActivationIds", "FilterValues": [activation_id]}])
    activation = normalize_activation(found[0]) if found else dict(activation_from_request(request, now), activation_id=activation_id)
    return {"changed": True, "activation_id": activation_id, "activation_code": activation_code, "activation": activation,
            "diff": {"before": {}, "after": activation}}


def ensure_absent(client, params, check_mode):
    """Delete the activation activation_id, or every activation the selectors match. expired=false
    alone would sweep every live activation of the account, so it does not count as a selector."""
    selected = [params.get(name) for name in ("activation_id", "tags", "default_instance_name", "iam_role")]
    if not any(selected) and params.get("expired") is not True:
        raise _invalid("state=absent needs activation_id or a selector: tags, default_instance_name, iam_role or expired")
    selectors = dict(params)
    if params.get("activation_id"):
        selectors["activation_ids"] = [params["activation_id"]]
    doomed = find_activations(client, selectors)
    deleted = []
    for activation in doomed:
        if check_mode or delete_activation(client, activation["activation_id"]):
            deleted.append(activation)
    ids = [a["activation_id"] for a in deleted]
    return {"changed": bool(deleted), "activations": deleted, "diff": {"before": {"activation_ids": ids}, "after": {"activation_ids": []}}}
