"""Managed instances on the lab endpoint: the agent's registration, credentials and heartbeat, and the
operations the collection calls through boto3."""
import concurrent.futures
import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from lab.aws import core
from lab.aws.testing import _send

UNKNOWN_INSTANCE = "mi-0123456789abcdef0"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def register(lab_aws, tags=None, limit=1, **activation_args):
    if tags:
        activation_args["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    created = lab_aws.create_activation(registration_limit=limit, **activation_args)
    instance_id, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    return created, instance_id, credentials


def described(ssm, instance_id):
    found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])
    [info] = found["InstanceInformationList"]
    return info


def register_call(lab_aws, activation_id, code, fingerprint="fp"):
    return lab_aws.agent_call("AmazonSSM.RegisterManagedInstance", {
        "ActivationId": activation_id, "ActivationCode": code, "PublicKey": "key", "PublicKeyType": "Rsa",
        "Fingerprint": fingerprint})


def tags_of(ssm, instance_id):
    answer = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)
    return {t["Key"]: t["Value"] for t in answer["TagList"]}


# --- RegisterManagedInstance --------------------------------------------------------------------

def test_register_returns_mi_id_and_copies_tags(lab_aws):
    ssm = lab_aws.client("ssm")
    created, instance_id, _ = register(lab_aws, tags={"site": "7", "env": "lab"}, DefaultInstanceName="edge")

    assert re.fullmatch(r"mi-[0-9a-f]{17}", instance_id)
    assert tags_of(ssm, instance_id) == {"site": "7", "env": "lab"}
    info = described(ssm, instance_id)
    assert info["ActivationId"] == created["ActivationId"]
    assert info["IamRole"] == "ecsAnywhereRole"
    assert info["Name"] == "edge"
    assert info["ResourceType"] == "ManagedInstance"
    # Not Online until the agent reports.
    assert info["PingStatus"] == "ConnectionLost"
    assert "LastPingDateTime" not in info


def test_register_is_unsigned_json_1_1(lab_aws):
    created = lab_aws.create_activation()
    status, payload = register_call(lab_aws, created["ActivationId"], created["ActivationCode"])
    assert status == 200
    assert set(payload) == {"InstanceId"}


@pytest.mark.parametrize("case", ["wrong code", "unknown activation"])
def test_register_rejects_bad_activation(lab_aws, case):
    created = lab_aws.create_activation()
    activation_id, code = created["ActivationId"], created["ActivationCode"]
    if case == "wrong code":
        code = code[::-1]
    else:
        activation_id = "11111111-2222-3333-4444-555555555555"
    status, payload = register_call(lab_aws, activation_id, code)
    assert (status, payload["__type"]) == (400, "InvalidActivation")
    assert lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"] == []


def test_register_rejects_expired_activation(lab_aws):
    created = lab_aws.create_activation()
    lab_aws.clock(advance=24 * 3600 + 1)
    status, payload = register_call(lab_aws, created["ActivationId"], created["ActivationCode"])
    assert (status, payload["__type"], payload["Message"]) == (400, "InvalidActivation", "Activation expired")


def test_register_enforces_registration_limit(lab_aws):
    created = lab_aws.create_activation(registration_limit=2)
    for fingerprint in ("a", "b"):
        assert register_call(lab_aws, created["ActivationId"], created["ActivationCode"], fingerprint)[0] == 200
    status, payload = register_call(lab_aws, created["ActivationId"], created["ActivationCode"], "c")
    assert (status, payload["__type"], payload["Message"]) == (400, "InvalidActivation", "Registration limit reached")
    assert len(lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"]) == 2


def test_register_requires_its_fields(lab_aws):
    created = lab_aws.create_activation()
    status, payload = lab_aws.agent_call("AmazonSSM.RegisterManagedInstance", {
        "ActivationId": created["ActivationId"], "ActivationCode": created["ActivationCode"]})
    assert (status, payload["__type"]) == (400, "ValidationException")
    assert "publicKey" in payload["Message"] and "fingerprint" in payload["Message"]


def test_activations_are_regional(lab_aws):
    ssm_eu = lab_aws.client("ssm", region="eu-west-1")
    created = ssm_eu.create_activation(IamRole=lab_aws.create_instance_role("r"), RegistrationLimit=2)
    body = {"ActivationCode": created["ActivationCode"], "ActivationId": created["ActivationId"],
            "PublicKey": "key", "PublicKeyType": "Rsa", "Fingerprint": "fp"}

    # The agent registering in another region reaches that region's SSM, which has no such activation.
    status, payload = lab_aws.agent_call("AmazonSSM.RegisterManagedInstance", body, region="us-east-1")
    assert (status, payload["__type"]) == (400, "InvalidActivation")
    assert ssm_eu.describe_activations()["ActivationList"][0]["RegistrationsCount"] == 0

    instance_id, _ = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"],
                                                       region="eu-west-1")
    assert [i["InstanceId"] for i in ssm_eu.describe_instance_information()["InstanceInformationList"]] == [instance_id]
    assert lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"] == []


