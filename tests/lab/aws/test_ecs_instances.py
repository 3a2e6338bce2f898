"""External (ECS Anywhere) container instances on the lab endpoint, through boto3: registration by the
instance's credentials, agentConnected, status changes, listing and describing."""
import datetime
import json

import pytest
from botocore.exceptions import ClientError

from lab.aws._ecs_testing import (CLUSTER, error_of, document_instance, external_task_definition, managed_agent,
                                  new_mi_id, registration)
from lab.aws.testing import DUMMY_CREDENTIALS


def describe(ecs, *arns, **kwargs):
    return ecs.describe_container_instances(cluster=CLUSTER, containerInstances=list(arns), **kwargs)


def describe_one(ecs, arn, **kwargs):
    [instance] = describe(ecs, arn, **kwargs)["containerInstances"]
    return instance


def list_all(ecs, **kwargs):
    pages = ecs.get_paginator("list_container_instances").paginate(cluster=CLUSTER, **kwargs)
    return [arn for page in pages for arn in page["containerInstanceArns"]]


# --- RegisterContainerInstance ------------------------------------------------------------------

def test_register_identifies_instance_by_its_credentials(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER, cpu=1024, memory=1900, attributes={"site": "lyon"},
                          tags={"team": "edge"})
    instance = describe_one(ecs, agent.arn, include=["TAGS"])

    assert instance["ec2InstanceId"] == agent.instance_id
    assert instance["status"] == "ACTIVE"
    assert instance["agentConnected"] is True
    assert {"name": "ecs.capability.external"} in instance["attributes"]
    assert {"name": "site", "value": "lyon"} in instance["attributes"]
    registered = {r["name"]: r for r in instance["registeredResources"]}
    assert registered["CPU"]["integerValue"] == 1024
    assert registered["MEMORY"]["integerValue"] == 1900
    assert instance["remainingResources"] == instance["registeredResources"]
    assert instance["versionInfo"] == {"agentVersion": "1.89.2", "agentHash": "0d4e2a6e", "dockerVersion": "25.0.5"}
    assert instance["tags"] == [{"key": "team", "value": "edge"}]
    assert (instance["runningTasksCount"], instance["pendingTasksCount"]) == (0, 0)
    assert isinstance(instance["registeredAt"], datetime.datetime)
    assert ecs.list_tags_for_resource(resourceArn=agent.arn)["tags"] == [{"key": "team", "value": "edge"}]
    [cluster] = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert cluster["registeredContainerInstancesCount"] == 1


def test_register_accepts_identity_document_with_mi_id(ecs):
    instance_id = new_mi_id()
    instance = document_instance(ecs, CLUSTER, instance_id)
    assert instance["ec2InstanceId"] == instance_id
    assert "tags" not in describe_one(ecs, instance["containerInstanceArn"])


def test_register_without_identity_is_refused(ecs):
    with pytest.raises(ClientError) as excinfo:
        ecs.register_container_instance(cluster=CLUSTER, **registration())
    assert error_of(excinfo)[0] == "ClientException"


@pytest.mark.parametrize("document, code", [('{"instanceId": "mi-123"}', "ClientException"),
                                            ("not json", "InvalidParameterException")])
def test_register_rejects_bad_identity_document(ecs, document, code):
    with pytest.raises(ClientError) as excinfo:
        ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document, **registration())
    assert error_of(excinfo)[0] == code
    assert list_all(ecs) == []


def test_register_rejects_document_naming_another_instance(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    document = json.dumps({"instanceId": new_mi_id()})
    with pytest.raises(ClientError) as excinfo:
        agent.ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document, **registration())
    assert error_of(excinfo)[0] == "ClientException"


def test_register_in_unknown_cluster(lab_aws):
    with pytest.raises(ClientError) as excinfo:
        document_instance(lab_aws.client("ecs"), "nowhere")
    assert error_of(excinfo)[0] == "ClusterNotFoundException"


def test_reregister_with_arn_returns_same_instance(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER, attributes={"site": "lyon"})
    again = agent.ecs.register_container_instance(
        cluster=CLUSTER, containerInstanceArn=agent.arn,
        **registration(cpu=4096, attributes={"rack": "r2"}))["containerInstance"]

    assert again["containerInstanceArn"] == agent.arn
    assert list_all(ecs) == [agent.arn]
    names = {a["name"]: a.get("value") for a in again["attributes"]}
    assert names["site"] == "lyon" and names["rack"] == "r2"
    assert {r["name"]: r for r in again["registeredResources"]}["CPU"]["integerValue"] == 4096


