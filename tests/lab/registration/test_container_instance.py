"""ecs_container_instance in playbooks against the lab endpoint: selection by ARN, mi- id and filter; state
by batches of 10; draining with a wait; attributes and tags; deregistration from ECS and SSM."""
import json
import subprocess
import time

import pytest

from lab.aws._ecs_testing import document_instance, external_task_definition, managed_agent, registration, report

from ..conftest import play_command, play_env, write_play

MODULE = "fleetops.ecs_anywhere.ecs_container_instance"
CLUSTER = "edge"


@pytest.fixture
def ecs(lab_aws):
    client = lab_aws.client("ecs")
    client.create_cluster(clusterName=CLUSTER)
    return client


def task(name, **options):
    return {"name": name, MODULE: dict({"cluster": CLUSTER}, **options)}


def describe(ecs, arns):
    found = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=list(arns), include=["TAGS"])
    return {i["containerInstanceArn"]: i for i in found["containerInstances"]}


def managed_ids(lab_aws):
    answer = lab_aws.client("ssm").describe_instance_information()
    return sorted(i["InstanceId"] for i in answer["InstanceInformationList"])


def run_one_task(lab_aws, ecs, agent, status="RUNNING"):
    external_task_definition(ecs)
    [started] = ecs.start_task(cluster=CLUSTER, taskDefinition="web", containerInstances=[agent.arn])["tasks"]
    report(lab_aws, started["taskArn"], status)
    return started["taskArn"]


def test_drain_twelve_by_mi_id_in_batches_of_ten_then_activate(lab_aws, ecs, run_play):
    instances = [document_instance(ecs, CLUSTER) for _ in range(12)]
    ids = [i["ec2InstanceId"] for i in instances]
    lab_aws.reset_counters()

    result = run_play([
        task("drain", managed_instance_ids=ids, state="draining"),
        task("drain again", managed_instance_ids=ids, state="draining"),
    ])

    assert result.returncode == 0, result.output
    assert result["drain"]["changed"] is True
    assert [i["status"] for i in result["drain"]["container_instances"]] == ["DRAINING"] * 12
    assert sorted(i["ec2_instance_id"] for i in result["drain"]["container_instances"]) == sorted(ids)
    assert result["drain again"]["changed"] is False
    assert lab_aws.counters()["UpdateContainerInstancesState"] == 2
    assert {i["status"] for i in describe(ecs, [i["containerInstanceArn"] for i in instances]).values()} == {"DRAINING"}

    back = run_play([task("activate", container_instances=[i["containerInstanceArn"] for i in instances], state="active")])
    assert back["activate"]["changed"] is True
    assert {i["status"] for i in describe(ecs, [i["containerInstanceArn"] for i in instances]).values()} == {"ACTIVE"}


def test_check_mode_and_diff_change_nothing(lab_aws, ecs, run_play):
    instance = document_instance(ecs, CLUSTER, attributes={"site": "lyon"})
    arn = instance["containerInstanceArn"]
    lab_aws.reset_counters()

    result = run_play([task("drain", container_instances=[arn], state="draining", attributes=[{"name": "rack", "value": "r1"}],
                            tags={"team": "edge"})], check=True, diff=True)

    assert result.returncode == 0, result.output
    drained = result["drain"]
    assert drained["changed"] is True
    assert drained["container_instances"][0]["status"] == "DRAINING"
    assert drained["diff"]["before"][arn] == {"status": "ACTIVE", "attributes": {"site": "lyon"}, "tags": {}}
    assert drained["diff"]["after"][arn] == {"status": "DRAINING", "attributes": {"site": "lyon", "rack": "r1"}, "tags": {"team": "edge"}}
    assert set(lab_aws.counters()) <= {"DescribeContainerInstances", "ListContainerInstances"}
    assert describe(ecs, [arn])[arn]["status"] == "ACTIVE"


@pytest.fixture
def aws_delete_attributes(monkeypatch):
    """DeleteAttributes as AWS documents it ("specify the attribute name and target ID, but don't specify the
    value"). moto 5.2.5 deletes only when the given value equals the stored one, and the lab does not fix that
    yet (reported to the lab's owners); the endpoint runs in this process, so the fix is applied here, for this
    test only."""
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend._delete_attribute

    def delete_by_name(self, cluster_name, name, value=None, target_id=None, target_type=None):
        if value is None and target_id is not None:
            instance = self.container_instances[cluster_name].get(target_id.rsplit("/", 1)[-1])
            if instance is not None:
                value = instance.attributes.get(name)
        return original(self, cluster_name, name, value, target_id, target_type)

    monkeypatch.setattr(EC2ContainerServiceBackend, "_delete_attribute", delete_by_name)


