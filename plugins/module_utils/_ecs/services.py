# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS services on external (ECS Anywhere) instances: the normalize/compare core that decides with one
DescribeServices call whether anything must change, one small function per API call, and the rollout wait.

The pure part (no client) is what unit tests drive: ``validate_service_options``, ``wanted_service``,
``normalize_service``, ``service_changes``, ``deployment_outcome`` and the result builders.

AWS references (API Reference, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/):
API_CreateService.html (desiredCount "required if schedulingStrategy is REPLICA"; DAEMON needs no desired count
and takes no placement strategy), API_UpdateService.html (placementConstraints and desiredCount do not start a
deployment; an empty list removes every constraint), API_DescribeServices.html ("up to 10 services" per call;
include=TAGS), API_DeleteService.html (a service with tasks needs desiredCount 0 or force; it then goes
DRAINING, then INACTIVE), API_ListServices.html (maxResults 1-100), API_Deployment.html (rolloutState
IN_PROGRESS -> COMPLETED, or FAILED when the circuit breaker trips). Developer Guide:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html (rolling update defaults:
REPLICA minimumHealthyPercent 100 / maximumPercent 200, DAEMON 0 / 100) and
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html (a failed deployment
is FAILED with a rolloutStateReason; with rollback a new PRIMARY deployment of the last completed revision
replaces it).
"""

import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ..errors import AnsibleECSAnywhereError
from ..errors import ECSErrorHandler
from ..iterators import DESCRIBE_BATCH_SIZE
from ..iterators import chunks
from ..iterators import paginate
from .shapes import conform
from .task_definitions import describe_task_definition
from .tasks import Hosts
from .tasks import describe_tasks
from .tasks import list_task_arns
from .tasks import summarize_task
from .task_definitions import task_definition_differences

EXTERNAL = "EXTERNAL"
REPLICA = "REPLICA"
DAEMON = "DAEMON"
# DescribeServices takes "up to 10 services" per call (API_DescribeServices.html).
DESCRIBE_SERVICES_BATCH_SIZE = 10
# What ECS fills in when deploymentConfiguration leaves a value out, per scheduling strategy (rolling update guide).
DEPLOYMENT_DEFAULTS = {
    REPLICA: {"minimumHealthyPercent": 100, "maximumPercent": 200},
    DAEMON: {"minimumHealthyPercent": 0, "maximumPercent": 100},
}
CIRCUIT_BREAKER_DEFAULT = {"enable": False, "rollback": False}
# Module options and the CreateService/UpdateService members they set.
OPTION_MEMBERS = {
    "task_definition": "taskDefinition",
    "desired_count": "desiredCount",
    "scheduling_strategy": "schedulingStrategy",
    "deployment_configuration": "deploymentConfiguration",
    "placement_constraints": "placementConstraints",
    "placement_strategy": "placementStrategy",
    "propagate_tags": "propagateTags",
}
# Members UpdateService cannot change; the service has to be deleted and created again.
IMMUTABLE_MEMBERS = {"schedulingStrategy": "scheduling_strategy", "launchType": "launch_type"}
# How many of the service's latest events (AWS keeps 100, newest first) a failure message and result carry.
EVENTS_SHOWN = 10


def _fail(field, message):
    raise AnsibleECSAnywhereError(message="{0}: {1}".format(field, message))


# --- validation and the wanted state (pure) -------------------------------------------------------------------

def validate_service_options(params):
    """Refuse what ECS would refuse and the module can know without a call; raise naming the field."""
    if params.get("desired_count") is not None and params["desired_count"] < 0:
        _fail("desired_count", "must be 0 or more, got {0}".format(params["desired_count"]))
    if params.get("scheduling_strategy") == DAEMON:
        # DAEMON runs one task per container instance: no desired count, no placement strategy (API_CreateService).
        for option in ("desired_count", "placement_strategy"):
            if params.get(option) is not None:
                _fail(option, "not used with scheduling_strategy=DAEMON, which runs one task on each container instance")
    deployment = params.get("deployment_configuration") or {}
    maximum = deployment.get("maximum_percent")
    minimum = deployment.get("minimum_healthy_percent")
    if maximum is not None and maximum < 100:
        _fail("deployment_configuration.maximum_percent", "must be at least 100, got {0}".format(maximum))
    if minimum is not None and not 0 <= minimum <= 100:
        _fail("deployment_configuration.minimum_healthy_percent", "must be between 0 and 100, got {0}".format(minimum))
    for option in ("wait_timeout", "wait_delay"):
        if params.get(option) is not None and params[option] < 1:
            _fail(option, "must be at least 1 second, got {0}".format(params[option]))


def wanted_service(params, shape):
    """The CreateService members the options set (camelCase, conformed to shape, a CreateService input shape).

    Unset options are absent: they leave the service's current value alone."""
    wanted = {}
    for option, member in OPTION_MEMBERS.items():
        value = params.get(option)
        if value is None:
            continue
        wanted[member] = conform(_without_none(value), shape.members[member], option)
    return wanted


