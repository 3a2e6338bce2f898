# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The logs of ECS tasks: select the tasks, resolve each container's awslogs stream from its task definition
(described once per revision), and read the streams.

ECS describes a stopped task "for at least one hour" after it stops, then no longer
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html). Its logs outlive it: the
awslogs stream is named after the task id, so a task definition with the same awslogs settings still names it."""

from ..errors import AnsibleECSAnywhereError
from .._ecs.task_definitions import describe_task_definition
from .._ecs.tasks import Hosts
from .._ecs.tasks import describe_tasks
from .._ecs.tasks import list_task_arns
from .events import awslogs_streams
from .events import read_stream

STOPPED_TASK_RETENTION = "ECS keeps describing a stopped task for about an hour after it stops, then forgets it"


def select_tasks(ecs_client, cluster, task_references=None, family=None, started_by=None):
    """(tasks, gone): the described tasks named by task_references, or those of family/started_by, running or
    stopped; and the task_references ECS does not describe (see gone_references)."""
    if task_references:
        arns = list(task_references)
    else:
        arns = []
        for desired_status in ("RUNNING", "STOPPED"):
            arns.extend(list_task_arns(ecs_client, cluster, family=family, startedBy=started_by, desiredStatus=desired_status))
    if not arns:
        return [], []
    tasks, failures = describe_tasks(ecs_client, cluster, arns)
    return tasks, gone_references(task_references or [], failures)


def gone_references(task_references, failures):
    """The task_references (ids or ARNs) that DescribeTasks answered with a failure (MISSING: a wrong id, or a
    task stopped more than about an hour ago), in the given order, as {"reference", "task_arn"}."""
    failed = dict((failure["arn"].rsplit("/", 1)[-1], failure["arn"]) for failure in failures if failure.get("arn"))
    gone = []
    for reference in task_references:
        failed_arn = failed.get(reference.rsplit("/", 1)[-1])
        if failed_arn is not None:
            gone.append({"reference": reference, "task_arn": reference if reference.startswith("arn:") else failed_arn})
    return gone


def tasks_from_definition(ecs_client, gone, task_definition):
    """(stand-in tasks, definitions) for tasks ECS no longer describes, whose streams task_definition (family,
    family:revision or ARN) names: each stand-in has the task's taskArn and the definition's taskDefinitionArn
    and, unlike a described task, no lastStatus. definitions maps that ARN to the described definition."""
    definition = describe_task_definition(ecs_client, task_definition)[0]
    if definition is None:
        raise AnsibleECSAnywhereError(message="task_definition: {0} does not exist; it is needed for the logs of {1}, "
                                              "which ECS no longer describes".format(task_definition, _names(gone)))
    stand_ins = [{"taskArn": item["task_arn"], "taskDefinitionArn": definition["taskDefinitionArn"]} for item in gone]
    return stand_ins, {definition["taskDefinitionArn"]: definition}


def gone_tasks_warning(cluster, gone, task_definition_arn=None):
    """What to tell the user about the tasks in gone (see gone_references)."""
    text = "ECS does not describe task(s) {0} in cluster {1}: {2} (or the id is wrong).".format(
        _names(gone), cluster, STOPPED_TASK_RETENTION)
    if task_definition_arn:
        return text + " Their logs were read from the streams named by {0}.".format(task_definition_arn.rsplit("/", 1)[-1])
    return text + " Set task_definition to the task definition they ran (family:revision) to read their logs anyway."


def _names(gone):
    return ", ".join(item["reference"] for item in gone)


def collect_task_logs(ecs_client, logs_client_for, cluster, tasks, containers=None, start_time=None, end_time=None,
                      limit=None, tail=False, definitions=None):
    """One entry per task container: task and host, the stream, and its events (see read_stream).

    tasks are described tasks or stand-ins from tasks_from_definition (task_found false); definitions maps task
    definition ARNs already described to them. logs_client_for(region) returns a CloudWatch Logs client; region
    is the task definition's awslogs-region."""
    definitions = dict(definitions or {})
    managed_ids = Hosts(ecs_client, cluster).learn(task.get("containerInstanceArn") for task in tasks)
    entries = []
    for task in tasks:
        arn = task["taskDefinitionArn"]
        if arn not in definitions:
            definitions[arn] = describe_task_definition(ecs_client, arn)[0] or {}
        for stream in awslogs_streams(task, definitions[arn], containers):
            entry = dict(stream, task_arn=task["taskArn"], task_id=task["taskArn"].rsplit("/", 1)[-1],
                         managed_instance_id=managed_ids.get(task.get("containerInstanceArn")),
                         last_status=task.get("lastStatus"), task_found="lastStatus" in task, events=[], found=False)
            if "log_stream" in stream:
                events, entry["found"] = read_stream(logs_client_for(stream.get("region")), stream["log_group"], stream["log_stream"],
                                                     start_time, end_time, limit, tail)
                entry["events"] = [{"timestamp": event["timestamp"], "message": event["message"]} for event in events]
            entries.append(entry)
    return entries
