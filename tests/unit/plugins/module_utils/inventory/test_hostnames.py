# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names from the hostnames preference list, with fallbacks."""

import datetime

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import hostname_errors
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import pick_named_hosts
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import preferred_hostname
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostvars import prepare_host_vars
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.join import join_instances

MI_A = "mi-0a1b2c3d4e5f60001"


@pytest.fixture
def joined(make_container_instance, make_managed_instance):
    ecs = make_container_instance("edge", "aaa", MI_A, tags={"Name": "ecs-name", "role": "gateway"})
    ssm = make_managed_instance(MI_A, computer_name="edge-01.lyon", ip_address="10.213.0.11")
    ssm["Tags"] = [{"Key": "Name", "Value": "ssm-name"}, {"Key": "rack", "Value": "r12"}]
    return prepare_host_vars(join_instances("us-east-1", {"edge": [ecs]}, [ssm])[0])


@pytest.fixture
def ecs_only(make_container_instance):
    return prepare_host_vars(join_instances("us-east-1", {"edge": [make_container_instance("edge", "bbb", MI_A)]}, [])[0])


@pytest.mark.parametrize(
    "hostnames,expected",
    [
        (["computer_name"], "edge-01.lyon"),
        (["ip_address", "computer_name"], "10.213.0.11"),
        (["managed_instance_id"], MI_A),
        (["container_instance_id"], "aaa"),
        (["container_instance_arn"], "arn:aws:ecs:us-east-1:123456789012:container-instance/edge/aaa"),
        (["tag:Name"], "ecs-name"),
        (["tag:rack"], "r12"),
        (["attribute:ecs.os-type"], "linux"),
        ([], MI_A),
    ],
)
def test_first_preference_wins(joined, hostnames, expected):
    assert preferred_hostname(joined, hostnames) == expected


@pytest.mark.parametrize(
    "hostnames,expected",
    [
        # ECS without SSM data has no computer name or IP address: the next preference applies.
        (["computer_name", "ip_address", "container_instance_id"], "bbb"),
        (["tag:Name", "managed_instance_id"], MI_A),
        # An attribute without a value (ecs.capability.external) names nothing.
        (["attribute:ecs.capability.external", "attribute:missing", "container_instance_id"], "bbb"),
        (None, MI_A),
    ],
)
def test_missing_values_fall_back_to_the_next_preference(ecs_only, hostnames, expected):
    assert preferred_hostname(ecs_only, hostnames) == expected


def test_no_preference_found_gives_none(ecs_only):
    assert preferred_hostname(ecs_only, ["computer_name", "tag:Name"]) is None


def test_default_falls_back_to_the_container_instance_id_without_an_mi_id(ecs_only):
    del ecs_only["managed_instance_id"]

    assert preferred_hostname(ecs_only) == "bbb"


def test_valid_preferences_have_no_errors():
    assert hostname_errors(["computer_name", "ip_address", "managed_instance_id", "container_instance_id", "tag:Name", "attribute:site"]) == []


@pytest.mark.parametrize(
    "hostnames,message",
    [
        (["computer_name", "dns-name"], "hostnames[1] 'dns-name' is not one of"),
        (["tag:"], "hostnames[0] 'tag:' names no tag or attribute"),
        ([{"name": "ip_address"}], "hostnames[0] must be a string, got dict"),
        ("ip_address", "hostnames must be a list, got str"),
    ],
)
def test_bad_preferences_are_named(hostnames, message):
    errors = hostname_errors(hostnames)

    assert len(errors) == 1 and errors[0].startswith(message)


# --- records sharing a name -------------------------------------------------------------------------

def _named(make_container_instance, instance_id, registered_at, **kwargs):
    container_instance = make_container_instance("edge", instance_id, MI_A, **kwargs)
    container_instance["registeredAt"] = registered_at
    host_vars = prepare_host_vars(join_instances("us-east-1", {"edge": [container_instance]}, [])[0])
    return (preferred_hostname(host_vars), host_vars["container_instance_arn"], host_vars)


EARLIER = datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone.utc)
LATER = EARLIER + datetime.timedelta(hours=3)


@pytest.mark.parametrize(
    "stale,fresh",
    [
        # The agent re-registered without its saved ARN: the old registration is disconnected.
        (dict(instance_id="old", registered_at=EARLIER, connected=False), dict(instance_id="new", registered_at=LATER)),
        # A connected agent wins over a newer registration whose agent is gone.
        (dict(instance_id="new", registered_at=LATER, connected=False), dict(instance_id="old", registered_at=EARLIER)),
        # Both disconnected (agent stopped): the newer registration.
        (dict(instance_id="old", registered_at=EARLIER, connected=False), dict(instance_id="new", registered_at=LATER, connected=False)),
        # A deregistered instance (statuses: [INACTIVE]) never wins over a live one.
        (dict(instance_id="new", registered_at=LATER, status="INACTIVE", connected=False),
         dict(instance_id="old", registered_at=EARLIER, connected=False)),
    ],
)
@pytest.mark.parametrize("order", ["stale first", "fresh first"])
def test_stale_duplicate_does_not_win_the_name(make_container_instance, stale, fresh, order):
    stale_host = _named(make_container_instance, **stale)
    fresh_host = _named(make_container_instance, **fresh)
    hosts = [stale_host, fresh_host] if order == "stale first" else [fresh_host, stale_host]

    kept, passed_over = pick_named_hosts(hosts)

    assert kept == [fresh_host]
    assert passed_over == [(MI_A, fresh_host[1], stale_host[1])]


def test_registered_at_from_a_json_cache_compares_as_a_moment(make_container_instance):
    # A JSON cache gives ISO text; +02:00 at 10:00 is 08:00 UTC, earlier than LATER.
    cached = _named(make_container_instance, "cached", "2026-11-20T10:00:00+02:00", connected=False)
    fresh = _named(make_container_instance, "new", LATER.isoformat(), connected=False)

    assert pick_named_hosts([fresh, cached])[0] == [fresh]


def test_equal_claims_keep_the_last_record_and_distinct_names_are_sorted(make_container_instance):
    first = _named(make_container_instance, "one", EARLIER)
    second = _named(make_container_instance, "two", EARLIER)
    other = ("a-host", "arn-other", {"agent_connected": True})

    kept, passed_over = pick_named_hosts([first, other, second])

    assert kept == [other, second]
    assert passed_over == [(MI_A, second[1], first[1])]