def _without_none(value):
    if isinstance(value, dict):
        return dict((key, _without_none(item)) for key, item in value.items() if item is not None)
    return value


def is_bare_family(task_definition):
    """Whether a task_definition option names a family only (not family:revision, not an ARN)."""
    return ":" not in task_definition


def task_definition_matches(wanted, arn):
    """Whether a task definition given as ARN or family:revision is the revision arn names."""
    return wanted == arn or wanted == arn.rsplit("/", 1)[-1]


# --- normalize and compare (pure) -------------------------------------------------------------------------------

def normalize_service(service):
    """The managed part of a described (or would-be) service, with the defaults ECS fills in, for comparing and
    diffing: task definition, desired count (REPLICA only), launch type, scheduling strategy, deployment
    configuration, placement, propagateTags. Constraint order means nothing to ECS; strategy order does."""
    if not service:
        return {}
    strategy = service.get("schedulingStrategy") or REPLICA
    deployment = dict(DEPLOYMENT_DEFAULTS.get(strategy, DEPLOYMENT_DEFAULTS[REPLICA]))
    configured = service.get("deploymentConfiguration") or {}
    deployment.update((key, configured[key]) for key in ("minimumHealthyPercent", "maximumPercent") if configured.get(key) is not None)
    deployment["deploymentCircuitBreaker"] = dict(CIRCUIT_BREAKER_DEFAULT, **(configured.get("deploymentCircuitBreaker") or {}))
    normalized = {
        "serviceName": service.get("serviceName"),
        "taskDefinition": service.get("taskDefinition"),
        "launchType": service.get("launchType"),
        "schedulingStrategy": strategy,
        "deploymentConfiguration": deployment,
        "placementConstraints": sorted((_pruned(constraint) for constraint in service.get("placementConstraints") or []),
                                       key=lambda constraint: (constraint.get("type", ""), constraint.get("expression", ""))),
        "placementStrategy": [_pruned(item) for item in service.get("placementStrategy") or []],
        "propagateTags": service.get("propagateTags") or "NONE",
    }
    if strategy == REPLICA:
        normalized["desiredCount"] = service.get("desiredCount", 0)
    return normalized


def _pruned(item):
    return dict((key, value) for key, value in item.items() if value not in (None, ""))


def apply_wanted(service, wanted, name):
    """The raw service (AWS shape) after the wanted members are applied to service (None: a new one)."""
    after = dict(service) if service else {
        "serviceName": name, "status": "ACTIVE", "launchType": EXTERNAL, "schedulingStrategy": REPLICA,
    }
    for member, value in wanted.items():
        if member == "deploymentConfiguration":
            merged = dict(after.get("deploymentConfiguration") or {})
            merged.update((key, item) for key, item in value.items() if key != "deploymentCircuitBreaker")
            if "deploymentCircuitBreaker" in value:
                merged["deploymentCircuitBreaker"] = dict(CIRCUIT_BREAKER_DEFAULT, **dict(
                    merged.get("deploymentCircuitBreaker") or {}, **value["deploymentCircuitBreaker"]))
            after[member] = merged
        elif member == "taskDefinition" and service and task_definition_matches(value, service.get("taskDefinition", "")):
            continue  # family:revision of the revision the service already runs: keep its ARN
        else:
            after[member] = value
    return after


def service_changes(before, after):
    """Dotted paths where two normalized services differ (e.g. ``deploymentConfiguration.maximumPercent``)."""
    return task_definition_differences(after, before)


