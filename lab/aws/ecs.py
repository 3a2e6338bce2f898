"""ECS add-ons: external (ECS Anywhere) container instances, placement, task states, services, pagination.

``install()`` patches moto 5.2.5's own ECS response and backend classes in place (moto's URL map is bound
to them, so a subclass would never be served) and is idempotent. The agent side of the contract is
lab/PROTOCOL.md; this module is the ECS side of steps 4-7.

Container instances
- RegisterContainerInstance identifies the instance from the caller's credentials (the role credentials
  of a managed instance, as AWS does), or else from ``instanceIdentityDocument``'s ``instanceId``: an
  ``mi-`` id (17 hex digits) registers an external instance; an ``i-`` id goes through moto's EC2 path.
  ``ec2InstanceId`` is the mi- id. ``attributes``, ``totalResources`` (missing ones get moto's
  defaults), ``versionInfo`` and ``tags`` are kept. Re-registering with ``containerInstanceArn`` updates
  that instance (attributes are merged, resources replaced); a deregistered ARN is refused with
  ClientException "... is inactive ... is not ACTIVE" (what the real agent gets). Without the ARN a new
  container instance is registered, even beside an ACTIVE/DRAINING one of the same id, which stays as it
  is (AWS does the same: an agent whose data directory was wiped gets a new ARN; see
  ``_ecs_instances.register``).
- agentConnected is true while the agent was heard from (registration, DiscoverPollEndpoint, task poll)
  within the ``connection_lost_after`` lab setting, measured with the lab clock; false at once after the
  agent's ``/_lab/agent/disconnect`` (a clean stop) until it is heard from again; always false once INACTIVE.
- Status: ACTIVE <-> DRAINING (UpdateContainerInstancesState, at most 10 ids, InvalidParameterException
  above; other statuses refused as AWS does); DeregisterContainerInstance makes it INACTIVE, refused with
  InvalidParameterException "Found running tasks on the instance." while tasks hold it, unless ``force``
  (the tasks are then left as they are, orphaned). INACTIVE instances still describe (status INACTIVE) and
  are left out of ListContainerInstances unless asked for by ``status``.
- ListContainerInstances: ``maxResults`` 1-100 (default 100), ``nextToken``, ``status``, and ``filter``
  in the cluster query language subset of ``lab.aws.ecs_query``. Results come in registration order.
- DescribeContainerInstances: at most 100 ids (InvalidParameterException above); unknown ones come back
  in ``failures`` as MISSING; tags only with ``include=["TAGS"]``. remainingResources, runningTasksCount
  and pendingTasksCount follow the tasks placed on the instance. List/Tag/UntagResource work on
  container instance ARNs.

Task definitions
- ``requiresCompatibilities`` is kept as given; ``networkMode`` defaults to bridge (awsvpc when FARGATE is
  required); EXTERNAL with awsvpc is refused (ClientException). ``compatibilities`` lists what the
  definition can run on: EC2 always, EXTERNAL unless awsvpc, FARGATE for awsvpc with task cpu and memory.
- ``requiresAttributes`` holds the agent capabilities the lab derives (a subset of AWS's):
  ``com.amazonaws.ecs.capability.logging-driver.<driver>`` per log driver used, and
  ``com.amazonaws.ecs.capability.task-iam-role`` with a task role. Placement needs them as attributes.
- A bare family (DescribeTaskDefinition, RunTask, StartTask, CreateService) means its latest ACTIVE revision;
  a family with none answers ClientException "Unable to describe task definition.".
- ListTaskDefinitions: ``familyPrefix`` (the full family name), ``status`` (default ACTIVE), ``sort`` ASC|DESC,
  ``maxResults`` 1-100 (default 100) and ``nextToken``.

Tasks
- RunTask with launchType EXTERNAL places on external instances, EC2 (the default without a capacity
  provider) on the others; FARGATE and capacity provider strategies stay moto's. ``count`` 1-10,
  ``placementConstraints`` (at most 10: memberOf with a query expression, distinctInstance), the task
  definition's memberOf constraints, ``placementStrategy`` (at most 5: binpack cpu|memory, spread
  instanceId|host|attribute:NAME, random). Strategies sort the eligible instances in order, then
  registration order breaks ties; random draws from a generator seeded by the cluster's task count, so runs
  repeat. distinctInstance keeps tasks of the same group on different instances. A definition that does not
  list the launch type in ``compatibilities`` is refused (InvalidParameterException); a cluster without an
  ACTIVE instance of the launch type answers InvalidParameterException "No Container Instances were found
  in your cluster.". Tasks that do not fit come back in ``failures`` with AWS's reasons, per instance, the
  first that applies of: AGENT, ATTRIBUTE, "MemberOf placement constraint unsatisfied.", "DistinctInstance
  placement constraint unsatisfied.", RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS, RESOURCE:PORTS_UDP.
  Resources held: the task-level cpu/memory when set, else the containers' sum (overrides count); host
  ports of bridge (non-zero hostPort) and host (hostPort or containerPort) networking.
- StartTask: 1-10 container instances (InvalidParameterException above); the same checks except the
  placement ones; unknown or INACTIVE instances fail with MISSING.
- ``startedBy``, ``group`` (default ``family:NAME``), ``tags`` (plus the definition's with
  ``propagateTags=TASK_DEFINITION``) and ``overrides`` are kept. RunTask is idempotent per ``clientToken``
  (at most 64 characters): the same request again gets the same tasks; other parameters with a used token
  are refused (InvalidParameterException).
- Tasks are PENDING until the agent reports SubmitTaskStateChange (RUNNING or STOPPED, with container
  exit codes, reasons, network bindings) or the lab call ``POST /_lab/tasks/state``. STOPPED is final and
  carries stoppedReason, stopCode (EssentialContainerExited, TaskFailedToStart, UserInitiated) and the
  timestamps. SubmitContainerStateChange updates one container. Describing never moves a task.
- StopTask sets desiredStatus STOPPED. A task whose instance has an agent picking up tasks (it called
  ``/_lab/agent/poll``) stays in its state until the agent reports the stop; any other task stops at once.
  An unknown task answers InvalidParameterException "The referenced task was not found.".
- ListTasks: ``maxResults`` 1-100, ``nextToken``, filters containerInstance, family, startedBy,
  serviceName (group ``service:NAME``), launchType and desiredStatus (default RUNNING, as AWS).
- DescribeTasks: at most 100 ids; unknown ones come back as MISSING failures; tags only with TAGS.
- ECS forgets a task STOPPED longer ago than the ``stopped_task_retention`` lab setting (default 3600 s, lab
  clock; AWS shows stopped tasks "for at least one hour"): DescribeTasks answers it as MISSING, ListTasks
  leaves it out, StopTask and the agent's reports answer "The referenced task was not found.".

Services (launch type EXTERNAL; the model and the scheduler are ``lab.aws._ecs_services``)
- CreateService/UpdateService/DeleteService/DescribeServices/ListServices for ``launchType: EXTERNAL``,
  REPLICA and DAEMON; other launch types stay moto's. Service tasks are lab tasks (group ``service:NAME``,
  startedBy the deployment id), so agents poll and report them like RunTask tasks. A background thread
  reconciles every service each ``service_scheduler_interval`` seconds (lab setting, 0 pauses it):
  rolling deployments within minimumHealthyPercent/maximumPercent, the deployment circuit breaker and
  rollback, replacement of crashed tasks and of tasks on DRAINING instances, one DAEMON task per eligible
  instance, AWS's service events. ``POST /_lab/services/reconcile`` ``{"passes": n}`` runs it now.
  lab/README.md "Services" has the rules and the AWS references.

Clusters
- DeleteCluster refuses, as AWS does, while the cluster has ACTIVE/DRAINING container instances
  (ClusterContainsContainerInstancesException), tasks that are not STOPPED (ClusterContainsTasksException)
  or ACTIVE services (ClusterContainsServicesException).

Calls an agent makes (DiscoverPollEndpoint, SubmitTaskStateChange, SubmitContainerStateChange,
``/_lab/agent/poll``) that are signed with a managed instance's credentials may only act for that
instance's container instance (AccessDeniedException otherwise); calls with other credentials are
trusted, so tests can play the agent.

Lab routes (PROTOCOL.md steps 6 and 7)
- ``POST /_lab/agent/poll`` ``{"cluster", "containerInstance"}`` -> ``{"tasks": [{taskArn,
  desiredStatus, lastStatus, taskDefinition (as DescribeTaskDefinition shows it), overrides, containers,
  startedBy, group}]}`` for the instance's tasks that are not STOPPED. Errors: ``{"__type", "message"}``
  with 400 (ClientException: unknown or INACTIVE instance, bad input) or 403 (AccessDeniedException).
- ``POST /_lab/agent/disconnect`` ``{"cluster", "containerInstance"}``, signed like the poll: the agent stops
  cleanly (the real agent's ACS websocket closes), so agentConnected is false at once until the agent is
  heard from again -> ``{"agentConnected": false}``; the same errors as the poll, except for INACTIVE.
- ``POST /_lab/tasks/state`` ``{"task": ARN, "status": "RUNNING"|"STOPPED", "exitCode": n, "reason": s}``
  -> ``{"task": <as DescribeTasks shows it>}``; 400 names the bad field, 404 for an unknown task.
"""
import base64
import binascii
import inspect
import datetime
import itertools
import json
import os
import re

