"""ecs_anywhere_activation and ecs_anywhere_activation_info in playbooks against the lab endpoint."""
import datetime

import pytest

from lab.aws import ssm as lab_ssm

from .conftest import files_containing

ACTIVATION = "fleetops.ecs_anywhere.ecs_anywhere_activation"
INFO = "fleetops.ecs_anywhere.ecs_anywhere_activation_info"
TAGS = {"managed-by": "fleetops.ecs_anywhere"}


def stored_code(activation_id):
    """The code the lab endpoint holds for an activation (the module's answer is censored by no_log)."""
    for backend in lab_ssm._all_backends():
        activation = lab_ssm._state(backend).activations.get(activation_id)
        if activation:
            return activation.activation_code
    raise AssertionError(f"no activation {activation_id}")


def create(name="create", **options):
    return {"name": name, ACTIVATION: dict({"iam_role": "ecsAnywhereRole"}, **options), "register": "created"}


def info(name="info", **options):
    return {"name": name, INFO: options}


def test_create_returns_id_and_code_and_info_counts_registrations(lab_aws, run_play):
    result = run_play([
        create(registration_limit=3, expiration="1h", default_instance_name="edge", description="lab", tags=TAGS),
        {"name": "show", "ansible.builtin.debug": {"msg": "{{ created.activation_id }} {{ created.activation_code | length }}"}},
    ])

    assert result.returncode == 0, result.output
    created = result["create"]
    assert created["changed"] is True
    activation_id = created["activation_id"]
    assert created["activation_code"] == stored_code(activation_id)
    assert result["show"]["msg"] == f"{activation_id} 20"
    activation = created["activation"]
    assert activation["activation_id"] == activation_id
    assert (activation["registration_limit"], activation["registrations_count"], activation["expired"]) == (3, 0, False)
    assert activation["tags"] == TAGS and activation["default_instance_name"] == "edge"
    expires = datetime.datetime.fromisoformat(activation["expiration_date"])
    assert datetime.timedelta(minutes=59) < expires - datetime.datetime.now(datetime.timezone.utc) <= datetime.timedelta(hours=1)

    for _ in range(3):
        lab_aws.register_managed_instance(activation_id, stored_code(activation_id))
    listed = run_play([info(tags=TAGS)])
    assert listed.returncode == 0, listed.output
    [described] = listed["info"]["activations"]
    assert described["registrations_count"] == 3
    assert "activation_code" not in described


def test_check_mode_creates_nothing_and_diff_shows_the_activation(lab_aws, run_play):
    result = run_play([create(registration_limit=2, expiration="2h")], check=True, diff=True)

    assert result.returncode == 0, result.output
    created = result["create"]
    assert created["changed"] is True
    assert created["activation_id"] is None and created["activation_code"] is None
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["registration_limit"] == 2
    assert "CreateActivation" not in lab_aws.counters()
    assert lab_aws.client("ssm").describe_activations()["ActivationList"] == []


BAD_INPUT = [
    ({"expiration": "31d"}, "expiration"),
    ({"expiration": "yesterday"}, "expiration"),
    ({"registration_limit": 0}, "registration_limit"),
    ({"registration_limit": 1001}, "registration_limit"),
    ({"default_instance_name": "no;way"}, "default_instance_name"),
]


def test_bad_input_fails_naming_the_field_without_any_aws_call(lab_aws, run_play):
    tasks = [dict(create(name=f"bad {n}", **options), ignore_errors=True) for n, (options, field) in enumerate(BAD_INPUT)]

    result = run_play(tasks)

    for n, (options, field) in enumerate(BAD_INPUT):
        task = result[f"bad {n}"]
        assert task["failed"] is True
        assert task["msg"].startswith(field), task["msg"]
    assert lab_aws.counters() == {}


def test_missing_iam_role_fails_without_any_aws_call(lab_aws, run_play):
    result = run_play([{"name": "create", ACTIVATION: {"registration_limit": 1}}])

    assert result["create"]["failed"] is True
    assert "iam_role" in result["create"]["msg"]
    assert lab_aws.counters() == {}


def test_absent_by_id_then_again_is_ok(lab_aws, run_play):
    activation_id = lab_aws.create_activation()["ActivationId"]

    result = run_play([
        {"name": "delete", ACTIVATION: {"state": "absent", "activation_id": activation_id}},
        {"name": "again", ACTIVATION: {"state": "absent", "activation_id": activation_id}},
    ])

    assert result.returncode == 0, result.output
    assert result["delete"]["changed"] is True
    assert [a["activation_id"] for a in result["delete"]["activations"]] == [activation_id]
    assert result["again"]["changed"] is False
    assert lab_aws.client("ssm").describe_activations()["ActivationList"] == []