def check_immutable(existing, wanted, name):
    """Fail naming the field when the service differs in what UpdateService cannot change."""
    launch_type = existing.get("launchType")
    if launch_type != EXTERNAL:
        how = "launchType {0}".format(launch_type) if launch_type else "a capacity provider strategy"
        _fail("launch_type", "service {0} uses {1}; UpdateService cannot change it to EXTERNAL, so delete the service "
                             "and create it again".format(name, how))
    strategy = existing.get("schedulingStrategy") or REPLICA
    if wanted.get("schedulingStrategy", strategy) != strategy:
        _fail("scheduling_strategy", "service {0} is {1}; UpdateService cannot change it to {2}, so delete the service "
                                     "and create it again".format(name, strategy, wanted["schedulingStrategy"]))
    if strategy == DAEMON:
        for member, option in (("desiredCount", "desired_count"), ("placementStrategy", "placement_strategy")):
            if member in wanted:
                _fail(option, "not used with DAEMON service {0}, which runs one task on each container instance".format(name))


def update_request(after, changes, force_new_deployment):
    """UpdateService parameters (without cluster and service) for the changed members of after.

    deploymentConfiguration is sent whole (the service's own values with the wanted ones applied) so that the
    values the options leave out stay as they are."""
    request = {}
    for path in changes:
        member = path.split(".", 1)[0]
        if member in ("desiredCount", "taskDefinition", "deploymentConfiguration", "placementConstraints",
                      "placementStrategy", "propagateTags"):
            request[member] = after.get(member)
    if force_new_deployment:
        request["forceNewDeployment"] = True
    return request


def final_tags(existing_tags, tags, purge_tags):
    """The tags the service ends with; keys starting with aws: belong to AWS and are kept."""
    kept = dict((key, value) for key, value in existing_tags.items() if not key.startswith("aws:"))
    if tags is None:
        return kept
    if purge_tags:
        return dict(tags, **dict((key, value) for key, value in existing_tags.items() if key.startswith("aws:")))
    return dict(kept, **tags)


# --- results (pure) ---------------------------------------------------------------------------------------------

def summarize_deployment(deployment):
    """A deployment as the modules return it: its id, status, task definition, counts and rollout state."""
    return {
        "id": deployment.get("id"), "status": deployment.get("status"), "task_definition": deployment.get("taskDefinition"),
        "desired_count": deployment.get("desiredCount"), "running_count": deployment.get("runningCount"),
        "pending_count": deployment.get("pendingCount"), "failed_tasks": deployment.get("failedTasks"),
        "rollout_state": deployment.get("rolloutState"), "rollout_state_reason": deployment.get("rolloutStateReason"),
    }


def summarize_event(event):
    return {"id": event.get("id"), "created_at": event.get("createdAt"), "message": event.get("message")}


def service_to_result(service, tags=None, include_events=False):
    """The snake_case result form of a described (or would-be) service, tags as a dict, events only if asked."""
    untagged = dict((key, value) for key, value in service.items() if key not in ("tags", "events"))
    result = camel_dict_to_snake_dict(untagged)
    if tags is None:
        tags = boto3_tag_list_to_ansible_dict(service.get("tags") or [], "key", "value")
    result["tags"] = dict(tags)
    if include_events:
        result["events"] = [summarize_event(event) for event in service.get("events") or []]
    return result


def latest_events(service, count=EVENTS_SHOWN):
    """The service's latest events, newest first (as ECS lists them)."""
    return [summarize_event(event) for event in (service.get("events") or [])[:count]]


# --- the rollout wait (pure decision) ----------------------------------------------------------------------------

def primary_deployment(service):
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return None