def test_reregister_without_arn_makes_a_new_instance_and_leaves_the_old_one(lab_aws, ecs):
    """As on AWS: an agent whose data directory was wiped registers anew; the old registration stays ACTIVE
    and, its agent gone, disconnected."""
    lab_aws.settings(connection_lost_after=60)
    agent = managed_agent(lab_aws, CLUSTER)
    lab_aws.clock(advance=30)
    again = agent.ecs.register_container_instance(cluster=CLUSTER, **registration())["containerInstance"]

    assert again["containerInstanceArn"] != agent.arn
    assert again["ec2InstanceId"] == agent.instance_id
    assert sorted(list_all(ecs)) == sorted([agent.arn, again["containerInstanceArn"]])
    lab_aws.clock(advance=40)  # the old one last heard from 70 s ago, the new one 40 s ago
    described = {i["containerInstanceArn"]: i for i in describe(ecs, agent.arn, again["containerInstanceArn"])["containerInstances"]}
    old, new = described[agent.arn], described[again["containerInstanceArn"]]
    assert (old["status"], old["agentConnected"]) == ("ACTIVE", False)
    assert (new["status"], new["agentConnected"]) == ("ACTIVE", True)
    assert new["registeredAt"] > old["registeredAt"]
    [cluster] = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert cluster["registeredContainerInstancesCount"] == 2


def test_reregister_deregistered_arn_is_refused(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=agent.arn)

    with pytest.raises(ClientError) as excinfo:
        agent.ecs.register_container_instance(cluster=CLUSTER, containerInstanceArn=agent.arn, **registration())
    code, message = error_of(excinfo)
    assert code == "ClientException"
    assert "is not ACTIVE" in message and "inactive" in message
    # With its data wiped the agent registers anew.
    fresh = agent.ecs.register_container_instance(cluster=CLUSTER, **registration())["containerInstance"]
    assert fresh["containerInstanceArn"] != agent.arn
    assert list_all(ecs) == [fresh["containerInstanceArn"]]


# --- agentConnected -----------------------------------------------------------------------------

def test_agent_connected_follows_heartbeats_and_lab_clock(lab_aws, ecs):
    lab_aws.settings(connection_lost_after=60)
    agent = managed_agent(lab_aws, CLUSTER)
    # Margins of 10 s either side of the threshold: real time also passes between the calls.
    lab_aws.clock(advance=50)
    assert describe_one(ecs, agent.arn)["agentConnected"] is True
    lab_aws.clock(advance=20)
    assert describe_one(ecs, agent.arn)["agentConnected"] is False

    endpoint = agent.discover()
    assert endpoint["endpoint"].startswith(lab_aws.url)
    assert describe_one(ecs, agent.arn)["agentConnected"] is True
    lab_aws.clock(advance=70)
    assert describe_one(ecs, agent.arn)["agentConnected"] is False


def test_agent_disconnect_is_seen_at_once_until_it_is_heard_from_again(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    assert agent.disconnect() == (200, {"agentConnected": False})
    assert describe_one(ecs, agent.arn)["agentConnected"] is False
    external_task_definition(ecs)
    answer = ecs.run_task(cluster=CLUSTER, taskDefinition="web", launchType="EXTERNAL")
    assert answer["tasks"] == [] and [failure["reason"] for failure in answer["failures"]] == ["AGENT"]

    agent.discover()
    assert describe_one(ecs, agent.arn)["agentConnected"] is True


def test_agent_disconnect_checks_the_caller(lab_aws, ecs):
    first = managed_agent(lab_aws, CLUSTER)
    second = managed_agent(lab_aws, CLUSTER)
    second.container_instance = first.container_instance
    status, payload = second.disconnect()
    assert (status, payload["__type"]) == (403, "AccessDeniedException")
    assert describe_one(ecs, first.arn)["agentConnected"] is True


def test_discover_poll_endpoint_for_another_instance_is_denied(lab_aws, ecs):
    first = managed_agent(lab_aws, CLUSTER)
    second = managed_agent(lab_aws, CLUSTER)
    with pytest.raises(ClientError) as excinfo:
        second.ecs.discover_poll_endpoint(cluster=CLUSTER, containerInstance=first.arn)
    assert error_of(excinfo)[0] == "AccessDeniedException"


def test_discover_poll_endpoint_unknown_instance(ecs):
    with pytest.raises(ClientError) as excinfo:
        ecs.discover_poll_endpoint(cluster=CLUSTER, containerInstance="0123456789abcdef0123456789abcdef")
    assert error_of(excinfo)[0] == "ClientException"


# --- status: ACTIVE -> DRAINING -> INACTIVE -----------------------------------------------------

def test_draining_and_back(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    answer = ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[arn], status="DRAINING")
    assert [i["status"] for i in answer["containerInstances"]] == ["DRAINING"]
    assert answer["failures"] == []
    assert list_all(ecs, status="DRAINING") == [arn]
    assert list_all(ecs, status="ACTIVE") == []
    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[arn], status="ACTIVE")
    assert describe_one(ecs, arn)["status"] == "ACTIVE"


