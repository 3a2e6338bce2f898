"""The lab fleet end to end: up, Ansible over SSH, the island's isolation, the agent stand-ins, down.

The tests share the session's lab, claimed with 3 hosts (tests/lab/conftest.py's `fleet`), and run in file order;
the last one takes the lab down.
"""
import ipaddress
import json
import subprocess

import pytest

from lab.fleet import config
from lab.fleet.testing import (create_activation, describe_container_instances, island_python, lab, lab_ok, lab_state,
                               leftovers, on_host, wait_for)

CLUSTER = "lab-fleet"
pytestmark = pytest.mark.fleet
# Addresses outside the lab: public resolvers, and this machine's own global addresses (added below).
OUTSIDE = ["1.1.1.1", "8.8.8.8", "192.168.1.1", "172.17.0.1"]


def machine_addresses():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines()]


def test_ansible_reaches_every_host(fleet):
    result = lab_ok("exec", "--", "ansible", "all", "-m", "ansible.builtin.ping", "-o")
    answered = [line.split()[0] for line in result.stdout.splitlines() if '"ping": "pong"' in line]
    assert sorted(answered) == [h["name"] for h in fleet["hosts"]]
    facts = lab_ok("exec", "--", "ansible", "all", "-m", "ansible.builtin.setup", "-a",
                   "filter=ansible_default_ipv4,ansible_hostname,ansible_service_mgr", "-o")
    for host in fleet["hosts"]:
        line = next(line for line in facts.stdout.splitlines() if line.startswith(host["name"] + " "))
        reported = json.loads(line.split("=>", 1)[1])["ansible_facts"]
        assert reported["ansible_hostname"] == host["name"]
        assert reported["ansible_service_mgr"] == "systemd"
        assert reported["ansible_default_ipv4"] == {}  # no default route, so no default address


def docker_network(host):
    """The host's own Docker bridge network (172.17.0.0/16 style), or None before Docker Engine runs there. On the
    session's shared lab an earlier suite may have installed it already (clean-hosts.yml keeps Docker)."""
    bridge = on_host(host["address"], "ip -4 -o addr show docker0 2>/dev/null")
    return bridge.stdout.split()[3] if bridge.stdout.strip() else None


def routes_out(fleet, where):
    """What routes out, asked with `ip route get` (no packet is sent): lines naming each outside target that has a
    route. On a host, its own Docker bridge (if any) is the host's network, not outside."""
    host = fleet["hosts"][0]
    inside_host = [n for n in [docker_network(host)] if n] if where == "host" else []
    targets = [t for t in OUTSIDE + machine_addresses()
               if not any(ipaddress.ip_address(t) in ipaddress.ip_network(n, strict=False) for n in inside_host)]
    script = " ; ".join(f"ip -4 route get {t} >/dev/null 2>&1 && echo ROUTE {t}" for t in targets)
    script += f" ; ip -4 route get {host['address']} >/dev/null && echo LAB-OK"
    script += " ; ip -6 route get 2001:4860:4860::8888 >/dev/null 2>&1 && echo ROUTE6"
    script += " ; ip -4 route show table all | grep -q '^default' && echo DEFAULT ; true"
    if where == "island":
        out = lab_ok("exec", "--", "sh", "-c", script).stdout
    else:
        out = on_host(host["address"], script).stdout
    assert "LAB-OK" in out  # the check itself works: the lab's own addresses do route
    return [line for line in out.splitlines() if line != "LAB-OK"]


@pytest.mark.parametrize("where", ["island", "host"])
def test_nothing_routes_out_of_the_island(fleet, where):
    assert routes_out(fleet, where) == []


def test_lab_routes_stay_in_the_subnet(fleet):
    subnet = ipaddress.ip_network(fleet["subnet"])
    routes = lab_ok("exec", "--", "ip", "-4", "-o", "route", "show", "table", "all").stdout.splitlines()
    destinations = [line.split()[1] if line.split()[0] in ("local", "broadcast") else line.split()[0] for line in routes]
    for destination in destinations:
        network = ipaddress.ip_network(destination, strict=False)
        assert network.subnet_of(subnet) or network.subnet_of(ipaddress.ip_network("127.0.0.0/8")), destination


