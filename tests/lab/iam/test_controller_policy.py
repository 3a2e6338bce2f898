"""docs/iam/controller-policy.json is what the collection's controller side needs, and no more.

The controller side of the rollout, deploy and decommission flows (the modules with the arguments the roles give
them, and the inventory plugin) runs against the in-process lab endpoint with the credentials of a lab IAM user
whose only policy is the published one, stage by stage (STAGES), and passes; the actions the lab saw that user use
are exactly the policy's, each first used in the stage FIRST_STAGE names. The hosts' side is played from a thread
as the agents would play it, with their own credentials: registration with the activation, the SSM heartbeat,
container instance registration; then the ECS agent reporting task states and the awslogs driver writing a stream
(as the lab admin). Then, for each action of the policy, its stage with that one action taken out fails with the
lab's AccessDenied naming it, from the state the earlier stages leave (made by the lab admin).
"""
import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lab.aws._ecs_testing import registration
from lab.aws.testing import StandInThread
from lab.fleet.testing import wait_for

from ..conftest import REPO_ROOT, PlayResult, play_command, play_env

POLICY_PATH = REPO_ROOT / "docs" / "iam" / "controller-policy.json"
CLUSTER = "edge"
HOSTS = 2
LOG_GROUP = "/ecs/web"
USER = "fleet-controller"


def published_policy():
    return json.loads(POLICY_PATH.read_text())


def policy_actions(policy):
    return [action for statement in policy["Statement"] for action in statement["Action"]]


def without_action(policy, action):
    narrowed = copy.deepcopy(policy)
    for statement in narrowed["Statement"]:
        statement["Action"] = [other for other in statement["Action"] if other != action]
    narrowed["Statement"] = [statement for statement in narrowed["Statement"] if statement["Action"]]
    return narrowed


