"""ECS services with launch type EXTERNAL: the service model and the lab's service scheduler.

Backend-level code used by ``lab.aws.ecs`` (the API layer). A service is a ``LabService`` stored where moto
keeps its own services (``backend.services["CLUSTER:NAME"]``), so moto's tag operations and the lab's
DeleteCluster check see it. Its tasks are ordinary lab tasks made by ``lab.aws._ecs_tasks`` (group
``service:NAME``, startedBy the deployment id ``ecs-svc/<19 digits>``): the agents pick them up through
``/_lab/agent/poll`` and report them with SubmitTaskStateChange like RunTask tasks.

``reconcile(backend, service)`` is one scheduler pass over one service; ``reconcile_all()`` passes over every
service of every backend. The background thread (``start_scheduler``) runs ``reconcile_all`` every
``service_scheduler_interval`` seconds (a lab setting; 0 pauses it); ``POST /_lab/services/reconcile`` runs one pass, so
tests drive the scheduler deterministically. Everything runs under the lab's ECS lock.

AWS references (cited where used):
- API: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html, API_UpdateService,
  API_DeleteService, API_DeploymentConfiguration, API_ServiceDeploymentCircuitBreaker.
- Developer guide: deployment-type-ecs.html (rolling update), deployment-circuit-breaker.html,
  service-event-messages.html and service-event-messages-list.html, ecs-anywhere.html (considerations).
"""
import math
import re
import threading
import time

from moto.ecs.exceptions import ECSException, InvalidParameterException
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

from lab.aws import _ecs_instances as instances
from lab.aws import _ecs_tasks as tasks
from lab.aws import core

LOCK = instances.LOCK
# AWS defaults (API_DeploymentConfiguration): REPLICA 100/200, DAEMON 0/100.
DEFAULT_PERCENTS = {"REPLICA": (100, 200), "DAEMON": (0, 100)}
# "we only show the 100 most recent events" (service-event-messages.html).
MAX_EVENTS = 100
# API_ServiceDeploymentCircuitBreaker: "minimum threshold of 3 and a maximum threshold of 200 ...
# 0.5 * desired task count".
BREAKER_MIN, BREAKER_MAX, BREAKER_RATIO = 3, 200, 0.5
# The stoppedReason and stopCode AWS gives tasks the service scheduler stops.
SCHEDULER_STOP_CODE = "ServiceSchedulerInitiated"
# What the scheduler says about a placement failure, per RunTask failure reason
# (service-event-messages-list.html: "The closest matching (container-instance ID) has insufficient ...").
CLOSEST_MATCH = {
    tasks.AGENT: 'encountered error "AGENT".',
    tasks.ATTRIBUTE: "is missing an attribute required by your task.",
    "RESOURCE:CPU": "has insufficient CPU units available.",
    "RESOURCE:MEMORY": "has insufficient memory available.",
    "RESOURCE:PORTS": "is already using a port required by your task.",
    "RESOURCE:PORTS_UDP": "is already using a port required by your task.",
}
# How far an instance got through the checks of tasks.reject_reason: the furthest is the "closest matching".
_REASON_ORDER = [tasks.AGENT, tasks.ATTRIBUTE, tasks.MEMBER_OF, tasks.DISTINCT_INSTANCE, "RESOURCE:CPU",
                 "RESOURCE:MEMORY", "RESOURCE:PORTS", "RESOURCE:PORTS_UDP"]
_TROUBLESHOOTING = "For more information, see the Troubleshooting section."

_backends = set()  # backends that hold lab services (cleared by the lab reset)
_scheduler = {"thread": None}


def _new_deployment_id():
    return f"ecs-svc/{mock_random.randint(10 ** 18, 10 ** 19 - 1)}"


class Deployment:
    """One revision of the service (API_Deployment)."""

    def __init__(self, task_definition, desired_count, reason=None):
        moment = instances.now()
        self.id = _new_deployment_id()
        self.status = "PRIMARY"
        self.task_definition = task_definition
        self.desired_count = desired_count
        self.created_at = self.updated_at = moment
        self.rollout_state = "IN_PROGRESS"
        self.rollout_state_reason = reason or f"ECS deployment {self.id} in progress."
        self.failed_tasks = 0

    def set_rollout(self, state, reason):
        self.rollout_state, self.rollout_state_reason = state, reason
        self.updated_at = instances.now()