def deployment_outcome(service, deployment_id):
    """("completed" | "failed" | None, reason) for the deployment deployment_id of a described service.

    Following the deployment by id matters: when the circuit breaker rolls back, a new PRIMARY deployment (the
    last completed revision) reaches COMPLETED, and a wait on "the primary deployment" reports success
    (fabfuel/ecs-deploy#185). Success is botocore's ServicesStable (one deployment, runningCount = desiredCount)
    plus rolloutState COMPLETED where ECS reports it; scaling starts no deployment, so the counts still matter."""
    if service is None or service.get("status") != "ACTIVE":
        return "failed", "the service is {0}".format(service.get("status") if service else "gone")
    deployments = service.get("deployments") or []
    tracked = next((deployment for deployment in deployments if deployment.get("id") == deployment_id), None)
    primary = primary_deployment(service)
    if tracked is None:
        # ECS drops a failed deployment once its tasks are gone, so by the next poll only the rollback deployment
        # may be left; its rolloutStateReason says why ("ECS deployment circuit breaker: rolling back to ...").
        replacement = ""
        if primary is not None:
            replacement = " by {0} (task definition {1}){2}".format(
                primary.get("id"), primary.get("taskDefinition"),
                ": " + primary["rolloutStateReason"] if primary.get("rolloutStateReason") else "")
        return "failed", "deployment {0} was replaced{1}".format(deployment_id, replacement)
    if tracked.get("rolloutState") == "FAILED":
        reason = "deployment {0} failed: {1}".format(deployment_id, tracked.get("rolloutStateReason") or "rolloutState FAILED")
        if primary is not None and primary.get("id") != deployment_id:
            reason += "; rolled back to deployment {0} (task definition {1})".format(primary.get("id"), primary.get("taskDefinition"))
        return "failed", reason
    if tracked.get("status") != "PRIMARY":
        return "failed", "deployment {0} was replaced by {1} (task definition {2})".format(
            deployment_id, primary.get("id") if primary else "another deployment", primary.get("taskDefinition") if primary else "?")
    steady = len(deployments) == 1 and service.get("runningCount") == service.get("desiredCount")
    if steady and tracked.get("rolloutState") in (None, "COMPLETED"):
        return "completed", "deployment {0} completed".format(deployment_id)
    return None, "deployment {0}: {1}".format(deployment_id, deployment_line(tracked))


def deployment_line(deployment):
    return "rolloutState {0}, {1} running, {2} pending, {3} failed of {4} desired".format(
        deployment.get("rolloutState") or "(none)", deployment.get("runningCount", 0), deployment.get("pendingCount", 0),
        deployment.get("failedTasks", 0), deployment.get("desiredCount", 0))


def events_text(events):
    return " | ".join(event["message"] for event in events if event.get("message"))


# --- API calls ---------------------------------------------------------------------------------------------------

@ECSErrorHandler.common_error_handler("describe services")
def describe_services(client, cluster, names, include_tags=True):
    """Describe services (names or ARNs) in batches of 10. Returns (services, failures)."""
    services, failures = [], []
    for batch in chunks(names, DESCRIBE_SERVICES_BATCH_SIZE):
        params = {"cluster": cluster, "services": batch}
        if include_tags:
            params["include"] = ["TAGS"]
        response = client.describe_services(**params)
        services.extend(response.get("services", []))
        failures.extend(response.get("failures", []))
    return services, failures


def describe_service(client, cluster, name):
    """The service (any status, with tags), or None when ECS does not know it."""
    services, _failures = describe_services(client, cluster, [name])
    return services[0] if services else None


@ECSErrorHandler.common_error_handler("list services")
def list_service_arns(client, cluster):
    """ARNs of the cluster's services, 100 per page (ListServices lists ACTIVE and DRAINING services)."""
    return list(paginate(client.list_services, "serviceArns", cluster=cluster, maxResults=DESCRIBE_BATCH_SIZE))


@ECSErrorHandler.common_error_handler("create service")
def create_service(client, **params):
    return client.create_service(**params)["service"]


@ECSErrorHandler.common_error_handler("update service")
def update_service(client, **params):
    return client.update_service(**params)["service"]


@ECSErrorHandler.common_error_handler("delete service")
def delete_service(client, cluster, name, force=False):
    return client.delete_service(cluster=cluster, service=name, force=force)["service"]


@ECSErrorHandler.common_error_handler("tag service")
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(tags, "key", "value"))


@ECSErrorHandler.common_error_handler("untag service")
def untag_resource(client, arn, tag_keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(tag_keys))


# --- ensuring state ------------------------------------------------------------------------------------------------