def test_a_regional_host_name_says_the_region_as_on_aws(lab_aws):
    created = lab_aws.client("ssm", region="eu-west-1").create_activation(IamRole=lab_aws.create_instance_role("r"))
    body = json.dumps({"ActivationCode": created["ActivationCode"], "ActivationId": created["ActivationId"],
                       "PublicKey": "key", "PublicKeyType": "Rsa", "Fingerprint": "fp"}).encode()
    headers = {"X-Amz-Target": "AmazonSSM.RegisterManagedInstance", "Content-Type": "application/x-amz-json-1.1"}
    answers = {}
    for region in ("us-east-1", "eu-west-1"):
        request = urllib.request.Request(lab_aws.url + "/", data=body, method="POST",
                                         headers=dict(headers, Host=f"ssm.{region}.amazonaws.com"))
        answers[region] = _send(request)[0]
    assert answers == {"us-east-1": 400, "eu-west-1": 200}


# --- RequestManagedInstanceRoleToken ------------------------------------------------------------

def test_role_credentials_identify_the_instance(lab_aws):
    _, instance_id, credentials = register(lab_aws)

    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "TokenExpirationDate",
                                "UpdateKeyPair"}
    assert core.instance_for_access_key(credentials["AccessKeyId"]) == instance_id
    identity = lab_aws.client("sts", credentials=credentials).get_caller_identity()
    assert identity["Arn"].endswith(f":assumed-role/ecsAnywhereRole/{instance_id}")
    expires_in = credentials["TokenExpirationDate"] - core.now().timestamp()
    assert 3500 < expires_in <= 3600


def test_role_token_for_unknown_fingerprint(lab_aws):
    status, payload = lab_aws.agent_call("AmazonSSM.RequestManagedInstanceRoleToken", {"Fingerprint": "nobody"})
    assert (status, payload["__type"]) == (400, "InvalidInstanceId")


def test_role_token_refresh_gives_new_keys_for_same_instance(lab_aws):
    created = lab_aws.create_activation()
    instance_id, first = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"],
                                                           fingerprint="fp-1")
    second = lab_aws.role_token("fp-1")
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert core.instance_for_access_key(second["AccessKeyId"]) == instance_id


# --- UpdateInstanceInformation (heartbeat) ------------------------------------------------------

