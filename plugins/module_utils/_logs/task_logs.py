# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The logs of ECS tasks: select the tasks, resolve each container's awslogs stream from its task definition
(described once per revision), and read the streams."""

from .._ecs.task_definitions import describe_task_definition
from .._ecs.tasks import Hosts
from .._ecs.tasks import describe_tasks
from .._ecs.tasks import list_task_arns
from .events import awslogs_streams
from .events import read_stream


def select_tasks(ecs_client, cluster, task_references=None, family=None, started_by=None):
    """The described tasks named by task_references, or those of family/started_by, running or stopped."""
    if task_references:
        arns = list(task_references)
    else:
        arns = []
        for desired_status in ("RUNNING", "STOPPED"):
            arns.extend(list_task_arns(ecs_client, cluster, family=family, startedBy=started_by, desiredStatus=desired_status))
    if not arns:
        return []
    tasks, _missing = describe_tasks(ecs_client, cluster, arns)
    return tasks


def collect_task_logs(ecs_client, logs_client_for, cluster, tasks, containers=None, start_time=None, end_time=None,
                      limit=None, tail=False):
    """One entry per task container: task and host, the stream, and its events (see read_stream).

    logs_client_for(region) returns a CloudWatch Logs client; region is the task definition's awslogs-region."""
    definitions = {}
    managed_ids = Hosts(ecs_client, cluster).learn(task.get("containerInstanceArn") for task in tasks)
    entries = []
    for task in tasks:
        arn = task["taskDefinitionArn"]
        if arn not in definitions:
            definitions[arn] = describe_task_definition(ecs_client, arn)[0] or {}
        for stream in awslogs_streams(task, definitions[arn], containers):
            entry = dict(stream, task_arn=task["taskArn"], task_id=task["taskArn"].rsplit("/", 1)[-1],
                         managed_instance_id=managed_ids.get(task.get("containerInstanceArn")),
                         last_status=task.get("lastStatus"), events=[], found=False)
            if "log_stream" in stream:
                events, entry["found"] = read_stream(logs_client_for(stream.get("region")), stream["log_group"], stream["log_stream"],
                                                     start_time, end_time, limit, tail)
                entry["events"] = [{"timestamp": event["timestamp"], "message": event["message"]} for event in events]
            entries.append(entry)
    return entries
