"""Helpers for tests that need ECS Anywhere container instances and tasks on a lab endpoint.

They drive the endpoint only through its public surface (boto3, the agent's signed calls, ``/_lab/``),
so a test reads like what an agent and an operator do:

- ``managed_agent(lab, cluster, **registration)`` -> ``Agent``: a real managed instance (SSM activation,
  unsigned registration, role credentials) whose ECS agent registered a container instance with its
  credentials. ``Agent.ecs`` is a boto3 ECS client signed as the instance.
- ``document_instance(ecs, cluster, instance_id=None, **registration)``: a container instance registered
  with an identity document naming an mi- id (no SSM), for tests that need many instances.
- ``external_task_definition(ecs, family="web", **containers)``; ``report(lab, task_arn, status, ...)``
  (the ``/_lab/tasks/state`` call).
"""
import json
import secrets
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lab.aws.testing import _send

EXTERNAL_ATTRIBUTES = [{"name": "ecs.capability.external"}, {"name": "ecs.os-type", "value": "linux"}]


# The cluster the ECS add-on tests use (tests/lab/aws/conftest.py creates it).
CLUSTER = "edge"


def error_of(excinfo):
    """(code, message) of the ClientError in a pytest.raises excinfo."""
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def resources(cpu=2048, memory=4096, ports=("22", "51678", "51679")):
    return [{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": list(ports)},
            {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []}]


def registration(cpu=2048, memory=4096, attributes=(), tags=None, **extra):
    """RegisterContainerInstance arguments as the external agent sends them."""
    arguments = {"totalResources": resources(cpu, memory),
                 "versionInfo": {"agentVersion": "1.89.2", "agentHash": "0d4e2a6e", "dockerVersion": "25.0.5"},
                 "attributes": EXTERNAL_ATTRIBUTES + [{"name": n, "value": v} if v is not None else {"name": n}
                                                      for n, v in dict(attributes).items()]}
    if tags:
        arguments["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    arguments.update(extra)
    return arguments


def new_mi_id():
    return "mi-" + secrets.token_hex(9)[:17]


class Agent:
    """A managed instance and its ECS agent: ids, credentials and a signed ECS client."""

    def __init__(self, lab, cluster, instance_id, credentials, container_instance):
        self.lab = lab
        self.cluster = cluster
        self.instance_id = instance_id
        self.credentials = credentials
        self.ecs = lab.client("ecs", credentials=credentials)
        self.container_instance = container_instance

    @property
    def arn(self):
        return self.container_instance["containerInstanceArn"]

    def discover(self):
        return self.ecs.discover_poll_endpoint(cluster=self.cluster, containerInstance=self.arn)

    def poll(self):
        """PROTOCOL.md step 6, signed with the instance's credentials: (status, payload)."""
        return signed_post(self.lab, "/_lab/agent/poll", {"cluster": self.cluster, "containerInstance": self.arn},
                           self.credentials)

    def disconnect(self):
        """The agent's clean stop (``/_lab/agent/disconnect``), signed with the instance's credentials."""
        return signed_post(self.lab, "/_lab/agent/disconnect", {"cluster": self.cluster, "containerInstance": self.arn},
                           self.credentials)

    def report(self, task_arn, status, containers=(), reason=None):
        arguments = {"cluster": self.cluster, "task": task_arn, "status": status, "containers": list(containers)}
        if reason:
            arguments["reason"] = reason
        return self.ecs.submit_task_state_change(**arguments)


def signed_post(lab, path, body, credentials=None):
    """POST JSON to a lab path, SigV4-signed for ECS with ``credentials`` as the agents sign their calls."""
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if credentials:
        request = AWSRequest(method="POST", url=lab.url + path, data=data, headers=headers)
        SigV4Auth(Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                              credentials.get("SessionToken")), "ecs", lab.region).add_auth(request)
        headers = dict(request.headers.items())
    return _send(urllib.request.Request(lab.url + path, data=data, method="POST", headers=headers))


def managed_agent(lab, cluster, **registration_arguments):
    activation = lab.create_activation()
    instance_id, credentials = lab.register_managed_instance(activation["ActivationId"], activation["ActivationCode"])
    ecs = lab.client("ecs", credentials=credentials)
    answer = ecs.register_container_instance(cluster=cluster, **registration(**registration_arguments))
    return Agent(lab, cluster, instance_id, credentials, answer["containerInstance"])


def document_instance(ecs, cluster, instance_id=None, **registration_arguments):
    document = json.dumps({"instanceId": instance_id or new_mi_id(), "region": "us-east-1"})
    answer = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=document,
                                             **registration(**registration_arguments))
    return answer["containerInstance"]


def external_task_definition(ecs, family="web", cpu=256, memory=512, host_port=None, network_mode=None, **extra):
    container = {"name": "app", "image": "public.ecr.aws/docker/library/busybox:latest", "cpu": cpu,
                 "memory": memory, "essential": True}
    if host_port is not None:
        container["portMappings"] = [{"containerPort": 80, "hostPort": host_port, "protocol": "tcp"}]
    arguments = {"family": family, "requiresCompatibilities": ["EXTERNAL"], "containerDefinitions": [container]}
    if network_mode:
        arguments["networkMode"] = network_mode
    arguments.update(extra)
    return ecs.register_task_definition(**arguments)["taskDefinition"]


def report(lab, task_arn, status, exit_code=None, reason=None):
    body = {"task": task_arn, "status": status}
    if exit_code is not None:
        body["exitCode"] = exit_code
    if reason:
        body["reason"] = reason
    return lab.control("POST", "/_lab/tasks/state", body)["task"]
