"""ecs_anywhere_register on booted lab hosts (systemd-nspawn, agent stand-ins from the signed apt repo), with the
controller modules against the lab endpoint. Needs root; claims the session's lab with 3 hosts
(tests/lab/conftest.py's session_lab).

The tests share the lab and run in file order:
1. one activation with limit 3 registers the 3 hosts; a second run changes nothing and uses no registration;
2. a cluster change moves a host into the new cluster and its agent starts cleanly;
3. state=absent on a host plus ecs_container_instance state=absent removes it from ECS and SSM;
4. an exhausted and an expired activation (lab clock moved, no waiting) fail naming the host;
5. registering at -vvvv leaves the code in no output and no file on the controller or the host.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.fleet import config
from lab.fleet.testing import SSH_OPTIONS, create_clusters, island_python, lab, on_host, wait_for

from ..conftest import PlayResult
from .conftest import files_containing

FILES = Path(__file__).parent / "files"
CLUSTER, OTHER_CLUSTER = "edge", "green"
pytestmark = pytest.mark.fleet
TAGS = {"managed-by": "fleetops.ecs_anywhere", "cluster": CLUSTER}


@pytest.fixture(scope="module")
def fleet(session_lab, tmp_path_factory):
    state = session_lab.claim(hosts=3)
    create_clusters(CLUSTER, OTHER_CLUSTER)
    prepared = play("prepare.yml", tmp_path_factory.mktemp("prepare"))
    assert prepared.returncode == 0, prepared.output
    return state


def play(playbook, workdir, verbosity=0, env=None, **extra_vars):
    """ansible-playbook on the lab through `python -m lab exec`; controller temp files and log under workdir."""
    workdir = Path(workdir).resolve()
    log = workdir / "ansible.log"
    args = ["exec", "--", "ansible-playbook", str(FILES / playbook)]
    for name, value in extra_vars.items():
        args += ["-e", f"{name}={value}"]
    if verbosity:
        args.append("-" + "v" * verbosity)
    run_env = {"ANSIBLE_STDOUT_CALLBACK": "default" if verbosity else "ansible.posix.json", "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
               "ANSIBLE_LOG_PATH": str(log)}
    run_env.update(env or {})
    return PlayResult(lab(*args, env=run_env, timeout=900), log)


def ssm_state():
    return island_python("""
import boto3, json
ssm = boto3.client("ssm")
pages = ssm.get_paginator("describe_instance_information").paginate()
instances = [i for page in pages for i in page["InstanceInformationList"]]
activations = ssm.describe_activations()["ActivationList"]
print(json.dumps({"instances": instances, "activations": activations}, default=str))
""")


def container_instances(cluster):
    return island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
arns = ecs.list_container_instances(cluster="{cluster}", status="ACTIVE")["containerInstanceArns"]
found = ecs.describe_container_instances(cluster="{cluster}", containerInstances=arns)["containerInstances"] if arns else []
print(json.dumps(found, default=str))
""")


def describe_arn(cluster, arn):
    return island_python(f"""
import boto3, json
ecs = boto3.client("ecs")
print(json.dumps(ecs.describe_container_instances(cluster="{cluster}", containerInstances=["{arn}"])["containerInstances"], default=str))
""")[0]


def new_activation(limit=1, expires_in_hours=1, burn=0):
    """An activation made with boto3 in the island; burn registrations are used up by fake agents."""
    return island_python(f"""
import boto3, datetime, json, os
from lab.aws.testing import LabEndpoint
answer = boto3.client("ssm").create_activation(IamRole="ecsAnywhereRole", RegistrationLimit={limit},
    ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours={expires_in_hours}))
endpoint = LabEndpoint(os.environ["AWS_ENDPOINT_URL"])
for _ in range({burn}):
    endpoint.register_managed_instance(answer["ActivationId"], answer["ActivationCode"])
print(json.dumps({{"id": answer["ActivationId"], "code": answer["ActivationCode"]}}))
""")


def move_lab_clock(seconds):
    """Set the lab endpoint's clock offset: expiry without waiting."""
    island_python(f"""
import json, os
from lab.aws.testing import LabEndpoint
print(json.dumps(LabEndpoint(os.environ["AWS_ENDPOINT_URL"]).clock(offset={seconds})))
""")


