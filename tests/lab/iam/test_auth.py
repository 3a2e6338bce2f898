"""Who may call the lab endpoint (lab.aws.auth) and which role an activation may name (lab.aws.ssm), through
boto3 and raw agent calls: CreateActivation's role check, SigV4 signatures, unknown keys, expired session
credentials, unsigned calls, and IAM policies of lab users (Allow, explicit Deny, iam:PassRole on the role)."""
import json

import pytest
from botocore.exceptions import ClientError

from lab.aws import auth
from lab.aws._ecs_testing import CLUSTER, new_mi_id, registration

ROLE_ERROR = "Nonexistent role or missing ssm service principal in trust policy"
ACCOUNT = auth.ACCOUNT_ID


def refusal(call):
    with pytest.raises(ClientError) as excinfo:
        call()
    error = excinfo.value.response["Error"]
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


# --- (a) CreateActivation's role ----------------------------------------------------------------

def test_the_lab_account_starts_with_the_admin_user_and_ecs_anywhere_role(lab_aws):
    iam = lab_aws.client("iam")
    role = iam.get_role(RoleName="ecsAnywhereRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert lab_aws.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/lab-admin"


@pytest.mark.parametrize("trusted", [None, "ec2.amazonaws.com"], ids=["missing role", "trusts ec2 only"])
def test_create_activation_refuses_a_role_that_ssm_cannot_assume(lab_aws, trusted):
    if trusted:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}]}
        lab_aws.client("iam").create_role(RoleName="edgeRole", AssumeRolePolicyDocument=json.dumps(trust))
    ssm = lab_aws.client("ssm")
    assert refusal(lambda: ssm.create_activation(IamRole="edgeRole")) == (400, "ValidationException", ROLE_ERROR)
    assert ssm.describe_activations()["ActivationList"] == []
    # The same role trusting SSM (and a role given with its path) is accepted.
    lab_aws.client("iam").create_role(RoleName="ssmRole", Path="/service-role/",
                                      AssumeRolePolicyDocument=json.dumps(auth.SSM_TRUST_POLICY))
    assert ssm.create_activation(IamRole="service-role/ssmRole")["ActivationId"]
    assert refusal(lambda: ssm.create_activation(IamRole="other-path/ssmRole"))[1:] == ("ValidationException", ROLE_ERROR)


# --- (b) signatures, keys, expiry, unsigned calls -----------------------------------------------

def test_a_wrong_secret_is_refused_in_each_protocol(lab_aws):
    wrong = {"AccessKeyId": auth.ADMIN_ACCESS_KEY, "SecretAccessKey": "not-the-secret"}
    assert refusal(lambda: lab_aws.client("ecs", credentials=wrong).list_clusters()) == (
        400, "InvalidSignatureException", auth.SIGNATURE_MISMATCH)
    assert refusal(lambda: lab_aws.client("iam", credentials=wrong).list_users()) == (
        403, "SignatureDoesNotMatch", auth.SIGNATURE_MISMATCH)


def test_a_body_changed_after_signing_is_refused(lab_aws):
    ecs = lab_aws.client("ecs")

    def tamper(request, **kwargs):
        request.body = request.body.replace(b"edge", b"evil")

    ecs.meta.events.register_last("before-send.ecs.CreateCluster", tamper)
    assert refusal(lambda: ecs.create_cluster(clusterName="edge"))[1] == "InvalidSignatureException"
    assert lab_aws.client("ecs").list_clusters()["clusterArns"] == []


def test_unknown_keys_and_tokens_are_refused(lab_aws):
    unknown = {"AccessKeyId": "AKIAUNKNOWN000000000", "SecretAccessKey": "x"}
    assert refusal(lambda: lab_aws.client("ssm", credentials=unknown).describe_activations()) == (
        400, "UnrecognizedClientException", "The security token included in the request is invalid.")
    assert refusal(lambda: lab_aws.client("sts", credentials=unknown).get_caller_identity())[:2] == (
        403, "InvalidClientTokenId")
    # An IAM user's key with a session token, and role credentials with another token, are not valid either.
    with_token = {"AccessKeyId": auth.ADMIN_ACCESS_KEY, "SecretAccessKey": auth.ADMIN_SECRET_KEY, "SessionToken": "forged"}
    assert refusal(lambda: lab_aws.client("ecs", credentials=with_token).list_clusters())[1] == "UnrecognizedClientException"
    created = lab_aws.create_activation()
    _, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    forged = dict(credentials, SessionToken=credentials["SessionToken"][:-4] + "AAAA")
    assert refusal(lambda: lab_aws.client("ecs", credentials=forged).list_clusters())[1] == "UnrecognizedClientException"


def test_unsigned_calls_are_refused_but_the_agents_registration(lab_aws):
    status, payload = lab_aws.agent_call("AmazonEC2ContainerServiceV20141113.ListClusters", {})
    assert (status, payload["__type"]) == (400, "MissingAuthenticationTokenException")
    status, payload = lab_aws.agent_call("AmazonSSM.DescribeActivations", {})
    assert (status, payload["__type"]) == (400, "MissingAuthenticationTokenException")
    # RegisterManagedInstance (anonymous in the real agent) and the role token (RSA-signed there) pass unsigned.
    created = lab_aws.create_activation()
    instance_id, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    assert instance_id.startswith("mi-") and credentials["SessionToken"]
    # The heartbeat is SigV4-signed by the agent, so it must be signed here too.
    status, payload = lab_aws.agent_call("AmazonSSM.UpdateInstanceInformation", {"InstanceId": instance_id})
    assert (status, payload["__type"]) == (400, "MissingAuthenticationTokenException")


