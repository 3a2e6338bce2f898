"""Task definitions, placement and the task lifecycle for the lab's ECS add-ons.

Backend-level helpers used by ``lab.aws.ecs``. Tasks are moto ``Task`` objects stored where moto stores
them (``backend.tasks[cluster][arn]``) with lab attributes: ``_lab_needs`` (resources the task holds
while not STOPPED) and ``_lab_instance`` (its container instance).
"""
import random
import re

from moto.ecs.exceptions import EcsClientException, InvalidParameterException
from moto.ecs.models import Task
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

from lab.aws import _ecs_instances as instances
from lab.aws import core
from lab.aws.ecs_query import QuerySyntaxError, compile_expression

LOCK = instances.LOCK
NETWORK_MODES_EXTERNAL = ("bridge", "host", "none")
MAX_CONSTRAINTS = 10
MAX_STRATEGIES = 5
# AWS's reasons in RunTask/StartTask failures[].
AGENT = "AGENT"
ATTRIBUTE = "ATTRIBUTE"
MEMBER_OF = "MemberOf placement constraint unsatisfied."
DISTINCT_INSTANCE = "DistinctInstance placement constraint unsatisfied."
MISSING = "MISSING"


# --- task definitions ---------------------------------------------------------------------------

def effective_network_mode(network_mode, requires_compatibilities):
    if network_mode:
        return network_mode
    return "awsvpc" if "FARGATE" in (requires_compatibilities or []) else "bridge"


def check_task_definition(network_mode, requires_compatibilities):
    """AWS refuses an EXTERNAL task definition with awsvpc networking (ClientException)."""
    mode = effective_network_mode(network_mode, requires_compatibilities)
    if "EXTERNAL" in (requires_compatibilities or []) and mode not in NETWORK_MODES_EXTERNAL:
        raise EcsClientException(f"Task definition networkMode '{mode}' is not supported by the EXTERNAL launch type; "
                                 f"use one of {', '.join(NETWORK_MODES_EXTERNAL)}.")


def _compatibilities(task_definition):
    mode = task_definition.network_mode
    compatible = {"EC2": True, "EXTERNAL": mode in NETWORK_MODES_EXTERNAL,
                  "FARGATE": mode == "awsvpc" and bool(task_definition.cpu) and bool(task_definition.memory)}
    required = [c for c in task_definition.requires_compatibilities or [] if compatible.get(c)]
    return required + [c for c in ("EC2", "EXTERNAL", "FARGATE") if compatible[c] and c not in required]


def _requires_attributes(task_definition):
    """The agent capabilities the task needs (a subset of what AWS derives: log drivers, task role)."""
    names = set()
    for container in task_definition.container_definitions:
        driver = (container.get("logConfiguration") or {}).get("logDriver")
        if driver:
            names.add(f"com.amazonaws.ecs.capability.logging-driver.{driver}")
    if getattr(task_definition, "task_role_arn", None):
        names.add("com.amazonaws.ecs.capability.task-iam-role")
    return [{"name": name} for name in sorted(names)]


def finish_task_definition(task_definition, network_mode, requires_compatibilities, registered_at):
    """Undo moto's rewrite of EXTERNAL into FARGATE/awsvpc and fill what describe shows."""
    task_definition.network_mode = effective_network_mode(network_mode, requires_compatibilities)
    task_definition.compatibilities = _compatibilities(task_definition)
    task_definition.requires_attributes = _requires_attributes(task_definition)
    task_definition.registered_at = registered_at


def check_launch_type(task_definition, launch_type):
    if launch_type not in task_definition.compatibilities:
        raise InvalidParameterException(f"Task definition does not support launch_type {launch_type}.")


# --- resources ----------------------------------------------------------------------------------

_UNITS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb|mb)?\s*$", re.IGNORECASE)


def _task_level(value, unit_size):
    """Task-level cpu/memory: '1024', '1 vCPU', '2 GB' -> CPU units or MiB."""
    if value in (None, ""):
        return None
    match = _UNITS.match(str(value))
    if not match:
        raise InvalidParameterException(f"Invalid task-level value {value!r}.")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return int(number * unit_size) if unit in ("vcpu", "gb") else int(number)