def metadata(address):
    return json.loads(on_host(address, "curl -sf http://127.0.0.1:51678/v1/metadata").stdout)


def host_files_containing(address, secret):
    """Files on the host holding secret (read from stdin, so that no command line carries it), and how many
    journal lines do."""
    key = config.STATE_DIR / "id_ed25519"
    ssh = [sys.executable, "-m", "lab", "exec", "--", "ssh", "-i", str(key), *SSH_OPTIONS, f"root@{address}"]
    search = "read -r s; grep -rlsF -e \"$s\" /etc /var /root /tmp /home /opt /usr/local /run /srv; true"
    files = subprocess.run([*ssh, search], input=secret + "\n", capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=300)
    journal = subprocess.run([*ssh, "read -r s; journalctl --no-pager -o cat | grep -cF -e \"$s\"; true"],
                             input=secret + "\n", capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=300)
    return files.stdout.split(), int(journal.stdout.strip() or 0)


def test_one_activation_registers_three_hosts_and_a_second_run_changes_nothing(fleet, tmp_path):
    names = {h["name"]: h["address"] for h in fleet["hosts"]}

    first = play("register.yml", tmp_path, cluster=CLUSTER)

    assert first.returncode == 0, first.output
    results = {name: first.host("Register the host and start its agents", name) for name in names}
    assert all(r["changed"] and r["needs_activation"] for r in results.values())
    state = ssm_state()
    [activation] = state["activations"]
    assert (activation["RegistrationLimit"], activation["RegistrationsCount"]) == (3, 3)
    assert {t["Key"]: t["Value"] for t in activation["Tags"]} == TAGS
    managed = {i["InstanceId"] for i in state["instances"]}
    assert managed == {r["managed_instance_id"] for r in results.values()}
    ready = wait_for(lambda: (lambda found: found if len([c for c in found if c["agentConnected"]]) == 3 else None)(
        container_instances(CLUSTER)), 120, "3 connected container instances")
    assert {c["containerInstanceArn"] for c in ready} == {r["container_instance_arn"] for r in results.values()}
    assert {c["ec2InstanceId"] for c in ready} == managed
    for name, address in names.items():
        assert metadata(address)["ContainerInstanceArn"] == results[name]["container_instance_arn"]
        config_text = on_host(address, "cat /var/lib/ecs/ecs.config").stdout
        assert config_text.startswith("ECS_LAB_PING_INTERVAL=5\nECS_LAB_POLL_INTERVAL=1\n")  # the user's keys stay
        assert config_text.count("AWS_DEFAULT_REGION=") == 1

    second = play("register.yml", tmp_path, cluster=CLUSTER)

    assert second.returncode == 0, second.output
    assert second.changed_count() == 0, second.stats
    assert second.tasks["Create one activation for the hosts that need one"][fleet["hosts"][0]["name"]]["skipped"] is True
    after = ssm_state()
    assert [a["RegistrationsCount"] for a in after["activations"]] == [3]
    assert {i["InstanceId"] for i in after["instances"]} == managed


def test_cluster_change_moves_the_host_and_its_agent_starts_cleanly(fleet, tmp_path):
    host = fleet["hosts"][0]
    before = metadata(host["address"])

    moved = play("register.yml", tmp_path, cluster=OTHER_CLUSTER, target=host["name"])

    assert moved.returncode == 0, moved.output
    result = moved.host("Register the host and start its agents", host["name"])
    assert result["changed"] is True and result["needs_activation"] is False
    assert [c["action"] for c in result["changes"]] == ["update /etc/ecs/ecs.config", "clear ECS agent data", "restart ecs"]
    assert result["previous_container_instance_arn"] == before["ContainerInstanceArn"]
    now = metadata(host["address"])
    assert now["Cluster"] == OTHER_CLUSTER and now["ContainerInstanceArn"] == result["container_instance_arn"]
    assert on_host(host["address"], "systemctl is-active ecs").stdout.strip() == "active"
    new = wait_for(lambda: (lambda found: found if found and found[0]["agentConnected"] else None)(
        container_instances(OTHER_CLUSTER)), 120, "the host connected in the new cluster")
    assert new[0]["ec2InstanceId"] == result["managed_instance_id"]  # same registration, new cluster
    assert [c["containerInstanceArn"] for c in new] == [result["container_instance_arn"]]
    assert sum(1 for i in ssm_state()["instances"]) == 3