def test_sweep_deletes_only_expired_activations_of_this_collection(lab_aws, run_play):
    ssm_tags = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    old_ours = lab_aws.create_activation(Tags=ssm_tags, ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    old_theirs = lab_aws.create_activation(ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    lab_aws.clock(advance=2 * 3600)  # both expire, without waiting
    live_ours = lab_aws.create_activation(Tags=ssm_tags)

    result = run_play([
        {"name": "would sweep", ACTIVATION: {"state": "absent", "tags": TAGS, "expired": True}, "check_mode": True},
        {"name": "sweep", ACTIVATION: {"state": "absent", "tags": TAGS, "expired": True}},
        info(name="left"),
    ], diff=True)

    assert result.returncode == 0, result.output
    assert [a["activation_id"] for a in result["would sweep"]["activations"]] == [old_ours["ActivationId"]]
    assert [a["activation_id"] for a in result["sweep"]["activations"]] == [old_ours["ActivationId"]]
    assert result["sweep"]["diff"] == {"before": {"activation_ids": [old_ours["ActivationId"]]}, "after": {"activation_ids": []}}
    left = {a["activation_id"]: a["expired"] for a in result["left"]["activations"]}
    assert left == {old_theirs["ActivationId"]: True, live_ours["ActivationId"]: False}
    assert lab_aws.counters()["DeleteActivation"] == 1


def test_absent_without_a_selector_fails_without_any_aws_call(lab_aws, run_play):
    result = run_play([{"name": "delete", ACTIVATION: {"state": "absent"}}])

    assert result["delete"]["failed"] is True
    assert "state=absent needs activation_id or a selector" in result["delete"]["msg"]
    assert lab_aws.counters() == {}


def test_info_filters_and_returns_an_empty_list_when_nothing_matches(lab_aws, run_play):
    first = lab_aws.create_activation(DefaultInstanceName="edge")
    lab_aws.create_activation(iam_role="otherRole")

    result = run_play([
        info(name="by name", default_instance_name="edge"),
        info(name="by role", iam_role="arn:aws:iam::123456789012:role/otherRole"),
        info(name="by id", activation_ids=[first["ActivationId"]]),
        info(name="none", tags={"no": "such"}),
        info(name="live", expired=False),
    ])

    assert result.returncode == 0, result.output
    assert [a["activation_id"] for a in result["by name"]["activations"]] == [first["ActivationId"]]
    assert [a["iam_role"] for a in result["by role"]["activations"]] == ["otherRole"]
    assert [a["activation_id"] for a in result["by id"]["activations"]] == [first["ActivationId"]]
    assert result["none"]["activations"] == []
    assert len(result["live"]["activations"]) == 2


@pytest.fixture
def managed_policies(lab_aws, monkeypatch):
    """AWS-managed IAM policies in the lab, as in a real account. moto loads them into a fresh IAM backend
    only when asked; the endpoint runs in this process, so the setting is read here. The next test's reset
    (after monkeypatch restores the environment) drops them again."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    lab_aws.reset()
    return lab_aws.client("iam")


def test_validate_role_refuses_an_unfit_role_and_accepts_a_fit_one(lab_aws, run_play, managed_policies):
    iam = managed_policies
    # The lab's account starts with ecsAnywhereRole as AWS's guide makes it (lab.aws.auth); take one policy away.
    iam.detach_role_policy(RoleName="ecsAnywhereRole", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")

    unfit = run_play([create(validate_role=True), create(name="missing", iam_role="noSuchRole", validate_role=True)])
    assert unfit["create"]["failed"] is True
    assert unfit["create"]["msg"] == ("iam_role: the IAM role ecsAnywhereRole cannot serve ECS Anywhere instances: "
                                      "it lacks the managed policy AmazonEC2ContainerServiceforEC2Role")
    assert "CreateActivation" not in lab_aws.counters()

    iam.attach_role_policy(RoleName="ecsAnywhereRole", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")
    fit = run_play([create(validate_role=True), create(name="missing", iam_role="noSuchRole", validate_role=True)])
    assert fit["create"]["changed"] is True
    assert fit["missing"]["msg"] == "iam_role: the IAM role noSuchRole does not exist"
    assert lab_aws.counters()["CreateActivation"] == 1


def test_no_log_task_keeps_the_code_out_of_verbose_output_and_controller_files(lab_aws, run_play, tmp_path):
    result = run_play([
        dict(create(registration_limit=1, expiration="1h"), no_log=True),
        {"name": "show id", "ansible.builtin.debug": {"var": "created.activation_id"}},
    ], verbosity=4)

    assert result.returncode == 0, result.output
    [activation] = lab_aws.client("ssm").describe_activations()["ActivationList"]
    code = stored_code(activation["ActivationId"])
    assert activation["ActivationId"] in result.output  # the run did happen and printed the id
    assert code not in result.output
    assert code not in result.log
    assert files_containing(tmp_path, code) == []
