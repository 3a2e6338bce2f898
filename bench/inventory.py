"""Benchmark (not a test): the ecs_anywhere inventory plugin against a minimal boto3 loop.

    .venv/bin/python bench/inventory.py [--instances 5000] [--clusters 1] [--repeat 5] [--json FILE]

Launches the lab AWS endpoint in its own process (``lab.aws.bench.launch``), registers the fleet as the
agents do (SSM activation, registration, one heartbeat; then RegisterContainerInstance signed with each
instance's credentials, spread over ``--clusters`` clusters), then times, alternately and ``--repeat``
times each, on the same server:

- plugin: ``parse()`` of a ``*.ecs_anywhere.yml`` naming the clusters (the plugin already loaded, as
  ansible-inventory has it before parsing): clients, reads, join, host variables, groups;
- loop: a minimal hand-written boto3 loop making the same calls one after the other (ListContainerInstances
  100 per page, DescribeContainerInstances by 100, DescribeInstanceInformation for 50 mi- ids at a time)
  and joining the answers in a dict;
- CLI: ``ansible-inventory -i FILE --list`` once, for the cost a user sees (interpreter start included).

It prints a Markdown table for docs/inventory.md with the median and best times, the ratio of the
plugin's median to the loop's, and the API calls (from the endpoint's counters) against the minimum.
"""
import argparse
import concurrent.futures
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(TOP, ".venv", "collections")
sys.path[:0] = [COLLECTIONS, TOP]

from lab.aws.bench import launch, register_ssm  # noqa: E402
from lab.aws.testing import LabEndpoint  # noqa: E402

PLUGIN = "fleetops.ecs_anywhere.ecs_anywhere"
REGION = "us-east-1"
ECS_TARGET = "AmazonEC2ContainerServiceV20141113.RegisterContainerInstance"


def register_ecs(lab, instances, clusters, workers):
    """Each managed instance's ECS agent registers it (signed with its credentials), round-robin over clusters."""
    ecs = lab.client("ecs")
    for cluster in clusters:
        ecs.create_cluster(clusterName=cluster)

    def register_one(index):
        instance_id, credentials = instances[index]
        status, payload = lab.agent_call(ECS_TARGET, {
            "cluster": clusters[index % len(clusters)],
            "totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                               {"name": "MEMORY", "type": "INTEGER", "integerValue": 3900}],
            "versionInfo": {"agentVersion": "1.89.2", "agentHash": "bench", "dockerVersion": "25.0.5"},
            "attributes": [{"name": "ecs.capability.external"}, {"name": "ecs.os-type", "value": "linux"}],
        }, credentials)
        if status != 200 or payload["containerInstance"]["ec2InstanceId"] != instance_id:
            raise SystemExit(f"RegisterContainerInstance answered {status}: {payload}")

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(register_one, range(len(instances))))


def minimal_loop(url, clusters):
    """The same reads as the plugin, written the shortest way: one call after the other."""
    session = dict(region_name=REGION, endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs, ssm = boto3.client("ecs", **session), boto3.client("ssm", **session)
    hosts = {}
    for cluster in clusters:
        token = None
        while True:
            page = ecs.list_container_instances(cluster=cluster, maxResults=100, **({"nextToken": token} if token else {}))
            if page["containerInstanceArns"]:
                described = ecs.describe_container_instances(cluster=cluster, containerInstances=page["containerInstanceArns"], include=["TAGS"])
                for instance in described["containerInstances"]:
                    hosts[instance["ec2InstanceId"]] = {"ecs": instance}
            token = page.get("nextToken")
            if not token:
                break
    ids = sorted(hosts)
    for start in range(0, len(ids), 50):
        found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ids[start:start + 50]}], MaxResults=50)
        for instance in found["InstanceInformationList"]:
            hosts[instance["InstanceId"]]["ssm"] = instance
    return hosts


def plugin_runner():
    """A function that parses an inventory file with the plugin loaded once, as ansible-inventory does."""
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([COLLECTIONS])
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    def run(path):
        plugin = inventory_loader.get(PLUGIN)
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), path, cache=False)
        return inventory

    return run


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def timed_with_cpu(function, *args):
    """(wall seconds, CPU seconds of this process, i.e. the client side, result)."""
    cpu = time.process_time()
    seconds, result = timed(function, *args)
    return seconds, time.process_time() - cpu, result