def test_heartbeat_sets_online_and_agent_fields(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, credentials = register(lab_aws)

    lab_aws.heartbeat(instance_id, credentials, IPAddress="10.213.0.21", ComputerName="edge-21",
                      AgentVersion="3.3.1611.0", PlatformName="Debian GNU/Linux", PlatformVersion="12")

    info = described(ssm, instance_id)
    assert info["PingStatus"] == "Online"
    assert info["IPAddress"] == "10.213.0.21"
    assert info["ComputerName"] == "edge-21"
    assert info["AgentVersion"] == "3.3.1611.0"
    assert (info["PlatformType"], info["PlatformName"], info["PlatformVersion"]) == ("Linux", "Debian GNU/Linux", "12")
    assert abs((info["LastPingDateTime"] - core.now()).total_seconds()) < 5


def test_silence_turns_into_connection_lost(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, credentials = register(lab_aws)
    lab_aws.heartbeat(instance_id, credentials)

    # Real time passes too: leave it 10 s of margin on the Online side.
    lab_aws.clock(advance=50)
    assert described(ssm, instance_id)["PingStatus"] == "Online"
    lab_aws.clock(advance=11)
    assert described(ssm, instance_id)["PingStatus"] == "ConnectionLost"
    lab_aws.heartbeat(instance_id, credentials)
    assert described(ssm, instance_id)["PingStatus"] == "Online"


def test_connection_lost_after_is_a_setting(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, credentials = register(lab_aws)
    lab_aws.settings(connection_lost_after=300)
    lab_aws.heartbeat(instance_id, credentials)
    lab_aws.clock(advance=200)
    assert described(ssm, instance_id)["PingStatus"] == "Online"
    lab_aws.clock(advance=101)
    assert described(ssm, instance_id)["PingStatus"] == "ConnectionLost"


def test_heartbeat_errors(lab_aws):
    _, instance_id, credentials = register(lab_aws)
    _, other_id, other_credentials = register(lab_aws)

    status, payload = lab_aws.agent_call("AmazonSSM.UpdateInstanceInformation", {"InstanceId": UNKNOWN_INSTANCE},
                                         credentials)
    assert (status, payload["__type"]) == (400, "InvalidInstanceId")
    # One instance's role credentials cannot report for another.
    status, payload = lab_aws.agent_call("AmazonSSM.UpdateInstanceInformation", {"InstanceId": other_id},
                                         credentials)
    assert (status, payload["__type"]) == (400, "InvalidInstanceId")
    assert described(lab_aws.client("ssm"), other_id)["PingStatus"] == "ConnectionLost"


# --- DescribeInstanceInformation ----------------------------------------------------------------

def register_many(lab_aws, count, **activation_args):
    created = lab_aws.create_activation(registration_limit=count, **activation_args)
    return [lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
            for _ in range(count)], created["ActivationId"]


def test_describe_instance_information_pages(lab_aws):
    ssm = lab_aws.client("ssm")
    registered, _ = register_many(lab_aws, 12)
    expected = [instance_id for instance_id, _ in registered]

    pages = []
    token = None
    while True:
        kwargs = {"MaxResults": 5, **({"NextToken": token} if token else {})}
        page = ssm.describe_instance_information(**kwargs)
        pages.append([i["InstanceId"] for i in page["InstanceInformationList"]])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i for p in pages for i in p] == expected

    paginator = ssm.get_paginator("describe_instance_information")
    paged = paginator.paginate(PaginationConfig={"PageSize": 50})
    assert [i["InstanceId"] for page in paged for i in page["InstanceInformationList"]] == expected


def test_describe_instance_information_limits(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ParamValidationError):
        ssm.describe_instance_information(MaxResults=4)
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(MaxResults=51)
    assert error_code(excinfo) == "ValidationException"
    assert "maxResults" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(NextToken="garbage")
    assert error_code(excinfo) == "InvalidNextToken"


def test_describe_instance_information_filters(lab_aws):
    ssm = lab_aws.client("ssm")
    (first, second, third), activation_id = register_many(lab_aws, 3, iam_role="roleA")
    _, other_id, other_credentials = register(lab_aws, iam_role="roleB", tags={"site": "9"})
    lab_aws.heartbeat(first[0], first[1], AgentVersion="3.3.1.0")
    lab_aws.heartbeat(second[0], second[1], AgentVersion="3.2.0.0", PlatformType="Windows")
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=third[0],
                             Tags=[{"Key": "site", "Value": "7"}])

    def ids(filters=(), legacy=()):
        kwargs = {}
        if filters:
            kwargs["Filters"] = [{"Key": k, "Values": v} for k, v in filters]
        if legacy:
            kwargs["InstanceInformationFilterList"] = [{"key": k, "valueSet": v} for k, v in legacy]
        return {i["InstanceId"] for i in ssm.describe_instance_information(**kwargs)["InstanceInformationList"]}

    everyone = {first[0], second[0], third[0], other_id}
    assert ids() == everyone
    assert ids([("PingStatus", ["Online"])]) == {first[0], second[0]}
    assert ids([("PingStatus", ["ConnectionLost"])]) == {third[0], other_id}
    assert ids([("ActivationIds", [activation_id])]) == {first[0], second[0], third[0]}
    assert ids([("InstanceIds", [first[0], other_id])]) == {first[0], other_id}
    assert ids([("IamRole", ["roleB"])]) == {other_id}
    assert ids([("ResourceType", ["ManagedInstance"])]) == everyone
    assert ids([("PlatformTypes", ["Linux"])]) == {first[0]}
    assert ids([("AgentVersion", ["3.2.0.0"])]) == {second[0]}
    assert ids([("tag:site", ["7", "9"])]) == {third[0], other_id}
    assert ids([("tag:site", ["9"])]) == {other_id}
    assert ids([("tag-key", ["site"])]) == {third[0], other_id}
    assert ids([("ActivationIds", [activation_id]), ("PingStatus", ["Online"])]) == {first[0], second[0]}
    assert ids(legacy=[("PingStatus", ["Online"]), ("PlatformTypes", ["Windows"])]) == {second[0]}
    assert ids(legacy=[("InstanceIds", [third[0]])]) == {third[0]}


def test_describe_instance_information_filter_errors(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=[{"Key": "Colour", "Values": ["red"]}])
    assert error_code(excinfo) == "InvalidFilterKey"
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Sleepy"]}])
    assert error_code(excinfo) == "InvalidInstanceInformationFilterValue"
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(InstanceInformationFilterList=[{"key": "Colour", "valueSet": ["red"]}])
    assert error_code(excinfo) == "ValidationException"  # the legacy list's keys are an enum in the model
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ["web-1"]}])
    assert error_code(excinfo) == "InvalidInstanceId"