def task_needs(task_definition, overrides=None):
    """CPU units, MiB and host ports the task holds on its instance (task-level values win, as on EC2)."""
    by_name = {o.get("name"): o for o in (overrides or {}).get("containerOverrides") or []}
    cpu = memory = 0
    ports, udp_ports = [], []
    for container in task_definition.container_definitions:
        override = by_name.get(container.get("name"), {})
        cpu += int(override.get("cpu", container.get("cpu")) or 0)
        memory += int(override.get("memory") or override.get("memoryReservation") or container.get("memory")
                      or container.get("memoryReservation") or 0)
        for mapping in container.get("portMappings") or []:
            host_port = mapping.get("hostPort")
            if task_definition.network_mode == "host":
                host_port = host_port or mapping.get("containerPort")
            elif task_definition.network_mode != "bridge":
                host_port = None
            if host_port:
                (udp_ports if mapping.get("protocol") == "udp" else ports).append(str(host_port))
    overrides = overrides or {}
    task_cpu = _task_level(overrides.get("cpu") or task_definition.cpu, 1024)
    task_memory = _task_level(overrides.get("memory") or task_definition.memory, 1024)
    return {"CPU": task_cpu if task_cpu is not None else cpu,
            "MEMORY": task_memory if task_memory is not None else memory,
            "PORTS": ports, "PORTS_UDP": udp_ports}


# --- placement ----------------------------------------------------------------------------------

def parse_constraints(constraints):
    """Request placementConstraints -> (memberOf predicates, distinctInstance flag)."""
    if len(constraints) > MAX_CONSTRAINTS:
        raise InvalidParameterException(f"placementConstraints can have at most {MAX_CONSTRAINTS} items.")
    predicates, distinct = [], False
    for constraint in constraints:
        kind = constraint.get("type")
        if kind == "distinctInstance":
            if constraint.get("expression"):
                raise InvalidParameterException("distinctInstance placement constraints take no expression.")
            distinct = True
        elif kind == "memberOf":
            predicates.append(member_of(constraint.get("expression")))
        else:
            raise InvalidParameterException(f"Unknown placement constraint type {kind!r}.")
    return predicates, distinct


def member_of(expression):
    if not expression:
        raise InvalidParameterException("memberOf placement constraints need an expression.")
    try:
        return compile_expression(expression)
    except QuerySyntaxError as exc:
        raise InvalidParameterException(f"Invalid placement constraint expression {expression!r}: {exc}") from None


def parse_strategies(strategies):
    if len(strategies) > MAX_STRATEGIES:
        raise InvalidParameterException(f"placementStrategy can have at most {MAX_STRATEGIES} items.")
    parsed = []
    for strategy in strategies:
        kind, field = strategy.get("type"), strategy.get("field")
        if kind == "random":
            if field:
                raise InvalidParameterException("The random placement strategy takes no field.")
        elif kind == "binpack":
            if (field or "").lower() not in ("cpu", "memory"):
                raise InvalidParameterException("The binpack placement strategy needs field cpu or memory.")
            field = field.upper()
        elif kind == "spread":
            if not field or not (field in ("instanceId", "host") or field.startswith("attribute:")):
                raise InvalidParameterException("The spread placement strategy needs field instanceId, host or "
                                                "attribute:NAME.")
        else:
            raise InvalidParameterException(f"Unknown placement strategy type {kind!r}.")
        parsed.append((kind, field))
    return parsed


class Request:
    """What one RunTask/StartTask asks for."""

    def __init__(self, backend, cluster, task_definition, *, group, overrides, started_by, tags, launch_type,
                 network_configuration=None):
        self.backend = backend
        self.cluster = cluster
        self.task_definition = task_definition
        self.group = group or f"family:{task_definition.family}"
        self.overrides = overrides or {}
        self.started_by = started_by or None
        self.tags = tags or []
        self.launch_type = launch_type
        self.network_configuration = network_configuration
        self.needs = task_needs(task_definition, self.overrides)
        self.required_attributes = [a["name"] for a in getattr(task_definition, "requires_attributes", [])]


def _group_tasks(ci, group):
    return sum(1 for task in instances.live_tasks(ci).values() if task.group == group)


def reject_reason(ci, request, member_of_predicates=(), distinct=False):
    """Why the task cannot go on this instance (AWS's failure reason), or None."""
    if not ci.agent_connected:
        return AGENT
    if any(name not in ci.attributes for name in request.required_attributes):
        return ATTRIBUTE
    if member_of_predicates:
        facts = instances.value_of(ci)
        if not all(predicate(facts) for predicate in member_of_predicates):
            return MEMBER_OF
    if distinct and _group_tasks(ci, request.group):
        return DISTINCT_INSTANCE
    needs = request.needs
    if needs["CPU"] > instances.remaining(ci, "CPU"):
        return "RESOURCE:CPU"
    if needs["MEMORY"] > instances.remaining(ci, "MEMORY"):
        return "RESOURCE:MEMORY"
    if set(needs["PORTS"]) & set(instances.remaining(ci, "PORTS")):
        return "RESOURCE:PORTS"
    if set(needs["PORTS_UDP"]) & set(instances.remaining(ci, "PORTS_UDP")):
        return "RESOURCE:PORTS_UDP"
    return None