def test_absent_on_the_host_and_the_controller_removes_it_from_ecs_and_ssm(fleet, tmp_path):
    host = fleet["hosts"][2]
    before = metadata(host["address"])
    managed_before = {i.get("ComputerName"): i["InstanceId"] for i in ssm_state()["instances"]}

    removed = play("remove.yml", tmp_path, target=host["name"])

    assert removed.returncode == 0, removed.output
    cleared = removed.host("Stop the agents and clear the registration", host["name"])
    assert cleared["previous_managed_instance_id"] == managed_before[host["name"]]
    assert cleared["previous_container_instance_arn"] == before["ContainerInstanceArn"]
    deregistered = removed.host("Deregister the container instance and the managed instance", host["name"])
    assert deregistered["deregistered_managed_instance_ids"] == [managed_before[host["name"]]]
    assert managed_before[host["name"]] not in {i["InstanceId"] for i in ssm_state()["instances"]}
    assert describe_arn(CLUSTER, before["ContainerInstanceArn"])["status"] == "INACTIVE"
    assert on_host(host["address"], "systemctl is-active ecs amazon-ssm-agent").stdout.split() == ["inactive", "inactive"]
    assert on_host(host["address"], "test -e /var/lib/amazon/ssm/Vault/Store/RegistrationKey").returncode != 0
    assert on_host(host["address"], "ls -A /var/lib/ecs/data").stdout.strip() == ""


@pytest.mark.parametrize("kind,hint", [("exhausted", "the activation has no registrations left"),
                                       ("expired", "the activation has expired")])
def test_exhausted_or_expired_activation_fails_naming_the_host(fleet, tmp_path, kind, hint):
    host = fleet["hosts"][2]  # taken out by the previous test
    activation = new_activation(limit=1, burn=1 if kind == "exhausted" else 0)
    if kind == "expired":
        move_lab_clock(2 * 3600)
    try:
        result = play("register_with.yml", tmp_path, env={"FLEETOPS_TEST_ACTIVATION_CODE": activation["code"]},
                      target=host["name"], cluster=CLUSTER, activation_id=activation["id"])
    finally:
        move_lab_clock(0)

    assert result.returncode != 0
    failed = result.host("Register the host and start its agents", host["name"])
    assert failed["failed"] is True
    assert failed["msg"].startswith(f"{host['name']}: registration with activation {activation['id']}")
    assert hint in failed["msg"]
    assert activation["code"] not in result.output


def test_registering_at_vvvv_leaves_the_code_nowhere(fleet, tmp_path):
    host = fleet["hosts"][2]
    activation = new_activation(limit=1)

    result = play("register_with.yml", tmp_path, verbosity=4, env={"FLEETOPS_TEST_ACTIVATION_CODE": activation["code"]},
                  target=host["name"], cluster=CLUSTER, activation_id=activation["id"])

    assert result.returncode == 0, result.output
    assert "Successfully registered" not in result.output  # the agent's own output is not echoed either
    assert activation["id"] in result.output  # the run did print its arguments, just not the code
    assert activation["code"] not in result.output
    assert activation["code"] not in result.log
    assert files_containing(tmp_path, activation["code"]) == []
    assert files_containing(Path.home() / ".ansible", activation["code"]) == []
    files, journal_lines = host_files_containing(host["address"], activation["code"])
    assert files == [] and journal_lines == 0
    # The search itself finds what is there: a marker put in a file and in the journal.
    marker = "marker-" + activation["id"]
    on_host(host["address"], f"echo {marker} > /var/tmp/marker && logger {marker}")
    files, journal_lines = host_files_containing(host["address"], marker)
    assert "/var/tmp/marker" in files and any(f.startswith("/run/log/journal/") for f in files) and journal_lines == 1
    registered = metadata(host["address"])
    assert registered["Cluster"] == CLUSTER
    reported = wait_for(lambda: [i for i in ssm_state()["instances"] if i.get("ComputerName") == host["name"]], 60,
                        "the host's SSM agent reporting")
    assert [i["ActivationId"] for i in reported] == [activation["id"]]
