# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_container_instance's core: option checks, attribute/tag compare, check-mode results, batching and the
drain waiter (a recording client and a fake clock; the lab playbook tests cover the real API)."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs import container_instance_state as state
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError

ARN = "arn:aws:ecs:us-east-1:123456789012:container-instance/edge/0123456789abcdef0123456789abcdef"
DESCRIBED = {
    "containerInstanceArn": ARN,
    "ec2InstanceId": "mi-0123456789abcdef0",
    "status": "ACTIVE",
    "agentConnected": True,
    "runningTasksCount": 0,
    "pendingTasksCount": 0,
    "attributes": [{"name": "ecs.capability.external"}, {"name": "ecs.os-type", "value": "linux"},
                   {"name": "site", "value": "lyon"}, {"name": "gpu"}],
    "tags": [{"key": "team", "value": "edge"}],
}


@pytest.mark.parametrize(
    "params,problem",
    [
        ({"cluster": ""}, "cluster"),
        ({"cluster": "edge", "managed_instance_ids": ["mi-123"]}, "managed_instance_ids"),
        ({"cluster": "edge", "container_instances": [""]}, "container_instances"),
        ({"cluster": "edge", "attributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.17"}]}, "attributes: com.amazonaws"),
        ({"cluster": "edge", "attributes": [{"name": "x" * 129}]}, "attributes: name"),
        ({"cluster": "edge", "attributes": [{"name": "ok", "value": "semi;colon"}]}, "attributes: value of ok"),
        ({"cluster": "edge", "wait_timeout": 0}, "wait_timeout"),
    ],
)
def test_check_options_names_the_option(params, problem):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        state.check_options(params)
    assert error.value.message.startswith(problem)


def test_check_options_accepts_good_input():
    state.check_options({"cluster": "edge", "managed_instance_ids": ["mi-0123456789abcdef0"],
                         "attributes": [{"name": "site", "value": "lyon"}, {"name": "gpu"}], "wait_timeout": 1})


def test_custom_attributes_leave_out_ecs_ones():
    assert state.custom_attributes(DESCRIBED) == {"site": "lyon", "gpu": None}


@pytest.mark.parametrize(
    "desired,purge,to_put,to_delete",
    [
        ([{"name": "site", "value": "lyon"}], False, {}, []),
        ([{"name": "site", "value": "paris"}], False, {"site": "paris"}, []),
        ([{"name": "rack", "value": 7}], True, {"rack": "7"}, ["gpu", "site"]),
        ([{"name": "gpu"}], True, {}, ["site"]),
        ([{"name": "gpu", "value": "yes"}], False, {"gpu": "yes"}, []),
        ([], True, {}, ["gpu", "site"]),
    ],
)
def test_attribute_changes(desired, purge, to_put, to_delete):
    assert state.attribute_changes({"site": "lyon", "gpu": None}, desired, purge) == (to_put, to_delete)


def test_instance_change_and_check_mode_result():
    change = state.InstanceChange(DESCRIBED, "DRAINING", [{"name": "rack", "value": "r1"}], True, {"env": "lab"}, False)

    assert change.changed
    assert (change.status, change.put, change.delete, change.set_tags, change.unset_tags) == (
        "DRAINING", {"rack": "r1"}, ["gpu", "site"], {"env": "lab"}, [])
    after = change.applied_to(state.normalize_container_instance(DESCRIBED))
    assert state.diff_view(after) == {"status": "DRAINING", "attributes": {"rack": "r1"}, "tags": {"team": "edge", "env": "lab"}}
    assert after["ec2_instance_id"] == "mi-0123456789abcdef0"


def test_unchanged_instance_is_not_a_change():
    change = state.InstanceChange(DESCRIBED, "ACTIVE", [{"name": "site", "value": "lyon"}], False, {"team": "edge"}, True)

    assert not change.changed


class RecordingECS:
    """Records calls; describe answers come from a script of runningTasksCount values."""

    def __init__(self, running=()):
        self.calls = []
        self.running = list(running)

    def update_container_instances_state(self, **kwargs):
        self.calls.append(("update", kwargs))
        return {"failures": []}

    def put_attributes(self, **kwargs):
        self.calls.append(("put", kwargs))

    def describe_container_instances(self, **kwargs):
        self.calls.append(("describe", kwargs))
        count = self.running.pop(0) if len(self.running) > 1 else self.running[0]
        return {"containerInstances": [dict(DESCRIBED, runningTasksCount=count)], "failures": []}


def test_state_updates_go_in_batches_of_ten():
    client = RecordingECS()
    arns = ["{0}{1:02d}".format(ARN[:-2], n) for n in range(23)]

    state.update_container_instances_state(client, "edge", arns, "DRAINING")

    assert [len(kwargs["containerInstances"]) for dummy, kwargs in client.calls] == [10, 10, 3]


def test_attributes_always_name_their_target_and_go_by_ten():
    client = RecordingECS()
    attributes = [{"name": "a{0}".format(n), "value": "v", "targetId": ARN} for n in range(12)]

    state.put_attributes(client, "edge", attributes)

    assert [len(kwargs["attributes"]) for dummy, kwargs in client.calls] == [10, 2]
    assert all(a["targetId"] == ARN for dummy, kwargs in client.calls for a in kwargs["attributes"])


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_drained_polls_with_growing_delays_until_no_task_runs():
    client, clock = RecordingECS(running=[2, 1, 1, 0]), FakeClock()

    described = state.wait_until_drained(client, "edge", [ARN], 300, sleep=clock.sleep, clock=clock)

    assert described[0]["runningTasksCount"] == 0
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_wait_until_drained_times_out_naming_the_busy_instance():
    client, clock = RecordingECS(running=[1]), FakeClock()

    with pytest.raises(AnsibleECSAnywhereError) as error:
        state.wait_until_drained(client, "edge", [ARN], 10, sleep=clock.sleep, clock=clock)

    assert error.value.message == "timed out after 10s waiting for tasks to stop on {0} (1 running, 0 pending)".format(ARN)
    assert sum(clock.sleeps) == 10
