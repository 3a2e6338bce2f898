# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ecs_anywhere inventory plugin against the lab endpoint: hosts, join, groups, filters, API calls."""

import json

import pytest

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError

MI_ECS_ONLY = "mi-0123456789abcdef0"


@pytest.fixture
def two_clusters(fleet):
    fleet.clusters("edge", "web")
    return {
        "edge-01": fleet.host("edge", "edge-01", "10.213.0.11", attributes={"site": "lyon"}, tags={"Name": "lyon-gw", "tier": "gateway"}),
        "edge-02": fleet.host("edge", "edge-02", "10.213.0.12", attributes={"site": "porto"}),
        "web-01": fleet.host("web", "web-01", "10.213.0.21", attributes={"site": "lyon"}),
    }


def test_hosts_are_the_container_instances_with_their_ssm_facts(run_inventory, two_clusters):
    run = run_inventory(hostnames=["computer_name"])

    assert run.hosts == ["edge-01", "edge-02", "web-01"]
    assert run.groups == {
        "cluster_edge": ["edge-01", "edge-02"],
        "cluster_web": ["web-01"],
        "status_active": ["edge-01", "edge-02", "web-01"],
        "ping_status_online": ["edge-01", "edge-02", "web-01"],
    }
    host = run.vars("edge-01")
    gateway = two_clusters["edge-01"]
    assert host["ansible_host"] == "10.213.0.11"
    assert host["managed_instance_id"] == gateway["instance_id"]
    assert host["container_instance_arn"] == gateway["arn"]
    assert host["container_instance_id"] == gateway["arn"].rsplit("/", 1)[1]
    assert (host["cluster"], host["region"], host["status"], host["agent_connected"]) == ("edge", "us-east-1", "ACTIVE", True)
    assert (host["agent_version"], host["docker_version"]) == ("1.89.2", "25.0.5")
    assert (host["registered_cpu"], host["registered_memory"], host["remaining_cpu"]) == (2048, 4096, 2048)
    assert (host["running_tasks_count"], host["pending_tasks_count"]) == (0, 0)
    assert host["attributes"] == {"ecs.capability.external": None, "ecs.os-type": "linux", "site": "lyon"}
    assert host["ecs_tags"] == {"Name": "lyon-gw", "tier": "gateway"}
    assert (host["ping_status"], host["computer_name"], host["platform_name"]) == ("Online", "edge-01", "Debian GNU/Linux")
    assert host["ssm_agent_version"] == "3.3.1611.0" and host["activation_id"]
    assert isinstance(host["last_ping_date_time"], str) and isinstance(host["registered_at"], str)
    assert run.warnings == []


def test_default_host_names_are_the_mi_ids(run_inventory, two_clusters):
    run = run_inventory()

    assert run.hosts == sorted(host["instance_id"] for host in two_clusters.values())


def test_ecs_without_ssm_data_is_listed_without_ansible_host(run_inventory, fleet, two_clusters):
    arn = fleet.ecs_only("edge", MI_ECS_ONLY)

    run = run_inventory(hostnames=["computer_name", "managed_instance_id"])

    assert run.group("cluster_edge") == ["edge-01", "edge-02", MI_ECS_ONLY]
    orphan = run.vars(MI_ECS_ONLY)
    assert orphan["container_instance_arn"] == arn
    assert "ansible_host" not in orphan and "ping_status" not in orphan


def test_ssm_only_instances_are_listed_only_when_asked(run_inventory, fleet, lab_aws, two_clusters):
    lone, _credentials = fleet.managed_instance("lone-01", "10.213.0.99")

    assert "lone-01" not in run_inventory(hostnames=["computer_name"]).hosts

    lab_aws.reset_counters()
    run = run_inventory(hostnames=["computer_name"], include_ssm_only=True)

    assert run.group("ssm_only") == ["lone-01"]
    assert run.vars("lone-01")["managed_instance_id"] == lone
    assert run.vars("lone-01")["ansible_host"] == "10.213.0.99"
    assert "cluster" not in run.vars("lone-01")
    assert run.group("cluster_edge") == ["edge-01", "edge-02"]
    # Every managed instance of the region, paged, instead of the mi- ids found.
    assert lab_aws.counters()["DescribeInstanceInformation"] == 1