def test_managed_instance_role_credentials_expire_with_the_lab_clock(lab_aws):
    lab_aws.settings(role_credentials_ttl=900)
    created = lab_aws.create_activation()
    fingerprint = "f" * 40
    instance_id, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"],
                                                                 fingerprint=fingerprint)
    lab_aws.heartbeat(instance_id, credentials)
    lab_aws.clock(advance=899)
    lab_aws.heartbeat(instance_id, credentials)
    lab_aws.clock(advance=1)
    status, payload = lab_aws.agent_call("AmazonSSM.UpdateInstanceInformation", {"InstanceId": instance_id}, credentials)
    assert (status, payload["__type"], payload["message"]) == (
        400, "ExpiredTokenException", "The security token included in the request is expired")
    assert refusal(lambda: lab_aws.client("ecs", credentials=credentials).list_clusters())[1] == "ExpiredTokenException"
    assert refusal(lambda: lab_aws.client("sts", credentials=credentials).get_caller_identity())[:2] == (403, "ExpiredToken")
    # The agent asks for new credentials, which work.
    fresh = lab_aws.role_token(fingerprint)
    lab_aws.heartbeat(instance_id, fresh)


def test_task_execution_role_credentials_expire_with_the_lab_clock(lab_aws):
    ecs = lab_aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    document = json.dumps({"instanceId": new_mi_id(), "region": lab_aws.region})
    instance = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document,
                                               **registration(cpu=1024, memory=1024))["containerInstance"]
    ecs.register_task_definition(family="job", requiresCompatibilities=["EXTERNAL"],
                                 executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
                                 containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}])
    ecs.start_task(cluster=CLUSTER, taskDefinition="job", containerInstances=[instance["containerInstanceArn"]])
    [task] = lab_aws.control("POST", "/_lab/agent/poll", {"cluster": CLUSTER,
                                                          "containerInstance": instance["containerInstanceArn"]})["tasks"]
    role = task["executionRoleCredentials"]
    credentials = {"AccessKeyId": role["AccessKeyId"], "SecretAccessKey": role["SecretAccessKey"],
                   "SessionToken": role["Token"]}
    logs = lab_aws.client("logs", credentials=credentials)
    logs.create_log_group(logGroupName="/ecs/job")
    lab_aws.clock(advance=3600)
    assert refusal(lambda: logs.create_log_stream(logGroupName="/ecs/job", logStreamName="s"))[1] == "ExpiredTokenException"


# --- (c) IAM policies of lab users ----------------------------------------------------------------

def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_actions_need_an_allow_and_a_deny_wins(lab_aws):
    credentials = lab_aws.create_user("reader", policy(
        {"Effect": "Allow", "Action": ["ecs:List*", "ecs:CreateCluster"], "Resource": "*"},
        {"Effect": "Deny", "Action": "ecs:CreateCluster", "Resource": "*"}))
    ecs = lab_aws.client("ecs", credentials=credentials)
    assert ecs.list_clusters()["clusterArns"] == []
    user = f"arn:aws:iam::{ACCOUNT}:user/reader"
    assert refusal(lambda: ecs.describe_clusters(clusters=["edge"])) == (
        400, "AccessDeniedException", f"User: {user} is not authorized to perform: ecs:DescribeClusters on resource: * "
                                      "because no identity-based policy allows the ecs:DescribeClusters action")
    assert refusal(lambda: ecs.create_cluster(clusterName="edge"))[2] == (
        f"User: {user} is not authorized to perform: ecs:CreateCluster on resource: * with an explicit deny in an "
        "identity-based policy")
    assert refusal(lambda: lab_aws.client("iam", credentials=credentials).list_users())[:2] == (403, "AccessDenied")
    # Who am I is always allowed.
    assert lab_aws.client("sts", credentials=credentials).get_caller_identity()["Arn"] == user


def test_create_activation_needs_pass_role_on_the_role(lab_aws):
    lab_aws.create_instance_role("otherRole")
    credentials = lab_aws.create_user("operator", policy(
        {"Effect": "Allow", "Action": "ssm:CreateActivation", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/ecsAnywhereRole"}))
    ssm = lab_aws.client("ssm", credentials=credentials)
    assert ssm.create_activation(IamRole="ecsAnywhereRole")["ActivationId"]
    assert refusal(lambda: ssm.create_activation(IamRole="otherRole")) == (
        400, "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:user/operator is not authorized to perform: iam:PassRole on resource: "
        f"arn:aws:iam::{ACCOUNT}:role/otherRole because no identity-based policy allows the iam:PassRole action")
    assert len(lab_aws.client("ssm").describe_activations()["ActivationList"]) == 1


def test_each_users_allowed_actions_are_listed_in_first_use_order_until_a_reset(lab_aws):
    credentials = lab_aws.create_user("reader", policy(
        {"Effect": "Allow", "Action": ["ecs:List*", "ssm:DescribeActivations"], "Resource": "*"}))
    ecs = lab_aws.client("ecs", credentials=credentials)
    ecs.list_clusters()
    lab_aws.client("ssm", credentials=credentials).describe_activations()
    ecs.list_clusters()
    refusal(lambda: ecs.describe_clusters(clusters=["edge"]))  # refused: not a used action
    assert lab_aws.used_actions("reader") == ["ecs:ListClusters", "ssm:DescribeActivations"]
    lab_aws.reset()
    assert lab_aws.used_actions("reader") == []