def test_agents_install_register_report_and_upgrade(fleet):
    activation = create_activation(CLUSTER)
    lab_ok("exec", "--", "ansible-playbook", "tests/lab/fleet/files/agents.yml", "-e", f"activation_id={activation['id']}",
           "-e", f"activation_code={activation['code']}", "-e", f"cluster={CLUSTER}", "-e", "agent_version=1.0.0")
    names = {h["name"]: h["address"] for h in fleet["hosts"]}

    def managed_online():
        listed = island_python("""
import boto3, json
pages = boto3.client("ssm").get_paginator("describe_instance_information").paginate()
print(json.dumps([i for page in pages for i in page["InstanceInformationList"]], default=str))
""")
        online = {i["ComputerName"]: i for i in listed if i["PingStatus"] == "Online"}
        return online if set(online) == set(names) else None

    managed = wait_for(managed_online, 60, "every host Online in DescribeInstanceInformation")
    for name, info in managed.items():
        assert info["IPAddress"] == names[name]
        assert info["PlatformName"] == "Debian GNU/Linux" and info["AgentVersion"] == "1.0.0"
        assert info["InstanceId"].startswith("mi-")

    def container_instances():
        described = describe_container_instances(CLUSTER)
        ready = [c for c in described if c["status"] == "ACTIVE" and c["agentConnected"]]
        return described if len(ready) == len(names) else None

    instances = wait_for(container_instances, 60, "every host ACTIVE and agentConnected in the cluster")
    by_mi = {c["ec2InstanceId"]: c for c in instances}
    assert set(by_mi) == {info["InstanceId"] for info in managed.values()}
    for instance in instances:
        assert "ecs.capability.external" in {a["name"] for a in instance["attributes"]}
        assert instance["versionInfo"]["agentVersion"] == "1.0.0"
    for name, address in names.items():
        metadata = json.loads(on_host(address, "curl -sf http://127.0.0.1:51678/v1/metadata").stdout)
        assert metadata["Cluster"] == CLUSTER
        assert by_mi[managed[name]["InstanceId"]]["containerInstanceArn"] == metadata["ContainerInstanceArn"]

    # Upgrade to 1.1.0: the new versions report themselves, and the agents keep their identities.
    lab_ok("exec", "--", "ansible-playbook", "tests/lab/fleet/files/agents.yml", "-e", f"cluster={CLUSTER}",
           "-e", "agent_version=1.1.0")
    host = fleet["hosts"][0]
    assert on_host(host["address"], "amazon-ssm-agent -version").stdout.strip() == "SSM Agent version: 1.1.0"

    def upgraded():
        described = island_python(f"""
import boto3, json
ssm, ecs = boto3.client("ssm"), boto3.client("ecs")
managed = ssm.describe_instance_information()["InstanceInformationList"]
arns = ecs.list_container_instances(cluster="{CLUSTER}")["containerInstanceArns"]
print(json.dumps({{"managed": managed, "instances": ecs.describe_container_instances(
    cluster="{CLUSTER}", containerInstances=arns)["containerInstances"]}}, default=str))
""")
        done = all(i["AgentVersion"] == "1.1.0" for i in described["managed"]) and all(
            c["versionInfo"]["agentVersion"] == "1.1.0" and c["agentConnected"] for c in described["instances"])
        return described if done else None

    after = wait_for(upgraded, 60, "every agent reporting version 1.1.0")
    # Same managed instances and the same container instances (the saved ARN was reused), no duplicates.
    assert {i["InstanceId"] for i in after["managed"]} == {i["InstanceId"] for i in managed.values()}
    assert {c["containerInstanceArn"] for c in after["instances"]} == {
        c["containerInstanceArn"] for c in by_mi.values()}


@pytest.mark.parametrize("where", ["island", "host"])
def test_island_stays_sealed_with_docker_running(fleet, where):
    """After the agents test installed Docker Engine on every host: its bridge and NAT live in the host's
    namespace, and still nothing routes out (Docker's own bridge network is the host's, not outside)."""
    host = fleet["hosts"][0]
    active = on_host(host["address"], "systemctl is-active docker")
    assert active.stdout.strip() == "active" and docker_network(host), active.stdout + active.stderr
    assert routes_out(fleet, where) == []


def test_a_claim_of_the_same_size_gives_the_same_hosts_back_clean(fleet, session_lab):
    """The shared lab's reuse (lab.fleet.testing.SessionLab): after the tests above left agents installed and
    registered, plus a container, the next suite's claim gets the same hosts (not newly booted) with no agent,
    agent state or container left, an endpoint with nothing in it, and Docker with its images still there."""
    first = fleet["hosts"][0]["address"]
    made = on_host(first, "touch /root/before-the-claim && tar -c -T /dev/null | docker import - lab/empty >/dev/null "
                          "&& docker create --name left-behind lab/empty /none >/dev/null")
    assert made.returncode == 0, made.stdout + made.stderr
    assert describe_container_instances(CLUSTER)  # what the claim must clean away

    assert session_lab.claim(hosts=3) == fleet
    assert on_host(first, "test -e /root/before-the-claim && docker image inspect lab/empty >/dev/null").returncode == 0
    for host in fleet["hosts"]:
        left = on_host(host["address"], "dpkg -l | awk '$1 == \"ii\" && $2 ~ /^amazon-/ {print $2}'; "
                                        "ls -d /var/lib/ecs /etc/ecs /var/lib/amazon /etc/amazon /root/.aws 2>/dev/null; "
                                        "docker ps -aq; systemctl is-active docker")
        assert left.stdout.splitlines() == ["active"], (host["name"], left.stdout, left.stderr)
    aws = island_python("""
import boto3, json
ecs, ssm = boto3.client("ecs"), boto3.client("ssm")
print(json.dumps({"clusters": ecs.list_clusters()["clusterArns"],
                  "managed": ssm.describe_instance_information()["InstanceInformationList"],
                  "activations": ssm.describe_activations()["ActivationList"]}, default=str))
""")
    assert aws == {"clusters": [], "managed": [], "activations": []}


def test_down_leaves_nothing_behind(fleet):
    state = lab_state()
    lab_ok("down")
    assert leftovers(state) == []
    assert not (config.STATE_DIR / "lab.json").exists() and not (config.STATE_DIR / "inventory.ini").exists()
    lab_ok("down")  # idempotent
    status = lab("status")
    assert status.returncode == 3 and status.stdout.strip() == "lab: down"