def test_disconnected_agents_are_listed_unless_excluded(run_inventory, fleet, lab_aws, two_clusters):
    fleet.lose_connections()
    fleet.reconnect(two_clusters["edge-02"])

    run = run_inventory(hostnames=["computer_name"], clusters=["edge"])

    assert run.group("ping_status_connection_lost") == ["edge-01"]
    assert run.group("ping_status_online") == ["edge-02"]
    assert run.vars("edge-01")["agent_connected"] is False
    assert run.vars("edge-02")["agent_connected"] is True

    run = run_inventory(hostnames=["computer_name"], clusters=["edge"], include_disconnected=False)

    assert run.hosts == ["edge-02"]


def test_statuses_list_each_status_and_default_to_all_but_inactive(run_inventory, lab_aws, two_clusters):
    gateway = two_clusters["edge-01"]
    lab_aws.client("ecs").update_container_instances_state(cluster="edge", containerInstances=[gateway["arn"]], status="DRAINING")
    retired = two_clusters["edge-02"]
    lab_aws.client("ecs").deregister_container_instance(cluster="edge", containerInstance=retired["arn"])

    run = run_inventory(hostnames=["computer_name"], clusters=["edge"])
    assert run.groups["status_draining"] == ["edge-01"]
    assert run.hosts == ["edge-01"]

    lab_aws.reset_counters()
    run = run_inventory(hostnames=["computer_name"], statuses=["ACTIVE", "INACTIVE"])
    assert run.hosts == ["edge-02", "web-01"]
    assert run.group("status_inactive") == ["edge-02"]
    assert lab_aws.counters()["ListContainerInstances"] == 4  # 2 clusters x 2 statuses


def test_ecs_filter_is_applied_by_ecs(run_inventory, lab_aws, two_clusters):
    lab_aws.reset_counters()

    run = run_inventory(hostnames=["computer_name"], filter="attribute:site == lyon")

    assert run.hosts == ["edge-01", "web-01"]
    assert lab_aws.counters()["DescribeContainerInstances"] == 2


def test_ssm_filters_keep_only_matching_managed_instances(run_inventory, fleet, two_clusters):
    fleet.ecs_only("edge", MI_ECS_ONLY)
    fleet.host("edge", "edge-03", "10.213.0.13", ssm_tags={"site": "porto"})
    fleet.lose_connections()
    for name in ("edge-01", "web-01"):
        fleet.reconnect(two_clusters[name])

    assert run_inventory(hostnames=["computer_name", "managed_instance_id"], ssm_filters={"PingStatus": "Online"}).hosts == ["edge-01", "web-01"]
    assert run_inventory(hostnames=["computer_name"], ssm_filters={"tag:site": ["porto", "faro"]}).hosts == ["edge-03"]


def test_ssm_tags_are_read_only_when_asked(run_inventory, fleet, lab_aws):
    fleet.clusters("edge")
    fleet.host("edge", "edge-01", "10.213.0.11", ssm_tags={"site": "lyon"})
    fleet.host("edge", "edge-02", "10.213.0.12", ssm_tags={"Name": "porto-gw"})

    assert "ssm_tags" not in run_inventory(hostnames=["computer_name"]).vars("edge-01")

    lab_aws.reset_counters()
    run = run_inventory(hostnames=["tag:Name", "computer_name"], include_ssm_tags=True)

    assert run.hosts == ["edge-01", "porto-gw"]
    assert run.vars("edge-01")["ssm_tags"] == {"site": "lyon"}
    assert lab_aws.counters()["ListTagsForResource"] == 2


def test_hostnames_fall_back_in_order(run_inventory, fleet, two_clusters):
    fleet.ecs_only("edge", MI_ECS_ONLY, tags={"Name": "orphan"})

    run = run_inventory(hostnames=["tag:Name", "attribute:site", "container_instance_id"])

    arn_id = two_clusters["edge-02"]["arn"].rsplit("/", 1)[1]
    assert run.hosts == sorted(["lyon-gw", "porto", "lyon", "orphan"])
    assert arn_id not in run.hosts


def test_host_without_any_hostname_is_left_out_with_a_warning(run_inventory, fleet, two_clusters):
    arn = fleet.ecs_only("edge", MI_ECS_ONLY)

    run = run_inventory(hostnames=["computer_name"])

    assert run.hosts == ["edge-01", "edge-02", "web-01"]
    assert run.warnings == ["{0} has none of the hostnames ['computer_name']; it is left out of the inventory".format(arn)]


def test_hosts_sharing_a_name_are_reported(run_inventory, fleet, two_clusters):
    fleet.host("web", "edge-01", "10.213.0.31")

    run = run_inventory(hostnames=["computer_name"])

    assert run.vars("edge-01")["ansible_host"] == "10.213.0.31"
    assert len(run.warnings) == 1 and "are both named edge-01" in run.warnings[0]


