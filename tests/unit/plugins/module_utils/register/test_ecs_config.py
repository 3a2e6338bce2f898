# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs.config key management: owned keys once, in place, in their home file; everything else kept."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import ecs_config
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.ecs_config import ETC
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.ecs_config import VAR

USER_ETC = """# site settings, written by hand
ECS_LOGLEVEL=debug
ECS_CLUSTER=old
ECS_RESERVED_MEMORY=256

ECS_CLUSTER=older
ECS_IMAGE_PULL_BEHAVIOR=prefer-cached
"""


def test_parse_reads_assignments_last_wins_and_strips_quotes():
    text = "# c\nA=1\n  B = two words \nA=3\nexport C=\"quoted value\"\nnot an assignment\nD='x'\n"

    assert ecs_config.parse(text) == {"A": "3", "B": "two words", "C": "quoted value", "D": "x"}
    assert ecs_config.parse(None) == {}


def test_update_replaces_first_occurrence_drops_duplicates_keeps_foreign_lines():
    updated = ecs_config.update(USER_ETC, {"ECS_CLUSTER": "edge"})

    assert updated == """# site settings, written by hand
ECS_LOGLEVEL=debug
ECS_CLUSTER=edge
ECS_RESERVED_MEMORY=256

ECS_IMAGE_PULL_BEHAVIOR=prefer-cached
"""


def test_update_appends_missing_keys_and_removes_requested_ones():
    text = "ECS_LOGLEVEL=info\nHTTP_PROXY=http://old:3128\nNO_PROXY=x\nHTTP_PROXY=http://dup:3128"

    updated = ecs_config.update(text, {"ECS_CLUSTER": "edge"}, remove_keys={"HTTP_PROXY"})

    assert updated == "ECS_LOGLEVEL=info\nNO_PROXY=x\nECS_CLUSTER=edge\n"


def test_update_of_missing_or_empty_file():
    assert ecs_config.update(None, {"ECS_CLUSTER": "edge"}) == "ECS_CLUSTER=edge\n"
    assert ecs_config.update("", {}) == ""
    assert ecs_config.update(None, {}, remove_keys={"ECS_CLUSTER"}) == ""


@pytest.mark.parametrize("text", [USER_ETC, "", None, "ECS_CLUSTER=edge\n", "ECS_CLUSTER = edge\nECS_CLUSTER=edge\n# end"])
def test_update_is_idempotent(text):
    once = ecs_config.update(text, {"ECS_CLUSTER": "edge", "NO_PROXY": "169.254.169.254"}, remove_keys={"HTTP_PROXY"})
    twice = ecs_config.update(once, {"ECS_CLUSTER": "edge", "NO_PROXY": "169.254.169.254"}, remove_keys={"HTTP_PROXY"})

    assert twice == once
    assert once.count("ECS_CLUSTER=") == 1


def test_a_key_both_set_and_removed_is_set():
    assert ecs_config.update("A=1\n", {"A": "2"}, remove_keys={"A"}) == "A=2\n"


def test_desired_keys_tri_state_options():
    to_set, to_remove = ecs_config.desired_keys("edge", "eu-west-1")
    assert to_set == {"ECS_CLUSTER": "edge", "AWS_DEFAULT_REGION": "eu-west-1", "ECS_EXTERNAL": "true"}
    assert to_remove == set()

    to_set, to_remove = ecs_config.desired_keys(
        "edge", "eu-west-1", ecs_endpoint="", enable_gpu=True, http_proxy="http://proxy:3128", no_proxy="")
    assert to_set["ECS_ENABLE_GPU_SUPPORT"] == "true"
    assert to_set["HTTP_PROXY"] == "http://proxy:3128"
    assert to_remove == {"ECS_BACKEND_HOST", "NO_PROXY"}

    to_set, to_remove = ecs_config.desired_keys("edge", "eu-west-1", enable_gpu=False, ecs_endpoint="http://10.0.0.1:4566")
    assert "ECS_ENABLE_GPU_SUPPORT" in to_remove
    assert to_set["ECS_BACKEND_HOST"] == "http://10.0.0.1:4566"


def test_plan_files_puts_each_key_in_its_home_file_only():
    texts = {
        ETC: "ECS_LOGLEVEL=debug\nAWS_DEFAULT_REGION=us-west-2\nECS_CLUSTER=old\n",
        VAR: None,
    }
    to_set, to_remove = ecs_config.desired_keys("edge", "eu-west-1", ecs_endpoint="http://lab:4566")

    planned = ecs_config.plan_files(texts, to_set, to_remove)

    assert planned[ETC] == "ECS_LOGLEVEL=debug\nECS_CLUSTER=edge\n"
    assert ecs_config.parse(planned[VAR]) == {
        "AWS_DEFAULT_REGION": "eu-west-1", "ECS_EXTERNAL": "true", "ECS_BACKEND_HOST": "http://lab:4566"}
    assert ecs_config.plan_files(planned, to_set, to_remove) == planned


def test_value_problem_names_the_field():
    assert ecs_config.value_problem("http_proxy", "http://a\nECS_CLUSTER=evil") == \
        "http_proxy must not contain line breaks or NUL characters"
    assert ecs_config.value_problem("http_proxy", "http://proxy:3128") is None


def test_effective_value_lets_etc_win_as_ecs_init_does():
    texts = {ETC: "AWS_DEFAULT_REGION=eu-west-1\n", VAR: "AWS_DEFAULT_REGION=us-east-1\nECS_EXTERNAL=true\n"}

    assert ecs_config.effective_value(texts, "AWS_DEFAULT_REGION") == "eu-west-1"
    assert ecs_config.effective_value(texts, "ECS_EXTERNAL") == "true"
    assert ecs_config.effective_value({ETC: None, VAR: None}, "ECS_CLUSTER") is None
