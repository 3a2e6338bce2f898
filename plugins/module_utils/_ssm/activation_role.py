# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks that an IAM role can serve ECS Anywhere managed instances.

The role given to CreateActivation becomes the instances' role: SSM must be able to assume it, and it
needs the SSM core policy (for the SSM agent) and the EC2-container-service policy (for the ECS agent),
as the ECS Anywhere guide's ecsAnywhereRole has. Clients are RetryingClient instances.
"""

import json
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ..errors import AnsibleECSAnywhereError
from ..iterators import paginate

SSM_PRINCIPAL = "ssm.amazonaws.com"
# AWS-managed policies ECS Anywhere instances need, by name (their ARNs differ by partition and path).
REQUIRED_POLICIES = ("AmazonSSMManagedInstanceCore", "AmazonEC2ContainerServiceforEC2Role")
_ASSUME_ACTIONS = ("sts:AssumeRole", "sts:*", "*")


class IAMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSAnywhereError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchEntity")


@IAMErrorHandler.list_error_handler("get IAM role")
def get_role(client, name):
    """The role, or None when it does not exist."""
    return client.get_role(RoleName=name)["Role"]


@IAMErrorHandler.common_error_handler("list the IAM role's attached policies")
def list_attached_policies(client, name):
    return list(paginate(client.list_attached_role_policies, "AttachedPolicies", token_key="Marker", RoleName=name))


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _trust_document(role):
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        # IAM's raw API returns the document URL-encoded; botocore usually decodes it already.
        document = json.loads(unquote(document))
    return document


def trusts_ssm(role):
    """Whether the role's trust policy lets ssm.amazonaws.com assume it."""
    for statement in _as_list(_trust_document(role).get("Statement") or []):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        actions = _as_list(statement.get("Action") or [])
        if SSM_PRINCIPAL in services and any(action in _ASSUME_ACTIONS for action in actions):
            return True
    return False


def role_problems(role, attached_policies):
    """What keeps the role from serving ECS Anywhere instances (an empty list when nothing)."""
    problems = []
    if not trusts_ssm(role):
        problems.append("its trust policy does not allow {0} to assume it (sts:AssumeRole)".format(SSM_PRINCIPAL))
    attached = {policy["PolicyName"] for policy in attached_policies}
    missing = [name for name in REQUIRED_POLICIES if name not in attached]
    if missing:
        problems.append("it lacks the managed polic{0} {1}".format("y" if len(missing) == 1 else "ies", " and ".join(missing)))
    return problems


def validate_role(client, name):
    """Raise AnsibleECSAnywhereError naming iam_role unless the role is fit for ECS Anywhere."""
    role = get_role(client, name)
    if role is None:
        raise AnsibleECSAnywhereError(message="iam_role: the IAM role {0} does not exist".format(name))
    problems = role_problems(role, list_attached_policies(client, name))
    if problems:
        raise AnsibleECSAnywhereError(message="iam_role: the IAM role {0} cannot serve ECS Anywhere instances: {1}".format(name, "; ".join(problems)))