def measure(lab, args):
    clusters = [f"bench-{index}" for index in range(args.clusters)]
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "bench.ecs_anywhere.yml")
        with open(path, "w", encoding="utf-8") as config:
            json.dump({"plugin": PLUGIN, "regions": [REGION], "clusters": clusters, "endpoint_url": lab.url,
                       "access_key": "testing", "secret_key": "testing"}, config)
        run_plugin = plugin_runner()
        run_plugin(path)  # warm-up: first imports, boto3's data files in the OS cache
        minimal_loop(lab.url, clusters)

        times = {"plugin": [], "loop": []}
        cpu = {"plugin": [], "loop": []}
        calls = {}
        for _ in range(args.repeat):
            for name, function, argument in (("plugin", run_plugin, path), ("loop", lambda c: minimal_loop(lab.url, c), clusters)):
                lab.reset_counters()
                seconds, cpu_seconds, result = timed_with_cpu(function, argument)
                times[name].append(seconds)
                cpu[name].append(cpu_seconds)
                calls[name] = lab.counters()
                found = len(result.hosts) if name == "plugin" else sum("ssm" in host for host in result.values())
                if found != args.instances:
                    raise SystemExit(f"{name} found {found} joined hosts, not {args.instances}")

        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
        lab.reset_counters()
        cli = [os.path.join(TOP, ".venv", "bin", "ansible-inventory"), "-i", path, "--list"]
        cli_seconds, _ = timed(subprocess.run, cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        calls["cli"] = lab.counters()
    return times, cpu, calls, cli_seconds


def minimum_calls(instances, clusters):
    per_cluster = [instances // clusters + (1 if index < instances % clusters else 0) for index in range(clusters)]
    pages = sum(max(1, math.ceil(count / 100)) for count in per_cluster)
    return {"ListContainerInstances": pages, "DescribeContainerInstances": sum(math.ceil(c / 100) for c in per_cluster),
            "DescribeInstanceInformation": math.ceil(instances / 50)}


def markdown(args, times, cpu, calls, cli_seconds, setup_seconds):
    plugin, loop = statistics.median(times["plugin"]), statistics.median(times["loop"])
    minimum = minimum_calls(args.instances, args.clusters)

    def per_op(counted):
        return ", ".join(f"{op} {n}" for op, n in sorted(counted.items()))

    lines = [
        f"{args.instances} external instances (joined ECS + SSM) in {args.clusters} cluster(s), one region; "
        f"{args.repeat} alternating runs each; endpoint in its own process; {os.cpu_count()} cores; "
        f"fleet registered in {setup_seconds:.0f} s.",
        "",
        "| reader | median s | best s | client CPU s (median) | API calls | per operation |",
        "|---|---:|---:|---:|---:|---|",
        f"| plugin `parse()` | {plugin:.2f} | {min(times['plugin']):.2f} | {statistics.median(cpu['plugin']):.2f} "
        f"| {sum(calls['plugin'].values())} | {per_op(calls['plugin'])} |",
        f"| minimal boto3 loop | {loop:.2f} | {min(times['loop']):.2f} | {statistics.median(cpu['loop']):.2f} "
        f"| {sum(calls['loop'].values())} | {per_op(calls['loop'])} |",
        f"| `ansible-inventory --list` (1 run) | {cli_seconds:.2f} | | | {sum(calls['cli'].values())} | {per_op(calls['cli'])} |",
        f"| minimum | | | | {sum(minimum.values())} | {per_op(minimum)} |",
        "",
        f"plugin / loop: {plugin / loop:.2f}x (medians), {min(times['plugin']) / min(times['loop']):.2f}x (best runs), "
        f"{statistics.median(p / l for p, l in zip(times['plugin'], times['loop'])):.2f}x (median of the back-to-back pairs: "
        + ", ".join(f"{p / l:.2f}" for p, l in zip(times["plugin"], times["loop"]))
        + f"); load average at the end {os.getloadavg()[0]:.1f}",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--clusters", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="client threads registering the fleet")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    if min(args.instances, args.clusters, args.repeat, args.workers) < 1:
        parser.error("--instances, --clusters, --repeat and --workers must be at least 1")

    process, url = launch()
    try:
        lab = LabEndpoint(url)
        started = time.perf_counter()
        instances = register_ssm(lab, args.instances, args.workers)
        register_ecs(lab, instances, [f"bench-{index}" for index in range(args.clusters)], args.workers)
        setup_seconds = time.perf_counter() - started
        times, cpu, calls, cli_seconds = measure(lab, args)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    print(markdown(args, times, cpu, calls, cli_seconds, setup_seconds))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump({"instances": args.instances, "clusters": args.clusters, "cpus": os.cpu_count(), "times": times, "cpu": cpu,
                       "calls": calls, "cli_seconds": cli_seconds, "setup_seconds": setup_seconds}, output, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
