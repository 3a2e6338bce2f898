# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS tasks on external (ECS Anywhere) instances: run, start, stop, ensure, and wait.

API limits shape the calls: RunTask count <= 10 and StartTask <= 10 instances per call, DescribeTasks and
DescribeContainerInstances <= 100 ids, ListTasks pages of 100. Results name each task's host by its
container instance and its managed-instance (mi-) id. Placement failures (RunTask/StartTask ``failures[]``)
are surfaced, never swallowed: community.aws ecs_task returns success with fewer tasks than asked for.
"""

import collections
import re
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ..errors import AnsibleECSAnywhereError
from ..errors import ECSErrorHandler
from ..iterators import DESCRIBE_BATCH_SIZE
from ..iterators import UPDATE_BATCH_SIZE
from ..iterators import chunks
from ..iterators import paginate
from .container_instances import describe_container_instances
from .container_instances import list_container_instance_arns
from .container_instances import managed_instance_query
from .shapes import conform

CONTAINER_INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:container-instance/(?:[^/]+/)?[0-9a-f-]+$")
CONTAINER_INSTANCE_ID = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")
# Keep the cluster query language expression short: mi- ids per ListContainerInstances filter.
MANAGED_IDS_PER_QUERY = 50
FINAL_STATUS = "STOPPED"


# --- pure helpers ------------------------------------------------------------------------------------------

def instance_reference_kind(reference):
    """"arn", "id" or "managed" for a container instance ARN, id or mi- id; None for anything else."""
    if CONTAINER_INSTANCE_ARN.match(reference):
        return "arn"
    if CONTAINER_INSTANCE_ID.match(reference):
        return "id"
    if MANAGED_INSTANCE_ID.match(reference):
        return "managed"
    return None


def check_instance_references(references, field="container_instances"):
    """Fail naming the entry when one is neither a container instance ARN or id nor an mi- id."""
    for index, reference in enumerate(references):
        if instance_reference_kind(reference) is None:
            raise AnsibleECSAnywhereError(message=(
                "{0}[{1}]: {2!r} is not a container instance ARN or id, an mi- id, or an inventory host with a "
                "container_instance_arn or managed_instance_id variable".format(field, index, reference)))


def task_family(task_definition):
    """The family of a task definition given as family, family:revision or ARN."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def short_id(arn):
    return arn.rsplit("/", 1)[-1] if arn else arn


def summarize_task(task, managed_ids):
    """A task as the modules return it: snake_case essentials, the host's mi- id, and network bindings."""
    instance_arn = task.get("containerInstanceArn")
    containers = []
    bindings = []
    for container in task.get("containers", []):
        container_bindings = [camel_dict_to_snake_dict(binding) for binding in container.get("networkBindings") or []]
        for binding in container_bindings:
            bindings.append(dict(binding, container_name=container.get("name"),
                                 address="{0}:{1}".format(binding.get("bind_ip") or "0.0.0.0", binding.get("host_port"))))
        containers.append({
            "name": container.get("name"), "last_status": container.get("lastStatus"),
            "exit_code": container.get("exitCode"), "reason": container.get("reason"),
            "network_bindings": container_bindings,
        })
    return {
        "task_arn": task["taskArn"], "task_id": short_id(task["taskArn"]),
        "task_definition_arn": task.get("taskDefinitionArn"), "container_instance_arn": instance_arn,
        "managed_instance_id": managed_ids.get(instance_arn), "last_status": task.get("lastStatus"),
        "desired_status": task.get("desiredStatus"), "stopped_reason": task.get("stoppedReason"),
        "stop_code": task.get("stopCode"), "started_by": task.get("startedBy"), "group": task.get("group"),
        "containers": containers, "network_bindings": bindings,
    }


def describe_host(instance_arn, managed_ids):
    managed = managed_ids.get(instance_arn)
    instance = "container-instance/{0}".format(short_id(instance_arn)) if instance_arn else "no instance"
    return "{0} ({1})".format(managed, instance) if managed else instance


def failures_message(operation, failures, managed_ids):
    """One line naming each instance a task could not be placed on, and why."""
    parts = ["{0}: {1}{2}".format(describe_host(failure.get("arn"), managed_ids) if failure.get("arn") else "cluster",
                                  failure.get("reason"), " ({0})".format(failure["detail"]) if failure.get("detail") else "")
             for failure in failures]
    return "{0} could not place {1} task(s): {2}".format(operation, len(failures), "; ".join(parts))