class LabService:
    """An EXTERNAL service: its settings, deployments (primary first), events (newest first) and tasks."""

    def __init__(self, backend, cluster, name, *, task_definition, desired_count, scheduling_strategy,
                 deployment_configuration, placement_constraints, placement_strategy, tags, propagate_tags,
                 enable_ecs_managed_tags):
        self._backend = backend
        self._account_id = backend.account_id
        self.region_name = backend.region_name
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.name = name
        self.arn = (f"arn:{get_partition(self.region_name)}:ecs:{self.region_name}:{self._account_id}:service/"
                    f"{cluster.name}/{name}")
        self.status = "ACTIVE"
        self.launch_type = "EXTERNAL"
        self.scheduling_strategy = scheduling_strategy
        self.desired_count = desired_count
        self.deployment_configuration = deployment_configuration
        self.placement_constraints = placement_constraints
        self.placement_strategy = placement_strategy
        self.tags = tags
        self.propagate_tags = propagate_tags
        self.enable_ecs_managed_tags = enable_ecs_managed_tags
        self.created_at = instances.now()
        self.deployments = [Deployment(task_definition.arn, desired_count)]
        self.events = []
        self.tasks = {}               # task ARN -> Task, every task the service started
        self.last_completed = None    # (deployment id, task definition ARN) of the last COMPLETED deployment
        self.steady = False

    @property
    def primary(self):
        return self.deployments[0]

    @property
    def task_definition(self):
        return self.primary.task_definition

    def add_event(self, message):
        """Newest first, at most MAX_EVENTS; a message equal to the newest one is not repeated (AWS omits
        duplicates until the cause is resolved)."""
        if self.events and self.events[0]["message"] == message:
            return
        self.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": instances.now(), "message": message})
        del self.events[MAX_EVENTS:]

    def prefix(self):
        return f"(service {self.name})"


# --- input -------------------------------------------------------------------------------------

