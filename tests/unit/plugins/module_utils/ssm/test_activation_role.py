# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""validate_role: the IAM role must trust ssm.amazonaws.com and carry the two AWS-managed policies."""

import json

import boto3
import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ssm import activation_role
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import RetryingClient
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry

moto = pytest.importorskip("moto")

SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
ECS_FOR_EC2 = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


def trust(service="ssm.amazonaws.com", action="sts:AssumeRole", effect="Allow"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Principal": {"Service": service}, "Action": action}]}


@pytest.fixture
def iam(aws_credentials):
    # AWS-managed policies exist only when moto is asked to load them.
    with moto.mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield RetryingClient(boto3.client("iam"), jittered_retry(retries=2, delay=0.001, max_delay=0.002))


def make_role(iam, name="ecsAnywhereRole", document=None, policies=(SSM_CORE, ECS_FOR_EC2)):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document or trust()))
    for arn in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)


def test_role_as_the_ecs_anywhere_guide_makes_it_passes(iam):
    make_role(iam)

    activation_role.validate_role(iam, "ecsAnywhereRole")


def test_missing_role_fails_naming_iam_role(iam):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        activation_role.validate_role(iam, "nope")
    assert error.value.message == "iam_role: the IAM role nope does not exist"


def test_role_without_policies_or_trust_fails_saying_what_is_missing(iam):
    make_role(iam, document=trust(service="ec2.amazonaws.com"), policies=(SSM_CORE,))

    with pytest.raises(AnsibleECSAnywhereError) as error:
        activation_role.validate_role(iam, "ecsAnywhereRole")

    assert error.value.message == (
        "iam_role: the IAM role ecsAnywhereRole cannot serve ECS Anywhere instances: its trust policy does not allow "
        "ssm.amazonaws.com to assume it (sts:AssumeRole); it lacks the managed policy AmazonEC2ContainerServiceforEC2Role")


@pytest.mark.parametrize(
    "document,trusted",
    [
        (trust(), True),
        (trust(service=["ec2.amazonaws.com", "ssm.amazonaws.com"], action=["sts:AssumeRole", "sts:TagSession"]), True),
        (trust(action="sts:*"), True),
        (trust(effect="Deny"), False),
        (trust(action="sts:AssumeRoleWithWebIdentity"), False),
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}, False),
        ("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ssm.amazonaws.com%22%7D%2C"
         "%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D", True),
    ],
)
def test_trust_policy_reading(document, trusted):
    assert activation_role.trusts_ssm({"AssumeRolePolicyDocument": document}) is trusted


def test_role_problems_lists_both_missing_policies():
    problems = activation_role.role_problems({"AssumeRolePolicyDocument": trust()}, [])

    assert problems == ["it lacks the managed policies AmazonSSMManagedInstanceCore and AmazonEC2ContainerServiceforEC2Role"]