@pytest.fixture(autouse=True)
def lab_account(lab_aws, monkeypatch):
    """AWS's managed policies in the lab (validate_role reads the role's), services healthy once RUNNING instead
    of after 40 s and scheduled every 0.2 s, and the cluster, which the collection expects to exist (README "Using it against real AWS")."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    lab_aws.reset()
    lab_aws.settings(service_healthy_after=0, service_scheduler_interval=0.2)
    lab_aws.client("ecs").create_cluster(clusterName=CLUSTER)


class Hosts(StandInThread):
    """The hosts' agents, from a thread: once the play hands them the activation (the file ``activation.json``,
    where the agent role's ecs_anywhere_register takes it as a module argument), each registers with SSM, sends
    its heartbeat and registers its container instance with its own credentials, and the hosts list themselves
    in ``hosts.json`` for the play; then they report PENDING tasks RUNNING and write their awslogs streams."""

    def __init__(self, lab, directory):
        self.lab = lab
        self.activation_path = directory / "activation.json"
        self.hosts_path = directory / "hosts.json"
        super().__init__("hosts")

    def run(self):
        try:
            while not self.activation_path.exists():
                if self.stopping.wait(0.1):
                    return
            activation = json.loads(self.activation_path.read_text())
            self.hosts_path.write_text(json.dumps(self._join(activation["id"], activation["code"])))
            ecs, logs = self.lab.client("ecs"), self.lab.client("logs")
            while not self.stopping.wait(0.2):
                arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
                for task in ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []:
                    if task["lastStatus"] == "PENDING":
                        self._start(ecs, logs, task)
        except Exception as error:  # reported at __exit__, so a failure is not silent
            self.errors.append(repr(error))

    def _join(self, activation_id, code):
        joined = {"managed_instance_ids": [], "container_instance_arns": []}
        for _ in range(HOSTS):
            instance_id, credentials = self.lab.register_managed_instance(activation_id, code)
            self.lab.heartbeat(instance_id, credentials)
            arguments = registration(cpu=1024, memory=1024)
            arguments["attributes"].append({"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"})
            document = json.dumps({"instanceId": instance_id, "region": self.lab.region})
            instance = self.lab.client("ecs", credentials=credentials).register_container_instance(
                cluster=CLUSTER, instanceIdentityDocument=document, **arguments)["containerInstance"]
            joined["managed_instance_ids"].append(instance_id)
            joined["container_instance_arns"].append(instance["containerInstanceArn"])
        return joined

    @staticmethod
    def _start(ecs, logs, task):
        ecs.submit_task_state_change(cluster=CLUSTER, task=task["taskArn"], status="RUNNING", containers=[
            {"containerName": "web", "status": "RUNNING",
             "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 32768, "protocol": "tcp"}]}])
        stream = "ecs/web/" + task["taskArn"].rsplit("/", 1)[-1]
        if not logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]:
            logs.create_log_group(logGroupName=LOG_GROUP)
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "listening on :80"}])


def task_definition():
    options = {"awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}
    return {"family": "web", "requiresCompatibilities": ["EXTERNAL"], "networkMode": "bridge", "containerDefinitions": [
        {"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 64, "essential": True,
         "portMappings": [{"containerPort": 80, "hostPort": 0}],
         "logConfiguration": {"logDriver": "awslogs", "options": options}}]}


def module(task_name, module_name, **arguments):
    return {"name": task_name, f"fleetops.ecs_anywhere.{module_name}": arguments}


def read_hosts(directory):
    return {"name": "read the hosts", "ansible.builtin.set_fact": {
        "fleet": "{{ lookup('ansible.builtin.file', '" + str(directory / "hosts.json") + "') | from_json }}"}}


def rollout(directory, connection):
    """roles/agent/tasks/register.yml and deregister_stale.yml, the hosts' registration handed to Hosts."""
    return [
        dict(module("create activation", "ecs_anywhere_activation", iam_role="ecsAnywhereRole", registration_limit=HOSTS,
                    expiration="1h", description="lab rollout", tags={"site": "lab"}, validate_role=True),
             register="activation"),
        {"name": "hand the activation to the hosts", "ansible.builtin.copy": {
            "dest": str(directory / "activation.json"), "mode": "0600",
            "content": '{"id": "{{ activation.activation_id }}", "code": "{{ activation.activation_code }}"}'}},
        {"name": "wait for the hosts to join", "ansible.builtin.wait_for": {"path": str(directory / "hosts.json"),
                                                                           "timeout": 60, "sleep": 1}},
        read_hosts(directory),
        module("delete activation", "ecs_anywhere_activation", state="absent", activation_id="{{ activation.activation_id }}"),
        module("deregister stale container instances", "ecs_container_instance", cluster=CLUSTER,
               managed_instance_ids="{{ fleet.managed_instance_ids }}", exclude="{{ fleet.container_instance_arns }}",
               state="absent", force=True, deregister_managed_instance=False),
    ]


def deploy(directory, connection):
    """roles/deploy/tasks/main.yml, standalone.yml (deploy_mode per_host, then count), service.yml and
    service_sync.yml; ecs_task_logs."""
    breaker = {"enable": True, "rollback": True}
    return [
        read_hosts(directory),
        dict(module("register task definition", "ecs_task_definition", task_definition=task_definition()),
             register="definition"),
        module("ensure a task on each host", "ecs_run_task", cluster=CLUSTER, operation="ensure",
               task_definition="{{ definition.task_definition.task_definition_arn }}",
               container_instances="{{ fleet.container_instance_arns }}", started_by="fleetops-deploy", wait=True,
               wait_timeout=60, wait_delay=1),
        module("run tasks by count", "ecs_run_task", cluster=CLUSTER, operation="run",
               task_definition="{{ definition.task_definition.task_definition_arn }}", count=1,
               started_by="fleetops-deploy", wait=True, wait_timeout=60, wait_delay=1),
        module("create service", "ecs_service", cluster=CLUSTER, name="web",
               task_definition="{{ definition.task_definition.task_definition_arn }}", desired_count=HOSTS,
               deployment_configuration={"minimum_healthy_percent": 50, "maximum_percent": 200,
                                         "deployment_circuit_breaker": breaker},
               placement_constraints=[{"type": "distinctInstance"}], wait=True, wait_delay=1, wait_timeout=60),
        module("read service", "ecs_service_info", cluster=CLUSTER, names=["web"], tasks=True, events=True),
        module("task logs", "ecs_task_logs", cluster=CLUSTER, started_by="fleetops-deploy", containers=["web"], limit=5),
    ]