class ServiceManager:
    """ensure_present / ensure_absent / wait for one service of one cluster. Decides check mode in one place.

    Every method returns the module result: changed, service, deployments, diff (and failed/msg/events when a
    wait ends badly)."""

    def __init__(self, client, cluster, name, check_mode=False, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.cluster = cluster
        self.name = name
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.service = None  # the latest described, created, updated or would-be service (AWS shape)

    def ensure_present(self, wanted, tags=None, purge_tags=True, force_new_deployment=False):
        """Create the service, or update what differs with one UpdateService. One DescribeServices decides (plus one
        DescribeTaskDefinition when task_definition is a bare family)."""
        existing = describe_service(self.client, self.cluster, self.name)
        if existing is not None and existing.get("status") == "DRAINING":
            _fail("name", "service {0} is DRAINING (being deleted); wait until it is INACTIVE before creating it "
                          "again".format(self.name))
        if existing is not None and existing.get("status") != "ACTIVE":
            existing = None
        wanted = self._resolve_task_definition(wanted)
        if existing is None:
            return self._create(wanted, tags or {})
        check_immutable(existing, wanted, self.name)
        existing_tags = boto3_tag_list_to_ansible_dict(existing.get("tags") or [], "key", "value")
        after = apply_wanted(existing, wanted, self.name)
        before_normalized, after_normalized = normalize_service(existing), normalize_service(after)
        changes = service_changes(before_normalized, after_normalized)
        tags_after = final_tags(existing_tags, tags, purge_tags)
        tags_to_set, tag_keys_to_remove = compare_aws_tags(existing_tags, tags_after, purge_tags=True)
        if tags_to_set or tag_keys_to_remove:
            changes.append("tags")
        if force_new_deployment:
            changes.append("forceNewDeployment")
        result = {"changed": bool(changes), "changes": changes,
                  "diff": {"before": dict(before_normalized, tags=existing_tags), "after": dict(after_normalized, tags=tags_after)}}
        request = update_request(after, changes, force_new_deployment)
        if self.check_mode or not changes:
            return self._finish(result, after if changes else existing, tags_after)
        service = existing
        if request:
            service = update_service(self.client, cluster=self.cluster, service=self.name, **request)
        if tags_to_set:
            tag_resource(self.client, existing["serviceArn"], tags_to_set)
        if tag_keys_to_remove:
            untag_resource(self.client, existing["serviceArn"], tag_keys_to_remove)
        return self._finish(result, service, tags_after)

    def _resolve_task_definition(self, wanted):
        family = wanted.get("taskDefinition")
        if not family or not is_bare_family(family):
            return wanted
        # The service stores an ARN; a bare family means its latest ACTIVE revision, which only a describe names.
        definition, _tags = describe_task_definition(self.client, family)
        if definition is None or definition.get("status") != "ACTIVE":
            _fail("task_definition", "family {0} has no ACTIVE revision".format(family))
        return dict(wanted, taskDefinition=definition["taskDefinitionArn"])

    def _create(self, wanted, tags):
        if "taskDefinition" not in wanted:
            _fail("task_definition", "required to create service {0}".format(self.name))
        strategy = wanted.get("schedulingStrategy", REPLICA)
        if strategy == REPLICA and "desiredCount" not in wanted:
            _fail("desired_count", "required to create REPLICA service {0}".format(self.name))
        after = apply_wanted(None, wanted, self.name)
        normalized = normalize_service(after)
        result = {"changed": True, "changes": ["service"], "diff": {"before": {}, "after": dict(normalized, tags=tags)}}
        if self.check_mode:
            return self._finish(result, after, tags)
        params = dict(wanted, cluster=self.cluster, serviceName=self.name, launchType=EXTERNAL)
        if tags:
            params["tags"] = ansible_dict_to_boto3_tag_list(tags, "key", "value")
        return self._finish(result, create_service(self.client, **params), tags)

    def _finish(self, result, service, tags):
        result["service"] = service_to_result(service, tags)
        result["deployments"] = [summarize_deployment(deployment) for deployment in service.get("deployments") or []]
        self.service = service
        return result

    def ensure_absent(self, force=False):
        """Delete the service. Without force, a service that still runs or wants tasks is refused before any change
        (DeleteService would refuse it too, with a less helpful message)."""
        existing = describe_service(self.client, self.cluster, self.name)
        if existing is None or existing.get("status") == "INACTIVE":
            return {"changed": False, "service": {}, "deployments": [], "diff": {"before": {}, "after": {}}}
        result = {"changed": existing.get("status") == "ACTIVE",
                  "diff": {"before": normalize_service(existing), "after": {}}}
        if not result["changed"]:  # DRAINING: already being deleted
            return self._finish(result, existing, None)
        busy = [count for count in ("desiredCount", "runningCount", "pendingCount") if existing.get(count)]
        if busy and not force:
            _fail("force", "service {0} still has {1}; set force=true to delete it with its tasks, or set desired_count "
                           "to 0 and wait first".format(self.name, ", ".join("{0} {1}".format(count, existing[count]) for count in busy)))
        if self.check_mode:
            return self._finish(result, dict(existing, status="DRAINING"), None)
        return self._finish(result, delete_service(self.client, self.cluster, self.name, force), None)

    # --- waits ------------------------------------------------------------------------------------------------

    def wait_for_deployment(self, result, timeout, delay):
        """Poll DescribeServices (one call per poll) until the service's PRIMARY deployment after the change completes,
        fails (rolloutState FAILED, e.g. circuit breaker with or without rollback) or is replaced, or timeout.

        Adds deployments, wait (elapsed, polls, progress of the followed deployment per poll) to result; on failure
        or timeout, failed and a msg with the reason and the service's latest events, and events."""
        if self.check_mode or self.service is None:
            return result
        tracked = primary_deployment(self.service)
        if tracked is None:
            return dict(result, failed=True, msg="service {0} has no PRIMARY deployment to wait for".format(self.name))
        deployment_id = tracked["id"]
        started = self.clock()
        progress = []
        while True:
            service = describe_service(self.client, self.cluster, self.name)
            elapsed = self.clock() - started
            outcome, reason = deployment_outcome(service, deployment_id)
            followed = next((deployment for deployment in (service or {}).get("deployments") or [] if deployment.get("id") == deployment_id), None)
            progress.append(dict(summarize_deployment(followed) if followed else {"id": deployment_id, "status": "gone"},
                                 elapsed=round(elapsed, 1)))
            if outcome or elapsed + delay > timeout:
                break
            self.sleep(delay)
        if service is not None:
            result["service"] = service_to_result(service, result["service"].get("tags"))
            result["deployments"] = [summarize_deployment(deployment) for deployment in service.get("deployments") or []]
        result["wait"] = {"deployment_id": deployment_id, "outcome": outcome or "timeout", "elapsed": round(elapsed, 1),
                          "polls": len(progress), "progress": progress}
        if outcome == "completed":
            return result
        events = latest_events(service or {})
        if outcome == "failed":
            message = "Service {0}: {1}".format(self.name, reason)
        else:
            message = "Timed out after {0} s waiting for service {1}: {2}".format(timeout, self.name, reason)
        if events:
            message += ". Latest events: " + events_text(events)
        return dict(result, failed=True, msg=message, events=events)

    def wait_for_inactive(self, result, timeout, delay):
        """After a delete, poll DescribeServices until the service is INACTIVE (its tasks stopped) or timeout."""
        if self.check_mode or not result.get("service"):
            return result
        started = self.clock()
        polls = 0
        while True:
            service = describe_service(self.client, self.cluster, self.name)
            polls += 1
            elapsed = self.clock() - started
            if service is None or service.get("status") == "INACTIVE" or elapsed + delay > timeout:
                break
            self.sleep(delay)
        if service is not None:
            result["service"] = service_to_result(service, {})
        result["wait"] = {"elapsed": round(elapsed, 1), "polls": polls}
        if service is not None and service.get("status") != "INACTIVE":
            return dict(result, failed=True, events=latest_events(service), msg=(
                "Timed out after {0} s waiting for service {1} to be INACTIVE: it is {2} with {3} running task(s)".format(
                    timeout, self.name, service.get("status"), service.get("runningCount", 0))))
        return result


def describe_cluster_services(client, cluster, names=None, include_events=False, include_tasks=False):
    """Services of a cluster as ecs_service_info returns them: the named ones (unknown names left out), or every
    service ListServices lists; DescribeServices by 10 with tags. include_tasks adds each service's tasks that
    are meant to run (ListTasks serviceName, DescribeTasks by 100, the hosts' mi- ids in one more call)."""
    if names is None:
        names = list_service_arns(client, cluster)
    if not names:
        return []
    services, _failures = describe_services(client, cluster, names)
    results = [service_to_result(service, include_events=include_events) for service in services]
    if include_tasks:
        hosts = Hosts(client, cluster)
        for service, result in zip(services, results):
            arns = list_task_arns(client, cluster, serviceName=service["serviceName"], desiredStatus="RUNNING")
            tasks, _missing = describe_tasks(client, cluster, arns)
            managed_ids = hosts.learn(task.get("containerInstanceArn") for task in tasks)
            result["tasks"] = [summarize_task(task, managed_ids) for task in tasks]
    return results