def test_attributes_and_tags_are_managed_idempotently(lab_aws, ecs, run_play, aws_delete_attributes):
    first = document_instance(ecs, CLUSTER, attributes={"site": "lyon", "old": "x"}, tags={"keep": "1"})
    second = document_instance(ecs, CLUSTER, attributes={"site": "paris"})

    result = run_play([
        task("mark", filter="attribute:site == lyon", attributes=[{"name": "rack", "value": "r1"}, {"name": "gpu"}],
             tags={"team": "edge"}, purge_tags=False),
        task("mark again", filter="attribute:site == lyon", attributes=[{"name": "rack", "value": "r1"}, {"name": "gpu"}],
             tags={"team": "edge"}, purge_tags=False),
        task("purge", container_instances=[first["containerInstanceArn"]], attributes=[{"name": "site", "value": "lyon"}],
             purge_attributes=True, tags={"team": "core"}),
    ])

    assert result.returncode == 0, result.output
    marked = result["mark"]["container_instances"]
    assert [i["container_instance_arn"] for i in marked] == [first["containerInstanceArn"]]
    assert marked[0]["attributes"] == {"site": "lyon", "old": "x", "rack": "r1", "gpu": None}
    assert marked[0]["tags"] == {"keep": "1", "team": "edge"}
    assert result["mark again"]["changed"] is False
    purged = result["purge"]["container_instances"][0]
    assert purged["attributes"] == {"site": "lyon"}
    assert purged["tags"] == {"team": "core"}
    now = describe(ecs, [first["containerInstanceArn"], second["containerInstanceArn"]])
    assert {"name": "ecs.capability.external"} in now[first["containerInstanceArn"]]["attributes"]  # ECS's own stay
    assert now[first["containerInstanceArn"]]["tags"] == [{"key": "team", "value": "core"}]
    assert {"name": "site", "value": "paris"} in now[second["containerInstanceArn"]]["attributes"]  # untouched