def deployment_configuration(given, scheduling_strategy, current=None):
    """The effective deploymentConfiguration: AWS's defaults, the current values, then ``given``."""
    minimum, maximum = DEFAULT_PERCENTS[scheduling_strategy]
    result = current or {"maximumPercent": maximum, "minimumHealthyPercent": minimum,
                         "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    result = {**result, "deploymentCircuitBreaker": dict(result["deploymentCircuitBreaker"])}
    given = given or {}
    for key in ("maximumPercent", "minimumHealthyPercent"):
        if given.get(key) is not None:
            result[key] = int(given[key])
    if given.get("deploymentCircuitBreaker") is not None:
        breaker = given["deploymentCircuitBreaker"]
        result["deploymentCircuitBreaker"] = {"enable": bool(breaker.get("enable")),
                                              "rollback": bool(breaker.get("rollback"))}
    if result["maximumPercent"] < 100:
        raise InvalidParameterException("deploymentConfiguration.maximumPercent must be at least 100 for a "
                                        f"service with launch type EXTERNAL (got {result['maximumPercent']}).")
    if not 0 <= result["minimumHealthyPercent"] <= 100:
        raise InvalidParameterException("deploymentConfiguration.minimumHealthyPercent must be between 0 and "
                                        f"100 (got {result['minimumHealthyPercent']}).")
    if scheduling_strategy == "DAEMON" and result["maximumPercent"] != 100:
        # AWS: "The maximum percent value for DAEMON is 100" (API_DeploymentConfiguration).
        raise InvalidParameterException("deploymentConfiguration.maximumPercent must be 100 for the DAEMON "
                                        "scheduling strategy.")
    return result


SERVICE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# Not available to external instances (ecs-anywhere.html, Considerations: no Elastic Load Balancing, no
# service discovery, no awsvpc network mode; cluster-capacity-providers.html: "You cannot use capacity
# providers for tasks that run on external container instances"). AWS documents no error text for these;
# the lab answers InvalidParameterException naming the field.
UNSUPPORTED_EXTERNAL = {
    "loadBalancers": "loadBalancers: load balancers are not supported for services with launch type EXTERNAL.",
    "serviceRegistries": "serviceRegistries: service discovery is not supported for services with launch type "
                         "EXTERNAL.",
    "networkConfiguration": "networkConfiguration: the awsvpc network mode is not supported for services with "
                            "launch type EXTERNAL.",
}
# AWS's answer when both are given (CreateService: "If a capacityProviderStrategy is specified, the
# launchType parameter must be omitted").
BOTH_LAUNCH_TYPE_AND_PROVIDERS = ("Specifying both a launch type and capacity provider strategy is not supported. "
                                  "Remove one and try again.")


def check_external(params, creating):
    for key, message in UNSUPPORTED_EXTERNAL.items():
        if params.get(key):
            raise InvalidParameterException(message)
    if params.get("capacityProviderStrategy"):
        raise InvalidParameterException(BOTH_LAUNCH_TYPE_AND_PROVIDERS if creating else
                                        "capacityProviderStrategy: capacity providers cannot be used for tasks "
                                        "on external container instances (launch type EXTERNAL).")
    controller = (params.get("deploymentController") or {}).get("type") or "ECS"
    if controller == "CODE_DEPLOY":
        # Blue/green deployments shift traffic between two target groups of a load balancer.
        raise InvalidParameterException("deploymentController: CODE_DEPLOY needs a load balancer, which services "
                                        "with launch type EXTERNAL cannot use.")
    if controller == "EXTERNAL":
        # CreateService: with the EXTERNAL controller only parameters that are not set per task set are
        # allowed, and launchType is set per task set (CreateTaskSet).
        raise InvalidParameterException("deploymentController: a service with the EXTERNAL deployment "
                                        "controller takes its launch type from its task sets; omit launchType.")
    if controller != "ECS":
        raise InvalidParameterException(f"deploymentController: unknown type {controller!r}.")


def _desired_count(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterException(f"desiredCount must be an integer of 0 or more (got {value!r}).")
    return value


def _placement(params, scheduling_strategy):
    constraints = list(params.get("placementConstraints") or [])
    strategies = list(params.get("placementStrategy") or [])
    tasks.parse_constraints(constraints)
    tasks.parse_strategies(strategies)
    if strategies and scheduling_strategy == "DAEMON":
        # CreateService: "Task placement strategies aren't supported for the DAEMON scheduling strategy."
        raise InvalidParameterException("placementStrategy: placement strategies are not supported with the DAEMON "
                                        "scheduling strategy.")
    return constraints, strategies


def _external_task_definition(backend, name):
    if not name:
        raise InvalidParameterException("taskDefinition: a task definition is required for the ECS deployment "
                                        "controller.")
    task_definition = backend.describe_task_definition(name)
    tasks.check_launch_type(task_definition, "EXTERNAL")
    return task_definition


def create(backend, cluster, params):
    """CreateService for launch type EXTERNAL. Everything is checked before anything changes."""
    name = params.get("serviceName")
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        raise InvalidParameterException("serviceName: up to 255 letters (uppercase and lowercase), numbers, "
                                        "underscores and hyphens.")
    strategy = params.get("schedulingStrategy") or "REPLICA"
    if strategy not in DEFAULT_PERCENTS:
        raise InvalidParameterException(f"schedulingStrategy must be REPLICA or DAEMON (got {strategy!r}).")
    check_external(params, creating=True)
    desired = _desired_count(params.get("desiredCount"))
    if strategy == "DAEMON":
        if desired is not None:
            raise InvalidParameterException("desiredCount: the DAEMON scheduling strategy does not support a "
                                            "desired count (one task runs on each eligible instance).")
        desired = 0
    elif desired is None:
        # CreateService: desiredCount "is required if schedulingStrategy is REPLICA or isn't specified".
        raise InvalidParameterException("desiredCount is required for the REPLICA scheduling strategy.")
    config = deployment_configuration(params.get("deploymentConfiguration"), strategy)
    constraints, strategies = _placement(params, strategy)
    task_definition = _external_task_definition(backend, params.get("taskDefinition"))
    propagate = params.get("propagateTags") or "NONE"
    if propagate not in ("NONE", "SERVICE", "TASK_DEFINITION"):
        raise InvalidParameterException(f"propagateTags must be NONE, SERVICE or TASK_DEFINITION (got {propagate!r}).")
    with LOCK:
        key = f"{cluster.name}:{name}"
        existing = backend.services.get(key)
        if existing is not None and existing.status != "INACTIVE":
            # DeleteService: "If you attempt to create a new service with the same name as an existing service
            # in either ACTIVE or DRAINING status, you receive an error."
            raise InvalidParameterException("Creation of service was not idempotent.")
        service = LabService(backend, cluster, name, task_definition=task_definition, desired_count=desired,
                             scheduling_strategy=strategy, deployment_configuration=config,
                             placement_constraints=constraints, placement_strategy=strategies,
                             tags=list(params.get("tags") or []), propagate_tags=propagate,
                             enable_ecs_managed_tags=bool(params.get("enableECSManagedTags")))
        backend.services[key] = service
        _backends.add(backend)
        return service


def update(backend, service, params):
    """UpdateService. A new task definition or forceNewDeployment starts a new PRIMARY deployment; a
    desiredCount-only change scales the primary deployment (UpdateService: "If you update only the desired
    count, no new deployment is started")."""
    if service.status != "ACTIVE":
        raise ECSException("ServiceNotActiveException", "Service was not ACTIVE.")
    check_external(params, creating=False)
    if params.get("launchType") not in (None, "EXTERNAL"):
        raise InvalidParameterException("launchType: a service with launch type EXTERNAL cannot change it.")
    strategy = service.scheduling_strategy
    desired = _desired_count(params.get("desiredCount"))
    if desired is not None and strategy == "DAEMON":
        raise InvalidParameterException("desiredCount: the DAEMON scheduling strategy does not support a desired "
                                        "count (one task runs on each eligible instance).")
    config = deployment_configuration(params.get("deploymentConfiguration"), strategy,
                                      current=service.deployment_configuration)
    merged = {"placementConstraints": params.get("placementConstraints", service.placement_constraints),
              "placementStrategy": params.get("placementStrategy", service.placement_strategy)}
    constraints, strategies = _placement(merged, strategy)
    task_definition = None
    if params.get("taskDefinition"):
        task_definition = _external_task_definition(backend, params["taskDefinition"])
    propagate = params.get("propagateTags") or service.propagate_tags
    with LOCK:
        service.deployment_configuration = config
        service.placement_constraints, service.placement_strategy = constraints, strategies
        service.propagate_tags = propagate
        if desired is not None:
            service.desired_count = desired
            service.primary.desired_count = desired
            service.primary.updated_at = instances.now()
            service.steady = False
        changed = task_definition is not None and task_definition.arn != service.task_definition
        if changed or params.get("forceNewDeployment"):
            for deployment in service.deployments:
                deployment.status = "ACTIVE"
            service.deployments.insert(0, Deployment(
                task_definition.arn if task_definition else service.task_definition, service.desired_count))
            service.steady = False
        return service


def delete(backend, service, force):
    """DeleteService: desiredCount must be 0 unless ``force``; DRAINING while tasks stop, then INACTIVE."""
    if service.status != "ACTIVE":
        raise ECSException("ServiceNotActiveException", "Service was not ACTIVE.")
    if service.scheduling_strategy == "REPLICA" and service.desired_count > 0 and not force:
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    with LOCK:
        service.desired_count = 0
        service.status = "DRAINING"
        reconcile(backend, service)
        return service


def view(service, with_tags):
    """The service as DescribeServices shows it (API_Service)."""
    deployments = []
    for deployment in service.deployments:
        running, pending = counts(service, deployment)
        deployments.append({
            "id": deployment.id, "status": deployment.status, "taskDefinition": deployment.task_definition,
            "desiredCount": deployment.desired_count if deployment is service.primary else running + pending,
            "pendingCount": pending, "runningCount": running, "failedTasks": deployment.failed_tasks,
            "createdAt": deployment.created_at, "updatedAt": deployment.updated_at, "launchType": "EXTERNAL",
            "rolloutState": deployment.rollout_state, "rolloutStateReason": deployment.rollout_state_reason,
        })
    kept = [t for t in service.tasks.values() if _kept(t)]
    running = sum(1 for t in kept if t.last_status == "RUNNING")
    result = {
        "serviceArn": service.arn, "serviceName": service.name, "clusterArn": service.cluster_arn,
        "loadBalancers": [], "serviceRegistries": [], "status": service.status,
        "desiredCount": service.desired_count, "runningCount": running, "pendingCount": len(kept) - running,
        "launchType": "EXTERNAL", "taskDefinition": service.task_definition,
        "deploymentConfiguration": service.deployment_configuration, "deployments": deployments,
        "events": list(service.events), "createdAt": service.created_at,
        "placementConstraints": service.placement_constraints, "placementStrategy": service.placement_strategy,
        "schedulingStrategy": service.scheduling_strategy, "deploymentController": {"type": "ECS"},
        "enableECSManagedTags": service.enable_ecs_managed_tags, "propagateTags": service.propagate_tags,
        "enableExecuteCommand": False,
    }
    if with_tags:
        result["tags"] = list(service.tags)
    return result


# --- task bookkeeping --------------------------------------------------------------------------

def _live(task):
    return task.last_status != "STOPPED"


def _kept(task):
    """A task the scheduler still counts: not STOPPED and not being stopped."""
    return _live(task) and task.desired_status != "STOPPED"


def _instance_of(task):
    return getattr(task, "_lab_instance", None)


def _on_usable_instance(task):
    ci = _instance_of(task)
    return ci is not None and ci.status == "ACTIVE"


def deployment_tasks(service, deployment):
    return [t for t in service.tasks.values() if t.started_by == deployment.id]


def counts(service, deployment):
    """(running, pending) tasks of a deployment that are not being stopped."""
    kept = [t for t in deployment_tasks(service, deployment) if _kept(t)]
    running = sum(1 for t in kept if t.last_status == "RUNNING")
    return running, len(kept) - running


def breaker_threshold(desired_count):
    return min(BREAKER_MAX, max(BREAKER_MIN, math.ceil(BREAKER_RATIO * desired_count)))


# --- scheduler ---------------------------------------------------------------------------------

def _stop(backend, service, task, deployment_id):
    task._lab_stopped_by_scheduler = True
    tasks.stop(backend, task, f"Scaling activity initiated by (deployment {deployment_id})")
    task.stop_code = SCHEDULER_STOP_CODE


def _observe_stops(service):
    """Count tasks that stopped on their own while their deployment was rolling out (the circuit breaker's
    failed tasks: they failed to start, or stopped after reaching RUNNING before the rollout completed)."""
    by_id = {d.id: d for d in service.deployments}
    for task in service.tasks.values():
        if task.last_status != "STOPPED" or getattr(task, "_lab_observed", False):
            continue
        task._lab_observed = True
        deployment = by_id.get(task.started_by)
        if (deployment is not None and not getattr(task, "_lab_stopped_by_scheduler", False)
                and deployment.rollout_state == "IN_PROGRESS"):
            deployment.failed_tasks += 1
            deployment.updated_at = instances.now()


def _trip_breaker(service):
    """AWS deployment circuit breaker (deployment-circuit-breaker.html): FAILED at the threshold, and with
    rollback a new primary deployment of the last COMPLETED one's task definition."""
    primary = service.primary
    breaker = service.deployment_configuration["deploymentCircuitBreaker"]
    if (not breaker["enable"] or primary.rollout_state != "IN_PROGRESS"
            or primary.failed_tasks < breaker_threshold(service.desired_count)):
        return
    primary.set_rollout("FAILED", "ECS deployment circuit breaker: tasks failed to start.")
    service.add_event(f"{service.prefix()} (deployment {primary.id}) deployment failed: tasks failed to start.")
    if breaker["rollback"] and service.last_completed is not None:
        completed_id, task_definition = service.last_completed
        primary.status = "ACTIVE"
        rollback = Deployment(task_definition, service.desired_count,
                              f"ECS deployment circuit breaker: rolling back to deploymentId {completed_id}.")
        service.deployments.insert(0, rollback)
        service.steady = False
        service.add_event(f"{service.prefix()} rolling back to deployment {completed_id}.")


def _placement_event(service, failures):
    """AWS's 'unable to place a task' event, naming the closest matching instance when there is one."""
    message = (f"{service.prefix()} was unable to place a task because no container instance met all of its "
               "requirements.")
    if failures:
        closest = max(failures, key=lambda f: _REASON_ORDER.index(f["reason"]) if f["reason"] in _REASON_ORDER
                      else -1)
        ci_id = closest["arn"].rsplit("/", 1)[-1]
        if closest["reason"] in CLOSEST_MATCH:
            message += f" The closest matching (container-instance {ci_id}) {CLOSEST_MATCH[closest['reason']]}"
        else:  # placement constraints: the lab names the reason RunTask would give
            message += f" Reason: {closest['reason']}"
    service.add_event(f"{message} {_TROUBLESHOOTING}")


def _request(backend, service, deployment):
    cluster = backend.clusters[service.cluster_name]
    task_definition = backend.describe_task_definition(deployment.task_definition)
    tags = []
    if service.propagate_tags == "SERVICE":
        tags = list(service.tags)
    elif service.propagate_tags == "TASK_DEFINITION":
        tags = list(task_definition.tags)
    return tasks.Request(backend, cluster, task_definition, group=f"service:{service.name}", overrides=None,
                         started_by=deployment.id, tags=tags, launch_type="EXTERNAL")


def _member_of(backend, service, deployment):
    predicates, distinct = tasks.parse_constraints(service.placement_constraints)
    task_definition = backend.describe_task_definition(deployment.task_definition)
    predicates += [tasks.member_of(c.get("expression")) for c in task_definition.placement_constraints
                   if c.get("type") == "memberOf"]
    return predicates, distinct


def _record_started(service, started):
    for task in started:
        service.tasks[task.task_arn] = task
    if started:
        service.steady = False
        ids = " ".join(f"(task {t.id})" for t in started)
        service.add_event(f"{service.prefix()} has started {len(started)} tasks: {ids}.")


def _start_replicas(backend, service, room):
    """Start primary tasks until it has desiredCount on ACTIVE instances, at most ``room`` of them."""
    primary = service.primary
    kept_here = [t for t in deployment_tasks(service, primary) if _kept(t) and _on_usable_instance(t)]
    wanted = min(service.desired_count - len(kept_here), room)
    if wanted <= 0:
        return
    request = _request(backend, service, primary)
    predicates, distinct = _member_of(backend, service, primary)
    strategies = tasks.parse_strategies(service.placement_strategy)
    try:
        started, failures = tasks.run(request, wanted, predicates, distinct, strategies)
    except InvalidParameterException as exc:  # no ACTIVE external instance at all
        started, failures = [], []
        service.add_event(f"{service.prefix()} was unable to place a task because no container instance met all "
                          f"of its requirements. Reason: {exc.message} {_TROUBLESHOOTING}")
    _record_started(service, started)
    if len(started) < wanted and failures:
        _placement_event(service, failures)


def _daemon_instances(backend, service):
    """ACTIVE external instances that satisfy the placement constraints: each gets one daemon task."""
    request = _request(backend, service, service.primary)
    predicates, _ = _member_of(backend, service, service.primary)
    eligible = []
    for ci in instances.ordered_instances(backend, service.cluster_name):
        if ci.status != "ACTIVE" or not instances.is_external(ci):
            continue
        facts = instances.value_of(ci)
        if all(predicate(facts) for predicate in predicates) and all(
                name in ci.attributes for name in request.required_attributes):
            eligible.append(ci)
    return eligible


def _start_daemons(backend, service, eligible, room):
    primary = service.primary
    covered = {_instance_of(t).id for t in deployment_tasks(service, primary) if _kept(t) and _instance_of(t)}
    request = _request(backend, service, primary)
    started, failures = [], []
    for ci in eligible:
        if ci.id in covered or room <= 0:
            continue
        placed, failed = tasks.start(request, [ci.container_instance_arn])
        started += placed
        failures += failed
        room -= len(placed)
    _record_started(service, started)
    if failures:
        _placement_event(service, failures)


def _stop_surplus(backend, service, eligible_ids=None):
    """Stop what the service no longer wants, keeping RUNNING tasks at or above minimumHealthyPercent.

    Candidates: every task of non-primary deployments, primary tasks on DRAINING/INACTIVE instances (once
    their replacement started, or when maximumPercent leaves no room for one) and primary tasks beyond the
    desired count. PENDING tasks go first: they do not count as healthy.
    """
    config = service.deployment_configuration
    desired = service.desired_count
    min_healthy = math.ceil(desired * config["minimumHealthyPercent"] / 100)
    max_total = math.floor(desired * config["maximumPercent"] / 100)
    primary = service.primary
    kept = [t for t in service.tasks.values() if _kept(t)]
    healthy = sum(1 for t in kept if t.last_status == "RUNNING")
    primary_kept = [t for t in kept if t.started_by == primary.id]
    misplaced = [t for t in primary_kept if not _on_usable_instance(t)
                 or (eligible_ids is not None and _instance_of(t).id not in eligible_ids)]
    placed_well = [t for t in primary_kept if t not in misplaced]
    candidates = [t for t in kept if t.started_by != primary.id]
    if eligible_ids is not None:  # DAEMON: a task off its instance set stops at once (AWS stops daemon tasks
        forced = misplaced         # on draining instances; there is nowhere to move them)
    else:
        forced = []
        if len(placed_well) >= desired or len(kept) >= max_total:
            candidates += misplaced
        surplus = len(placed_well) - desired
        if surplus > 0:
            candidates += sorted(placed_well, key=lambda t: t.last_status == "RUNNING")[:surplus]
    if service.status == "DRAINING":
        forced, candidates = kept, []
    stopped = []
    for task in forced:
        _stop(backend, service, task, primary.id)
        stopped.append(task)
    for task in sorted(candidates, key=lambda t: t.last_status == "RUNNING"):
        if task.last_status == "RUNNING":
            if healthy - 1 < min_healthy:
                continue
            healthy -= 1
        _stop(backend, service, task, primary.id)
        stopped.append(task)
    if stopped:
        service.steady = False
        ids = " ".join(f"(task {t.id})" for t in stopped)
        service.add_event(f"{service.prefix()} has stopped {len(stopped)} running tasks: {ids}.")


def _room(service):
    maximum = math.floor(service.desired_count * service.deployment_configuration["maximumPercent"] / 100)
    return maximum - sum(1 for t in service.tasks.values() if _kept(t))


def _finish(service):
    """Drop drained old deployments; COMPLETED when the primary runs desiredCount and nothing else lives."""
    primary = service.primary
    live_others = {t.started_by for t in service.tasks.values() if _live(t) and t.started_by != primary.id}
    service.deployments = [primary] + [d for d in service.deployments[1:] if d.id in live_others]
    running, pending = counts(service, primary)
    settled = (running == service.desired_count and pending == 0 and len(service.deployments) == 1
               and all(_on_usable_instance(t) for t in deployment_tasks(service, primary) if _kept(t)))
    if not settled:
        return
    if primary.rollout_state == "IN_PROGRESS":
        primary.set_rollout("COMPLETED", f"ECS deployment {primary.id} completed.")
        service.add_event(f"{service.prefix()} (deployment {primary.id}) deployment completed.")
    if primary.rollout_state == "COMPLETED":
        service.last_completed = (primary.id, primary.task_definition)
    if not service.steady:
        service.steady = True
        service.add_event(f"{service.prefix()} has reached a steady state.")


def reconcile(backend, service):
    """One scheduler pass over one service."""
    with LOCK:
        if service.status == "INACTIVE":
            return
        _observe_stops(service)
        if service.status == "DRAINING":
            _stop_surplus(backend, service)
            if not any(_live(t) for t in service.tasks.values()):
                service.status = "INACTIVE"
                for deployment in service.deployments:
                    deployment.status = "INACTIVE"
            return
        if service.scheduling_strategy == "DAEMON":
            eligible = _daemon_instances(backend, service)
            service.desired_count = service.primary.desired_count = len(eligible)
            _trip_breaker(service)
            if service.primary.rollout_state != "FAILED":
                _start_daemons(backend, service, eligible, _room(service))
            _stop_surplus(backend, service, {ci.id for ci in eligible})
        else:
            _trip_breaker(service)
            if service.primary.rollout_state != "FAILED":
                _start_replicas(backend, service, _room(service))
            _stop_surplus(backend, service)
        _finish(service)


def lab_services(backend):
    return [s for s in backend.services.values() if isinstance(s, LabService)]


def reconcile_all():
    """One pass over every lab service; returns how many services it looked at."""
    with LOCK:
        passed = 0
        for backend in list(_backends):
            for service in lab_services(backend):
                reconcile(backend, service)
                passed += 1
        return passed


@core.on_reset
def _forget_backends():
    with LOCK:
        _backends.clear()


def _run_scheduler():
    idle = 0.2  # how often a paused scheduler looks at the setting again
    while True:
        interval = float(core.setting("service_scheduler_interval"))
        if interval > 0:
            with LOCK:
                # Read again under the lock: a pass never runs after a call that set the interval to 0 returned.
                if float(core.setting("service_scheduler_interval")) > 0:
                    try:
                        reconcile_all()
                    except Exception:  # keep scheduling; a broken service must not stop the others
                        import traceback

                        traceback.print_exc()
        time.sleep(interval if interval > 0 else idle)


def start_scheduler():
    """Start the background scheduler thread once per process (a daemon thread)."""
    with LOCK:
        thread = _scheduler["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_run_scheduler, name="lab-ecs-service-scheduler", daemon=True)
            _scheduler["thread"] = thread
            thread.start()
