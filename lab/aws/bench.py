"""Benchmark (not a test): a fleet of external instances against the lab AWS endpoint.

    python -m lab.aws.bench [--instances 5000] [--workers 4] [--url http://HOST:PORT]

Without ``--url`` it launches ``python -m lab aws`` on a free port (a separate process, as in the lab)
and stops it at the end. Phases, each timed, with the endpoint's own call counters:

1. SSM: CreateActivation (1,000 registrations each), then per instance the agent's unsigned
   RegisterManagedInstance + RequestManagedInstanceRoleToken and one signed UpdateInstanceInformation.
2. ECS: CreateCluster, then per instance a RegisterContainerInstance signed with that instance's role
   credentials (external, as the ECS agent does). Skipped with the reason when the ECS add-ons are missing.
3. Inventory: DescribeInstanceInformation for all (pages of 50), ListContainerInstances for all (pages of
   100) and DescribeContainerInstances of all (batches of 100), sequentially, as an inventory would.

It prints a Markdown table (for lab/README.md) and, with ``--json FILE``, the raw figures.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time

from lab.aws.testing import LabAWSError, LabEndpoint

REGISTRATIONS_PER_ACTIVATION = 1000
ECS_TARGET = "AmazonEC2ContainerServiceV20141113.RegisterContainerInstance"


def launch():
    process = subprocess.Popen([sys.executable, "-m", "lab", "aws", "--host", "127.0.0.1", "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("lab aws endpoint serving on "):
        process.kill()
        raise SystemExit(f"the endpoint did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1].strip()


class Phase:
    """Times a phase and takes the endpoint's counters of the calls made in it."""

    def __init__(self, lab, name, results):
        self.lab, self.name, self.results = lab, name, results

    def __enter__(self):
        self.lab.reset_counters()
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        seconds = time.perf_counter() - self.started
        calls = self.lab.counters()
        self.results.append({"phase": self.name, "seconds": round(seconds, 2), "calls": calls,
                             "total_calls": sum(calls.values()), "error": None if exc is None else str(exc)})
        return exc_type is not None and issubclass(exc_type, (LabAWSError, SkipPhase))


class SkipPhase(Exception):
    pass


def register_ssm(lab, count, workers):
    ssm = lab.client("ssm")
    activations = []
    for start in range(0, count, REGISTRATIONS_PER_ACTIVATION):
        limit = min(REGISTRATIONS_PER_ACTIVATION, count - start)
        created = ssm.create_activation(IamRole="ecsAnywhereRole", RegistrationLimit=limit,
                                        Tags=[{"Key": "bench", "Value": "fleet"}])
        activations += [created] * limit

    def register_one(index):
        activation = activations[index]
        instance_id, credentials = lab.register_managed_instance(
            activation["ActivationId"], activation["ActivationCode"], fingerprint=f"bench-{index}")
        lab.heartbeat(instance_id, credentials, ComputerName=f"edge-{index:05d}")
        return instance_id, credentials

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(register_one, range(count)))


def register_ecs(lab, instances, workers):
    lab.client("ecs").create_cluster(clusterName="bench")

    def register_one(instance):
        instance_id, credentials = instance
        status, payload = lab.agent_call(ECS_TARGET, {
            "cluster": "bench",
            "totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                               {"name": "MEMORY", "type": "INTEGER", "integerValue": 3900}],
            "versionInfo": {"agentVersion": "1.89.0", "agentHash": "bench", "dockerVersion": "25.0.5"},
            "attributes": [{"name": "ecs.capability.external"}],
        }, credentials)
        if status != 200:
            raise SkipPhase(f"RegisterContainerInstance answered {status}: {payload}")
        return payload["containerInstance"]["ec2InstanceId"] == instance_id

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        matched = sum(pool.map(register_one, instances))
    if matched != len(instances):
        raise SkipPhase(f"only {matched} container instances carry their mi- id")


def inventory_ssm(lab):
    ssm = lab.client("ssm")
    found = [i for page in ssm.get_paginator("describe_instance_information").paginate(
        PaginationConfig={"PageSize": 50}) for i in page["InstanceInformationList"]]
    return len(found), sum(i["PingStatus"] == "Online" for i in found)


def inventory_ecs(lab):
    ecs = lab.client("ecs")
    arns = [a for page in ecs.get_paginator("list_container_instances").paginate(
        cluster="bench", PaginationConfig={"PageSize": 100}) for a in page["containerInstanceArns"]]
    described = []
    for start in range(0, len(arns), 100):
        described += ecs.describe_container_instances(cluster="bench", containerInstances=arns[start:start + 100])[
            "containerInstances"]
    return len(arns), len(described)


def run(lab, count, workers):
    results = []
    lab.reset()
    with Phase(lab, f"SSM: register {count} managed instances (+ role token, 1 heartbeat)", results):
        instances = register_ssm(lab, count, workers)
    with Phase(lab, f"ECS: register {count} external container instances", results):
        register_ecs(lab, instances, workers)
    with Phase(lab, "SSM: DescribeInstanceInformation of all (pages of 50)", results) as phase:
        phase.found = inventory_ssm(lab)
    results[-1]["found"] = {"instances": phase.found[0], "online": phase.found[1]}
    if results[1]["error"] is None:
        with Phase(lab, "ECS: ListContainerInstances + DescribeContainerInstances of all (100 per call)",
                   results) as phase:
            phase.found = inventory_ecs(lab)
        results[-1]["found"] = {"listed": phase.found[0], "described": phase.found[1]}
    return results


def markdown(results, count, workers):
    lines = [f"{count} instances, {workers} client threads for registration, inventory sequential.", "",
             "| phase | seconds | calls | per operation |", "|---|---:|---:|---|"]
    for result in results:
        per_op = ", ".join(f"{op} {n}" for op, n in sorted(result["calls"].items()))
        note = f" (skipped: {result['error']})" if result["error"] else ""
        lines.append(f"| {result['phase']}{note} | {result['seconds']} | {result['total_calls']} | {per_op} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.aws.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--url", help="an endpoint that already runs (default: launch one)")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    if args.instances < 1 or args.workers < 1:
        parser.error("--instances and --workers must be at least 1")

    process = None
    url = args.url
    if url is None:
        process, url = launch()
    try:
        results = run(LabEndpoint(url), args.instances, args.workers)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    print(markdown(results, args.instances, args.workers))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump({"instances": args.instances, "workers": args.workers, "cpus": os.cpu_count(),
                       "results": results}, output, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