def test_update_state_limits(ecs):
    arns = [document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(11)]
    with pytest.raises(ClientError) as excinfo:
        ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=arns, status="DRAINING")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=arns[:1], status="REGISTERING")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert {i["status"] for i in describe(ecs, *arns)["containerInstances"]} == {"ACTIVE"}


def test_update_state_reports_missing_and_inactive(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn)
    answer = ecs.update_container_instances_state(
        cluster=CLUSTER, containerInstances=[arn, "0123456789abcdef0123456789abcdef"], status="DRAINING")
    assert answer["containerInstances"] == []
    assert sorted(f["reason"] for f in answer["failures"]) == ["INACTIVE", "MISSING"]


def test_deregistered_instance_describes_inactive(lab_aws, ecs):
    agent = managed_agent(lab_aws, CLUSTER)
    answer = ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=agent.arn)
    assert answer["containerInstance"]["status"] == "INACTIVE"

    instance = describe_one(ecs, agent.arn)
    assert (instance["status"], instance["agentConnected"]) == ("INACTIVE", False)
    assert list_all(ecs) == []
    [cluster] = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert cluster["registeredContainerInstancesCount"] == 0


def test_deregister_unknown_instance(ecs):
    with pytest.raises(ClientError) as excinfo:
        ecs.deregister_container_instance(cluster=CLUSTER, containerInstance="0123456789abcdef0123456789abcdef")
    assert error_of(excinfo)[0] == "InvalidParameterException"


# --- ListContainerInstances / DescribeContainerInstances ---------------------------------------

def test_list_paginates_in_registration_order(ecs):
    arns = [document_instance(ecs, CLUSTER)["containerInstanceArn"] for _ in range(7)]
    first = ecs.list_container_instances(cluster=CLUSTER, maxResults=3)
    assert first["containerInstanceArns"] == arns[:3]
    second = ecs.list_container_instances(cluster=CLUSTER, maxResults=3, nextToken=first["nextToken"])
    assert second["containerInstanceArns"] == arns[3:6]
    last = ecs.list_container_instances(cluster=CLUSTER, maxResults=3, nextToken=second["nextToken"])
    assert last["containerInstanceArns"] == arns[6:]
    assert "nextToken" not in last
    assert list_all(ecs, PaginationConfig={"PageSize": 2}) == arns


@pytest.mark.parametrize("max_results", [0, 101])
def test_list_max_results_range(ecs, max_results):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, maxResults=max_results)
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_list_rejects_foreign_token(ecs):
    ecs.create_cluster(clusterName="other")
    for _ in range(3):
        document_instance(ecs, CLUSTER)
    token = ecs.list_container_instances(cluster=CLUSTER, maxResults=1)["nextToken"]
    for bad in (token[:-4] + "AAAA", "garbage"):
        with pytest.raises(ClientError) as excinfo:
            ecs.list_container_instances(cluster="other", nextToken=bad)
        assert error_of(excinfo)[0] == "InvalidParameterException"