def test_draining_waits_until_tasks_stop(lab_aws, ecs, tmp_path):
    agent = managed_agent(lab_aws, CLUSTER)
    task_arn = run_one_task(lab_aws, ecs, agent)
    play = write_play(tmp_path / "play.yml", lab_aws, [
        task("drain", managed_instance_ids=[agent.instance_id], state="draining", wait=True, wait_timeout=120)])

    process = subprocess.Popen(play_command(play, "localhost,"), env=play_env(tmp_path), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while describe(ecs, [agent.arn])[agent.arn]["status"] != "DRAINING":
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the play never set DRAINING"
            time.sleep(0.2)
        assert process.poll() is None  # still waiting for the task
        report(lab_aws, task_arn, "STOPPED")
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, output
    [drained] = json.loads(output[output.index("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]["container_instances"]
    assert (drained["status"], drained["running_tasks_count"]) == ("DRAINING", 0)


def test_draining_wait_times_out_naming_the_instance(lab_aws, ecs, run_play):
    agent = managed_agent(lab_aws, CLUSTER)
    run_one_task(lab_aws, ecs, agent)

    result = run_play([task("drain", managed_instance_ids=[agent.instance_id], state="draining", wait=True, wait_timeout=1)])

    assert result["drain"]["failed"] is True
    assert result["drain"]["msg"] == f"timed out after 1s waiting for tasks to stop on {agent.arn} (1 running, 0 pending)"


def test_absent_deregisters_from_ecs_and_ssm_including_mi_ids_without_container_instance(lab_aws, ecs, run_play):
    kept = managed_agent(lab_aws, CLUSTER)
    gone = managed_agent(lab_aws, CLUSTER)
    orphan = managed_agent(lab_aws, CLUSTER)
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=orphan.arn)  # ECS side already gone

    result = run_play([
        dict(task("would remove", managed_instance_ids=[gone.instance_id, orphan.instance_id], state="absent"), check_mode=True),
        task("remove", managed_instance_ids=[gone.instance_id, orphan.instance_id], state="absent"),
        task("remove again", managed_instance_ids=[gone.instance_id, orphan.instance_id], state="absent"),
    ])

    assert result.returncode == 0, result.output
    would = result["would remove"]
    assert would["changed"] is True
    assert would["deregistered_managed_instance_ids"] == sorted([gone.instance_id, orphan.instance_id])
    removed = result["remove"]
    assert removed["changed"] is True
    assert [(i["container_instance_arn"], i["status"]) for i in removed["container_instances"]] == [(gone.arn, "INACTIVE")]
    assert removed["deregistered_managed_instance_ids"] == sorted([gone.instance_id, orphan.instance_id])
    assert result["remove again"]["changed"] is False
    assert managed_ids(lab_aws) == [kept.instance_id]
    assert describe(ecs, [gone.arn, kept.arn])[gone.arn]["status"] == "INACTIVE"
    assert describe(ecs, [kept.arn])[kept.arn]["status"] == "ACTIVE"


def test_absent_refuses_running_tasks_unless_forced(lab_aws, ecs, run_play):
    agent = managed_agent(lab_aws, CLUSTER)
    run_one_task(lab_aws, ecs, agent)

    refused = run_play([task("remove", container_instances=[agent.arn], state="absent")])
    assert refused["remove"]["failed"] is True
    assert "Failed to deregister container instance" in refused["remove"]["msg"]
    assert "running tasks" in refused["remove"]["msg"]
    assert managed_ids(lab_aws) == [agent.instance_id]

    forced = run_play([task("remove", container_instances=[agent.arn], state="absent", force=True, deregister_managed_instance=False)])
    assert forced["remove"]["changed"] is True
    assert forced["remove"]["deregistered_managed_instance_ids"] == []
    assert managed_ids(lab_aws) == [agent.instance_id]


def test_unknown_ids_fail_for_state_changes(lab_aws, ecs, run_play):
    document_instance(ecs, CLUSTER)

    result = run_play([task("drain", managed_instance_ids=["mi-0123456789abcdef0"], state="draining")])

    assert result["drain"]["failed"] is True
    assert result["drain"]["msg"] == "no container instance in cluster edge for managed_instance_ids mi-0123456789abcdef0"
    assert "UpdateContainerInstancesState" not in lab_aws.counters()


def test_bad_input_fails_naming_the_field_without_any_aws_call(lab_aws, ecs, run_play):
    lab_aws.reset_counters()
    bad = [
        ({"managed_instance_ids": ["i-0123456789abcdef0"]}, "managed_instance_ids"),
        ({"filter": "x", "attributes": [{"name": "ecs.capability.external"}]}, "attributes"),
        ({"filter": "x", "attributes": [{"name": "bad name!"}]}, "attributes"),
        ({"filter": "x", "state": "draining", "wait": True, "wait_timeout": 0}, "wait_timeout"),
        ({}, "one of the following is required: container_instances, managed_instance_ids, filter"),
    ]

    result = run_play([dict(task(f"bad {n}", **options), ignore_errors=True) for n, (options, _) in enumerate(bad)])

    for n, (_, field) in enumerate(bad):
        assert result[f"bad {n}"]["failed"] is True
        assert result[f"bad {n}"]["msg"].startswith(field), result[f"bad {n}"]["msg"]
    assert lab_aws.counters() == {}


def test_exclude_leaves_out_the_current_registration(lab_aws, ecs, run_play):
    """What the agent role's stale clean-up relies on: the host's mi- id selects its registrations, exclude
    keeps the one its agent uses now."""
    agent = managed_agent(lab_aws, CLUSTER)
    # The agent's data directory was wiped: it registers without its ARN, and ECS makes a new instance.
    current = agent.ecs.register_container_instance(cluster=CLUSTER, **registration())["containerInstance"]

    result = run_play([task("stale", managed_instance_ids=[agent.instance_id], exclude=[current["containerInstanceArn"]],
                            state="absent", force=True, deregister_managed_instance=False)])

    assert result.returncode == 0, result.output
    assert [i["container_instance_arn"] for i in result["stale"]["container_instances"]] == [agent.arn]
    statuses = {arn: i["status"] for arn, i in describe(ecs, [agent.arn, current["containerInstanceArn"]]).items()}
    assert statuses == {agent.arn: "INACTIVE", current["containerInstanceArn"]: "ACTIVE"}
    assert managed_ids(lab_aws) == [agent.instance_id]


def test_agent_role_deregisters_the_stale_registrations_of_its_hosts(lab_aws, ecs, run_play):
    """roles/agent/tasks/deregister_stale.yml, run as register.yml runs it once the host's agent reported its
    container instance: every other live registration of the host's mi- id in the cluster goes."""
    agent = managed_agent(lab_aws, CLUSTER)
    again = agent.ecs.register_container_instance(cluster=CLUSTER, **registration())["containerInstance"]
    current = agent.ecs.register_container_instance(cluster=CLUSTER, **registration())["containerInstance"]
    other_host = managed_agent(lab_aws, CLUSTER)
    identity = {"agent_managed_instance_id": agent.instance_id, "agent_container_instance_arn": current["containerInstanceArn"]}

    result = run_play([
        {"name": "identity", "ansible.builtin.set_fact": identity},
        {"name": "clean up", "ansible.builtin.include_role": {"name": "fleetops.ecs_anywhere.agent", "tasks_from": "deregister_stale"}},
        {"name": "again", "ansible.builtin.include_role": {"name": "fleetops.ecs_anywhere.agent", "tasks_from": "deregister_stale"}},
    ], extra_vars={"agent_region": "us-east-1", "agent_cluster": CLUSTER})

    assert result.returncode == 0, result.output
    assert result.changed_count() == 1  # the second run finds nothing stale
    arns = [agent.arn, again["containerInstanceArn"], current["containerInstanceArn"], other_host.arn]
    statuses = {arn: i["status"] for arn, i in describe(ecs, arns).items()}
    assert statuses == {agent.arn: "INACTIVE", again["containerInstanceArn"]: "INACTIVE",
                        current["containerInstanceArn"]: "ACTIVE", other_host.arn: "ACTIVE"}
    assert managed_ids(lab_aws) == sorted([agent.instance_id, other_host.instance_id])