# --- DeregisterManagedInstance ------------------------------------------------------------------

def test_deregister(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, credentials = register(lab_aws, tags={"env": "lab"})
    _, kept_id, _ = register(lab_aws)

    ssm.deregister_managed_instance(InstanceId=instance_id)

    listed = ssm.describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [kept_id]
    assert core.instance_for_access_key(credentials["AccessKeyId"]) is None
    with pytest.raises(ClientError) as excinfo:
        ssm.deregister_managed_instance(InstanceId=instance_id)
    assert error_code(excinfo) == "InvalidInstanceId"
    with pytest.raises(ClientError) as excinfo:
        ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)
    assert error_code(excinfo) == "InvalidResourceId"
    status, payload = lab_aws.agent_call("AmazonSSM.UpdateInstanceInformation", {"InstanceId": instance_id},
                                         credentials)
    assert (status, payload["__type"]) == (400, "InvalidInstanceId")


def test_deregister_unknown_instance(lab_aws):
    ssm = lab_aws.client("ssm")
    with pytest.raises(ClientError) as excinfo:
        ssm.deregister_managed_instance(InstanceId=UNKNOWN_INSTANCE)
    assert error_code(excinfo) == "InvalidInstanceId"
    with pytest.raises(ParamValidationError):  # botocore checks the id's minimum length
        ssm.deregister_managed_instance(InstanceId="mi-1")


def test_deregistered_fingerprint_gets_no_credentials(lab_aws):
    created = lab_aws.create_activation()
    instance_id, _ = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"],
                                                       fingerprint="fp-gone")
    lab_aws.client("ssm").deregister_managed_instance(InstanceId=instance_id)
    status, payload = lab_aws.agent_call("AmazonSSM.RequestManagedInstanceRoleToken", {"Fingerprint": "fp-gone"})
    assert (status, payload["__type"]) == (400, "InvalidInstanceId")


# --- tags ---------------------------------------------------------------------------------------

def test_managed_instance_tags(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, _ = register(lab_aws, tags={"env": "lab"})

    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                             Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "edge"}])
    assert tags_of(ssm, instance_id) == {"env": "prod", "team": "edge"}
    ssm.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=instance_id, TagKeys=["env", "nope"])
    assert tags_of(ssm, instance_id) == {"team": "edge"}


def test_managed_instance_tag_errors(lab_aws):
    ssm = lab_aws.client("ssm")
    _, instance_id, _ = register(lab_aws)
    calls = [
        lambda: ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=UNKNOWN_INSTANCE,
                                         Tags=[{"Key": "k", "Value": "v"}]),
        lambda: ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=UNKNOWN_INSTANCE),
        lambda: ssm.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=UNKNOWN_INSTANCE,
                                              TagKeys=["k"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_code(excinfo) == "InvalidResourceId"

    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                             Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(ClientError) as excinfo:
        ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                                 Tags=[{"Key": "one-too-many", "Value": "v"}])
    assert error_code(excinfo) == "TooManyTagsError"
    assert len(tags_of(ssm, instance_id)) == 50


def test_concurrent_registrations_respect_the_limit(lab_aws):
    created = lab_aws.create_activation(registration_limit=5)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda n: register_call(lab_aws, created["ActivationId"], created["ActivationCode"],
                                                        f"fp-{n}"), range(12)))
    assert sorted(status for status, _ in answers) == [200] * 5 + [400] * 7
    assert len(lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"]) == 5