def test_list_filter_uses_cluster_query_language(lab_aws, ecs):
    web = document_instance(ecs, CLUSTER, attributes={"role": "web"})["containerInstanceArn"]
    db_id = new_mi_id()
    db = document_instance(ecs, CLUSTER, db_id, attributes={"role": "db"})["containerInstanceArn"]
    bare = document_instance(ecs, CLUSTER)["containerInstanceArn"]

    assert list_all(ecs, filter="attribute:role == web") == [web]
    assert list_all(ecs, filter="attribute:role exists") == [web, db]
    assert list_all(ecs, filter="attribute:role != web") == [db, bare]
    assert list_all(ecs, filter=f"ec2InstanceId in [{db_id}, mi-00000000000000000]") == [db]
    assert list_all(ecs, filter="attribute:role =~ w* or attribute:role == db") == [web, db]
    assert list_all(ecs, filter="not attribute:role exists and attribute:ecs.capability.external exists") == [bare]
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).date().isoformat()
    assert list_all(ecs, filter=f"registeredAt < {tomorrow}") == [web, db, bare]
    assert list_all(ecs, filter=f"registeredAt > {tomorrow}") == []
    # Filters and pages combine: pages hold matching instances only.
    page = ecs.list_container_instances(cluster=CLUSTER, filter="attribute:role exists", maxResults=1)
    assert page["containerInstanceArns"] == [web]
    assert list_all(ecs, filter="attribute:role exists", PaginationConfig={"PageSize": 1}) == [web, db]

    lab_aws.settings(connection_lost_after=60)
    lab_aws.clock(advance=120)
    assert list_all(ecs, filter="agentConnected == false") == [web, db, bare]
    assert list_all(ecs, filter="agentConnected == true") == []


@pytest.mark.parametrize("expression", ["attribute:role ==", "task:group == web", "attribute:role ~ x", "(a"])
def test_list_rejects_unsupported_filter(ecs, expression):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, filter=expression)
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_describe_limits_and_failures(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    missing = "arn:aws:ecs:us-east-1:123456789012:container-instance/edge/0123456789abcdef0123456789abcdef"
    answer = describe(ecs, arn, missing, "fedcba9876543210fedcba9876543210")
    assert [i["containerInstanceArn"] for i in answer["containerInstances"]] == [arn]
    assert [(f["arn"].rsplit("/", 1)[-1], f["reason"]) for f in answer["failures"]] == [
        ("0123456789abcdef0123456789abcdef", "MISSING"), ("fedcba9876543210fedcba9876543210", "MISSING")]

    with pytest.raises(ClientError) as excinfo:
        describe(ecs, *([arn] * 101))
    assert error_of(excinfo)[0] == "InvalidParameterException"
    assert len(describe(ecs, *([arn] * 100))["containerInstances"]) == 100


def test_describe_in_another_cluster_is_missing(ecs):
    ecs.create_cluster(clusterName="other")
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    answer = ecs.describe_container_instances(cluster="other", containerInstances=[arn])
    assert answer["containerInstances"] == [] and answer["failures"][0]["reason"] == "MISSING"


def test_tag_and_untag_container_instance(ecs):
    arn = document_instance(ecs, CLUSTER, tags={"a": "1"})["containerInstanceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert sorted(t["key"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == ["a", "b"]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert describe_one(ecs, arn, include=["TAGS"])["tags"] == [{"key": "b", "value": "2"}]


def test_put_attributes_are_seen_by_filters(ecs):
    arn = document_instance(ecs, CLUSTER)["containerInstanceArn"]
    ecs.put_attributes(cluster=CLUSTER, attributes=[{"name": "zone", "value": "z1", "targetId": arn}])
    assert list_all(ecs, filter="attribute:zone == z1") == [arn]


@pytest.mark.parametrize("field", ["totalResources", "attributes"])
def test_register_with_nameless_entry_changes_nothing(lab_aws, ecs, field):
    # botocore would refuse this; an agent talking raw JSON 1.1 can send it.
    body = registration()
    body[field] = body[field] + [{"value": "x", "type": "INTEGER"}]
    body.update(cluster=CLUSTER, instanceIdentityDocument=json.dumps({"instanceId": new_mi_id()}))
    status, payload = lab_aws.agent_call("AmazonEC2ContainerServiceV20141113.RegisterContainerInstance", body,
                                         credentials=DUMMY_CREDENTIALS)
    assert (status, payload["__type"].rsplit("#", 1)[-1]) == (400, "InvalidParameterException")
    assert field in payload["message"]
    assert list_all(ecs) == []
