"""The /_lab/ control API: faults, counters, clock, settings and reset."""
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry
from lab.aws import core
from lab.aws.testing import LabAWSError


def error_of(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def raw_control(lab_aws, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(lab_aws.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- faults -------------------------------------------------------------------------------------

def test_throttle_rate_one_makes_boto3_see_throttling(lab_aws):
    ssm, ecs = lab_aws.client("ssm"), lab_aws.client("ecs")
    lab_aws.set_faults({"DescribeInstanceInformation": {"throttle_rate": 1.0}, "ListClusters": {"throttle_rate": 1.0}})

    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information()
    assert error_of(excinfo) == ("ThrottlingException", 400)
    with pytest.raises(ClientError) as excinfo:
        ecs.list_clusters()
    assert error_of(excinfo) == ("ThrottlingException", 400)
    # Other operations are untouched.
    assert ssm.describe_activations()["ActivationList"] == []
    assert lab_aws.counters_detail()["injected"] == {"DescribeInstanceInformation": {"throttle": 1},
                                                     "ListClusters": {"throttle": 1}}


def test_query_protocol_services_get_their_own_throttle_codes(lab_aws):
    lab_aws.set_faults({"*": {"throttle_rate": 1.0}})
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("sts").get_caller_identity()
    assert error_of(excinfo) == ("Throttling", 400)
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("ec2").describe_instances()
    assert error_of(excinfo) == ("RequestLimitExceeded", 400)


def test_server_errors_use_each_service_code(lab_aws):
    lab_aws.set_faults({"*": {"error_rate": 1.0}, "logs:DescribeLogGroups": {"error_rate": 1.0,
                        "error_status": 503, "error_code": "ServiceUnavailableException"}})
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("ssm").describe_activations()
    assert error_of(excinfo) == ("InternalServerError", 500)
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("ecs").list_clusters()
    assert error_of(excinfo) == ("ServerException", 500)
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("logs").describe_log_groups()
    assert error_of(excinfo) == ("ServiceUnavailableException", 503)


def test_service_qualified_rule_wins_over_plain_name(lab_aws):
    lab_aws.set_faults({"ListTagsForResource": {"throttle_rate": 1.0}, "ecs:ListTagsForResource": {}})
    ecs = lab_aws.client("ecs")
    cluster = ecs.create_cluster(clusterName="c", tags=[{"key": "k", "value": "v"}])["cluster"]["clusterArn"]
    assert ecs.list_tags_for_resource(resourceArn=cluster)["tags"] == [{"key": "k", "value": "v"}]
    with pytest.raises(ClientError) as excinfo:
        lab_aws.client("ssm").list_tags_for_resource(ResourceType="Document", ResourceId="x")
    assert error_of(excinfo) == ("ThrottlingException", 400)


def test_amazon_aws_retries_recover_at_throttle_rate_0_3(lab_aws):
    ssm = lab_aws.client("ssm")
    lab_aws.set_faults({"DescribeActivations": {"throttle_rate": 0.3}}, seed=20261124)

    @AWSRetry.jittered_backoff(retries=10, delay=0.01, max_delay=0.05, catch_extra_error_codes=["ThrottlingException"])
    def describe():
        return ssm.describe_activations()["ActivationList"]

    for _ in range(20):
        assert describe() == []
    throttled = lab_aws.counters_detail()["injected"]["DescribeActivations"]["throttle"]
    assert throttled > 0
    assert lab_aws.counters()["DescribeActivations"] == 20 + throttled


def test_collection_retry_recovers_from_throttles_and_server_errors(lab_aws):
    ecs = lab_aws.client("ecs")
    lab_aws.set_faults({"ListClusters": {"throttle_rate": 0.3, "error_rate": 0.2}}, seed=5)
    retrying_list = jittered_retry(retries=15, delay=0.01, max_delay=0.05)(ecs.list_clusters)
    for _ in range(20):
        assert retrying_list()["clusterArns"] == []
    injected = lab_aws.counters_detail()["injected"]["ListClusters"]
    assert injected["throttle"] > 0 and injected["error"] > 0
    assert lab_aws.counters()["ListClusters"] == 20 + injected["throttle"] + injected["error"]


def outcomes(lab_aws, seed):
    lab_aws.set_faults({"ListClusters": {"throttle_rate": 0.5}}, seed=seed)
    ecs = lab_aws.client("ecs")
    seen = []
    for _ in range(16):
        try:
            ecs.list_clusters()
            seen.append("ok")
        except ClientError as error:
            seen.append(error.response["Error"]["Code"])
    return seen


def test_a_seed_reproduces_the_same_faults(lab_aws):
    first = outcomes(lab_aws, seed=42)
    assert set(first) == {"ok", "ThrottlingException"}
    assert outcomes(lab_aws, seed=42) == first
    assert outcomes(lab_aws, seed=43) != first


def test_latency_is_added_before_answering(lab_aws, monkeypatch):
    slept = []
    monkeypatch.setattr(core, "_sleep", slept.append)
    lab_aws.set_faults({"ListClusters": {"latency": 0.25}})
    lab_aws.client("ecs").list_clusters()
    lab_aws.client("ssm").describe_activations()
    assert slept == [0.25]


@pytest.mark.parametrize("config, field", [
    ({"operations": {"RunTask": {"throttle_rate": 1.5}}}, "throttle_rate"),
    ({"operations": {"RunTask": {"error_rate": -0.1}}}, "error_rate"),
    ({"operations": {"RunTask": {"latency": "slow"}}}, "latency"),
    ({"operations": {"RunTask": {"error_status": 404}}}, "error_status"),
    ({"operations": {"RunTask": {"throttle": 1}}}, "throttle"),
    ({"operations": {"RunTask": 1}}, "RunTask"),
    ({"seed": "x"}, "seed"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_fault_configuration_is_rejected_and_changes_nothing(lab_aws, config, field):
    before = lab_aws.set_faults({"ListClusters": {"throttle_rate": 0.5}}, seed=1)
    status, payload = raw_control(lab_aws, "POST", "/_lab/faults", config)
    assert status == 400
    assert field in payload["error"]
    assert lab_aws.control("GET", "/_lab/faults") == before


def test_faults_can_be_cleared(lab_aws):
    lab_aws.set_faults({"*": {"throttle_rate": 1.0}})
    lab_aws.clear_faults()
    assert lab_aws.client("ecs").list_clusters()["clusterArns"] == []
    assert lab_aws.control("GET", "/_lab/faults") == {"seed": None, "operations": {}}


# --- counters -----------------------------------------------------------------------------------

def test_counters_match_the_calls_made(lab_aws):
    ssm, ecs, logs = lab_aws.client("ssm"), lab_aws.client("ecs"), lab_aws.client("logs")
    for _ in range(3):
        ssm.describe_activations()
    ecs.create_cluster(clusterName="edge")
    ecs.list_clusters()
    ecs.list_clusters()
    logs.create_log_group(logGroupName="/ecs/edge")
    created = lab_aws.create_activation()
    lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    lab_aws.control("GET", "/_lab/faults")  # control calls are not AWS calls

    detail = lab_aws.counters_detail()
    assert detail["calls"] == {"DescribeActivations": 3, "CreateCluster": 1, "ListClusters": 2, "CreateLogGroup": 1,
                               "CreateActivation": 1, "RegisterManagedInstance": 1,
                               "RequestManagedInstanceRoleToken": 1}
    assert detail["by_service"]["ecs"] == {"CreateCluster": 1, "ListClusters": 2}
    assert detail["by_service"]["logs"] == {"CreateLogGroup": 1}
    assert detail["by_service"]["ssm"]["RegisterManagedInstance"] == 1  # unsigned, known by its target

    lab_aws.reset_counters()
    assert lab_aws.counters() == {}
    ecs.list_clusters()
    assert lab_aws.counters() == {"ListClusters": 1}


def test_paginated_listing_counts_each_page(lab_aws):
    created = lab_aws.create_activation(registration_limit=12)
    for _ in range(12):
        lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    lab_aws.reset_counters()
    paginator = lab_aws.client("ssm").get_paginator("describe_instance_information")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) == 3
    assert lab_aws.counters() == {"DescribeInstanceInformation": 3}


# --- clock and settings -------------------------------------------------------------------------

def test_clock_offset_and_advance(lab_aws):
    assert lab_aws.clock()["offset"] == 0
    before = core.now()
    assert lab_aws.clock(offset=3600)["offset"] == 3600
    assert lab_aws.clock(advance=60)["offset"] == 3660
    assert 3659 < (core.now() - before).total_seconds() < 3700
    assert lab_aws.clock(offset=-120)["offset"] == -120


@pytest.mark.parametrize("body, field", [({"offset": "soon"}, "offset"), ({"advance": None}, "advance"),
                                         ({"offset": 1, "advance": 1}, "offset"), ({}, "offset")])
def test_bad_clock_input(lab_aws, body, field):
    lab_aws.clock(offset=10)
    status, payload = raw_control(lab_aws, "POST", "/_lab/clock", body)
    assert status == 400 and field in payload["error"]
    assert lab_aws.clock()["offset"] == 10


def test_settings(lab_aws):
    assert lab_aws.settings() == {"connection_lost_after": 60.0, "role_credentials_ttl": 3600.0,
                                  "service_scheduler_interval": 1.0, "service_healthy_after": 40.0,
                                  "stopped_task_retention": 3600.0}
    assert lab_aws.settings(connection_lost_after=30)["connection_lost_after"] == 30.0
    assert core.setting("connection_lost_after") == 30.0


@pytest.mark.parametrize("body, field", [
    ({"connection_lost_after": 0}, "connection_lost_after"),
    ({"connection_lost_after": "1m"}, "connection_lost_after"),
    ({"role_credentials_ttl": 10}, "role_credentials_ttl"),
    ({"stopped_task_retention": 86401}, "stopped_task_retention"),
    ({"ping_colour": 1}, "ping_colour"),
    ({"connection_lost_after": 30, "nope": 1}, "nope"),
])
def test_bad_settings_change_nothing(lab_aws, body, field):
    status, payload = raw_control(lab_aws, "POST", "/_lab/settings", body)
    assert status == 400 and field in payload["error"]
    assert lab_aws.settings()["connection_lost_after"] == 60.0


def test_role_credentials_ttl_setting(lab_aws):
    lab_aws.settings(role_credentials_ttl=900)
    created = lab_aws.create_activation()
    _, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
    assert 850 < credentials["TokenExpirationDate"] - core.now().timestamp() <= 900


# --- reset and routing --------------------------------------------------------------------------

def test_reset_clears_everything(lab_aws):
    hook_calls = []
    hook = core.on_reset(lambda: hook_calls.append(1))
    try:
        created = lab_aws.create_activation()
        _, credentials = lab_aws.register_managed_instance(created["ActivationId"], created["ActivationCode"])
        lab_aws.client("ecs").create_cluster(clusterName="edge")
        lab_aws.set_faults({"ListClusters": {"latency": 0.0}}, seed=3)
        lab_aws.clock(offset=99)
        lab_aws.settings(connection_lost_after=5)

        lab_aws.reset()

        assert hook_calls == [1]
        assert core.instance_for_access_key(credentials["AccessKeyId"]) is None
        assert lab_aws.control("GET", "/_lab/faults") == {"seed": None, "operations": {}}
        assert lab_aws.clock()["offset"] == 0
        assert lab_aws.settings()["connection_lost_after"] == 60.0
        assert lab_aws.counters() == {}
        assert lab_aws.client("ssm").describe_activations()["ActivationList"] == []
        assert lab_aws.client("ecs").list_clusters()["clusterArns"] == []
    finally:
        core._reset_hooks.remove(hook)


def test_unknown_route_and_method(lab_aws):
    assert raw_control(lab_aws, "GET", "/_lab/nothing-here")[0] == 404
    assert raw_control(lab_aws, "GET", "/_lab/reset")[0] == 405
    status, payload = raw_control(lab_aws, "POST", "/_lab/faults", b"{not json")
    assert status == 400 and "JSON" in payload["error"]
    with pytest.raises(LabAWSError):
        lab_aws.control("POST", "/_lab/settings", {"nope": 1})


def test_lab_routes_can_be_added_by_add_ons(lab_aws):
    @core.lab_route("/_lab/test/echo", methods=("POST",))
    def echo(request):
        return 200, {"caller": core.caller_access_key(request.headers), "body": core.json_body(request)}

    try:
        request = urllib.request.Request(lab_aws.url + "/_lab/test/echo", data=b'{"a": 1}', method="POST", headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/ecs/aws4_request, "
                             "SignedHeaders=host, Signature=00"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.loads(answer.read()) == {"caller": "ASIAEXAMPLE", "body": {"a": 1}}
    finally:
        del core._routes[("POST", "/_lab/test/echo")]


# --- helpers without a server -------------------------------------------------------------------

def test_caller_identity_parsing():
    header = ("AWS4-HMAC-SHA256 Credential=ASIAQEXAMPLE/20261124/eu-west-1/ecs/aws4_request, "
              "SignedHeaders=host;x-amz-date, Signature=abc")
    for headers in ({"Authorization": header}, {"authorization": header}, {"HTTP_AUTHORIZATION": header}):
        assert core.caller_access_key(headers) == "ASIAQEXAMPLE"
        assert core.caller_region(headers) == "eu-west-1"
        assert core.caller_service(headers) == "ecs"
    assert core.caller_access_key({}) is None
    assert core.caller_access_key({"Authorization": "Bearer x"}) is None
    assert core.caller_access_key(None) is None


def test_model_violations():
    assert core.model_violations("ssm", "DescribeInstanceInformation", {"MaxResults": 50}) == []
    [problem] = core.model_violations("ssm", "DescribeInstanceInformation", {"MaxResults": 51})
    assert problem == ("Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than "
                       "or equal to 50")
    problems = core.model_violations("ssm", "CreateActivation", {
        "IamRole": "r", "Tags": [{"Key": "k" * 129, "Value": "v"}]})
    assert problems == [f"Value '{'k' * 129}' at 'tags.1.member.key' failed to satisfy constraint: Member must have "
                        "length less than or equal to 128"]
    assert core.validation_message(["a", "b"]) == "2 validation errors detected: a; b"
