# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the inventory plugin against the in-process lab AWS endpoint, with a fleet built as agents do."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".venv", "collections"))


def _install_collection_loader():
    """Load plugins by name, as ansible-inventory does, so that their documented options apply.

    ansible-test installs ansible's collection finder before pytest collects anything; pytest.ini's
    plain pythonpath does not. Collections imported before the finder lack the metadata the plugin
    loader needs, so they are imported again through it.
    """
    if AnsibleCollectionConfig.collection_finder is not None:
        return
    for name in [name for name in sys.modules if name == "ansible_collections" or name.startswith("ansible_collections.")]:
        del sys.modules[name]
    init_plugin_loader([COLLECTIONS])


_install_collection_loader()

from lab.aws._ecs_testing import registration  # noqa: E402
# Fixtures: the lab endpoint, reset for each test.
from lab.aws.pytest_plugin import lab_aws  # noqa: E402,F401 pylint: disable=unused-import
from lab.aws.pytest_plugin import lab_aws_server  # noqa: E402,F401 pylint: disable=unused-import

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry  # noqa: E402

PLUGIN = "fleetops.ecs_anywhere.ecs_anywhere"
# Enough retries that a throttle rate of 0.3 practically never exhausts them (0.3 ** 11 per call).
FAST_RETRY = jittered_retry(retries=10, delay=0.001, max_delay=0.002)
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def one_attempt_per_call(monkeypatch):
    """botocore makes one attempt per call, so that the lab counters show each retry of the plugin's own."""
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)


class Run:
    """One inventory run: the hosts, groups and variables, and what the plugin warned about."""

    def __init__(self, inventory, warnings):
        self.inventory = inventory
        self.warnings = warnings

    @property
    def hosts(self):
        return sorted(self.inventory.hosts)

    def vars(self, host):
        return self.inventory.hosts[host].vars

    def group(self, name):
        group = self.inventory.groups.get(name)
        return sorted(host.name for host in group.get_hosts()) if group else None

    @property
    def groups(self):
        return {name: self.group(name) for name in self.inventory.groups if name not in ("all", "ungrouped")}


@pytest.fixture
def run_inventory(lab_aws, tmp_path):  # noqa: F811
    """run_inventory(flush_cache=False, **options) parses a *.ecs_anywhere.yml for the lab as
    ansible-inventory does (the plugin by name, then the cache written back) and returns a Run."""
    from ansible.plugins.loader import inventory_loader

    def run(flush_cache=False, **options):
        config = {"plugin": PLUGIN, "regions": [REGION], "endpoint_url": lab_aws.url, "access_key": "testing", "secret_key": "testing"}
        config.update(options)
        path = tmp_path / "lab.ecs_anywhere.yml"
        path.write_text(yaml.safe_dump(config))
        plugin = inventory_loader.get(PLUGIN)
        plugin.retry_decorator = FAST_RETRY
        warnings = []
        plugin.warn = warnings.append
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=not flush_cache)
        if getattr(plugin, "_cache", None) is not None:  # set only with the cache option on
            plugin.update_cache_if_changed()
        return Run(inventory, warnings)

    return run


@pytest.fixture
def list_inventory(lab_aws, tmp_path):  # noqa: F811
    """list_inventory(**options) runs `ansible-inventory --list` on a *.ecs_anywhere.yml for the lab, as AWX
    does, and returns (the JSON it printed, its stderr)."""

    def run(**options):
        config = {"plugin": PLUGIN, "regions": [REGION], "endpoint_url": lab_aws.url, "access_key": "testing", "secret_key": "testing"}
        config.update(options)
        path = tmp_path / "list.ecs_anywhere.yml"
        path.write_text(yaml.safe_dump(config))
        result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(path), "--list"],
                                capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
                                env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                                         ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_INVENTORY_ENABLED=PLUGIN))
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout), result.stderr

    return run


class Fleet:
    """Hosts registered the way the agents register them, on the lab endpoint."""

    def __init__(self, lab):
        self.lab = lab
        self._activations = {}
        self._ecs_clients = {}

    def _ecs(self, region):
        if region not in self._ecs_clients:
            self._ecs_clients[region] = self.lab.client("ecs", region=region)
        return self._ecs_clients[region]

    def _activation(self, tags):
        key = json.dumps(tags, sort_keys=True)
        if key not in self._activations:
            tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
            self._activations[key] = self.lab.create_activation(registration_limit=1000, **({"Tags": tag_list} if tag_list else {}))
        return self._activations[key]

    def managed_instance(self, computer_name, ip_address, ssm_tags=None):
        """An SSM managed instance that sent its first heartbeat: (mi- id, role credentials)."""
        activation = self._activation(ssm_tags or {})
        instance_id, credentials = self.lab.register_managed_instance(activation["ActivationId"], activation["ActivationCode"])
        self.lab.heartbeat(instance_id, credentials, ComputerName=computer_name, IPAddress=ip_address)
        return instance_id, credentials

    def host(self, cluster, computer_name, ip_address, ssm_tags=None, **registration_arguments):
        """A managed instance whose ECS agent registered it in cluster: a dict of its ids."""
        instance_id, credentials = self.managed_instance(computer_name, ip_address, ssm_tags)
        ecs = self.lab.client("ecs", credentials=credentials)
        answer = ecs.register_container_instance(cluster=cluster, **registration(**registration_arguments))
        return {
            "computer_name": computer_name,
            "ip_address": ip_address,
            "instance_id": instance_id,
            "credentials": credentials,
            "cluster": cluster,
            "arn": answer["containerInstance"]["containerInstanceArn"],
            "ecs": ecs,
        }

    def ecs_only(self, cluster, instance_id, region=REGION, **registration_arguments):
        """A container instance registered with an identity document naming an mi- id that SSM does not know."""
        ecs = self._ecs(region)
        document = json.dumps({"instanceId": instance_id, "region": region})
        answer = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=document, **registration(**registration_arguments))
        return answer["containerInstance"]["containerInstanceArn"]

    def clusters(self, *names, region=REGION):
        ecs = self._ecs(region)
        for name in names:
            ecs.create_cluster(clusterName=name)

    def lose_connections(self):
        """Every agent falls silent for longer than connection_lost_after."""
        self.lab.settings(connection_lost_after=30)
        self.lab.clock(advance=60)

    def reconnect(self, host):
        """The host's SSM and ECS agents are heard from again."""
        self.lab.heartbeat(host["instance_id"], host["credentials"], ComputerName=host["computer_name"], IPAddress=host["ip_address"])
        host["ecs"].discover_poll_endpoint(cluster=host["cluster"], containerInstance=host["arn"])


@pytest.fixture
def fleet(lab_aws):  # noqa: F811
    return Fleet(lab_aws)