from moto.core.responses import ActionResult
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.ecs.exceptions import (ECSException, EcsClientException, InvalidParameterException,
                                 ServiceNotFoundException, TaskDefinitionNotFoundException)
from moto.ecs.models import ContainerInstance, EC2ContainerServiceBackend, Task, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.utilities.utils import get_partition

from lab.aws import _ecs_instances as instances
from lab.aws import _ecs_services as services
from lab.aws import _ecs_tasks as tasks
from lab.aws import core
from lab.aws.ecs_query import QuerySyntaxError, compile_expression

MAX_DESCRIBE = 100
MAX_PAGE = 100
MAX_START_TASK_INSTANCES = 10
MAX_RUN_TASK_COUNT = 10
MAX_STATE_UPDATE = 10
MAX_CLIENT_TOKEN = 64
MAX_DESCRIBE_SERVICES = 10     # DescribeServices: "up to 10 services ... in a single operation"
DEFAULT_SERVICES_PAGE = 10     # ListServices: "returns up to 10 results" without maxResults
MAX_RECONCILE_PASSES = 100
# moto's shared include/exclude entries for tags; the lab hides tags per answer instead (_WithoutTags).
MOTO_TAG_PATHS = ("DescribeContainerInstancesResponse.containerInstances.ContainerInstance.tags",
                  "DescribeTasksResponse.tasks.Task.tags")