def inventory(directory, connection):
    """The inventory plugin, as AWX's inventory source runs it (every cluster of the region)."""
    config = dict(plugin="fleetops.ecs_anywhere.ecs_anywhere", regions=[connection["region"]], **connection)
    path = directory / "fleet.ecs_anywhere.yml"
    path.write_text(yaml.safe_dump(config))
    return [dict({"name": "list the fleet", "ansible.builtin.command": {
        "argv": [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), "--list"]},
        "environment": {"ANSIBLE_INVENTORY_ENABLED": "fleetops.ecs_anywhere.ecs_anywhere",
                        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}, "changed_when": False}, register="listed"),
        {"name": "check the fleet is listed", "ansible.builtin.assert": {
            "that": ["(listed.stdout | from_json)._meta.hostvars | length == " + str(HOSTS)]}}]


def decommission(directory, connection):
    """roles/decommission/tasks/main.yml, after scaling the service in (its tasks would wait for room elsewhere)."""
    return [
        read_hosts(directory),
        module("scale service in", "ecs_service", cluster=CLUSTER, name="web", desired_count=0, wait=True,
               wait_delay=1, wait_timeout=60),
        module("drain", "ecs_container_instance", cluster=CLUSTER, container_instances="{{ fleet.container_instance_arns }}",
               state="draining"),
        module("stop standalone tasks", "ecs_run_task", cluster=CLUSTER, operation="stop", started_by="fleetops-deploy",
               container_instances="{{ fleet.container_instance_arns }}", reason="Host decommissioned by fleetops.ecs_anywhere"),
        module("wait for tasks to stop", "ecs_container_instance", cluster=CLUSTER,
               container_instances="{{ fleet.container_instance_arns }}", state="draining", wait=True, wait_timeout=60),
        module("deregister", "ecs_container_instance", cluster=CLUSTER, managed_instance_ids="{{ fleet.managed_instance_ids }}",
               state="absent", force=True, deregister_managed_instance=True),
    ]


STAGES = {"rollout": rollout, "deploy": deploy, "inventory": inventory, "decommission": decommission}
# The stage that first calls each action of the published policy (test_the_flows_pass_with_exactly_the_published_policy
# checks it against the actions the lab saw the controller use).
FIRST_STAGE = {
    "iam:GetRole": "rollout", "iam:ListAttachedRolePolicies": "rollout", "ssm:CreateActivation": "rollout",
    "iam:PassRole": "rollout", "ssm:DeleteActivation": "rollout", "ecs:ListContainerInstances": "rollout",
    "ecs:DescribeContainerInstances": "rollout", "ssm:DescribeActivations": "rollout",
    "ecs:RegisterTaskDefinition": "deploy", "ecs:DescribeTaskDefinition": "deploy", "ecs:ListTasks": "deploy",
    "ecs:DescribeTasks": "deploy", "ecs:StartTask": "deploy", "ecs:RunTask": "deploy", "ecs:CreateService": "deploy",
    "ecs:DescribeServices": "deploy", "logs:GetLogEvents": "deploy",
    "ecs:ListClusters": "inventory", "ssm:DescribeInstanceInformation": "inventory",
    "ecs:UpdateService": "decommission", "ecs:UpdateContainerInstancesState": "decommission",
    "ecs:StopTask": "decommission", "ecs:DeregisterContainerInstance": "decommission",
    "ssm:DeregisterManagedInstance": "decommission",
}


