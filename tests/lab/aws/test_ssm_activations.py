"""SSM activations on the lab endpoint, through boto3 (botocore validates requests and parses answers)."""
import datetime
import re
import uuid

import pytest
from botocore.exceptions import ClientError, ParamValidationError

DAY = 86400


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def activation(ssm, activation_id):
    found = ssm.describe_activations(Filters=[{"FilterKey": "ActivationIds", "FilterValues": [activation_id]}])
    [described] = found["ActivationList"]
    return described


@pytest.fixture(autouse=True)
def instance_roles(lab_aws):
    """The roles these tests name, each trusting ssm.amazonaws.com as CreateActivation requires."""
    for name in ("r", "edgeRole", "roleA", "roleB"):
        lab_aws.create_instance_role(name)


def test_create_activation_defaults(lab_aws):
    ssm = lab_aws.client("ssm")
    before = datetime.datetime.now(datetime.timezone.utc)
    created = ssm.create_activation(IamRole="ecsAnywhereRole")

    assert str(uuid.UUID(created["ActivationId"])) == created["ActivationId"]
    assert len(created["ActivationCode"]) >= 20
    described = activation(ssm, created["ActivationId"])
    assert described["IamRole"] == "ecsAnywhereRole"
    assert described["RegistrationLimit"] == 1
    assert described["RegistrationsCount"] == 0
    assert described["Expired"] is False
    assert "ActivationCode" not in described  # the code is only returned at creation
    expires_in = described["ExpirationDate"] - before
    assert datetime.timedelta(hours=23, minutes=59) < expires_in < datetime.timedelta(hours=24, minutes=1)


def test_create_activation_keeps_optional_fields(lab_aws):
    ssm = lab_aws.client("ssm")
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=29)
    created = ssm.create_activation(
        IamRole="edgeRole", RegistrationLimit=1000, ExpirationDate=expiration, Description="edge site 7",
        DefaultInstanceName="edge-7", Tags=[{"Key": "site", "Value": "7"}, {"Key": "env", "Value": "lab"}])

    described = activation(ssm, created["ActivationId"])
    assert described["RegistrationLimit"] == 1000
    assert described["Description"] == "edge site 7"
    assert described["DefaultInstanceName"] == "edge-7"
    assert sorted((t["Key"], t["Value"]) for t in described["Tags"]) == [("env", "lab"), ("site", "7")]
    assert abs((described["ExpirationDate"] - expiration).total_seconds()) < 1


def test_create_activation_requires_iam_role(lab_aws):
    with pytest.raises(ParamValidationError):
        lab_aws.client("ssm").create_activation()
    # The server checks it too, for callers that do not validate (the agent stand-ins, curl).
    status, payload = lab_aws.agent_call("AmazonSSM.CreateActivation", {"RegistrationLimit": 1},
                                         credentials={"AccessKeyId": "testing", "SecretAccessKey": "testing"})
    assert status == 400
    assert payload["__type"] == "ValidationException"
    assert "iamRole" in payload["Message"]


@pytest.mark.parametrize("limit", [0, 1001])
def test_registration_limit_must_be_1_to_1000(lab_aws, limit):
    ssm = lab_aws.client("ssm")
    if limit < 1:
        with pytest.raises(ParamValidationError):  # botocore checks minimums itself
            ssm.create_activation(IamRole="r", RegistrationLimit=limit)
    status, payload = lab_aws.agent_call("AmazonSSM.CreateActivation", {"IamRole": "r", "RegistrationLimit": limit},
                                         credentials={"AccessKeyId": "testing", "SecretAccessKey": "testing"})
    assert status == 400
    assert payload["__type"] == "ValidationException"
    assert "registrationLimit" in payload["Message"]
    if limit > 1000:
        with pytest.raises(ClientError) as excinfo:
            ssm.create_activation(IamRole="r", RegistrationLimit=limit)
        assert error_code(excinfo) == "ValidationException"
    assert ssm.describe_activations()["ActivationList"] == []


@pytest.mark.parametrize("days", [30.01, -0.01])
def test_expiration_date_within_30_days_ahead(lab_aws, days):
    ssm = lab_aws.client("ssm")
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="r", ExpirationDate=expiration)
    assert error_code(excinfo) == "InvalidParameters"
    assert "ExpirationDate" in excinfo.value.response["Error"]["Message"]
    assert ssm.describe_activations()["ActivationList"] == []


