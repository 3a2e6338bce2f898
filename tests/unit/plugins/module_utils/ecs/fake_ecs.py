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
        family, _, revision = name.partition(":")
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
