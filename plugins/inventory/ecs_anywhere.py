# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ecs_anywhere
short_description: ECS Anywhere container instances, joined with their SSM managed instances
version_added: 0.1.0
description:
  - Lists the ECS container instances of the chosen clusters and regions, and joins each with the SSM
    managed instance (C(mi-)) that its C(ec2InstanceId) names. The hosts are the registered fleet, with
    ECS facts (cluster, status, agent, resources, tasks) and SSM facts (ping status, IP address, computer
    name, platform) as host variables.
  - The inventory file is a YAML file whose name ends with C(ecs_anywhere.yml) or C(ecs_anywhere.yaml),
    for example C(edge.ecs_anywhere.yml).
  - "API calls per region: ListClusters when O(clusters) is empty (100 per page); ListContainerInstances
    (100 per page) per cluster and per status; DescribeContainerInstances in batches of 100;
    DescribeInstanceInformation for the C(mi-) ids found, 50 per request (or every managed instance of the
    region, 50 per page, with O(include_ssm_only)). Regions and clusters are read concurrently, each page
    is described while the next one is listed, and every call is retried on throttling."
  - Hosts are added to the groups C(cluster_<name>), C(status_<status>) and C(ping_status_<status>)
    (see O(default_groups)).
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: The name of this plugin; it marks the file as this plugin's configuration.
    required: true
    type: str
    choices: ['fleetops.ecs_anywhere.ecs_anywhere']
  regions:
    description:
      - The regions to read.
      - When empty, every region that EC2's DescribeRegions lists (one more API call).
    type: list
    elements: str
    default: []
  clusters:
    description:
      - The clusters to read, by name or ARN.
      - When empty, every cluster of each region (ListClusters).
    type: list
    elements: str
    default: []
  statuses:
    description:
      - Only container instances with one of these statuses. Each status is one listing per cluster.
      - When empty, every status but V(INACTIVE), in one listing per cluster (what ListContainerInstances
        returns without a status).
    type: list
    elements: str
    choices: [ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED, INACTIVE]
    default: []
  include_disconnected:
    description:
      - Whether to list container instances whose ECS agent is not connected.
      - When V(false), the listing asks ECS for C(agentConnected == true) only.
    type: bool
    default: true
  filter:
    description:
      - An expression in the ECS cluster query language that container instances must match, for example
        C(attribute:ecs.os-type == linux). It is ListContainerInstances' C(filter), so it is applied by ECS.
      - See U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html).
    type: str
  ssm_filters:
    description:
      - DescribeInstanceInformation filters that the managed instances must match, as a dictionary of
        filter key to a value or a list of values, for example C(PingStatus) or C(tag:site).
      - Keys are V(PingStatus), V(ActivationIds), V(AgentVersion), V(PlatformTypes), V(IamRole),
        V(ResourceType), V(AssociationStatus), V(tag-key) and C(tag:<key>).
      - When set, container instances whose managed instance does not match (or is unknown to SSM) are left out.
      - See U(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_InstanceInformationStringFilter.html).
    type: dict
    default: {}
  include_ssm_only:
    description:
      - Also add the managed instances that no listed container instance names, for example hosts whose
        ECS agent never registered. They are in the group C(ssm_only) and have only SSM host variables.
      - A managed instance that is a container instance of a cluster, status or O(filter) this inventory
        does not read counts as SSM-only too.
      - This reads every managed instance of the region (50 per page) instead of the C(mi-) ids found.
    type: bool
    default: false
  include_ssm_tags:
    description:
      - Read the tags of each managed instance into the C(ssm_tags) host variable.
      - DescribeInstanceInformation does not return tags, so this is one ListTagsForResource call per host.
    type: bool
    default: false
  hostnames:
    description:
      - The host name of each host, in order of preference; the first that the host has a value for wins.
      - V(computer_name) and V(ip_address) come from SSM; V(managed_instance_id) is the C(mi-) id;
        V(container_instance_id) and V(container_instance_arn) come from ECS; C(tag:<key>) is the value of
        a container-instance tag, else of a managed-instance tag (with O(include_ssm_tags)); C(attribute:<name>)
        is the value of a container-instance attribute.
      - A host that has none of them is left out, with a warning.
      - When several container instances get the same name (an agent whose data directory was wiped registers
        a new container instance with the same C(mi-) id, and the old one stays ACTIVE and disconnected), the
        one with a connected agent, else a live (not INACTIVE) one, else the newest registration keeps the
        name; the others are left out, with a warning.
    type: list
    elements: str
    default: [managed_instance_id, container_instance_id]
  use_ssm_connection:
    description:
      - Reach the hosts through Session Manager with the P(amazon.aws.aws_ssm#connection) connection plugin.
        This sets C(ansible_connection), C(ansible_aws_ssm_instance_id) and C(ansible_aws_ssm_region).
      - That plugin needs an S3 bucket for file transfers (C(ansible_aws_ssm_bucket_name)); set it with
        O(compose) or group variables.
    type: bool
    default: false
  default_groups:
    description:
      - Add hosts to the groups C(cluster_<cluster name>), C(status_<status>) (lower case) and
        C(ping_status_<ping status>) (lower case, with underscores, for example C(ping_status_connection_lost)),
        and managed instances without container instance to C(ssm_only).
      - Characters other than letters, digits and underscores become underscores.
    type: bool
    default: true
  strict:
    description:
      - If V(true), a region or cluster that cannot be read fails the whole inventory source; if V(false), it is
        left out with a warning and the others are listed.
      - It also makes errors in O(compose), O(groups) and O(keyed_groups) fatal, as for every constructed
        inventory.
notes:
  - "Host variables from ECS: C(region), C(cluster), C(container_instance_arn), C(container_instance_id),
    C(managed_instance_id), C(status), C(status_reason), C(agent_connected), C(agent_version),
    C(docker_version), C(attributes) (a dictionary; attributes without a value are V(null)),
    C(registered_cpu), C(registered_memory), C(remaining_cpu), C(remaining_memory), C(running_tasks_count),
    C(pending_tasks_count), C(registered_at) and C(ecs_tags) (a dictionary; ansible reserves C(tags))."
  - "Host variables from SSM: C(managed_instance_id), C(ping_status), C(last_ping_date_time), C(ip_address),
    C(computer_name), C(platform_type), C(platform_name), C(platform_version), C(ssm_agent_version),
    C(activation_id), C(iam_role), C(registration_date), C(managed_instance_name) and, with
    O(include_ssm_tags), C(ssm_tags)."
  - C(ansible_host) is the SSM IP address when SSM knows the host. Times are ISO 8601 strings.
  - With O(cache), the API answers are cached and a cache hit makes no AWS call at all, not even the
    O(assume_role_arn) one (the role is assumed only when the cache is missed).
"""

EXAMPLES = r"""
# edge.ecs_anywhere.yml: every cluster of one region, host names are the mi- ids.
plugin: fleetops.ecs_anywhere.ecs_anywhere
regions:
  - eu-west-1

---
# Two clusters, connected agents only, named by computer name (or the mi- id when SSM does not know it).
plugin: fleetops.ecs_anywhere.ecs_anywhere
regions:
  - eu-west-1
  - us-east-1
clusters:
  - edge-prod
  - edge-staging
statuses:
  - ACTIVE
  - DRAINING
include_disconnected: false
hostnames:
  - computer_name
  - managed_instance_id

---
# Filters applied by ECS and SSM; groups from attributes and tags; cached for an hour.
plugin: fleetops.ecs_anywhere.ecs_anywhere
regions:
  - eu-west-1
filter: "attribute:ecs.cpu-architecture == arm64"
ssm_filters:
  PingStatus: Online
  tag:site: [lyon, porto]
include_ssm_tags: true
keyed_groups:
  # arch_arm64, arch_x86_64
  - key: attributes['ecs.cpu-architecture']
    prefix: arch
  # tag_site_lyon, ... from the container-instance tags
  - key: ecs_tags
    prefix: tag
  # site_lyon, ... from the managed-instance tag "site"
  - key: ssm_tags.site | default('unknown')
    prefix: site
groups:
  # hosts that run nothing yet
  idle: running_tasks_count == 0 and pending_tasks_count == 0
  disconnected: not agent_connected
compose:
  ansible_user: "'admin'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-ecs-anywhere
cache_timeout: 3600

---
# Reach the hosts through Session Manager instead of SSH.
plugin: fleetops.ecs_anywhere.ecs_anywhere
regions:
  - eu-west-1
use_ssm_connection: true
compose:
  ansible_aws_ssm_bucket_name: "'my-ssm-transfer-bucket'"

---
# Also list managed instances whose ECS agent never registered (group ssm_only), with assumed role.
plugin: fleetops.ecs_anywhere.ecs_anywhere
regions:
  - eu-west-1
include_ssm_only: true
assume_role_arn: arn:aws:iam::123456789012:role/fleet-inventory
# STS is called in this region.
region: eu-west-1
strict: true
"""

from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from functools import partial

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 has no template trust; its --list prints plain strings as they are.
    trust_as_template = None

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils import ecs
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils import ssm
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import hostname_errors
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import pick_named_hosts
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostnames import preferred_hostname
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostvars import default_group_names
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.hostvars import prepare_host_vars
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._inventory.join import join_instances
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.iterators import SSM_PAGE_SIZE
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import RetryingClient
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry

# DescribeInstanceInformation filter keys a user may set; InstanceIds is the plugin's own.
SSM_FILTER_KEYS = ("PingStatus", "ActivationIds", "AgentVersion", "PlatformTypes", "IamRole", "ResourceType", "AssociationStatus", "tag-key")
# Concurrent API calls. Below botocore's default connection pool (10), and low enough that ECS's and SSM's
# per-account rate limits are rarely reached (throttled calls are retried anyway).
MAX_WORKERS = 8
# Bumped when the cached data changes shape, so that an older cache entry counts as a miss.
CACHE_FORMAT = 1


class InventoryModule(AWSInventoryBase):
    NAME = "fleetops.ecs_anywhere.ecs_anywhere"
    INVENTORY_FILE_SUFFIXES = ("ecs_anywhere.yml", "ecs_anywhere.yaml")

    def __init__(self):
        super().__init__()
        # Tests swap in a fast retry; every call goes through it (RetryingClient).
        self.retry_decorator = jittered_retry()
        self._role_assumed = False

    def _set_frozen_credentials(self):
        # AWSInventoryBase.parse assumes the role before the cache is read; defer it to the first client,
        # so that a cache hit makes no AWS call at all.
        self._role_assumed = False

    def client(self, *args, **kwargs):
        if not self._role_assumed:
            self._role_assumed = True
            super()._set_frozen_credentials()
        return super().client(*args, **kwargs)

    # AWSInventoryBase templates its credential and region options with templar.template(..., disable_lookups=False),
    # which ansible-core 2.19 deprecates: every run printed "Passing `disable_lookups` to `template` is deprecated"
    # (the regions list is templated even when it holds no template). The same options are templated here, the same
    # way but without that argument (lookups stay allowed, as there); Constructable's compose and groups are untouched.
    def get_option(self, option, hostvars=None):
        return self._templated_option(option, BaseInventoryPlugin.get_option(self, option, hostvars))

    def get_options(self, *args):
        return {name: self._templated_option(name, value) for name, value in BaseInventoryPlugin.get_options(self, *args).items()}

    def _templated_option(self, name, value):
        if not value or not self.templar or name not in AWSInventoryBase.TemplatedOptions.TEMPLATABLE_OPTIONS:
            return value
        if isinstance(value, dict):
            return {key: self._templated(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._templated(item) for item in value]
        return self._templated(value)

    def _templated(self, value):
        return self.templar.template(value) if self.templar.is_template(value) else value

    def _do_fail(self, message):
        raise AnsibleParserError(message)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        settings = self._settings()

        cached, results = self.get_cached_result(path, cache)
        if not cached or not isinstance(results, dict) or results.get("format") != CACHE_FORMAT:
            results = {"format": CACHE_FORMAT, "regions": _Reader(self, settings).read(self._boto3_regions(service="ecs"))}

        self._populate(results["regions"], settings)
        self.update_cached_result(path, cache, results)

    def _settings(self):
        """The options that drive the queries and the host list, validated before any API call."""
        errors = []
        clusters = self.get_option("clusters") or []
        for index, cluster in enumerate(clusters):
            if not isinstance(cluster, str) or not cluster.strip():
                errors.append("clusters[{0}] must be a cluster name or ARN, got {1!r}".format(index, cluster))
        # statuses are checked against the documented choices when the options are set.
        statuses = self.get_option("statuses") or []
        ssm_filters = []
        for key, values in sorted((self.get_option("ssm_filters") or {}).items()):
            values = values if isinstance(values, list) else [values]
            if key not in SSM_FILTER_KEYS and not (key.startswith("tag:") and len(key) > 4):
                errors.append("ssm_filters: {0!r} is not one of {1} or tag:<key>".format(key, ", ".join(SSM_FILTER_KEYS)))
            elif not values or not all(isinstance(value, str) and value for value in values):
                errors.append("ssm_filters.{0} must be a string or a list of strings".format(key))
            else:
                ssm_filters.append({"Key": key, "Values": values})
        hostnames = self.get_option("hostnames")
        errors.extend(hostname_errors(hostnames))
        if errors:
            raise AnsibleParserError("Invalid {0} inventory configuration: {1}".format(self.NAME, "; ".join(errors)))

        query = self.get_option("filter")
        if not self.get_option("include_disconnected"):
            query = "({0}) and agentConnected == true".format(query) if query else "agentConnected == true"
        return {
            "clusters": [cluster.strip() for cluster in clusters],
            # None lists every status but INACTIVE in one call, as ListContainerInstances does without one.
            "statuses": list(dict.fromkeys(statuses)) or [None],
            "query": query,
            "ssm_filters": ssm_filters,
            "include_ssm_only": self.get_option("include_ssm_only"),
            "include_ssm_tags": self.get_option("include_ssm_tags"),
            "hostnames": hostnames,
            "use_ssm_connection": self.get_option("use_ssm_connection"),
            "default_groups": self.get_option("default_groups"),
        }

    def unreadable(self, what, error):
        """A region or cluster could not be read: fail with strict, else warn and go on without it."""
        message = "Could not read {0}: {1}".format(what, error)
        if self.get_option("strict"):
            raise AnsibleParserError(message)
        self.warn(message + "; its hosts are left out of the inventory")

    def _populate(self, regions, settings):
        strict = self.get_option("strict")
        compose, groups, keyed_groups = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        hosts, passed_over = pick_named_hosts(self._named_hosts(regions, settings))
        for hostname, kept, left_out in passed_over:
            self.warn(
                "{0} and {1} are both named {2}; {2} is {1} (connected agent, live or newer registration first) and {0} is left out "
                "of the inventory (a stale registration: deregister it)".format(left_out, kept, hostname)
            )
        for hostname, what, host_vars in hosts:
            self.inventory.add_host(hostname)
            for name, value in host_vars.items():
                self.inventory.set_variable(hostname, name, trusted_where_inert(value))
            if settings["default_groups"]:
                for group in default_group_names(host_vars):
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, hostname)
            self._set_composite_vars(compose, host_vars, hostname, strict=strict)
            self._add_host_to_composed_groups(groups, host_vars, hostname, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, host_vars, hostname, strict=strict)

    def _named_hosts(self, regions, settings):
        """(host name, what the host is, host variables) of every joined record that has a name."""
        hosts = []
        for region in sorted(regions):
            data = regions[region]
            records = join_instances(
                region,
                data["clusters"],
                data["managed_instances"],
                include_ssm_only=settings["include_ssm_only"],
                require_managed_instance=bool(settings["ssm_filters"]),
            )
            for record in records:
                host_vars = prepare_host_vars(record, use_ssm_connection=settings["use_ssm_connection"])
                hostname = preferred_hostname(host_vars, settings["hostnames"])
                what = host_vars.get("container_instance_arn") or host_vars.get("managed_instance_id")
                if hostname is None:
                    self.warn("{0} has none of the hostnames {1}; it is left out of the inventory".format(what, settings["hostnames"]))
                else:
                    hosts.append((hostname, what, host_vars))
        # In the join's order (region, cluster, ARN); pick_named_hosts sorts them by name.
        return hosts


class _Reader:
    """Reads the ECS and SSM data of an inventory, one API call per job on a thread pool.

    The main thread chains the jobs, so workers never wait on one another: each listed page is
    described while the next page is listed, and the mi- ids described in a region are looked up in
    SSM 50 at a time (the last, partial batch once the region's ECS reads are all done).
    """

    def __init__(self, plugin, settings):
        self.plugin = plugin
        self.settings = settings
        self.pool = None
        self.pending = {}
        self.regions = {}

    def read(self, region_names):
        """{region: {"clusters": {name: [container instances]}, "managed_instances": [...]}}, as boto3 gave them.

        Cached as they are, like aws_ec2's results: cache plugins serialize datetimes (JSON ones as ISO
        strings), and the host variables read both forms the same way.
        """
        with ThreadPoolExecutor(MAX_WORKERS) as self.pool:
            try:
                for name in region_names:
                    self._start_region(name)
                self._run()
            except BaseException:
                self.pool.shutdown(wait=False, cancel_futures=True)
                raise
        return {
            name: {
                "clusters": {cluster: found for cluster, found in sorted(region.clusters.items()) if cluster not in region.failed_clusters},
                "managed_instances": region.managed_instances,
            }
            for name, region in self.regions.items()
            if not region.failed
        }

    def _start_region(self, name):
        region = _Region(name, self.plugin)
        self.regions[name] = region
        if self.settings["include_ssm_only"]:
            self._submit(
                region, None, partial(self._add_managed_instances, region), ssm.describe_instance_information, region.ssm, filters=self.settings["ssm_filters"]
            )
        if self.settings["clusters"]:
            self._list_clusters(region, self.settings["clusters"])
        else:
            self._submit(region, None, partial(self._list_clusters, region), ecs.list_cluster_arns, region.ecs)

    def _list_clusters(self, region, clusters):
        for cluster in clusters:
            # ARNs end in cluster/NAME; groups and host variables use the name. A cluster given twice
            # (by name and by ARN, say) is read once.
            name = cluster.rsplit("/", 1)[-1]
            if name in region.clusters:
                continue
            region.clusters[name] = []
            for status in self.settings["statuses"]:
                self._list_page(region, name, status, None)

    def _list_page(self, region, cluster, status, token):
        self._submit(
            region,
            cluster,
            partial(self._listed, region, cluster, status),
            ecs.list_container_instance_arn_page,
            region.ecs,
            cluster,
            query=self.settings["query"],
            status=status,
            next_token=token,
        )

    def _listed(self, region, cluster, status, page):
        arns, next_token = page
        if next_token:
            self._list_page(region, cluster, status, next_token)
        if arns:
            self._submit(region, cluster, partial(self._described, region, cluster), ecs.describe_container_instances, region.ecs, cluster, arns)

    def _described(self, region, cluster, result):
        # Instances deregistered since they were listed come back as failures: they are simply gone.
        instances = result[0]
        region.clusters[cluster].extend(instances)
        if not self.settings["include_ssm_only"]:
            region.ids_to_look_up.extend(instance["ec2InstanceId"] for instance in instances if instance.get("ec2InstanceId"))
            while len(region.ids_to_look_up) >= SSM_PAGE_SIZE:
                self._look_up(region)

    def _look_up(self, region):
        batch, region.ids_to_look_up = region.ids_to_look_up[:SSM_PAGE_SIZE], region.ids_to_look_up[SSM_PAGE_SIZE:]
        self._submit(
            region,
            None,
            partial(self._add_managed_instances, region),
            ssm.describe_instance_information,
            region.ssm,
            instance_ids=batch,
            filters=self.settings["ssm_filters"],
        )

    def _add_managed_instances(self, region, instances):
        region.managed_instances.extend(instances)
        if self.settings["include_ssm_tags"]:
            for instance in instances:
                self._submit(region, None, partial(_set_tags, instance), ssm.list_managed_instance_tags, region.ssm, instance["InstanceId"])

    def _submit(self, region, cluster, then, function, client, *args, **kwargs):
        """Run function(client, *args, **kwargs) on the pool, then then(result) on this thread.

        A failed job with a cluster loses that cluster; one without loses the whole region.
        """
        is_ecs = client is region.ecs
        if is_ecs:
            region.ecs_jobs += 1
        self.pending[self.pool.submit(function, client, *args, **kwargs)] = (region, cluster, is_ecs, then)

    def _run(self):
        while self.pending:
            done, _not_done = wait(list(self.pending), return_when=FIRST_COMPLETED)
            for future in done:
                region, cluster, is_ecs, then = self.pending.pop(future)
                try:
                    result = future.result()
                except AnsibleECSAnywhereError as e:
                    self._failed(region, cluster, e)
                else:
                    if not region.failed and cluster not in region.failed_clusters:
                        then(result)
                if is_ecs:
                    region.ecs_jobs -= 1
                    if region.ecs_jobs == 0 and region.ids_to_look_up and not region.failed:
                        self._look_up(region)

    def _failed(self, region, cluster, error):
        if cluster is None:
            if not region.failed:
                region.failed = True
                self.plugin.unreadable("region {0}".format(region.name), error)
        elif cluster not in region.failed_clusters:
            region.failed_clusters.add(cluster)
            self.plugin.unreadable("cluster {0} in region {1}".format(cluster, region.name), error)


class _Region:
    """What _Reader knows of one region while it reads it."""

    def __init__(self, name, plugin):
        self.name = name
        self.plugin = plugin
        self.ecs = RetryingClient(plugin.client("ecs", region=name), plugin.retry_decorator)
        self._ssm = None
        self.clusters = {}
        self.failed_clusters = set()
        self.failed = False
        self.managed_instances = []
        # ECS jobs submitted and not finished; when none is left, the last partial batch of mi- ids is looked up.
        self.ecs_jobs = 0
        self.ids_to_look_up = []

    @property
    def ssm(self):
        # Made when first needed, usually while the first ECS calls are answered (a client takes ~0.1 s).
        if self._ssm is None:
            self._ssm = RetryingClient(self.plugin.client("ssm", region=self.name), self.plugin.retry_decorator)
        return self._ssm


def trusted_where_inert(value):
    """The value with every string that cannot hold a template marked as trusted (ansible-core 2.19+).

    ansible-core 2.19's ansible-inventory --list prints each host-variable string not trusted as a template as
    {"__ansible_unsafe": "..."}, which AWX and other consumers of that JSON take as a dictionary. A string without
    "{" or "}" holds no Jinja ("{{", "{%", "{#"), so trusting it changes nothing when it is templated, and it prints
    as a plain value. Strings from AWS that could be templates (a tag value "{{ lookup('pipe', 'id') }}") stay
    untrusted: they print as __ansible_unsafe and are never evaluated. Community collections draw the same line
    (community.general plugin_utils/unsafe.py make_unsafe, after community.general#8212).
    """
    if trust_as_template is None:
        return value
    if isinstance(value, dict):
        return {key: trusted_where_inert(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted_where_inert(item) for item in value]
    if isinstance(value, str) and "{" not in value and "}" not in value:
        return trust_as_template(value)
    return value


def _set_tags(instance, tags):
    instance["Tags"] = tags