def test_compose_groups_and_keyed_groups(run_inventory, two_clusters):
    run = run_inventory(
        hostnames=["computer_name"],
        compose={"ansible_user": "'admin'", "site": "attributes.site"},
        groups={"gateways": "ecs_tags.tier | default('') == 'gateway'", "idle": "running_tasks_count == 0"},
        keyed_groups=[{"key": "attributes.site", "prefix": "site"}, {"key": "ecs_tags", "prefix": "tag"}],
    )

    assert run.vars("web-01")["ansible_user"] == "admin"
    assert run.vars("web-01")["site"] == "lyon"
    assert run.group("gateways") == ["edge-01"]
    assert run.group("idle") == ["edge-01", "edge-02", "web-01"]
    assert run.group("site_lyon") == ["edge-01", "web-01"]
    assert run.group("site_porto") == ["edge-02"]
    assert run.group("tag_tier_gateway") == ["edge-01"]
    assert run.group("cluster_web") == ["web-01"]


def test_default_groups_can_be_turned_off(run_inventory, two_clusters):
    run = run_inventory(hostnames=["computer_name"], default_groups=False, keyed_groups=[{"key": "cluster", "prefix": "ecs"}])

    assert run.groups == {"ecs_edge": ["edge-01", "edge-02"], "ecs_web": ["web-01"]}


def test_use_ssm_connection(run_inventory, two_clusters):
    host = run_inventory(hostnames=["computer_name"], use_ssm_connection=True).vars("web-01")

    assert host["ansible_connection"] == "amazon.aws.aws_ssm"
    assert host["ansible_aws_ssm_instance_id"] == two_clusters["web-01"]["instance_id"]
    assert host["ansible_aws_ssm_region"] == "us-east-1"


def test_regions_and_clusters_are_read_together(run_inventory, fleet, two_clusters):
    fleet.clusters("edge", region="eu-west-1")
    fleet.ecs_only("edge", MI_ECS_ONLY, region="eu-west-1")

    run = run_inventory(hostnames=["computer_name", "managed_instance_id"], regions=["us-east-1", "eu-west-1"])

    assert run.group("cluster_edge") == ["edge-01", "edge-02", MI_ECS_ONLY]
    assert run.vars(MI_ECS_ONLY)["region"] == "eu-west-1"
    assert run.vars("edge-01")["region"] == "us-east-1"


def test_cluster_arns_are_accepted_and_named_by_name(run_inventory, lab_aws, two_clusters):
    arn = lab_aws.client("ecs").describe_clusters(clusters=["web"])["clusters"][0]["clusterArn"]
    lab_aws.reset_counters()

    run = run_inventory(hostnames=["computer_name"], clusters=[arn, "web"])

    assert run.hosts == ["web-01"]
    assert run.vars("web-01")["cluster"] == "web"
    assert run.warnings == []
    assert lab_aws.counters()["ListContainerInstances"] == 1


# --- API calls --------------------------------------------------------------------------------------


def test_api_calls_are_the_minimum(run_inventory, fleet, lab_aws):
    fleet.clusters("edge", "web")
    for index in range(150):
        fleet.ecs_only("edge", "mi-{0:017x}".format(index))
    for index in range(150, 250):
        fleet.ecs_only("web", "mi-{0:017x}".format(index))
    lab_aws.reset_counters()

    run = run_inventory(clusters=["edge", "web"])

    assert len(run.hosts) == 250
    # 2 + 1 pages of 100, each described at once; the 250 mi- ids looked up 50 at a time.
    assert lab_aws.counters() == {"ListContainerInstances": 3, "DescribeContainerInstances": 3, "DescribeInstanceInformation": 5}

    lab_aws.reset_counters()
    run_inventory()

    assert lab_aws.counters() == {"ListClusters": 1, "ListContainerInstances": 3, "DescribeContainerInstances": 3, "DescribeInstanceInformation": 5}


def test_empty_cluster_costs_one_listing(run_inventory, fleet, lab_aws):
    fleet.clusters("empty")
    lab_aws.reset_counters()

    run = run_inventory(clusters=["empty"])

    assert run.hosts == []
    assert lab_aws.counters() == {"ListContainerInstances": 1}


