"""AWX job slicing of the rollout: 3 concurrent ansible-runner jobs over a 6-host lab, each limited to its slice.

AWX sorts the inventory's hosts by name and gives slice k (0-based) the hosts k, k+3, k+6, ... (awx/main/models/
inventory.py, get_script_data: hosts[offset::slice_count]); each slice is a separate job. The agent role creates
one activation per play batch, so each slice must create its own, register only its own hosts with it, and delete
it. The tests read the outcome of the one set of jobs (module fixture)."""
import collections

import pytest

from lab.fleet.testing import lab_control

from .conftest import RunnerJob, call_counts, container_instances, create_cluster, ssm_state, wait_online

HOSTS, SLICES = 6, 3
pytestmark = pytest.mark.fleet


def awx_slices(hosts, count):
    ordered = sorted(hosts)
    return [ordered[offset::count] for offset in range(count)]


@pytest.fixture(scope="module")
def sliced(session_lab, tmp_path_factory):
    state = session_lab.claim(hosts=HOSTS)
    create_cluster()
    lab_control("/_lab/counters/reset", {})
    slices = awx_slices([host["name"] for host in state["hosts"]], SLICES)
    workdir = tmp_path_factory.mktemp("slices")
    jobs = [RunnerJob(workdir, f"slice-{number}", limit=hosts) for number, hosts in enumerate(slices, start=1)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.wait(timeout=900)
    return {"jobs": jobs, "slices": slices}


def test_each_slice_job_succeeds_on_its_own_hosts_only(sliced):
    for job, hosts in zip(sliced["jobs"], sliced["slices"]):
        assert (job.status, job.rc) == ("successful", 0), job.failure_report()
        stats = job.stats()
        assert not stats["failures"] and not stats["dark"], job.failure_report()
        assert job.hosts() == set(hosts)


def test_the_slice_jobs_ran_at_the_same_time(sliced):
    windows = [job.window() for job in sliced["jobs"]]
    assert max(start for start, _ in windows) < min(end for _, end in windows), windows


def test_six_hosts_registered_once_each(sliced):
    online = wait_online(HOSTS)
    names = [instance["ComputerName"] for instance in online]
    assert sorted(names) == sorted(host for hosts in sliced["slices"] for host in hosts)
    assert call_counts().get("RegisterManagedInstance") == HOSTS
    assert sorted(container_instances()) == sorted(instance["InstanceId"] for instance in online)


def test_each_slice_registered_its_hosts_with_its_own_activation(sliced):
    by_activation = collections.defaultdict(set)
    for instance in ssm_state()["instances"]:
        by_activation[instance["ActivationId"]].add(instance["ComputerName"])
    assert sorted(map(sorted, by_activation.values())) == sorted(sliced["slices"])


def test_three_activations_were_created_and_all_deleted(sliced):
    calls = call_counts()
    assert calls.get("CreateActivation") == SLICES
    assert calls.get("DeleteActivation") == SLICES
    assert ssm_state()["activations"] == []