def test_expiration_limit_follows_lab_clock(lab_aws):
    ssm = lab_aws.client("ssm")
    lab_aws.clock(offset=10 * DAY)
    # 35 days of real time ahead is only 25 days ahead of the lab's clock.
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=35)
    created = ssm.create_activation(IamRole="r", ExpirationDate=expiration)
    assert activation(ssm, created["ActivationId"])["Expired"] is False


def test_field_lengths_are_enforced(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="r", Description="x" * 257)
    assert error_code(excinfo) == "ValidationException"
    assert "description" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="r" * 65)
    assert error_code(excinfo) == "ValidationException"


def test_describe_activations_filters(lab_aws):
    ssm = lab_aws.client("ssm")
    first = ssm.create_activation(IamRole="roleA", DefaultInstanceName="alpha")["ActivationId"]
    second = ssm.create_activation(IamRole="roleB", DefaultInstanceName="beta")["ActivationId"]
    third = ssm.create_activation(IamRole="roleB", DefaultInstanceName="alpha")["ActivationId"]

    def ids(*filters):
        return {a["ActivationId"] for a in ssm.describe_activations(Filters=list(filters))["ActivationList"]}

    assert ids() == {first, second, third}
    assert ids({"FilterKey": "ActivationIds", "FilterValues": [first, third]}) == {first, third}
    assert ids({"FilterKey": "IamRole", "FilterValues": ["roleB"]}) == {second, third}
    assert ids({"FilterKey": "DefaultInstanceName", "FilterValues": ["alpha"]}) == {first, third}
    assert ids({"FilterKey": "IamRole", "FilterValues": ["roleB"]},
               {"FilterKey": "DefaultInstanceName", "FilterValues": ["alpha"]}) == {third}
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(Filters=[{"FilterKey": "Colour", "FilterValues": ["red"]}])
    assert error_code(excinfo) == "ValidationException"


def test_describe_activations_pages(lab_aws):
    ssm = lab_aws.client("ssm")
    created = [ssm.create_activation(IamRole="r")["ActivationId"] for _ in range(5)]

    first = ssm.describe_activations(MaxResults=2)
    assert len(first["ActivationList"]) == 2
    second = ssm.describe_activations(MaxResults=2, NextToken=first["NextToken"])
    third = ssm.describe_activations(MaxResults=2, NextToken=second["NextToken"])
    assert "NextToken" not in third
    seen = [a["ActivationId"] for page in (first, second, third) for a in page["ActivationList"]]
    assert sorted(seen) == sorted(created)

    paged = ssm.get_paginator("describe_activations").paginate(PaginationConfig={"PageSize": 3})
    assert sorted(a["ActivationId"] for page in paged for a in page["ActivationList"]) == sorted(created)


def test_describe_activations_limits(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(MaxResults=51)
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(NextToken="not-a-token")
    assert error_code(excinfo) == "InvalidNextToken"


def test_activation_expires_with_the_lab_clock(lab_aws):
    ssm = lab_aws.client("ssm")
    created = ssm.create_activation(IamRole="r")
    lab_aws.clock(advance=DAY + 1)
    assert activation(ssm, created["ActivationId"])["Expired"] is True


def test_registrations_count(lab_aws):
    ssm = lab_aws.client("ssm")
    created = lab_aws.create_activation(registration_limit=3)
    for _ in range(2):
        lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    assert activation(ssm, created["ActivationId"])["RegistrationsCount"] == 2


def test_delete_activation(lab_aws):
    ssm = lab_aws.client("ssm")
    created = lab_aws.create_activation(registration_limit=2)
    instance_id, _ = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])

    ssm.delete_activation(ActivationId=created["ActivationId"])

    assert ssm.describe_activations()["ActivationList"] == []
    # Instances registered before stay registered, as in AWS; new registrations fail.
    listed = ssm.describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [instance_id]
    status, payload = lab_aws.agent_call("AmazonSSM.RegisterManagedInstance", {
        "ActivationId": created["ActivationId"], "ActivationCode": created["ActivationCode"],
        "PublicKey": "k", "PublicKeyType": "Rsa", "Fingerprint": "f"})
    assert (status, payload["__type"]) == (400, "InvalidActivation")


def test_delete_activation_errors(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ClientError) as excinfo:
        ssm.delete_activation(ActivationId=str(uuid.uuid4()))
    assert error_code(excinfo) == "InvalidActivation"
    with pytest.raises(ClientError) as excinfo:
        ssm.delete_activation(ActivationId="not-an-activation-id")
    assert error_code(excinfo) == "InvalidActivationId"
    assert re.search("not-an-activation-id", excinfo.value.response["Error"]["Message"])