def sort_by_target(tasks, target, check_exit_codes=True):
    """(done, pending, failed) task lists for a wait on target (RUNNING or STOPPED).

    A task that stopped while RUNNING was awaited has failed; so has a one-shot task (target STOPPED,
    check_exit_codes) whose start failed or one of whose containers exited non-zero."""
    done, pending, failed = [], [], []
    for task in tasks:
        status = task.get("lastStatus")
        if target == "RUNNING":
            (done if status == "RUNNING" else failed if status == FINAL_STATUS else pending).append(task)
        elif status != FINAL_STATUS:
            pending.append(task)
        elif check_exit_codes and _failed_job(task):
            failed.append(task)
        else:
            done.append(task)
    return done, pending, failed


def _failed_job(task):
    exit_codes = [container.get("exitCode") for container in task.get("containers", [])]
    return task.get("stopCode") == "TaskFailedToStart" or any(code not in (None, 0) for code in exit_codes)


def task_line(task, managed_ids):
    exits = ", ".join("{0} exited {1}".format(container["name"], container["exitCode"])
                      for container in task.get("containers", []) if container.get("exitCode") is not None)
    detail = "; ".join(part for part in (task.get("stoppedReason"), exits) if part)
    host = describe_host(task.get("containerInstanceArn"), managed_ids)
    return "task/{0} on {1}: {2}{3}".format(short_id(task["taskArn"]), host, task.get("lastStatus"), " ({0})".format(detail) if detail else "")


# --- API calls ---------------------------------------------------------------------------------------------

@ECSErrorHandler.common_error_handler("run task")
def run_task(client, **params):
    response = client.run_task(**params)
    return response.get("tasks", []), response.get("failures", [])


@ECSErrorHandler.common_error_handler("start task")
def start_task(client, **params):
    response = client.start_task(**params)
    return response.get("tasks", []), response.get("failures", [])


@ECSErrorHandler.common_error_handler("stop task")
def stop_task(client, cluster, task, reason=None):
    params = {"cluster": cluster, "task": task}
    if reason:
        params["reason"] = reason
    return client.stop_task(**params)["task"]


@ECSErrorHandler.common_error_handler("list tasks")
def list_task_arns(client, cluster, **filters):
    """Task ARNs of the cluster, 100 per page; filters are ListTasks's (family, startedBy, desiredStatus...)."""
    params = dict((key, value) for key, value in filters.items() if value)
    return list(paginate(client.list_tasks, "taskArns", cluster=cluster, maxResults=DESCRIBE_BATCH_SIZE, **params))


@ECSErrorHandler.common_error_handler("describe tasks")
def describe_tasks(client, cluster, arns):
    """Describe tasks in batches of 100. Returns (tasks, failures)."""
    tasks, failures = [], []
    for batch in chunks(arns, DESCRIBE_BATCH_SIZE):
        response = client.describe_tasks(cluster=cluster, tasks=batch)
        tasks.extend(response.get("tasks", []))
        failures.extend(response.get("failures", []))
    return tasks, failures


# --- the host side: container instances and their mi- ids ---------------------------------------------------

class Hosts:
    """Container instance ARN <-> mi- id for one cluster, looked up in batches and remembered."""

    def __init__(self, client, cluster):
        self.client = client
        self.cluster = cluster
        self.managed_ids = {}

    def learn(self, instance_arns):
        unknown = sorted(set(arn for arn in instance_arns if arn and arn not in self.managed_ids))
        if unknown:
            instances, _failures = describe_container_instances(self.client, self.cluster, unknown, include_tags=False)
            self.managed_ids.update((instance["containerInstanceArn"], instance.get("ec2InstanceId")) for instance in instances)
        return self.managed_ids

    def resolve(self, references, field="container_instances"):
        """Container instance ARNs for references (ARNs, ids, mi- ids), in order; fails naming unknown ones."""
        check_instance_references(references, field)
        by_managed_id = {}
        managed = sorted(set(reference for reference in references if instance_reference_kind(reference) == "managed"))
        for batch in chunks(managed, MANAGED_IDS_PER_QUERY):
            arns = list_container_instance_arns(self.client, self.cluster, query=managed_instance_query(batch))
            for arn, managed_id in self.learn(arns).items():
                if managed_id in batch:
                    by_managed_id[managed_id] = arn
        resolved = []
        for index, reference in enumerate(references):
            kind = instance_reference_kind(reference)
            if kind == "managed" and reference not in by_managed_id:
                raise AnsibleECSAnywhereError(message="{0}[{1}]: {2} is not a container instance of cluster {3}".format(
                    field, index, reference, self.cluster))
            resolved.append(by_managed_id[reference] if kind == "managed" else reference)
        return resolved


