# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""join_instances: container instances joined with managed instances on the mi- id."""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.join import join_instances

MI_A = "mi-0a1b2c3d4e5f60001"
MI_B = "mi-0a1b2c3d4e5f60002"
MI_C = "mi-0a1b2c3d4e5f60003"


def ids(records):
    return [
        (r["cluster"], (r["container_instance"] or {}).get("ec2InstanceId"), (r["managed_instance"] or {}).get("InstanceId"))
        for r in records
    ]


def test_container_instance_gets_the_managed_instance_its_ec2_instance_id_names(make_container_instance, make_managed_instance):
    ecs_a = make_container_instance("edge", "aaa", MI_A)
    ssm_a, ssm_b = make_managed_instance(MI_A), make_managed_instance(MI_B, ip_address="10.213.0.12")

    records = join_instances("us-east-1", {"edge": [ecs_a]}, [ssm_b, ssm_a])

    assert records == [{"region": "us-east-1", "cluster": "edge", "container_instance": ecs_a, "managed_instance": ssm_a}]


def test_ecs_without_ssm_data_is_kept_without_managed_instance(make_container_instance):
    records = join_instances("us-east-1", {"edge": [make_container_instance("edge", "aaa", MI_A)]}, [])

    assert ids(records) == [("edge", MI_A, None)]


def test_ecs_without_ssm_data_is_dropped_when_a_managed_instance_is_required(make_container_instance, make_managed_instance):
    clusters = {"edge": [make_container_instance("edge", "aaa", MI_A), make_container_instance("edge", "bbb", MI_B)]}

    records = join_instances("us-east-1", clusters, [make_managed_instance(MI_B)], require_managed_instance=True)

    assert ids(records) == [("edge", MI_B, MI_B)]


def test_ssm_without_ecs_is_left_out_by_default(make_container_instance, make_managed_instance):
    records = join_instances("us-east-1", {"edge": [make_container_instance("edge", "aaa", MI_A)]}, [make_managed_instance(MI_A), make_managed_instance(MI_C)])

    assert ids(records) == [("edge", MI_A, MI_A)]


def test_ssm_without_ecs_becomes_its_own_record_with_include_ssm_only(make_container_instance, make_managed_instance):
    records = join_instances(
        "us-east-1",
        {"edge": [make_container_instance("edge", "aaa", MI_A)]},
        [make_managed_instance(MI_A), make_managed_instance(MI_C)],
        include_ssm_only=True,
    )

    assert ids(records) == [(None, None, MI_C), ("edge", MI_A, MI_A)]


def test_disconnected_agents_are_joined_like_connected_ones(make_container_instance, make_managed_instance):
    lost = make_container_instance("edge", "aaa", MI_A, connected=False)
    records = join_instances("us-east-1", {"edge": [lost]}, [make_managed_instance(MI_A, ping_status="ConnectionLost")])

    assert records[0]["container_instance"]["agentConnected"] is False
    assert records[0]["managed_instance"]["PingStatus"] == "ConnectionLost"


def test_records_are_sorted_whatever_order_the_reads_finished_in(make_container_instance, make_managed_instance):
    clusters = {
        "web": [make_container_instance("web", "ccc", MI_C)],
        "edge": [make_container_instance("edge", "bbb", MI_B), make_container_instance("edge", "aaa", MI_A)],
    }
    managed = [make_managed_instance(i) for i in (MI_C, MI_A, MI_B)]

    forward = join_instances("us-east-1", clusters, managed)
    backward = join_instances("us-east-1", dict(reversed(list(clusters.items()))), list(reversed(managed)))

    assert ids(forward) == ids(backward) == [("edge", MI_A, MI_A), ("edge", MI_B, MI_B), ("web", MI_C, MI_C)]


def test_container_instance_without_ec2_instance_id_has_no_managed_instance(make_container_instance, make_managed_instance):
    orphan = make_container_instance("edge", "aaa", None)
    del orphan["ec2InstanceId"]

    records = join_instances("us-east-1", {"edge": [orphan]}, [make_managed_instance(MI_A)], include_ssm_only=True)

    assert ids(records) == [(None, None, MI_A), ("edge", None, None)]