def run_stage(lab, credentials, directory, stage):
    """One play of a stage of the flows' controller side, as the given lab user."""
    connection = {"endpoint_url": lab.url, "region": lab.region, "access_key": credentials["AccessKeyId"],
                  "secret_key": credentials["SecretAccessKey"]}
    play = [{"name": f"controller: {stage}", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "vars": {"ansible_python_interpreter": sys.executable},
             "module_defaults": {"group/fleetops.ecs_anywhere.ecs_anywhere": connection},
             "tasks": STAGES[stage](directory, connection)}]
    path = directory / f"{stage}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    process = subprocess.run(play_command(path, "localhost,"), capture_output=True, text=True,
                             env=play_env(directory), cwd=directory, timeout=600)
    return PlayResult(process, directory / "ansible.log")


def join_fleet(lab, directory):
    """What the rollout stage leaves, made by the lab admin: the hosts joined with a deleted activation."""
    ssm = lab.client("ssm")
    activation = ssm.create_activation(IamRole="ecsAnywhereRole", RegistrationLimit=HOSTS)
    # Whole or not at all, as the play's copy task writes it: the thread reads it as soon as it exists.
    handed = directory / "activation.json.tmp"
    handed.write_text(json.dumps({"id": activation["ActivationId"], "code": activation["ActivationCode"]}))
    handed.replace(directory / "activation.json")
    hosts = directory / "hosts.json"
    wait_for(hosts.exists, 60, "the hosts to join", interval=0.1)
    ssm.delete_activation(ActivationId=activation["ActivationId"])
    return json.loads(hosts.read_text())


def deploy_fleet(lab, fleet):
    """What the deploy stage leaves, made by the lab admin: a task on each host and one by count (started by
    fleetops-deploy), and the service, all RUNNING."""
    ecs = lab.client("ecs")
    definition = ecs.register_task_definition(**task_definition())["taskDefinition"]["taskDefinitionArn"]
    ecs.start_task(cluster=CLUSTER, taskDefinition=definition, containerInstances=fleet["container_instance_arns"],
                   startedBy="fleetops-deploy")
    ecs.run_task(cluster=CLUSTER, taskDefinition=definition, count=1, launchType="EXTERNAL",
                 startedBy="fleetops-deploy")
    ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=definition, desiredCount=HOSTS,
                       launchType="EXTERNAL", placementConstraints=[{"type": "distinctInstance"}])

    def all_running():
        arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
        return [task["lastStatus"] for task in tasks].count("RUNNING") == HOSTS + 1 + HOSTS

    wait_for(all_running, 60, f"the {HOSTS + 1 + HOSTS} deployed tasks RUNNING", interval=0.2)


def test_the_flows_pass_with_exactly_the_published_policy(lab_aws, tmp_path):
    credentials = lab_aws.create_user(USER, published_policy())
    first_stage = {}
    with Hosts(lab_aws, tmp_path):
        for stage in STAGES:
            result = run_stage(lab_aws, credentials, tmp_path, stage)
            assert result.returncode == 0, result.output
            for action in lab_aws.used_actions(USER):
                first_stage.setdefault(action, stage)
    # Everything the flows made is gone again: activation deleted, instances deregistered from ECS and SSM.
    assert lab_aws.client("ssm").describe_activations()["ActivationList"] == []
    assert lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"] == []
    assert lab_aws.client("ecs").list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"] == []
    # The controller used every action of the policy and no other, each first in the stage FIRST_STAGE says.
    assert sorted(first_stage) == sorted(policy_actions(published_policy()))
    assert first_stage == FIRST_STAGE


@pytest.mark.parametrize("action", policy_actions(published_policy()))
def test_each_action_of_the_policy_is_needed(lab_aws, tmp_path, action):
    stage = FIRST_STAGE[action]
    credentials = lab_aws.create_user(USER, without_action(published_policy(), action))
    with Hosts(lab_aws, tmp_path):
        if stage != "rollout":
            fleet = join_fleet(lab_aws, tmp_path)
            if stage == "decommission":
                deploy_fleet(lab_aws, fleet)
        result = run_stage(lab_aws, credentials, tmp_path, stage)
    assert result.returncode != 0, f"the {stage} stage passed without {action}"
    assert "AccessDenied" in result.output and f"not authorized to perform: {action} " in result.output, result.output[-3000:]
