"""playbooks/rollout.yml as an AWX job: one ansible-runner job over a 3-host lab, run inside the island. The tests
read the result of that one job (module fixture): its status and recap, what SSM and ECS now hold, the lab's
call counters, and the job events AWX would store."""
import pytest

from lab.fleet.testing import lab_control

from .conftest import (NO_LOG_PLACEHOLDER, RunnerJob, call_counts, container_instances, create_cluster, ssm_state,
                       values_of_key, wait_online)

HOSTS = 3
pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def rollout(session_lab, tmp_path_factory):
    state = session_lab.claim(hosts=HOSTS)
    create_cluster()
    lab_control("/_lab/counters/reset", {})
    job = RunnerJob(tmp_path_factory.mktemp("runner"), "rollout").start().wait(timeout=900)
    return {"job": job, "hosts": sorted(host["name"] for host in state["hosts"])}


def test_the_job_succeeds_on_every_host(rollout):
    job = rollout["job"]
    assert (job.status, job.rc) == ("successful", 0), job.failure_report()
    stats = job.stats()
    assert sorted(job.hosts()) == rollout["hosts"]
    assert not stats["failures"] and not stats["dark"], job.failure_report()
    assert sorted(stats["ok"]) == rollout["hosts"]


def test_every_host_is_online_in_ssm_and_active_in_the_cluster(rollout):
    online = wait_online(HOSTS)
    assert sorted(instance["ComputerName"] for instance in online) == rollout["hosts"]
    registered = container_instances()
    assert sorted(registered) == sorted(instance["InstanceId"] for instance in online)
    assert all(status == ["ACTIVE", True] for status in registered.values()), registered


def test_one_activation_was_created_and_deleted(rollout):
    calls = call_counts()
    assert calls.get("CreateActivation") == 1
    assert calls.get("DeleteActivation") == 1
    assert calls.get("RegisterManagedInstance") == HOSTS
    assert ssm_state()["activations"] == []


def test_no_job_event_carries_an_activation_code(rollout):
    # AWX keeps every job event; the code is only in the create task's result, which no_log hides.
    codes = [code for event in rollout["job"].events() for code in values_of_key(event, "activation_code")]
    # The register task's arguments are in the events, masked.
    assert codes and set(codes) == {NO_LOG_PLACEHOLDER}, codes
