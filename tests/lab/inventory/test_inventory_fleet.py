"""The ecs_anywhere inventory on the lab fleet after a rollout: hosts in their cluster groups, reachable.

Needs root; claims the session's lab with 3 hosts (tests/lab/conftest.py's session_lab), rolls ECS Anywhere
out with playbooks/rollout.yml and the lab settings lab/playbooks/lab-vars.yml (the agent role: packages from
the lab's signed apt repo as a mirror, agents pointed at the lab endpoint, cluster "lab"), then runs
`ansible-inventory --graph` and `ansible all -m ping` through lab/playbooks/lab.ecs_anywhere.yml, inside the
island.
"""
import json
import re

import pytest

from lab.fleet import config
from lab.fleet.testing import create_clusters, lab

PLAYBOOKS = config.REPO_ROOT / "lab" / "playbooks"
INVENTORY = PLAYBOOKS / "lab.ecs_anywhere.yml"
CLUSTER = "lab"  # lab-vars.yml's agent_cluster, the inventory's clusters
pytestmark = pytest.mark.fleet
PLAIN_OUTPUT = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}


@pytest.fixture(scope="module")
def fleet(session_lab, tmp_path_factory):
    state = session_lab.claim(hosts=3)
    create_clusters(CLUSTER)
    workdir = tmp_path_factory.mktemp("rollout")
    extra_vars = workdir / "vars.json"
    # The module's own controller package cache, as each AWX job has its own.
    extra_vars.write_text(json.dumps({"agent_local_cache_path": str(workdir / "packages")}))
    rollout = lab("exec", "--", "ansible-playbook", str(config.REPO_ROOT / "playbooks" / "rollout.yml"),
                  "-e", f"@{PLAYBOOKS / 'lab-vars.yml'}", "-e", f"@{extra_vars}",
                  env=dict(PLAIN_OUTPUT, ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-local")), timeout=900)
    assert rollout.returncode == 0, rollout.stdout[-6000:] + rollout.stderr[-3000:]
    return state


def graph(text):
    """`ansible-inventory --graph` output as {group: [its hosts]}: each "|--" is three characters deeper
    than its parent's, and "@" marks a group."""
    groups, path = {}, []
    for line in text.splitlines():
        if line.startswith("@"):
            path = [line[1:].rstrip(":")]
            continue
        if "|--" not in line:
            continue
        depth = line.index("|--") // 3
        name = line.split("|--", 1)[1]
        path = path[: depth + 1]
        if name.startswith("@"):
            path.append(name[1:].rstrip(":"))
            groups.setdefault(path[-1], [])
        else:
            groups.setdefault(path[-1], []).append(name)
    return {group: sorted(hosts) for group, hosts in groups.items()}


def test_graph_shows_the_registered_hosts_in_their_cluster_group(fleet):
    result = lab("exec", "--", "ansible-inventory", "-i", str(INVENTORY), "--graph", env=PLAIN_OUTPUT)

    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(host["name"] for host in fleet["hosts"])
    groups = graph(result.stdout)
    assert groups["cluster_" + CLUSTER] == names, result.stdout
    assert groups["status_active"] == names
    assert groups["ping_status_online"] == names


def test_hosts_have_their_lab_addresses_and_ids(fleet):
    result = lab("exec", "--", "ansible-inventory", "-i", str(INVENTORY), "--list", env=PLAIN_OUTPUT)

    assert result.returncode == 0, result.stdout + result.stderr
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    for host in fleet["hosts"]:
        found = hostvars[host["name"]]
        # Plain values, as AWX reads them: ansible-core 2.19 prints untrusted strings as {"__ansible_unsafe": ...},
        # and the plugin trusts the strings that cannot hold a template.
        assert found["ansible_host"] == host["address"]
        assert found["managed_instance_id"].startswith("mi-")
        assert found["cluster"] == CLUSTER and found["agent_connected"] is True
        assert "ecs.capability.external" in found["attributes"]
        # ansible_python_interpreter is the file's compose result (Constructable's own), not a plugin variable.
        assert [name for name, value in found.items() if "__ansible_unsafe" in json.dumps(value) and name != "ansible_python_interpreter"] == []
    # amazon.aws's inventory base passed the deprecated disable_lookups to template() on every run.
    assert "disable_lookups" not in result.stderr and "DEPRECATION" not in result.stderr, result.stderr


def test_ping_reaches_every_host_through_the_inventory(fleet):
    result = lab("exec", "--", "ansible", "all", "-i", str(INVENTORY), "-m", "ansible.builtin.ping", "--one-line", env=PLAIN_OUTPUT)

    assert result.returncode == 0, result.stdout + result.stderr
    for host in fleet["hosts"]:
        assert re.search(rf"^{host['name']} \| SUCCESS", result.stdout, re.MULTILINE), result.stdout