# --- operations --------------------------------------------------------------------------------------------

class TaskRunner:
    """run / start / ensure / stop and the wait, for one cluster. Decides check mode in one place.

    Every method returns the module result: changed, tasks (summaries), failures, and failed/msg when
    placement failures are fatal or a wait ends badly."""

    def __init__(self, client, cluster, check_mode=False, fail_on_placement_failure=True, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.cluster = cluster
        self.check_mode = check_mode
        self.fail_on_placement_failure = fail_on_placement_failure
        self.hosts = Hosts(client, cluster)
        self.sleep = sleep
        self.clock = clock

    def run(self, request, count, client_token=None):
        """RunTask with launchType EXTERNAL, count split into calls of at most 10."""
        if self.check_mode:
            return {"changed": True, "tasks": [], "failures": []}
        tasks, failures = [], []
        for batch, batch_count in enumerate(_batch_sizes(count, UPDATE_BATCH_SIZE)):
            params = dict(request, cluster=self.cluster, count=batch_count, launchType="EXTERNAL")
            if client_token:
                # Each call needs its own token; the first keeps the user's so a single call stays idempotent.
                params["clientToken"] = client_token if batch == 0 else "{0}-{1}".format(client_token, batch)
            started, failed = run_task(self.client, **params)
            tasks.extend(started)
            failures.extend(failed)
        return self._started("RunTask", tasks, failures)

    def start(self, request, instance_arns):
        """StartTask on the given container instances, 10 per call."""
        if self.check_mode:
            return {"changed": bool(instance_arns), "tasks": [], "failures": [], "container_instance_arns": instance_arns}
        tasks, failures = [], []
        for batch in chunks(instance_arns, UPDATE_BATCH_SIZE):
            started, failed = start_task(self.client, **dict(request, cluster=self.cluster, containerInstances=batch))
            tasks.extend(started)
            failures.extend(failed)
        return self._started("StartTask", tasks, failures)

    def ensure(self, request, instance_arns, started_by=None):
        """Start the family's task only on the instances where none is running or pending."""
        family = task_family(request["taskDefinition"])
        running = self._tasks(family=family, startedBy=started_by)
        occupied = set(task.get("containerInstanceArn") for task in running)
        missing = [arn for arn in instance_arns if arn not in occupied]
        result = self.start(request, missing) if missing else {"changed": False, "tasks": [], "failures": []}
        chosen = set(instance_arns)
        already = [task for task in running if task.get("containerInstanceArn") in chosen]
        managed_ids = self.hosts.learn(task["containerInstanceArn"] for task in already)
        result["already_running"] = [summarize_task(task, managed_ids) for task in already]
        return result

    def stop(self, task_references=None, family=None, started_by=None, group=None, instance_arns=None, reason=None):
        """Stop the given tasks, or the running ones of a family / startedBy / group on the chosen instances."""
        missing = []
        if task_references:
            # Unknown tasks (or stopped ones AWS no longer keeps) have nothing left to stop.
            tasks, missing = describe_tasks(self.client, self.cluster, task_references)
        else:
            tasks = self._tasks(family=family, startedBy=started_by)
        chosen = set(instance_arns or [])
        to_stop = [task for task in tasks if task.get("desiredStatus") != FINAL_STATUS
                   and (not group or task.get("group") == group)
                   and (not chosen or task.get("containerInstanceArn") in chosen)]
        if not self.check_mode:
            to_stop = [stop_task(self.client, self.cluster, task["taskArn"], reason) for task in to_stop]
        managed_ids = self.hosts.learn(task.get("containerInstanceArn") for task in to_stop)
        return {"changed": bool(to_stop), "tasks": [summarize_task(task, managed_ids) for task in to_stop],
                "failures": [camel_dict_to_snake_dict(failure) for failure in missing]}

    def wait(self, result, target, timeout, delay, check_exit_codes=True):
        """Poll DescribeTasks (100 per call, only unfinished tasks) until every task of result reaches target.

        Adds wait progress to result; on a failed task (see sort_by_target: at once for RUNNING, once every task
        stopped for STOPPED) or at the timeout, sets failed and a msg naming the tasks and hosts with their
        lastStatus and stoppedReason."""
        if self.check_mode or not result["tasks"] or result.get("failed"):
            return result
        latest = collections.OrderedDict((task["task_arn"], None) for task in result["tasks"])
        unfinished = list(latest)
        started = self.clock()
        progress = []
        while True:
            described, _missing = describe_tasks(self.client, self.cluster, unfinished)
            latest.update((task["taskArn"], task) for task in described)
            known = [task for task in latest.values() if task is not None]
            _done, pending, failed = sort_by_target(known, target, check_exit_codes)
            elapsed = self.clock() - started
            progress.append(dict(collections.Counter(task["lastStatus"] for task in known), elapsed=round(elapsed, 1)))
            unfinished = [task["taskArn"] for task in pending]
            # A task that will not be RUNNING ends that wait at once; a failed job does not end the wait for the
            # other jobs, whose exit codes the operator needs as well.
            if (failed and target == "RUNNING") or not pending or elapsed + delay > timeout:
                break
            self.sleep(delay)
        managed_ids = self.hosts.learn(task.get("containerInstanceArn") for task in known)
        result["tasks"] = [summarize_task(task, managed_ids) for task in known]
        result["wait"] = {"target": target, "elapsed": round(elapsed, 1), "polls": len(progress), "progress": progress}
        messages = []
        if failed:
            messages.append("{0} of {1} task(s) will not be {2}: {3}".format(
                len(failed), len(known), target, "; ".join(task_line(task, managed_ids) for task in failed)))
        if pending and (not failed or target == "STOPPED"):
            messages.append("Timed out after {0} s waiting for {1} of {2} task(s) to be {3}: {4}".format(
                timeout, len(pending), len(known), target, "; ".join(task_line(task, managed_ids) for task in pending)))
        if messages:
            result.update(failed=True, msg=". ".join(messages))
        return result

    def _tasks(self, family=None, startedBy=None):
        """Described tasks of the cluster that are meant to run (PENDING or RUNNING)."""
        arns = list_task_arns(self.client, self.cluster, family=family, startedBy=startedBy, desiredStatus="RUNNING")
        tasks, _missing = describe_tasks(self.client, self.cluster, arns)
        return [task for task in tasks if not startedBy or task.get("startedBy") == startedBy]

    def _started(self, operation, tasks, failures):
        managed_ids = self.hosts.learn([task.get("containerInstanceArn") for task in tasks] +
                                       [failure.get("arn") for failure in failures if "container-instance/" in (failure.get("arn") or "")])
        result = {"changed": bool(tasks), "tasks": [summarize_task(task, managed_ids) for task in tasks],
                  "failures": [dict(camel_dict_to_snake_dict(failure), managed_instance_id=managed_ids.get(failure.get("arn")))
                               for failure in failures]}
        if failures and self.fail_on_placement_failure:
            result.update(failed=True, msg=failures_message(operation, failures, managed_ids))
        return result


def _batch_sizes(total, size):
    while total > 0:
        yield min(total, size)
        total -= size


def task_request(shape, task_definition=None, overrides=None, placement_constraints=None, placement_strategy=None,
                 group=None, started_by=None, tags=None, propagate_tags=None, enable_ecs_managed_tags=None):
    """RunTask/StartTask parameters (without cluster and count) from module options, conformed to shape (a
    RunTask or StartTask input shape), so snake_case overrides work and bad keys are named."""
    request = {}
    for option, member, value in (("task_definition", "taskDefinition", task_definition), ("overrides", "overrides", overrides),
                                  ("placement_constraints", "placementConstraints", placement_constraints),
                                  ("placement_strategy", "placementStrategy", placement_strategy),
                                  ("group", "group", group), ("started_by", "startedBy", started_by),
                                  ("propagate_tags", "propagateTags", propagate_tags),
                                  ("enable_ecs_managed_tags", "enableECSManagedTags", enable_ecs_managed_tags)):
        if value is None:
            continue
        if member not in shape.members:
            raise AnsibleECSAnywhereError(message="{0}: not used by this operation".format(option))
        request[member] = conform(value, shape.members[member], option)
    if tags:
        request["tags"] = ansible_dict_to_boto3_tag_list(tags, "key", "value")
    return request
