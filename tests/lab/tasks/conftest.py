"""Playbook tests of the task modules against the in-process lab AWS endpoint (``run_play`` and ``PlayResult``
are tests/lab/conftest.py's): an ECS cluster of external container instances without hosts, and an agent
stand-in that reports their tasks' state changes.
"""
import json

import pytest

from lab.aws.testing import StandInThread

CLUSTER = "edge"


@pytest.fixture
def edge_cluster(lab_aws):
    """A cluster with 3 external container instances (no hosts): [{"arn", "managed_instance_id"}, ...]."""
    from lab.aws._ecs_testing import new_mi_id, registration

    ecs = lab_aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    instances = []
    for _number in range(3):
        managed_instance_id = new_mi_id()
        arguments = registration(cpu=1024, memory=1024)
        # What the external agent advertises besides ecs.capability.external: the awslogs driver.
        arguments["attributes"].append({"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"})
        document = json.dumps({"instanceId": managed_instance_id, "region": lab_aws.region})
        instance = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document, **arguments)["containerInstance"]
        instances.append({"arn": instance["containerInstanceArn"], "managed_instance_id": managed_instance_id})
    return instances


class AgentStandIn(StandInThread):
    """Plays the ECS agent of every lab instance from a thread: PENDING tasks are reported RUNNING (with a
    network binding per port mapping) and, when exit_code is set, then STOPPED with that exit code."""

    def __init__(self, lab, cluster, exit_code=None):
        self.ecs = lab.client("ecs")
        self.cluster = cluster
        self.exit_code = exit_code
        super().__init__("agent-stand-in")

    def run(self):
        while not self.stopping.wait(0.2):
            try:
                self._report_pending()
            except Exception as e:  # reported at __exit__, so a failure is not silent
                self.errors.append(repr(e))
                return

    def _report_pending(self):
        arns = self.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return
        for task in self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]:
            if task["lastStatus"] != "PENDING":
                continue
            definition = self.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
            containers = [{"containerName": container["name"], "status": "RUNNING", "networkBindings": [
                {"bindIP": "0.0.0.0", "containerPort": mapping["containerPort"], "protocol": mapping.get("protocol", "tcp"),
                 "hostPort": mapping.get("hostPort") or 32768 + index}
                for index, mapping in enumerate(container.get("portMappings", []))]}
                for container in definition["containerDefinitions"]]
            self.ecs.submit_task_state_change(cluster=self.cluster, task=task["taskArn"], status="RUNNING", containers=containers)
            if self.exit_code is not None:
                self.ecs.submit_task_state_change(
                    cluster=self.cluster, task=task["taskArn"], status="STOPPED", reason="Essential container in task exited",
                    containers=[{"containerName": container["containerName"], "status": "STOPPED", "exitCode": self.exit_code}
                                for container in containers])


@pytest.fixture
def agent_stand_in(lab_aws):
    """agent_stand_in(exit_code=None) -> a context manager running AgentStandIn on the edge cluster."""
    return lambda exit_code=None: AgentStandIn(lab_aws, CLUSTER, exit_code)
