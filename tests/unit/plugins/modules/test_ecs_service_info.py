# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_service_info's main() on FakeServicesECS (tests/unit/plugins/module_utils/ecs/test_services.py)."""

from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_service_info

from .conftest import run_main

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing", "cluster": "edge"}


def run_module(capsys, **args):
    return run_main(capsys, ecs_service_info, dict(CONNECTION, **args))


def test_no_services_is_an_empty_list(ecs, capsys):
    result = run_module(capsys)
    assert result == dict(result, changed=False, services=[])
    assert ecs.calls == {"ListServices": 1}


def test_every_service_by_pages_and_tens_with_events_on_request(ecs, capsys):
    for index in range(12):
        ecs.create_service(cluster="edge", serviceName="svc-{0:02d}".format(index), taskDefinition="web:2", launchType="EXTERNAL",
                           desiredCount=1, tags=[{"key": "team", "value": "ops"}])
    ecs.calls.clear()
    result = run_module(capsys, events=True)
    assert [service["service_name"] for service in result["services"]] == ["svc-{0:02d}".format(index) for index in range(12)]
    assert result["services"][0]["tags"] == {"team": "ops"} and result["services"][0]["events"] == []
    assert ecs.calls == {"ListServices": 1, "DescribeServices": 2}
    named = run_module(capsys, names=["svc-03", "gone"])
    assert [service["service_name"] for service in named["services"]] == ["svc-03"] and "events" not in named["services"][0]


def test_unknown_cluster_fails_with_the_aws_error(ecs, capsys):
    result = run_module(capsys, cluster="nowhere")
    assert result["failed"] is True and result["error"]["code"] == "ClusterNotFoundException"
