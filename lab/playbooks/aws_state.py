"""Print what the lab AWS endpoint holds, as JSON, for molecule's verify playbooks (run inside the island:
`python -m lab exec -- python lab/playbooks/aws_state.py`, or from a play on the controller).

    {"counters": {op: n},                       # read first, so that this script's own calls are not in them
     "activations": [...],                      # DescribeActivations
     "managed_instances": [...],                # DescribeInstanceInformation (PingStatus, IPAddress, ComputerName)
     "clusters": {name: {"container_instances": [...], "tasks": [...]}}}   # ACTIVE and DRAINING; all tasks

It reads boto3 directly, not through the collection, so that verify does not check the collection with itself.
Faults may be configured on the endpoint: every call is retried.
"""
import json
import os
import urllib.request

import boto3
from botocore.config import Config

# The environment of `python -m lab exec` gives the endpoint, region and dummy credentials.
RETRIES = Config(retries={"total_max_attempts": 20, "mode": "standard"})


def _pages(client, operation, key, **params):
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page[key]]


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def cluster_state(ecs, cluster):
    arns = []
    for status in ("ACTIVE", "DRAINING"):
        arns += _pages(ecs, "list_container_instances", "containerInstanceArns", cluster=cluster, status=status)
    instances = [i for chunk in _chunks(arns, 100)
                 for i in ecs.describe_container_instances(cluster=cluster, containerInstances=chunk)["containerInstances"]]
    task_arns = []
    for desired in ("RUNNING", "PENDING", "STOPPED"):
        task_arns += _pages(ecs, "list_tasks", "taskArns", cluster=cluster, desiredStatus=desired)
    tasks = [t for chunk in _chunks(sorted(set(task_arns)), 100)
             for t in ecs.describe_tasks(cluster=cluster, tasks=chunk)["tasks"]]
    return {
        "container_instances": [{
            "arn": i["containerInstanceArn"], "managed_instance_id": i.get("ec2InstanceId"), "status": i["status"],
            "agent_connected": i["agentConnected"], "agent_version": i.get("versionInfo", {}).get("agentVersion"),
            "running_tasks": i["runningTasksCount"]} for i in instances],
        "tasks": [{
            "arn": t["taskArn"], "container_instance_arn": t.get("containerInstanceArn"), "last_status": t["lastStatus"],
            "desired_status": t["desiredStatus"], "family": t["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0],
            "started_by": t.get("startedBy"), "started_at": t.get("startedAt"), "stopped_at": t.get("stoppedAt")}
            for t in tasks],
    }


def main():
    url = os.environ["FLEETOPS_LAB_ENDPOINT_URL"]
    with urllib.request.urlopen(url + "/_lab/counters", timeout=30) as answer:
        state = {"counters": json.load(answer)["calls"]}
    ssm = boto3.client("ssm", endpoint_url=url, config=RETRIES)
    ecs = boto3.client("ecs", endpoint_url=url, config=RETRIES)
    state["activations"] = _pages(ssm, "describe_activations", "ActivationList")
    state["managed_instances"] = _pages(ssm, "describe_instance_information", "InstanceInformationList")
    clusters = _pages(ecs, "list_clusters", "clusterArns")
    state["clusters"] = {arn.rsplit("/", 1)[-1]: cluster_state(ecs, arn) for arn in clusters}
    print(json.dumps(state, default=str))


if __name__ == "__main__":
    main()