def _strategy_key(strategies, request, candidates, rng):
    """A sort key per instance: each strategy in order, then registration order (deterministic)."""
    keys = {}
    spread_counts = {}
    for kind, field in strategies:
        if kind == "spread" and field.startswith("attribute:"):
            name = field[len("attribute:"):]
            counts = {}
            for ci in candidates:
                value = ci.attributes.get(name)
                counts[value] = counts.get(value, 0) + _group_tasks(ci, request.group)
            spread_counts[field] = (name, counts)
    for position, ci in enumerate(candidates):
        key = []
        for kind, field in strategies:
            if kind == "random":
                key.append(rng.random())
            elif kind == "binpack":
                key.append(instances.remaining(ci, field))
            elif field in ("instanceId", "host"):
                key.append(_group_tasks(ci, request.group))
            else:
                name, counts = spread_counts[field]
                key.append(counts[ci.attributes.get(name)])
        key.append(position)
        keys[ci.id] = tuple(key)
    return lambda ci: keys[ci.id]


def run(request, count, member_of_predicates, distinct, strategies):
    """RunTask placement: ``count`` tasks on ACTIVE instances of the launch type. Returns (tasks, failures)."""
    backend, cluster = request.backend, request.cluster
    external = request.launch_type == "EXTERNAL"
    with LOCK:
        candidates = [ci for ci in instances.ordered_instances(backend, cluster.name)
                      if ci.status == "ACTIVE" and instances.is_external(ci) == external]
        if not candidates:
            raise InvalidParameterException("No Container Instances were found in your cluster.")
        # Seeded by the cluster's history so a 'random' strategy repeats run for run.
        rng = random.Random(f"{cluster.name}:{len(backend.tasks.get(cluster.name, {}))}")
        tasks, reasons = [], {}
        for _ in range(count):
            eligible, reasons = [], {}
            for ci in candidates:
                reason = reject_reason(ci, request, member_of_predicates, distinct)
                if reason:
                    reasons[ci.container_instance_arn] = reason
                else:
                    eligible.append(ci)
            if not eligible:
                break
            chosen = min(eligible, key=_strategy_key(strategies, request, eligible, rng))
            tasks.append(create_task(request, chosen))
        failures = [] if len(tasks) == count else [{"arn": arn, "reason": reason} for arn, reason in reasons.items()]
        return tasks, failures


def start(request, container_instances):
    """StartTask: one task on each named instance. Returns (tasks, failures)."""
    backend, cluster = request.backend, request.cluster
    tasks, failures = [], []
    with LOCK:
        for name in container_instances:
            ci = instances.find_instance(backend, cluster.name, name)
            if ci is None or ci.status == "INACTIVE":
                arn = ci.container_instance_arn if ci else name
                failures.append({"arn": arn, "reason": MISSING})
                continue
            reason = reject_reason(ci, request)
            if reason:
                failures.append({"arn": ci.container_instance_arn, "reason": reason})
                continue
            request.launch_type = "EXTERNAL" if instances.is_external(ci) else "EC2"
            tasks.append(create_task(request, ci))
    return tasks, failures


# --- tasks --------------------------------------------------------------------------------------

def _container(task, container_definition):
    partition = get_partition(task.region_name)
    container = {
        "containerArn": f"arn:{partition}:ecs:{task.region_name}:{task._account_id}:container/"
                        f"{task.cluster_name}/{task.id}/{mock_random.uuid4()}",
        "taskArn": task.task_arn,
        "name": container_definition.get("name"),
        "image": container_definition.get("image"),
        "lastStatus": "PENDING",
        "networkBindings": [],
        "networkInterfaces": [],
        "healthStatus": "UNKNOWN",
        "cpu": str(container_definition.get("cpu") or 0),
    }
    for key in ("memory", "memoryReservation"):
        if container_definition.get(key) is not None:
            container[key] = str(container_definition[key])
    return container


def create_task(request, ci):
    backend, cluster, task_definition = request.backend, request.cluster, request.task_definition
    task = Task(cluster, task_definition, ci.container_instance_arn, dict(request.needs), backend=backend,
                group=request.group, launch_type=request.launch_type, overrides=request.overrides,
                started_by=request.started_by, tags=list(request.tags),
                networking_configuration=request.network_configuration)
    task.started_by = request.started_by  # moto stores "" for none; AWS leaves startedBy out
    task.last_status = "PENDING"
    task.desired_status = "RUNNING"
    task.stopped_reason = None
    task.created_at = instances.now()
    task.version = 1
    task.cpu = task_definition.cpu or str(request.needs["CPU"])
    task.memory = task_definition.memory or str(request.needs["MEMORY"])
    task.health_status = "UNKNOWN"
    task.enable_execute_command = False
    task.containers = [_container(task, definition) for definition in task_definition.container_definitions]
    task._lab_needs = request.needs
    task._lab_instance = ci
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    instances.lab_state(backend).task_by_id[task.id] = task
    instances.live_tasks(ci)[task.task_arn] = task
    instances.refresh(backend, ci)
    return task


