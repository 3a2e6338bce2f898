# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory ECS client for the task-definition operations, answering as AWS does.

Unlike moto it returns the latest ACTIVE revision for a bare family, fills in the defaults AWS fills in
(protocol tcp, hostPort per network mode, essential true, cpu 0, empty lists), and pages
ListTaskDefinitions by maxResults, so unit tests see AWS's behaviour. Every call is counted.
"""

import collections
import copy

import botocore.session
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"


class FakeECS:
    def __init__(self):
        self.calls = collections.Counter()
        self.revisions = {}  # family -> {revision: task definition}
        self.tags = {}  # arn -> [{"key", "value"}]
        self.meta = type("Meta", (), {"service_model": botocore.session.get_session().get_service_model("ecs")})()

    def _count(self, operation):
        self.calls[operation] += 1

    # --- operations -------------------------------------------------------------------------------

    def register_task_definition(self, **request):
        self._count("RegisterTaskDefinition")
        family = request["family"]
        revisions = self.revisions.setdefault(family, {})
        revision = max(revisions, default=0) + 1
        definition = _as_aws_stores(request, family, revision)
        revisions[revision] = definition
        self.tags[definition["taskDefinitionArn"]] = list(request.get("tags", []))
        return {"taskDefinition": copy.deepcopy(definition), "tags": list(request.get("tags", []))}

    def describe_task_definition(self, taskDefinition, include=()):
        self._count("DescribeTaskDefinition")
        definition = self._find(taskDefinition)
        answer = {"taskDefinition": copy.deepcopy(definition)}
        if "TAGS" in include:
            answer["tags"] = list(self.tags.get(definition["taskDefinitionArn"], []))
        return answer

    def deregister_task_definition(self, taskDefinition):
        self._count("DeregisterTaskDefinition")
        definition = self._find(taskDefinition)
        definition["status"] = "INACTIVE"
        return {"taskDefinition": copy.deepcopy(definition)}

    def list_task_definitions(self, familyPrefix=None, status="ACTIVE", sort="ASC", maxResults=100, nextToken=None):
        self._count("ListTaskDefinitions")
        arns = [definition["taskDefinitionArn"]
                for family, revisions in sorted(self.revisions.items()) if familyPrefix in (None, family)
                for _revision, definition in sorted(revisions.items()) if definition["status"] == status]
        if sort == "DESC":
            arns.reverse()
        start = int(nextToken or 0)
        page = {"taskDefinitionArns": arns[start:start + maxResults]}
        if start + maxResults < len(arns):
            page["nextToken"] = str(start + maxResults)
        return page

    def tag_resource(self, resourceArn, tags):
        self._count("TagResource")
        current = dict((tag["key"], tag["value"]) for tag in self.tags.get(resourceArn, []))
        current.update((tag["key"], tag["value"]) for tag in tags)
        self.tags[resourceArn] = [{"key": key, "value": value} for key, value in current.items()]

    def untag_resource(self, resourceArn, tagKeys):
        self._count("UntagResource")
        self.tags[resourceArn] = [tag for tag in self.tags.get(resourceArn, []) if tag["key"] not in tagKeys]

    # --- helpers ----------------------------------------------------------------------------------

    def _find(self, name):
        name = name.rsplit("/", 1)[-1]
        family, _separator, revision = name.partition(":")
        revisions = self.revisions.get(family, {})
        if revision:
            definition = revisions.get(int(revision))
        else:
            active = [number for number, definition in revisions.items() if definition["status"] == "ACTIVE"]
            definition = revisions[max(active)] if active else None
        if definition is None:
            raise ClientError({"Error": {"Code": "ClientException", "Message": "Unable to describe task definition."}},
                              "DescribeTaskDefinition")
        return definition


def _as_aws_stores(request, family, revision):
    definition = copy.deepcopy(dict((key, value) for key, value in request.items() if key != "tags"))
    network_mode = definition.setdefault("networkMode", "bridge")
    for container in definition["containerDefinitions"]:
        for key, default in (("cpu", 0), ("essential", True), ("portMappings", []), ("environment", []),
                             ("mountPoints", []), ("volumesFrom", []), ("systemControls", [])):
            container.setdefault(key, default)
        for mapping in container["portMappings"]:
            mapping.setdefault("protocol", "tcp")
            mapping.setdefault("hostPort", mapping["containerPort"] if network_mode in ("host", "awsvpc") else 0)
        # AWS does not keep the order environment variables were given in.
        container["environment"] = sorted(container["environment"], key=lambda variable: variable["name"], reverse=True)
    definition.setdefault("volumes", [])
    definition.setdefault("placementConstraints", [])
    definition.update({
        "taskDefinitionArn": "arn:aws:ecs:{0}:{1}:task-definition/{2}:{3}".format(REGION, ACCOUNT, family, revision),
        "revision": revision, "status": "ACTIVE", "compatibilities": ["EC2", "EXTERNAL"],
        "requiresAttributes": [], "registeredAt": "2026-11-24T10:00:00+00:00",
    })
    return definition


class FakeTasksECS:
    """An in-memory ECS client for the task operations, enforcing AWS's per-call limits (RunTask count <= 10,
    StartTask <= 10 instances, Describe* <= 100 ids, list pages of maxResults). ``before_describe(tasks)`` may
    move the tasks about to be described, as agents would between two polls. Every call is counted."""

    def __init__(self, instances=3, capacity=1):
        self.calls = collections.Counter()
        self.tokens = {}
        self.tasks = {}  # arn -> task
        self.instances = dict(
            ("arn:aws:ecs:us-east-1:{0}:container-instance/edge/{1:032x}".format(ACCOUNT, index), "mi-{0:017x}".format(index))
            for index in range(instances))
        self.capacity = capacity  # tasks per instance before RESOURCE:MEMORY
        self.before_describe = None
        self.meta = type("Meta", (), {"service_model": botocore.session.get_session().get_service_model("ecs")})()

    def _new_task(self, instance_arn, startedBy=None, group=None, taskDefinition="web", **_ignored):
        arn = "arn:aws:ecs:us-east-1:{0}:task/edge/{1:032x}".format(ACCOUNT, len(self.tasks) + 1)
        task = {"taskArn": arn, "containerInstanceArn": instance_arn, "lastStatus": "PENDING", "desiredStatus": "RUNNING",
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:{0}:task-definition/{1}".format(ACCOUNT, taskDefinition),
                "group": group or "family:" + taskDefinition.split(":")[0], "containers": [{"name": "web", "lastStatus": "PENDING"}]}
        if startedBy:
            task["startedBy"] = startedBy
        self.tasks[arn] = task
        return task

    def _load(self, instance_arn):
        return sum(1 for task in self.tasks.values() if task["containerInstanceArn"] == instance_arn and task["lastStatus"] != "STOPPED")

    def run_task(self, count, clientToken=None, **params):
        self.calls["RunTask"] += 1
        assert 1 <= count <= 10, "RunTask count must be 1-10"
        if clientToken in self.tokens:
            return self.tokens[clientToken]
        tasks, failures = [], []
        for _attempt in range(count):
            free = [arn for arn in self.instances if self._load(arn) < self.capacity]
            if free:
                tasks.append(self._new_task(min(free, key=self._load), **params))
            else:
                failures.extend({"arn": arn, "reason": "RESOURCE:MEMORY"} for arn in self.instances)
        answer = {"tasks": copy.deepcopy(tasks), "failures": failures}
        if clientToken:
            self.tokens[clientToken] = answer
        return answer

    def start_task(self, containerInstances, **params):
        self.calls["StartTask"] += 1
        assert 1 <= len(containerInstances) <= 10, "StartTask takes 1-10 container instances"
        tasks, failures = [], []
        for arn in containerInstances:
            if arn not in self.instances:
                failures.append({"arn": arn, "reason": "MISSING"})
            elif self._load(arn) >= self.capacity:
                failures.append({"arn": arn, "reason": "RESOURCE:MEMORY"})
            else:
                tasks.append(self._new_task(arn, **params))
        return {"tasks": copy.deepcopy(tasks), "failures": failures}

    def stop_task(self, cluster, task, reason=None):
        self.calls["StopTask"] += 1
        stopped = self.tasks[task]
        stopped.update(desiredStatus="STOPPED", lastStatus="STOPPED", stoppedReason=reason or "Task stopped by user", stopCode="UserInitiated")
        return {"task": copy.deepcopy(stopped)}

    def describe_tasks(self, cluster, tasks):
        self.calls["DescribeTasks"] += 1
        assert 1 <= len(tasks) <= 100, "DescribeTasks takes 1-100 tasks"
        if self.before_describe:
            self.before_describe([self.tasks[arn] for arn in tasks if arn in self.tasks])
        found = [copy.deepcopy(self.tasks[arn]) for arn in tasks if arn in self.tasks]
        missing = [{"arn": arn, "reason": "MISSING"} for arn in tasks if arn not in self.tasks]
        return {"tasks": found, "failures": missing}

    def list_tasks(self, cluster, maxResults=100, nextToken=None, desiredStatus="RUNNING", family=None, startedBy=None):
        self.calls["ListTasks"] += 1
        arns = [arn for arn, task in self.tasks.items() if task["desiredStatus"] == desiredStatus
                and (not family or task["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0] == family)
                and (not startedBy or task.get("startedBy") == startedBy)]
        return _page(arns, "taskArns", maxResults, nextToken)

    def list_container_instances(self, cluster, maxResults=100, nextToken=None, filter=None):  # noqa: A002 (boto3's name)
        self.calls["ListContainerInstances"] += 1
        wanted = filter.split("[", 1)[1].rstrip("]").split(", ") if filter else None
        arns = [arn for arn, managed_id in self.instances.items() if wanted is None or managed_id in wanted]
        return _page(arns, "containerInstanceArns", maxResults, nextToken)

    def describe_container_instances(self, cluster, containerInstances, include=()):
        self.calls["DescribeContainerInstances"] += 1
        assert 1 <= len(containerInstances) <= 100, "DescribeContainerInstances takes 1-100 instances"
        return {"containerInstances": [{"containerInstanceArn": arn, "ec2InstanceId": self.instances[arn]}
                                       for arn in containerInstances if arn in self.instances],
                "failures": [{"arn": arn, "reason": "MISSING"} for arn in containerInstances if arn not in self.instances]}


def _page(items, key, size, token):
    start = int(token or 0)
    page = {key: items[start:start + size]}
    if start + size < len(items):
        page["nextToken"] = str(start + size)
    return page