_TASK_ARN = re.compile(r"^arn:[^:]+:ecs:(?P<region>[^:]+):(?P<account>\d{12}):task/(?:[^/]+/)?(?P<id>[^/]+)$")


# --- helpers for the response methods -----------------------------------------------------------

def _cluster(response):
    return response.ecs_backend._get_cluster(response._get_param("cluster") or "default")


def _caller_instance(headers):
    return core.instance_for_access_key(core.caller_access_key(headers))


def _id_list(response, name, limit):
    values = response._get_param(name) or []
    if len(values) > limit:
        raise InvalidParameterException(f"{name} can have at most {limit} items.")
    return values


def _max_results(response, default=MAX_PAGE):
    value = response._get_param("maxResults")
    if value is None:
        return default
    if not 1 <= int(value) <= MAX_PAGE:
        raise InvalidParameterException(f"maxResults must be between 1 and {MAX_PAGE}.")
    return int(value)


def _decode_token(token, kind, cluster_name):
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["k"] != kind or data["c"] != cluster_name or data["p"] < 0:
            raise ValueError
        return int(data["p"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidParameterException("The nextToken is not valid for this request.") from None


def _page(items, start, limit, keep, kind, cluster_name):
    """Up to ``limit`` kept items from position ``start``; the token resumes after the last one."""
    page, position = [], start
    while position < len(items) and len(page) < limit:
        if keep(items[position]):
            page.append(items[position])
        position += 1
    more = any(keep(item) for item in itertools.islice(items, position, None))
    token = None
    if more:
        token = base64.urlsafe_b64encode(json.dumps({"k": kind, "c": cluster_name, "p": position}).encode()).decode()
    return page, token


def _with_token(result, token):
    if token:
        result["nextToken"] = token
    return result


class _WithoutTags:
    """A view of a task or container instance without its tags.

    moto hides tags by editing a table shared by every request thread; a view per answer cannot leak
    into a concurrent DescribeX that asked for them.
    """

    def __init__(self, resource):
        self._resource = resource

    def __getattr__(self, name):
        if name == "tags":
            raise AttributeError(name)
        return getattr(self._resource, name)


def _tags_if_asked(response, resources):
    if "TAGS" in (response._get_param("include") or []):
        return resources
    return [_WithoutTags(resource) for resource in resources]


def _failure_arn(backend, cluster_name, kind, name):
    if name.startswith("arn:"):
        return name
    return f"arn:{get_partition(backend.region_name)}:ecs:{backend.region_name}:{backend.account_id}:{kind}/" \
           f"{cluster_name}/{name}"


def _known_instance(backend, cluster_name, name):
    ci = instances.find_instance(backend, cluster_name, name)
    if ci is None:
        raise InvalidParameterException("The referenced container instance was not found.")
    return ci


def _known_task(backend, cluster_name, name):
    task = tasks.find_task(backend, cluster_name, name or "")
    if task is None:
        raise InvalidParameterException("The referenced task was not found.")
    return task


# --- container instance operations --------------------------------------------------------------

def register_container_instance(self):
    cluster = _cluster(self)
    document_id = None
    document = self._get_param("instanceIdentityDocument")
    if document:
        try:
            document_id = json.loads(document).get("instanceId")
        except (ValueError, AttributeError):
            raise InvalidParameterException("instanceIdentityDocument is not a JSON object.") from None
    caller = _caller_instance(self.headers)
    if caller and document_id and document_id.startswith("mi-") and document_id != caller:
        raise EcsClientException(f"instanceIdentityDocument names {document_id}, but the call is signed by "
                                 f"{caller}.")
    instance_id = caller or document_id
    if not instance_id:
        raise EcsClientException("The container instance cannot be identified: sign the call with the managed "
                                 "instance's role credentials or pass an instanceIdentityDocument with its id.")
    if instance_id.startswith("mi-") and not instances.MI_ID.match(instance_id):
        raise EcsClientException(f"{instance_id} is not a managed instance id (mi- and 17 hex digits).")
    ci = instances.register(
        self.ecs_backend, cluster.name, instance_id,
        total_resources=self._get_param("totalResources"), attributes=self._get_param("attributes"),
        version_info=self._get_param("versionInfo"), tags=self._get_param("tags"),
        container_instance_arn=self._get_param("containerInstanceArn"))
    return ActionResult({"containerInstance": ci})


def deregister_container_instance(self):
    cluster = _cluster(self)
    ci = _known_instance(self.ecs_backend, cluster.name, self._get_param("containerInstance"))
    instances.deregister(self.ecs_backend, ci, bool(self._get_param("force")))
    return ActionResult({"containerInstance": ci})


def list_container_instances(self):
    cluster = _cluster(self)
    limit = _max_results(self)
    status = self._get_param("status")
    expression = self._get_param("filter")
    predicate = None
    if expression:
        try:
            predicate = compile_expression(expression)
        except QuerySyntaxError as exc:
            raise InvalidParameterException(f"Invalid filter expression {expression!r}: {exc}") from None

    def keep(ci):
        if (ci.status != status) if status else ci.status == "INACTIVE":
            return False
        return predicate is None or predicate(instances.value_of(ci))

    order = instances.ordered_instances(self.ecs_backend, cluster.name)
    start = _decode_token(self._get_param("nextToken"), "containerInstances", cluster.name)
    page, token = _page(order, start, limit, keep, "containerInstances", cluster.name)
    return ActionResult(_with_token({"containerInstanceArns": [ci.container_instance_arn for ci in page]}, token))


def describe_container_instances(self):
    cluster = _cluster(self)
    names = _id_list(self, "containerInstances", MAX_DESCRIBE)
    if not names:
        raise EcsClientException("Container Instances cannot be empty.")
    found, failures = [], []
    for name in names:
        ci = instances.find_instance(self.ecs_backend, cluster.name, name)
        if ci is None:
            failures.append({"arn": _failure_arn(self.ecs_backend, cluster.name, "container-instance", name),
                             "reason": tasks.MISSING})
        else:
            found.append(ci)
    return ActionResult({"containerInstances": _tags_if_asked(self, found), "failures": failures})


def update_container_instances_state(self):
    cluster = _cluster(self)
    names = _id_list(self, "containerInstances", MAX_STATE_UPDATE)
    status = self._get_param("status")
    if status not in ("ACTIVE", "DRAINING"):
        raise InvalidParameterException("Container instance status should be one of [ACTIVE, DRAINING]")
    found, failures = [], []
    for name in names:
        ci = instances.find_instance(self.ecs_backend, cluster.name, name)
        if ci is None or ci.status == "INACTIVE":
            failures.append({"arn": ci.container_instance_arn if ci else
                             _failure_arn(self.ecs_backend, cluster.name, "container-instance", name),
                             "reason": "INACTIVE" if ci else tasks.MISSING})
            continue
        instances.set_status(self.ecs_backend, ci, status)
        found.append(ci)
    return ActionResult({"containerInstances": found, "failures": failures})


def discover_poll_endpoint(self):
    """The ECS agent's heartbeat (PROTOCOL.md step 5); answers with this endpoint's own URL."""
    backend = self.ecs_backend
    cluster_name = (self._get_param("cluster") or "default").rsplit("/", 1)[-1]
    name = self._get_param("containerInstance")
    caller = _caller_instance(self.headers)
    ci = None
    if cluster_name in backend.clusters:
        if name:
            ci = instances.find_instance(backend, cluster_name, name)
            if ci is None:
                raise EcsClientException(f"Container instance {name} was not found in cluster {cluster_name}.")
        elif caller:
            ci = instances.lab_state(backend).by_ec2_id.get((cluster_name, caller))
    if ci is not None:
        instances.check_caller(ci, caller)
        if ci.status != "INACTIVE":
            instances.record_contact(ci)
    host = self.headers.get("Host")
    endpoint = f"http://{host}/" if host else "http://localhost/"
    return ActionResult({"endpoint": endpoint, "telemetryEndpoint": endpoint, "serviceConnectEndpoint": endpoint})


# --- task operations ----------------------------------------------------------------------------

def _task_request(self, cluster, task_definition, launch_type):
    task_tags = list(self._get_param("tags") or [])
    if self._get_param("propagateTags") == "TASK_DEFINITION":
        task_tags += [tag for tag in task_definition.tags if tag not in task_tags]
    return tasks.Request(self.ecs_backend, cluster, task_definition, group=self._get_param("group"),
                         overrides=self._get_param("overrides"), started_by=self._get_param("startedBy"),
                         tags=task_tags, launch_type=launch_type,
                         network_configuration=self._get_param("networkConfiguration"))


def run_task(self):
    cluster = _cluster(self)
    launch_type = self._get_param("launchType")
    if (launch_type == "FARGATE" or self._get_param("capacityProviderStrategy")
            or (not launch_type and cluster.default_capacity_provider_strategy)):
        return _ORIGINALS["response.run_task"](self)
    count = self._get_param("count")
    count = 1 if count is None else int(count)
    if not 1 <= count <= MAX_RUN_TASK_COUNT:
        raise InvalidParameterException(f"count must be between 1 and {MAX_RUN_TASK_COUNT}.")
    task_definition = self.ecs_backend.describe_task_definition(self._get_param("taskDefinition"))
    launch_type = launch_type or "EC2"
    tasks.check_launch_type(task_definition, launch_type)
    predicates, distinct = tasks.parse_constraints(self._get_param("placementConstraints") or [])
    predicates += [tasks.member_of(c.get("expression")) for c in task_definition.placement_constraints
                   if c.get("type") == "memberOf"]
    strategies = tasks.parse_strategies(self._get_param("placementStrategy") or [])
    request = _task_request(self, cluster, task_definition, launch_type)
    token = self._get_param("clientToken")
    if token and len(token) > MAX_CLIENT_TOKEN:
        raise InvalidParameterException(f"clientToken can be at most {MAX_CLIENT_TOKEN} characters.")
    with instances.LOCK:
        answered = _answered_before(self, cluster, token)
        if answered is not None:
            return answered
        placed, failures = tasks.run(request, count, predicates, distinct, strategies)
        if token:
            instances.lab_state(self.ecs_backend).run_tokens[(cluster.name, token)] = (
                _fingerprint(self), [t.task_arn for t in placed], failures)
    return ActionResult({"tasks": placed, "failures": failures})


def _fingerprint(response):
    return json.dumps({k: v for k, v in response._get_params().items() if k != "clientToken"}, sort_keys=True,
                      default=str)


def _answered_before(response, cluster, token):
    """RunTask is idempotent per clientToken: the same request gets the same tasks, as they are now."""
    earlier = instances.lab_state(response.ecs_backend).run_tokens.get((cluster.name, token)) if token else None
    if earlier is None:
        return None
    fingerprint, task_arns, failures = earlier
    if fingerprint != _fingerprint(response):
        raise InvalidParameterException("The clientToken was already used with different parameters.")
    found = (tasks.find_task(response.ecs_backend, cluster.name, arn) for arn in task_arns)
    placed = [task for task in found if task is not None]  # not those ECS has forgotten since
    return ActionResult({"tasks": placed, "failures": failures})


def start_task(self):
    cluster = _cluster(self)
    names = _id_list(self, "containerInstances", MAX_START_TASK_INSTANCES)
    if not names:
        raise EcsClientException("Container Instances cannot be empty.")
    task_definition = self.ecs_backend.describe_task_definition(self._get_param("taskDefinition"))
    for name in names:
        ci = instances.find_instance(self.ecs_backend, cluster.name, name)
        if ci is not None:
            tasks.check_launch_type(task_definition, "EXTERNAL" if instances.is_external(ci) else "EC2")
    request = _task_request(self, cluster, task_definition, None)
    placed, failures = tasks.start(request, names)
    return ActionResult({"tasks": placed, "failures": failures})


def describe_tasks(self):
    cluster = _cluster(self)
    names = _id_list(self, "tasks", MAX_DESCRIBE)
    if not names:
        raise InvalidParameterException("Tasks cannot be empty.")
    found, failures = [], []
    for name in names:
        task = tasks.find_task(self.ecs_backend, cluster.name, name)
        if task is None:
            failures.append({"arn": _failure_arn(self.ecs_backend, cluster.name, "task", name),
                             "reason": tasks.MISSING})
        else:
            found.append(task)
    return ActionResult({"tasks": _tags_if_asked(self, found), "failures": failures})


def _family(task):
    return task.task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def list_tasks(self):
    cluster = _cluster(self)
    limit = _max_results(self)
    instance_name = self._get_param("containerInstance")
    instance_id = instances.instance_id_of(instance_name) if instance_name else None
    family = self._get_param("family")
    started_by = self._get_param("startedBy")
    service_name = self._get_param("serviceName")
    launch_type = self._get_param("launchType")
    desired_status = self._get_param("desiredStatus") or "RUNNING"

    def keep(task):
        return (task.desired_status == desired_status and not tasks.forgotten(task)
                and (instance_id is None or (task.container_instance_arn or "").endswith("/" + instance_id))
                and (family is None or _family(task) == family)
                and (started_by is None or task.started_by == started_by)
                and (service_name is None or task.group == f"service:{service_name}")
                and (launch_type is None or task.launch_type == launch_type))

    items = list(self.ecs_backend.tasks.get(cluster.name, {}).values())
    start = _decode_token(self._get_param("nextToken"), "tasks", cluster.name)
    page, token = _page(items, start, limit, keep, "tasks", cluster.name)
    return ActionResult(_with_token({"taskArns": [task.task_arn for task in page]}, token))


def stop_task(self):
    cluster = _cluster(self)
    task = _known_task(self.ecs_backend, cluster.name, self._get_param("task"))
    tasks.stop(self.ecs_backend, task, self._get_param("reason"))
    return ActionResult({"task": task})


def _reporting_task(self):
    """The task an agent reports on, after checking the agent may report for it."""
    cluster = _cluster(self)
    task = _known_task(self.ecs_backend, cluster.name, self._get_param("task"))
    ci = getattr(task, "_lab_instance", None)
    if ci is not None:
        instances.check_caller(ci, _caller_instance(self.headers))
        if ci.status != "INACTIVE":
            instances.record_contact(ci)
    return task


def submit_task_state_change(self):
    task = _reporting_task(self)
    tasks.change_state(self.ecs_backend, task, self._get_param("status"), reason=self._get_param("reason"),
                       containers=self._get_param("containers"), pull_started_at=self._get_param("pullStartedAt"),
                       pull_stopped_at=self._get_param("pullStoppedAt"),
                       execution_stopped_at=self._get_param("executionStoppedAt"))
    return ActionResult({"acknowledgment": "ACK"})


def submit_container_state_change(self):
    task = _reporting_task(self)
    name = self._get_param("containerName")
    container = next((c for c in task.containers if c.get("name") == name), None)
    if container is None:
        raise InvalidParameterException(f"The task has no container named {name!r}.")
    with instances.LOCK:
        report = {"containerName": name}
        for key in ("status", "exitCode", "reason", "networkBindings", "runtimeId"):
            if self._get_param(key) is not None:
                report[key] = self._get_param(key)
        status = report.get("status") or container["lastStatus"]
        tasks.apply_container_reports([container], [report], status)
        task.version = getattr(task, "version", 0) + 1
    return ActionResult({"acknowledgment": "ACK"})


# --- service operations (launch type EXTERNAL; others stay moto's) -------------------------------

def _named_service(response, cluster, name):
    """The service of the cluster named by name or ARN, or None."""
    return response.ecs_backend.services.get(f"{cluster.name}:{(name or '').rsplit('/', 1)[-1]}")


def _known_service(response, cluster):
    service = _named_service(response, cluster, response._get_param("service"))
    if service is None:
        raise ServiceNotFoundException()
    return service


def create_service(self):
    cluster = _cluster(self)
    if self._get_param("launchType") != "EXTERNAL":
        return _ORIGINALS["response.create_service"](self)
    service = services.create(self.ecs_backend, cluster, self._get_params())
    return ActionResult({"service": services.view(service, with_tags=True)})


def update_service(self):
    cluster = _cluster(self)
    service = _known_service(self, cluster)
    if not isinstance(service, services.LabService):
        return _ORIGINALS["response.update_service"](self)
    services.update(self.ecs_backend, service, self._get_params())
    return ActionResult({"service": services.view(service, with_tags=True)})


def delete_service(self):
    cluster = _cluster(self)
    service = _known_service(self, cluster)
    if not isinstance(service, services.LabService):
        return _ORIGINALS["response.delete_service"](self)
    services.delete(self.ecs_backend, service, bool(self._get_param("force")))
    return ActionResult({"service": services.view(service, with_tags=True)})


def describe_services(self):
    cluster = _cluster(self)
    names = _id_list(self, "services", MAX_DESCRIBE_SERVICES)
    if not names:
        raise InvalidParameterException("Services cannot be empty.")
    with_tags = "TAGS" in (self._get_param("include") or [])
    found, failures = [], []
    with instances.LOCK:
        for name in names:
            service = _named_service(self, cluster, name)
            if service is None:
                failures.append({"arn": _failure_arn(self.ecs_backend, cluster.name, "service", name),
                                 "reason": tasks.MISSING})
            elif isinstance(service, services.LabService):
                found.append(services.view(service, with_tags))
            else:
                found.append(service if with_tags else _WithoutTags(service))
    return ActionResult({"services": found, "failures": failures})


def list_services(self):
    """ACTIVE services in creation order (DeleteService: a DRAINING service is no longer listed)."""
    cluster = _cluster(self)
    limit = _max_results(self, DEFAULT_SERVICES_PAGE)
    launch_type = self._get_param("launchType")
    strategy = self._get_param("schedulingStrategy")

    def keep(service):
        return (service.status == "ACTIVE" and (launch_type is None or service.launch_type == launch_type)
                and (strategy is None or service.scheduling_strategy == strategy))

    items = [s for s in self.ecs_backend.services.values() if s.cluster_name == cluster.name]
    start = _decode_token(self._get_param("nextToken"), "services", cluster.name)
    page, token = _page(items, start, limit, keep, "services", cluster.name)
    return ActionResult(_with_token({"serviceArns": [service.arn for service in page]}, token))


# --- task definitions and tags ------------------------------------------------------------------

def register_task_definition(self, family, container_definitions, *args, **kwargs):
    original = _ORIGINALS["backend.register_task_definition"]
    arguments = inspect.signature(original).bind(self, family, container_definitions, *args, **kwargs).arguments
    network_mode = arguments.get("network_mode")
    requires = arguments.get("requires_compatibilities")
    tasks.check_task_definition(network_mode, requires)
    task_definition = original(self, family, container_definitions, *args, **kwargs)
    tasks.finish_task_definition(task_definition, network_mode, requires, core.now())
    return task_definition


def describe_task_definition(self, task_definition_str):
    """A bare family means its latest ACTIVE revision, as on AWS ("The family for the latest ACTIVE revision",
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html); moto takes the
    latest revision even when it is INACTIVE. RunTask, StartTask and CreateService resolve a family here too."""
    name = task_definition_str.rsplit("/", 1)[-1]
    if ":" in name:
        return _ORIGINALS["backend.describe_task_definition"](self, task_definition_str)
    revisions = self.task_definitions.get(name, {})
    active = [revision for revision, definition in revisions.items() if definition.status == "ACTIVE"]
    if not active:
        # AWS's answer for a family without an ACTIVE revision, as for an unknown one (moto's exception has its text).
        raise TaskDefinitionNotFoundException()
    return revisions[max(active)]


TASK_DEFINITION_STATUSES = ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS")
SORT_ORDERS = ("ASC", "DESC")


def list_task_definitions(self):
    """ListTaskDefinitions as AWS documents it (moto ignores maxResults, nextToken and sort):
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html. ``familyPrefix`` is
    "the full family name"; ``status`` defaults to ACTIVE; ASC lists families lexicographically, revisions
    ascending, and DESC reverses both; ``maxResults`` 1-100, up to 100 without it; a ``nextToken`` only
    resumes the listing it came from (same familyPrefix, status and sort)."""
    family = self._get_param("familyPrefix")
    status = self._get_param("status") or "ACTIVE"
    order = self._get_param("sort") or "ASC"
    if status not in TASK_DEFINITION_STATUSES:
        raise InvalidParameterException(f"status must be one of {', '.join(TASK_DEFINITION_STATUSES)}.")
    if order not in SORT_ORDERS:
        raise InvalidParameterException(f"sort must be one of {', '.join(SORT_ORDERS)}.")
    limit = _max_results(self)
    definitions = sorted((d for revisions in self.ecs_backend.task_definitions.values() for d in revisions.values()),
                         key=lambda d: (d.family, d.revision), reverse=order == "DESC")
    listing = f"{family or ''}|{status}|{order}"
    start = _decode_token(self._get_param("nextToken"), "taskDefinitions", listing)

    def keep(definition):
        return definition.status == status and (family is None or definition.family == family)

    page, token = _page(definitions, start, limit, keep, "taskDefinitions", listing)
    return ActionResult(_with_token({"taskDefinitionArns": [d.arn for d in page]}, token))


def delete_cluster(self, cluster_str):
    """AWS keeps a cluster that still has instances, tasks or services (moto deletes it anyway)."""
    cluster = self._get_cluster(cluster_str)
    if any(ci.status != "INACTIVE" for ci in self.container_instances.get(cluster.name, {}).values()):
        raise ECSException("ClusterContainsContainerInstancesException",
                           "The Cluster cannot be deleted while Container Instances are active or draining.")
    if any(task.last_status != "STOPPED" for task in self.tasks.get(cluster.name, {}).values()):
        raise ECSException("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
    if any(s.cluster_name == cluster.name and s.status == "ACTIVE" for s in self.services.values()):
        raise ECSException("ClusterContainsServicesException",
                           "The Cluster cannot be deleted while Services are active.")
    return _ORIGINALS["backend.delete_cluster"](self, cluster_str)


def _get_resource(self, resource_arn, parsed_arn):
    """moto's tag lookup, plus container instances."""
    if parsed_arn["service"] == "container-instance":
        clusters = [parsed_arn["cluster_id"]] if parsed_arn.get("cluster_id") else list(self.container_instances)
        for cluster_name in clusters:
            ci = instances.find_instance(self, cluster_name, parsed_arn["id"])
            if ci is not None:
                if not hasattr(ci, "tags"):
                    ci.tags = []
                return ci
        raise InvalidParameterException("The specified container instance was not found.")
    return _ORIGINALS["backend._get_resource"](self, resource_arn, parsed_arn)


def _task_last_status(task):
    # moto's ManagedState would advance the task on each read; the lab moves tasks only on reports.
    return task._status


def _set_task_last_status(task, value):
    task._status = value


# --- lab routes (PROTOCOL.md steps 6 and 7) -----------------------------------------------------

def _serialized(operation, result):
    """``result`` as the ECS API would answer ``operation`` (camelCase JSON, epoch timestamps)."""
    model = get_service_model("ecs").operation_model(operation)
    serializer = get_serializer_class("ecs", "json")(
        operation_model=model,
        value_picker=XFormedAttributePicker(
            response_transformers=EC2ContainerServiceResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER))
    return json.loads(serializer.serialize(result)["body"])


def _error(status, code, message):
    return status, {"__type": code, "message": message, "error": message}


def _backend_for(request, body):
    from moto.iam.models import get_account_id_from

    account = (os.environ.get("MOTO_ACCOUNT_ID") or request.headers.get("x-moto-account-id")
               or get_account_id_from(core.caller_access_key(request.headers) or ""))
    region = core.caller_region(request.headers) or body.get("region") or "us-east-1"
    return ecs_backends[account][region]


def _string_field(body, name, required=False):
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise core.LabError(f"'{name}' must be a non-empty string")
    return value


def _agent_instance(request, body):
    """(backend, container instance, None) an agent's lab call is about, or (None, None, error answer)."""
    cluster_name = (_string_field(body, "cluster") or "default").rsplit("/", 1)[-1]
    name = _string_field(body, "containerInstance", required=True)
    backend = _backend_for(request, body)
    ci = instances.find_instance(backend, cluster_name, name) if cluster_name in backend.clusters else None
    if ci is None:
        return None, None, _error(400, "ClientException",
                                  f"Container instance {name} was not found in cluster {cluster_name}.")
    caller = _caller_instance(request.headers)
    if caller and caller != ci.ec2_instance_id:
        return None, None, _error(403, "AccessDeniedException",
                                  f"Managed instance {caller} cannot act for {ci.ec2_instance_id}.")
    return backend, ci, None


@core.lab_route("/_lab/agent/disconnect")
def agent_disconnect(request):
    """The agent stops cleanly (the real one's ACS websocket closes): agentConnected false at once."""
    _backend, ci, error = _agent_instance(request, core.json_body(request))
    if error:
        return error
    with instances.LOCK:
        instances.record_disconnect(ci)
    return 200, {"agentConnected": ci.agent_connected}


@core.lab_route("/_lab/agent/poll")
def agent_poll(request):
    """The agent's task pickup: the instance's tasks that are not STOPPED, with full task definitions."""
    backend, ci, error = _agent_instance(request, core.json_body(request))
    if error:
        return error
    if ci.status == "INACTIVE":
        return _error(400, "ClientException", instances.INACTIVE_MESSAGE.format(id=ci.id))
    with instances.LOCK:
        ci._lab_has_agent = True
        instances.record_contact(ci)
        live = list(instances.live_tasks(ci).values())
    described = _serialized("DescribeTasks", {"tasks": live})["tasks"] if live else []
    payload = []
    for task, view in zip(live, described):
        task_definition = backend.describe_task_definition(task.task_definition_arn)
        entry = {
            "taskArn": task.task_arn,
            "desiredStatus": task.desired_status,
            "lastStatus": task.last_status,
            "taskDefinition": _serialized("DescribeTaskDefinition", {"taskDefinition": task_definition})[
                "taskDefinition"],
            "overrides": task.overrides or {},
            "containers": view.get("containers", []),
            "startedBy": task.started_by,
            "group": task.group,
        }
        if getattr(task_definition, "execution_role_arn", None) and task.desired_status != "STOPPED":
            entry["executionRoleCredentials"] = _execution_role_credentials(backend, task, task_definition)
        payload.append(entry)
    return 200, {"tasks": payload}


def _execution_role_credentials(backend, task, task_definition):
    """The task execution role's credentials, as ACS hands them to the agent with the task (the agent serves
    them to Docker's awslogs driver and uses them for ECR pulls): one credentialsId per task, fresh keys."""
    from moto.sts.models import sts_backends

    kept = getattr(task, "_lab_execution_credentials", None)
    if kept and kept[0] > core.now():
        return kept[1]
    ttl = int(core.setting("role_credentials_ttl"))
    role = sts_backends[backend.account_id]["global"].assume_role(
        region_name=backend.region_name, role_session_name=task.task_arn.rsplit("/", 1)[-1], role_arn=task_definition.execution_role_arn,
        policy="", duration=ttl, external_id="")
    expires = core.now() + datetime.timedelta(seconds=ttl)
    core.remember_session_expiry(role.access_key_id, expires)
    task._lab_execution_credentials = (expires - datetime.timedelta(seconds=ttl / 2), {
        "credentialsId": task.task_arn.rsplit("/", 1)[-1] + "-execution",
        "RoleArn": task_definition.execution_role_arn,
        "AccessKeyId": role.access_key_id,
        "SecretAccessKey": role.secret_access_key,
        "Token": role.session_token,
        "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    return task._lab_execution_credentials[1]


@core.lab_route("/_lab/tasks/state")
def task_state(request):
    """Report a task's state as its agent would (for tests and instances without an agent)."""
    body = core.json_body(request)
    arn = _string_field(body, "task", required=True)
    match = _TASK_ARN.match(arn)
    if not match:
        raise core.LabError("'task' must be a task ARN (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID)")
    status = body.get("status")
    if status not in ("RUNNING", "STOPPED"):
        raise core.LabError("'status' must be RUNNING or STOPPED")
    exit_code = body.get("exitCode")
    if exit_code is not None and (isinstance(exit_code, bool) or not isinstance(exit_code, int)):
        raise core.LabError("'exitCode' must be an integer")
    reason = _string_field(body, "reason")
    backend = ecs_backends[match["account"]][match["region"]]
    task = tasks.find_task_anywhere(backend, match["id"])
    if task is None:
        raise core.LabError(f"no task {arn}", status=404)
    tasks.change_state(backend, task, status, reason=reason, exit_code=exit_code)
    return 200, {"task": _serialized("DescribeTasks", {"tasks": [task]})["tasks"][0]}


@core.lab_route("/_lab/services/reconcile")
def services_reconcile(request):
    """Run the service scheduler now: ``{"passes": n}`` passes (default 1) over every service."""
    body = core.json_body(request)
    unknown = set(body) - {"passes"}
    if unknown:
        raise core.LabError(f"unknown field(s): {', '.join(sorted(unknown))}")
    passes = body.get("passes", 1)
    if isinstance(passes, bool) or not isinstance(passes, int) or not 1 <= passes <= MAX_RECONCILE_PASSES:
        raise core.LabError(f"'passes' must be an integer from 1 to {MAX_RECONCILE_PASSES}")
    for _ in range(passes):
        count = services.reconcile_all()
    return 200, {"passes": passes, "services": count}


# --- installation -------------------------------------------------------------------------------

RESPONSE_METHODS = {
    "register_container_instance": register_container_instance,
    "deregister_container_instance": deregister_container_instance,
    "list_container_instances": list_container_instances,
    "describe_container_instances": describe_container_instances,
    "update_container_instances_state": update_container_instances_state,
    "discover_poll_endpoint": discover_poll_endpoint,
    "run_task": run_task,
    "start_task": start_task,
    "describe_tasks": describe_tasks,
    "list_tasks": list_tasks,
    "stop_task": stop_task,
    "submit_task_state_change": submit_task_state_change,
    "submit_container_state_change": submit_container_state_change,
    "create_service": create_service,
    "update_service": update_service,
    "delete_service": delete_service,
    "describe_services": describe_services,
    "list_services": list_services,
    "list_task_definitions": list_task_definitions,
}
# moto's own operations the lab falls back to (services of other launch types, FARGATE/capacity provider tasks).
FALLBACK_RESPONSE_METHODS = ("run_task", "create_service", "update_service", "delete_service")
BACKEND_METHODS = {
    "register_task_definition": register_task_definition,
    "describe_task_definition": describe_task_definition,
    "delete_cluster": delete_cluster,
    "_get_resource": _get_resource,
}
_ORIGINALS = {}


def install():
    """Patch moto's ECS classes in place; calling it again changes nothing."""
    with instances.LOCK:
        if _ORIGINALS:
            return
        for name in FALLBACK_RESPONSE_METHODS:
            _ORIGINALS[f"response.{name}"] = getattr(EC2ContainerServiceResponse, name)
        for name in BACKEND_METHODS:
            _ORIGINALS[f"backend.{name}"] = getattr(EC2ContainerServiceBackend, name)
        for name, function in RESPONSE_METHODS.items():
            setattr(EC2ContainerServiceResponse, name, function)
        for name, function in BACKEND_METHODS.items():
            setattr(EC2ContainerServiceBackend, name, function)
        for path in MOTO_TAG_PATHS:
            EC2ContainerServiceResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.pop(path, None)
        Task.last_status = property(_task_last_status, _set_task_last_status)
        ContainerInstance.agent_connected = instances.AGENT_CONNECTED
        services.start_scheduler()