def forgotten(task):
    """Whether ECS no longer shows this task: STOPPED longer than the ``stopped_task_retention`` setting ago
    (lab clock). AWS: "stopped tasks appear in the returned results for at least one hour"
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html), and ListTasks only
    lists "recently stopped tasks" (API_ListTasks.html)."""
    stopped_at = instances.aware(getattr(task, "stopped_at", None))
    if task.last_status != "STOPPED" or stopped_at is None:
        return False
    return (instances.now() - stopped_at).total_seconds() > core.setting("stopped_task_retention")


def find_task(backend, cluster_name, arn_or_id):
    """A task of the cluster by ARN or id that ECS still shows, or None."""
    task_id = arn_or_id.rsplit("/", 1)[-1]
    task = instances.lab_state(backend).task_by_id.get(task_id)
    if task is None:
        # tasks moto made itself (e.g. FARGATE)
        task = next((t for t in backend.tasks.get(cluster_name, {}).values() if t.id == task_id), None)
    if task is None or task.cluster_name != cluster_name or forgotten(task):
        return None
    return task


def find_task_anywhere(backend, arn_or_id):
    task_id = arn_or_id.rsplit("/", 1)[-1]
    task = instances.lab_state(backend).task_by_id.get(task_id)
    if task is None:
        for cluster_name in backend.tasks:
            task = find_task(backend, cluster_name, task_id)
            if task is not None:
                break
    return task


def apply_container_reports(containers, reports, status, exit_code=None, reason=None):
    """Update the task's container views from the agent's container reports."""
    by_name = {report.get("containerName"): report for report in reports or []}
    for container in containers:
        report = by_name.get(container["name"], {})
        container["lastStatus"] = report.get("status") or status
        if report.get("runtimeId"):
            container["runtimeId"] = report["runtimeId"]
        if report.get("networkBindings") is not None:
            container["networkBindings"] = report["networkBindings"]
        if status == "STOPPED":
            code = report.get("exitCode", exit_code)
            if code is not None:
                container["exitCode"] = code
            if report.get("reason") or reason:
                container["reason"] = report.get("reason") or reason


def change_state(backend, task, status, *, reason=None, exit_code=None, containers=None, pull_started_at=None,
                 pull_stopped_at=None, execution_stopped_at=None):
    """The agent's (or the lab control call's) report: PENDING -> RUNNING -> STOPPED; STOPPED is final."""
    with LOCK:
        if task.last_status == "STOPPED" or status not in ("RUNNING", "STOPPED"):
            return task
        if status == "RUNNING" and task.last_status == "RUNNING" and not containers:
            return task
        moment = instances.now()
        if pull_started_at:
            task.pull_started_at = pull_started_at
        if pull_stopped_at:
            task.pull_stopped_at = pull_stopped_at
        if status == "RUNNING":
            task.last_status = "RUNNING"
            task.started_at = getattr(task, "started_at", None) or moment
            task.connectivity, task.connectivity_at = "CONNECTED", moment
        else:
            never_ran = task.last_status == "PENDING"
            task.last_status = "STOPPED"
            task.desired_status = "STOPPED"
            task.stopping_at = getattr(task, "stopping_at", None) or moment
            task.execution_stopped_at = execution_stopped_at or moment
            task.stopped_at = moment
            task.stop_code = getattr(task, "stop_code", None) or (
                "TaskFailedToStart" if never_ran else "EssentialContainerExited")
            task.stopped_reason = reason or task.stopped_reason or "Essential container in task exited"
        apply_container_reports(task.containers, containers, status, exit_code, reason if status == "STOPPED" else None)
        task.version = getattr(task, "version", 0) + 1
        ci = getattr(task, "_lab_instance", None)
        if ci is not None:
            if status == "STOPPED":
                instances.live_tasks(ci).pop(task.task_arn, None)
            instances.refresh(backend, ci)
        return task


def stop(backend, task, reason):
    """StopTask: desiredStatus STOPPED. An instance whose agent picks up tasks (it polled) reports the
    stop itself; on any other instance the task stops at once."""
    with LOCK:
        if task.last_status == "STOPPED":
            return task
        task.desired_status = "STOPPED"
        task.stopping_at = instances.now()
        task.stop_code = "UserInitiated"
        task.stopped_reason = reason or "Task stopped by user"
        task.version = getattr(task, "version", 0) + 1
        ci = getattr(task, "_lab_instance", None)
        if ci is None or not ci.__dict__.get("_lab_has_agent"):
            change_state(backend, task, "STOPPED", reason=task.stopped_reason)
        return task