def test_throttled_calls_are_retried(run_inventory, lab_aws, two_clusters):
    expected = run_inventory(hostnames=["computer_name"])
    lab_aws.set_faults({"*": {"throttle_rate": 0.3}}, seed=7)
    lab_aws.reset_counters()

    run = run_inventory(hostnames=["computer_name"])

    assert run.warnings == []
    assert run.hosts == expected.hosts
    assert {host: run.vars(host)["ansible_host"] for host in run.hosts} == {host: expected.vars(host)["ansible_host"] for host in expected.hosts}
    injected = lab_aws.counters_detail()["injected"]
    assert sum(counts.get("throttle", 0) for counts in injected.values()) > 0


# --- cache ------------------------------------------------------------------------------------------


def test_second_run_with_cache_makes_no_api_call(run_inventory, lab_aws, tmp_path, two_clusters):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"), "hostnames": ["computer_name"]}
    first = run_inventory(**cache)
    lab_aws.reset_counters()

    second = run_inventory(**cache)

    assert lab_aws.counters() == {}
    assert second.hosts == first.hosts
    assert second.groups == first.groups
    assert {host: second.vars(host) for host in second.hosts} == {host: first.vars(host) for host in first.hosts}

    flushed = run_inventory(flush_cache=True, **cache)

    assert flushed.hosts == first.hosts
    assert lab_aws.counters()["ListContainerInstances"] == 2


def test_cache_hit_does_not_assume_the_role(run_inventory, lab_aws, tmp_path, two_clusters):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    role = "arn:aws:iam::123456789012:role/fleet-inventory"
    lab_aws.reset_counters()

    # STS needs a region of its own (amazon.aws's role handling); the hosts' regions are "regions".
    first = run_inventory(assume_role_arn=role, region="us-east-1", **cache)

    assert lab_aws.counters()["AssumeRole"] == 1
    lab_aws.reset_counters()
    assert run_inventory(assume_role_arn=role, region="us-east-1", **cache).hosts == first.hosts
    assert lab_aws.counters() == {}


def test_cached_hosts_follow_changed_host_options(run_inventory, lab_aws, tmp_path, two_clusters):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    run_inventory(hostnames=["computer_name"], **cache)
    lab_aws.reset_counters()

    run = run_inventory(hostnames=["ip_address"], keyed_groups=[{"key": "attributes.site", "prefix": "site"}], **cache)

    assert lab_aws.counters() == {}
    assert run.hosts == ["10.213.0.11", "10.213.0.12", "10.213.0.21"]
    assert run.group("site_porto") == ["10.213.0.12"]


# --- errors -----------------------------------------------------------------------------------------


def test_unreadable_cluster_fails_with_strict(run_inventory, two_clusters):
    expected = r"Could not read cluster missing in region us-east-1: Failed to list container instances: .*ClusterNotFoundException"
    with pytest.raises(AnsibleParserError, match=expected):
        run_inventory(clusters=["edge", "missing"], strict=True)


def test_unreadable_cluster_is_a_warning_without_strict(run_inventory, two_clusters):
    run = run_inventory(hostnames=["computer_name"], clusters=["edge", "missing"])

    assert run.hosts == ["edge-01", "edge-02"]
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith("Could not read cluster missing in region us-east-1: ")
    assert run.warnings[0].endswith("; its hosts are left out of the inventory")


def test_unreadable_region_fails_with_strict(run_inventory, two_clusters):
    # The lab, like a region that is not enabled for the account, answers every call there with an error.
    with pytest.raises(AnsibleParserError, match=r"Could not read region xx-nowhere-1: Failed to list clusters: An error occurred \(500\)"):
        run_inventory(regions=["us-east-1", "xx-nowhere-1"], strict=True)


def test_unreadable_region_is_left_out_with_a_warning_without_strict(run_inventory, two_clusters):
    run = run_inventory(hostnames=["computer_name"], regions=["us-east-1", "xx-nowhere-1"])

    assert run.hosts == ["edge-01", "edge-02", "web-01"]
    assert len(run.warnings) == 1 and run.warnings[0].startswith("Could not read region xx-nowhere-1: Failed to list clusters: ")


def test_unreadable_managed_instances_lose_the_region(run_inventory, lab_aws, two_clusters):
    lab_aws.set_faults({"ssm:DescribeInstanceInformation": {"error_rate": 1.0, "error_code": "AccessDeniedException", "error_status": 500}})

    run = run_inventory()

    assert run.hosts == []
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith("Could not read region us-east-1: Failed to describe managed instances: ")
    assert "AccessDeniedException" in run.warnings[0]


