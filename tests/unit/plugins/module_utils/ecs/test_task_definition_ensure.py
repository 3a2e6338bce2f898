# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ensure_present / ensure_absent against an ECS client that answers as AWS does (fake_ecs)."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import definition_from_options
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import ensure_absent
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.task_definitions import ensure_present

from .fake_ecs import FakeECS


@pytest.fixture
def ecs():
    return FakeECS()


def _request(register_shape, environment=None, **task):
    container = {"name": "web", "image": "nginx:1.27", "memory": 128, "portMappings": [{"containerPort": 80}],
                 "environment": environment or [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    options = {"family": "web", "containers": [container]}
    options.update(task)
    return definition_from_options(options, register_shape)[0]


def test_first_run_registers_then_reuses_with_one_describe(ecs, register_shape):
    first = ensure_present(ecs, _request(register_shape), None)
    assert first["changed"] is True
    assert first["task_definition"]["revision"] == 1
    ecs.calls.clear()
    second = ensure_present(ecs, _request(register_shape), None)
    assert second["changed"] is False
    assert second["changes"] == []
    assert second["task_definition"]["task_definition_arn"].endswith("web:1")
    assert ecs.calls == {"DescribeTaskDefinition": 1}


def test_one_describe_whatever_the_number_of_revisions(ecs, register_shape):
    for value in range(300):
        ecs.register_task_definition(**_request(register_shape, environment=[{"name": "N", "value": str(value)}]))
    ecs.calls.clear()
    result = ensure_present(ecs, _request(register_shape, environment=[{"name": "N", "value": "299"}]), None)
    assert result["changed"] is False
    assert ecs.calls == {"DescribeTaskDefinition": 1}


def test_environment_change_registers_a_new_revision(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), None)
    result = ensure_present(ecs, _request(register_shape, environment=[{"name": "A", "value": "9"}]), None)
    assert result["changed"] is True
    assert result["changes"] == ["containerDefinitions[web].environment"]
    assert result["task_definition"]["revision"] == 2
    assert result["diff"]["before"]["containerDefinitions"][0]["environment"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert result["diff"]["after"]["containerDefinitions"][0]["environment"] == [{"name": "A", "value": "9"}]


def test_only_the_latest_active_revision_counts(ecs, register_shape):
    # Revision 1 matches, revision 2 (the latest) does not: a revision is registered rather than matching an old one.
    ensure_present(ecs, _request(register_shape), None)
    ensure_present(ecs, _request(register_shape, cpu="256"), None)
    result = ensure_present(ecs, _request(register_shape), None)
    assert result["changed"] is True
    assert result["task_definition"]["revision"] == 3


def test_a_deregistered_latest_revision_falls_back_to_the_previous_active_one(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), None)
    ensure_present(ecs, _request(register_shape, cpu="256"), None)
    ecs.deregister_task_definition(taskDefinition="web:2")
    result = ensure_present(ecs, _request(register_shape), None)
    assert result["changed"] is False
    assert result["task_definition"]["revision"] == 1


def test_check_mode_registers_nothing(ecs, register_shape):
    result = ensure_present(ecs, _request(register_shape), {"team": "ops"}, check_mode=True)
    assert result["changed"] is True
    assert "task_definition_arn" not in result["task_definition"]
    assert result["task_definition"]["tags"] == {"team": "ops"}
    assert result["diff"]["before"] == {}
    assert ecs.calls == {"DescribeTaskDefinition": 1}
    assert ecs.revisions == {}


def test_tags_only_change_tags_the_latest_revision_in_place(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), {"team": "ops", "old": "x"})
    ecs.calls.clear()
    result = ensure_present(ecs, _request(register_shape), {"team": "dev"})
    assert result["changed"] is True
    assert result["changes"] == ["tags"]
    assert result["task_definition"]["revision"] == 1
    assert result["task_definition"]["tags"] == {"team": "dev"}
    assert ecs.tags[result["task_definition"]["task_definition_arn"]] == [{"key": "team", "value": "dev"}]
    assert ecs.calls == {"DescribeTaskDefinition": 1, "TagResource": 1, "UntagResource": 1}


def test_tags_left_alone_when_unset_and_carried_to_a_new_revision(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), {"team": "ops"})
    assert ensure_present(ecs, _request(register_shape), None)["changed"] is False
    result = ensure_present(ecs, _request(register_shape, cpu="512"), None)
    assert result["task_definition"]["tags"] == {"team": "ops"}


def test_tags_merge_without_purge(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), {"team": "ops"})
    result = ensure_present(ecs, _request(register_shape), {"env": "lab"}, purge_tags=False)
    assert result["task_definition"]["tags"] == {"team": "ops", "env": "lab"}


def test_absent_deregisters_every_active_revision_across_pages(ecs, register_shape):
    for value in range(250):
        ecs.register_task_definition(**_request(register_shape, environment=[{"name": "N", "value": str(value)}]))
    ecs.register_task_definition(**dict(_request(register_shape), family="web-other"))
    ecs.calls.clear()
    result = ensure_absent(ecs, "web")
    assert result["changed"] is True
    assert len(result["task_definition_arns"]) == 250
    assert ecs.calls == {"ListTaskDefinitions": 3, "DeregisterTaskDefinition": 250}
    assert all(definition["status"] == "INACTIVE" for definition in ecs.revisions["web"].values())
    assert ecs.revisions["web-other"][1]["status"] == "ACTIVE"
    assert ensure_absent(ecs, "web") == {"changed": False, "task_definition_arns": []}


def test_absent_one_revision(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), None)
    ensure_present(ecs, _request(register_shape, cpu="256"), None)
    result = ensure_absent(ecs, "web", revision=1)
    assert result["task_definition_arns"] == ["arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"]
    assert ecs.revisions["web"][2]["status"] == "ACTIVE"
    assert ensure_absent(ecs, "web", revision=1)["changed"] is False
    assert ensure_absent(ecs, "web", revision=9)["changed"] is False


def test_absent_in_check_mode_deregisters_nothing(ecs, register_shape):
    ensure_present(ecs, _request(register_shape), None)
    result = ensure_absent(ecs, "web", check_mode=True)
    assert result["changed"] is True
    assert ecs.revisions["web"][1]["status"] == "ACTIVE"