@pytest.mark.parametrize(
    "options,message",
    [
        ({"clusters": ["edge", ""]}, "clusters[1] must be a cluster name or ARN, got ''"),
        ({"ssm_filters": {"InstanceIds": ["mi-0123456789abcdef0"]}}, "ssm_filters: 'InstanceIds' is not one of PingStatus"),
        ({"ssm_filters": {"PingStatus": []}}, "ssm_filters.PingStatus must be a string or a list of strings"),
        ({"hostnames": ["computer_name", "dns-name"]}, "hostnames[1] 'dns-name' is not one of computer_name"),
    ],
)
def test_bad_options_fail_before_any_api_call(run_inventory, lab_aws, options, message):
    lab_aws.reset_counters()

    with pytest.raises(AnsibleParserError) as failure:
        run_inventory(assume_role_arn="arn:aws:iam::123456789012:role/fleet-inventory", **options)

    assert message in str(failure.value)
    assert "fleetops.ecs_anywhere.ecs_anywhere" in str(failure.value)
    assert lab_aws.counters() == {}


def test_unknown_status_is_refused_by_the_option_choices(run_inventory, lab_aws):
    with pytest.raises(AnsibleError, match=r"Invalid value \['ACTIVE', 'RUNNING'\] for config 'statuses'"):
        run_inventory(statuses=["ACTIVE", "RUNNING"])

    assert lab_aws.counters() == {}


def test_empty_regions_reads_every_region_ec2_lists(run_inventory, fleet, lab_aws, two_clusters):
    fleet.clusters("edge", region="eu-west-1")
    fleet.ecs_only("edge", MI_ECS_ONLY, region="eu-west-1")
    regions = [region["RegionName"] for region in lab_aws.client("ec2").describe_regions()["Regions"]]
    lab_aws.reset_counters()

    run = run_inventory(hostnames=["computer_name", "managed_instance_id"], regions=[], region="us-east-1")

    assert run.group("cluster_edge") == ["edge-01", "edge-02", MI_ECS_ONLY]
    calls = lab_aws.counters()
    assert (calls["DescribeRegions"], calls["ListClusters"]) == (1, len(regions))


def test_hosts_are_added_in_host_name_order(run_inventory, two_clusters):
    run = run_inventory(hostnames=["computer_name"], default_groups=False)

    assert list(run.inventory.hosts) == ["edge-01", "edge-02", "web-01"]
    # ...and whatever their ARNs, which are random.
    run = run_inventory(hostnames=["container_instance_id"])
    assert list(run.inventory.hosts) == sorted(host["arn"].rsplit("/", 1)[1] for host in two_clusters.values())


def test_list_prints_plain_values_and_keeps_possible_templates_unsafe(list_inventory, tmp_path, fleet):
    """ansible-core 2.19 prints untrusted strings as {"__ansible_unsafe": ...}; AWX reads those as dictionaries.
    Strings that cannot hold a template print plain; one that could stays unsafe and is not evaluated."""
    fleet.clusters("edge")
    template = "{{ lookup('pipe', 'touch " + str(tmp_path / "evaluated") + "') }}"
    gateway = fleet.host("edge", "edge-01", "10.213.0.11", attributes={"site": "lyon", "note": template}, tags={"tier": "gateway"})

    inventory, stderr = list_inventory(hostnames=["computer_name"], compose={"site_name": "attributes.site"},
                                       keyed_groups=[{"key": "attributes.site", "prefix": "site"}])

    host = inventory["_meta"]["hostvars"]["edge-01"]
    assert host["ansible_host"] == "10.213.0.11" and host["managed_instance_id"] == gateway["instance_id"]
    assert (host["cluster"], host["region"], host["status"], host["computer_name"]) == ("edge", "us-east-1", "ACTIVE", "edge-01")
    assert host["ecs_tags"] == {"tier": "gateway"}
    assert host["attributes"]["site"] == "lyon" and host["attributes"]["ecs.capability.external"] is None
    assert host["attributes"]["note"] == {"__ansible_unsafe": template}
    unsafe = [name for name, value in host.items() if "__ansible_unsafe" in json.dumps(value) and name not in ("attributes", "site_name")]
    assert unsafe == []
    # compose and keyed_groups still see the values.
    assert inventory["site_lyon"]["hosts"] == ["edge-01"]
    assert "site_name" in host
    assert not (tmp_path / "evaluated").exists()
    assert "disable_lookups" not in stderr and "DEPRECATION" not in stderr, stderr
