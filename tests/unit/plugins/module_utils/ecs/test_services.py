# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS services: the pure normalize/compare core and the rollout decision, then ServiceManager against
FakeServicesECS (below), an in-memory ECS client that answers as AWS does and counts every call."""

import collections
import copy

import botocore.session
import pytest
from botocore.exceptions import ClientError

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs import services
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.services import ServiceManager
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.shapes import request_shape
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError

from .fake_ecs import ACCOUNT
from .fake_ecs import REGION

MUTATING = ("CreateService", "UpdateService", "DeleteService", "TagResource", "UntagResource")


def task_definition_arn(family, revision):
    return "arn:aws:ecs:{0}:{1}:task-definition/{2}:{3}".format(REGION, ACCOUNT, family, revision)


def _error(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeServicesECS:
    """An in-memory ECS client for the service operations, answering as AWS documents them: defaults filled in
    (deployment percentages per strategy, circuit breaker off, propagateTags NONE), a new PRIMARY deployment
    IN_PROGRESS only when the task definition changes or a deployment is forced, DescribeServices <= 10 names,
    tags only with include=TAGS, DeleteService refusing a scaled service without force, ClusterNotFoundException
    for an unknown cluster. ``before_describe(service)`` may move a service between polls, as the scheduler would."""

    def __init__(self, clusters=("edge",), families=None):
        self.calls = collections.Counter()
        self.clusters = set(clusters)
        self.families = dict(families or {"web": 3, "api": 1})  # family -> latest ACTIVE revision
        self.services = {}  # (cluster, name) -> service
        self.tags = {}  # arn -> [{"key", "value"}]
        self.before_describe = None
        self.deployment_ids = 0
        self.meta = type("Meta", (), {"service_model": botocore.session.get_session().get_service_model("ecs")})()

    @property
    def mutating_calls(self):
        return dict((operation, count) for operation, count in self.calls.items() if operation in MUTATING)

    def _cluster(self, cluster, operation):
        if cluster not in self.clusters:
            raise _error("ClusterNotFoundException", "Cluster not found.", operation)

    def _task_definition(self, name, operation):
        name = name.rsplit("/", 1)[-1]
        family, _separator, revision = name.partition(":")
        if family not in self.families or (revision and int(revision) > self.families[family]):
            raise _error("ClientException", "Unable to describe task definition.", operation)
        return task_definition_arn(family, revision or self.families[family])

    def _deployment(self, service):
        self.deployment_ids += 1
        return {"id": "ecs-svc/{0:019d}".format(self.deployment_ids), "status": "PRIMARY", "taskDefinition": service["taskDefinition"],
                "desiredCount": service["desiredCount"], "runningCount": 0, "pendingCount": 0, "failedTasks": 0,
                "launchType": "EXTERNAL", "rolloutState": "IN_PROGRESS", "rolloutStateReason": "ECS deployment in progress."}

    def _answer(self, service):
        return copy.deepcopy(dict((key, value) for key, value in service.items() if key != "tags"))

    # --- operations -------------------------------------------------------------------------------------------

    def describe_task_definition(self, taskDefinition, include=()):
        self.calls["DescribeTaskDefinition"] += 1
        arn = self._task_definition(taskDefinition, "DescribeTaskDefinition")
        family, revision = arn.rsplit("/", 1)[-1].split(":")
        return {"taskDefinition": {"taskDefinitionArn": arn, "family": family, "revision": int(revision), "status": "ACTIVE"}, "tags": []}

    def create_service(self, cluster, serviceName, taskDefinition, launchType, desiredCount=None, schedulingStrategy="REPLICA",
                       deploymentConfiguration=None, placementConstraints=(), placementStrategy=(), propagateTags="NONE", tags=()):
        self.calls["CreateService"] += 1
        self._cluster(cluster, "CreateService")
        existing = self.services.get((cluster, serviceName))
        if existing and existing["status"] in ("ACTIVE", "DRAINING"):
            raise _error("InvalidParameterException", "Creation of service was not idempotent.", "CreateService")
        deployment = dict(services.DEPLOYMENT_DEFAULTS[schedulingStrategy], deploymentCircuitBreaker={"enable": False, "rollback": False})
        for key, value in (deploymentConfiguration or {}).items():
            deployment[key] = value
        arn = "arn:aws:ecs:{0}:{1}:service/{2}/{3}".format(REGION, ACCOUNT, cluster, serviceName)
        service = {
            "serviceArn": arn, "serviceName": serviceName, "clusterArn": "arn:aws:ecs:{0}:{1}:cluster/{2}".format(REGION, ACCOUNT, cluster),
            "status": "ACTIVE", "desiredCount": desiredCount if schedulingStrategy == "REPLICA" else 3, "runningCount": 0, "pendingCount": 0,
            "launchType": launchType, "taskDefinition": self._task_definition(taskDefinition, "CreateService"),
            "deploymentConfiguration": deployment, "placementConstraints": list(placementConstraints),
            "placementStrategy": list(placementStrategy), "schedulingStrategy": schedulingStrategy, "propagateTags": propagateTags,
            "deploymentController": {"type": "ECS"}, "events": [], "createdAt": "2026-11-24T10:00:00+00:00",
        }
        service["deployments"] = [self._deployment(service)]
        self.services[(cluster, serviceName)] = service
        self.tags[arn] = list(tags)
        return {"service": self._answer(service)}

    def update_service(self, cluster, service, forceNewDeployment=False, **changes):
        self.calls["UpdateService"] += 1
        self._cluster(cluster, "UpdateService")
        current = self.services.get((cluster, service))
        if current is None:
            raise _error("ServiceNotFoundException", "Service not found.", "UpdateService")
        if current["status"] != "ACTIVE":
            raise _error("ServiceNotActiveException", "Service was not ACTIVE.", "UpdateService")
        if "taskDefinition" in changes:
            changes["taskDefinition"] = self._task_definition(changes["taskDefinition"], "UpdateService")
        new_deployment = forceNewDeployment or changes.get("taskDefinition", current["taskDefinition"]) != current["taskDefinition"]
        current.update(copy.deepcopy(changes))
        if new_deployment:
            for deployment in current["deployments"]:
                deployment["status"] = "ACTIVE"
            current["deployments"].insert(0, self._deployment(current))
        else:
            current["deployments"][0]["desiredCount"] = current["desiredCount"]
        return {"service": self._answer(current)}

    def delete_service(self, cluster, service, force=False):
        self.calls["DeleteService"] += 1
        self._cluster(cluster, "DeleteService")
        current = self.services.get((cluster, service))
        if current is None or current["status"] == "INACTIVE":
            raise _error("ServiceNotFoundException", "Service not found.", "DeleteService")
        if (current["desiredCount"] or current["runningCount"]) and not force:
            raise _error("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.", "DeleteService")
        current.update(status="DRAINING", desiredCount=0)
        return {"service": self._answer(current)}

    def describe_services(self, cluster, services, include=()):  # noqa: F811 (boto3's parameter name)
        self.calls["DescribeServices"] += 1
        self._cluster(cluster, "DescribeServices")
        assert 1 <= len(services) <= 10, "DescribeServices takes 1-10 services"
        found, failures = [], []
        for name in services:
            service = self.services.get((cluster, name.rsplit("/", 1)[-1]))
            if service is None:
                failures.append({"arn": "arn:aws:ecs:{0}:{1}:service/{2}".format(REGION, ACCOUNT, name), "reason": "MISSING"})
                continue
            if self.before_describe:
                self.before_describe(service)
            answer = self._answer(service)
            if "TAGS" in include:
                answer["tags"] = list(self.tags.get(service["serviceArn"], []))
            found.append(answer)
        return {"services": found, "failures": failures}

    def list_services(self, cluster, maxResults=10, nextToken=None):
        self.calls["ListServices"] += 1
        self._cluster(cluster, "ListServices")
        assert 1 <= maxResults <= 100
        arns = [service["serviceArn"] for (owner, _name), service in sorted(self.services.items())
                if owner == cluster and service["status"] != "INACTIVE"]
        start = int(nextToken or 0)
        page = {"serviceArns": arns[start:start + maxResults]}
        if start + maxResults < len(arns):
            page["nextToken"] = str(start + maxResults)
        return page

    def tag_resource(self, resourceArn, tags):
        self.calls["TagResource"] += 1
        current = dict((tag["key"], tag["value"]) for tag in self.tags.get(resourceArn, []))
        current.update((tag["key"], tag["value"]) for tag in tags)
        self.tags[resourceArn] = [{"key": key, "value": value} for key, value in current.items()]

    def untag_resource(self, resourceArn, tagKeys):
        self.calls["UntagResource"] += 1
        self.tags[resourceArn] = [tag for tag in self.tags.get(resourceArn, []) if tag["key"] not in tagKeys]

    # --- what the scheduler and the agents would do -------------------------------------------------------------

    def settle(self, service):
        """The PRIMARY deployment reaches its desired count and COMPLETED; older deployments are drained."""
        primary = service["deployments"][0]
        primary.update(runningCount=service["desiredCount"], pendingCount=0, rolloutState="COMPLETED",
                       rolloutStateReason="ECS deployment {0} completed.".format(primary["id"]))
        service["deployments"] = [primary]
        service.update(runningCount=service["desiredCount"], pendingCount=0)

    def trip_circuit_breaker(self, service):
        """The PRIMARY deployment's tasks fail to start: FAILED, and a rollback to the previous deployment."""
        if len(service["deployments"]) < 2 or service["deployments"][1]["rolloutState"] == "FAILED":
            return  # no newer deployment to fail, or already rolled back
        failed, previous = service["deployments"][0], service["deployments"][1]
        failed.update(status="ACTIVE", rolloutState="FAILED", failedTasks=3, runningCount=0,
                      rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.")
        rollback = self._deployment(dict(service, taskDefinition=previous["taskDefinition"]))
        service["deployments"] = [rollback, failed, previous]
        service["taskDefinition"] = previous["taskDefinition"]
        service["events"] = [
            {"id": "e3", "createdAt": "2026-11-24T10:03:00+00:00",
             "message": "(service web) rolling back to deployment {0}.".format(previous["id"])},
            {"id": "e2", "createdAt": "2026-11-24T10:02:00+00:00",
             "message": "(service web) deployment {0} deployment failed: tasks failed to start.".format(failed["id"])},
            {"id": "e1", "createdAt": "2026-11-24T10:01:00+00:00",
             "message": "(service web) was unable to place a task because no container instance met all of its requirements."},
        ]


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ecs():
    return FakeServicesECS()


@pytest.fixture
def create_shape(ecs_model):
    return request_shape(ecs_model, "CreateService")


def manager(ecs, check_mode=False, name="web"):
    clock = FakeClock()
    return ServiceManager(ecs, "edge", name, check_mode, sleep=clock.sleep, clock=clock)


def params(**options):
    base = dict((option, None) for option in services.OPTION_MEMBERS)
    return dict(base, **options)


def create_web(ecs, create_shape, **options):
    wanted = services.wanted_service(params(**dict(dict(task_definition="web:2", desired_count=2), **options)), create_shape)
    result = manager(ecs).ensure_present(wanted, {"team": "ops"})
    ecs.settle(ecs.services[("edge", "web")])
    ecs.calls.clear()
    return result


# --- validation (pure) --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"desired_count": -1}, "desired_count: must be 0 or more, got -1"),
    ({"deployment_configuration": {"maximum_percent": 99}}, "deployment_configuration.maximum_percent: must be at least 100, got 99"),
    ({"deployment_configuration": {"minimum_healthy_percent": 101}},
     "deployment_configuration.minimum_healthy_percent: must be between 0 and 100, got 101"),
    ({"deployment_configuration": {"minimum_healthy_percent": -5}},
     "deployment_configuration.minimum_healthy_percent: must be between 0 and 100, got -5"),
    ({"scheduling_strategy": "DAEMON", "desired_count": 2},
     "desired_count: not used with scheduling_strategy=DAEMON, which runs one task on each container instance"),
    ({"scheduling_strategy": "DAEMON", "placement_strategy": [{"type": "spread", "field": "instanceId"}]},
     "placement_strategy: not used with scheduling_strategy=DAEMON, which runs one task on each container instance"),
    ({"wait_timeout": 0}, "wait_timeout: must be at least 1 second, got 0"),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        services.validate_service_options(options)
    assert error.value.message == message


def test_wanted_service_maps_options_to_members_and_names_bad_keys(create_shape):
    wanted = services.wanted_service(params(
        task_definition="web", desired_count=3,
        deployment_configuration={"minimum_healthy_percent": 50, "maximum_percent": None,
                                  "deployment_circuit_breaker": {"enable": True, "rollback": True}},
        placement_constraints=[{"type": "memberOf", "expression": "attribute:site == lyon"}],
        placement_strategy=[{"type": "SPREAD", "field": "instanceId"}]), create_shape)
    assert wanted == {
        "taskDefinition": "web", "desiredCount": 3,
        "deploymentConfiguration": {"minimumHealthyPercent": 50, "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:site == lyon"}],
        "placementStrategy": [{"type": "spread", "field": "instanceId"}],
    }
    with pytest.raises(AnsibleECSAnywhereError) as error:
        services.wanted_service(params(placement_constraints=[{"typ": "memberOf"}]), create_shape)
    assert error.value.message.startswith("placement_constraints[0].typ: unknown key; expected one of expression, type")


# --- normalize and compare (pure) ---------------------------------------------------------------------------------

def test_normalize_fills_in_what_ecs_fills_in():
    bare = {"serviceName": "web", "taskDefinition": task_definition_arn("web", 2), "launchType": "EXTERNAL", "desiredCount": 2}
    described = dict(bare, schedulingStrategy="REPLICA", propagateTags="NONE", placementStrategy=[], placementConstraints=[],
                     deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200, "strategy": "ROLLING",
                                              "deploymentCircuitBreaker": {"enable": False, "rollback": False}})
    assert services.normalize_service(bare) == services.normalize_service(described)
    daemon = services.normalize_service(dict(bare, schedulingStrategy="DAEMON", desiredCount=5))
    assert daemon["deploymentConfiguration"] == {"minimumHealthyPercent": 0, "maximumPercent": 100,
                                                 "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    assert "desiredCount" not in daemon  # ECS sets a DAEMON service's count from its instances


def test_constraint_order_is_ignored_but_strategy_order_is_not():
    one = {"type": "memberOf", "expression": "attribute:site == lyon"}
    two = {"type": "distinctInstance"}
    first = services.normalize_service({"placementConstraints": [one, two], "placementStrategy": [{"type": "random"}, {"type": "binpack", "field": "memory"}]})
    second = services.normalize_service({"placementConstraints": [two, one], "placementStrategy": [{"type": "binpack", "field": "memory"}, {"type": "random"}]})
    assert services.service_changes(first, second) == ["placementStrategy"]


def test_unset_options_leave_the_service_alone_and_set_ones_are_compared():
    existing = {"serviceName": "web", "taskDefinition": task_definition_arn("web", 2), "launchType": "EXTERNAL", "desiredCount": 2,
                "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 200,
                                            "deploymentCircuitBreaker": {"enable": True, "rollback": True}}}
    same = services.apply_wanted(existing, {"taskDefinition": "web:2", "deploymentConfiguration": {"maximumPercent": 200}}, "web")
    assert services.service_changes(services.normalize_service(existing), services.normalize_service(same)) == []
    after = services.apply_wanted(existing, {"deploymentConfiguration": {"maximumPercent": 150}, "desiredCount": 4}, "web")
    changes = services.service_changes(services.normalize_service(existing), services.normalize_service(after))
    assert changes == ["deploymentConfiguration.maximumPercent", "desiredCount"]
    # The whole deploymentConfiguration is sent, so the circuit breaker and minimum stay as they are.
    assert services.update_request(after, changes, False) == {
        "desiredCount": 4, "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 150,
                                                       "deploymentCircuitBreaker": {"enable": True, "rollback": True}}}


# --- the rollout decision (pure) ----------------------------------------------------------------------------------

def deployment(identifier, status="PRIMARY", rollout="IN_PROGRESS", running=0, desired=2, revision=3, **extra):
    return dict({"id": identifier, "status": status, "rolloutState": rollout, "runningCount": running, "pendingCount": desired - running,
                 "failedTasks": 0, "desiredCount": desired, "taskDefinition": task_definition_arn("web", revision)}, **extra)


def service_with(*deployments, running=0, desired=2, status="ACTIVE"):
    return {"status": status, "deployments": list(deployments), "runningCount": running, "desiredCount": desired}


@pytest.mark.parametrize("service, outcome, reason", [
    (service_with(deployment("new", running=2, rollout="COMPLETED"), running=2), "completed", "deployment new completed"),
    # No rolloutState (no circuit-breaker support): botocore's ServicesStable decides.
    (service_with(deployment("new", running=2, rollout=None), running=2), "completed", "deployment new completed"),
    (service_with(deployment("new", running=1), deployment("old", status="ACTIVE", rollout="COMPLETED", running=1), running=2),
     None, "deployment new: rolloutState IN_PROGRESS, 1 running, 1 pending, 0 failed of 2 desired"),
    # COMPLETED but scaled up since (scaling starts no deployment): not yet.
    (service_with(deployment("new", running=2, desired=4, rollout="COMPLETED"), running=2, desired=4), None,
     "deployment new: rolloutState COMPLETED, 2 running, 2 pending, 0 failed of 4 desired"),
    (service_with(deployment("back", revision=2), deployment("new", status="ACTIVE", rollout="FAILED",
                                                             rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.")),
     "failed", "deployment new failed: ECS deployment circuit breaker: tasks failed to start.; rolled back to deployment back "
               "(task definition {0})".format(task_definition_arn("web", 2))),
    (service_with(deployment("newer", revision=4, rolloutStateReason=None)), "failed",
     "deployment new was replaced by newer (task definition {0})".format(task_definition_arn("web", 4))),
    # The failed deployment already dropped (its tasks are gone): the rollback deployment's reason says why.
    (service_with(deployment("back", revision=2, rolloutStateReason="ECS deployment circuit breaker: rolling back to deploymentId old.")),
     "failed", "deployment new was replaced by back (task definition {0}): ECS deployment circuit breaker: rolling back to "
               "deploymentId old.".format(task_definition_arn("web", 2))),
    (service_with(status="DRAINING"), "failed", "the service is DRAINING"),
    (None, "failed", "the service is gone"),
])
def test_deployment_outcome_follows_the_deployment_by_id(service, outcome, reason):
    assert services.deployment_outcome(service, "new") == (outcome, reason)


# --- ServiceManager against the fake -----------------------------------------------------------------------------

def test_create_sends_one_create_service_with_launch_type_external(ecs, create_shape):
    result = create_web(ecs, create_shape, placement_constraints=[{"type": "distinctInstance"}])
    created = ecs.services[("edge", "web")]
    assert result["changed"] is True and result["changes"] == ["service"]
    assert (created["launchType"], created["desiredCount"], created["taskDefinition"]) == ("EXTERNAL", 2, task_definition_arn("web", 2))
    assert ecs.tags[created["serviceArn"]] == [{"key": "team", "value": "ops"}]
    assert result["service"]["service_arn"] == created["serviceArn"] and result["service"]["tags"] == {"team": "ops"}
    assert result["deployments"][0]["rollout_state"] == "IN_PROGRESS"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["placementConstraints"] == [{"type": "distinctInstance"}]


def test_same_input_again_is_one_describe_and_no_change(ecs, create_shape):
    create_web(ecs, create_shape)
    wanted = services.wanted_service(params(task_definition="web:2", desired_count=2), create_shape)
    result = manager(ecs).ensure_present(wanted, {"team": "ops"})
    assert result["changed"] is False and result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert ecs.calls == {"DescribeServices": 1}


def test_bare_family_costs_one_describe_task_definition(ecs, create_shape):
    ecs.families["web"] = 2
    create_web(ecs, create_shape)
    result = manager(ecs).ensure_present(services.wanted_service(params(task_definition="web"), create_shape), {"team": "ops"})
    assert result["changed"] is False
    assert ecs.calls == {"DescribeServices": 1, "DescribeTaskDefinition": 1}
    ecs.families["web"] = 3
    result = manager(ecs).ensure_present(services.wanted_service(params(task_definition="web"), create_shape))
    assert result["changes"] == ["taskDefinition"]
    assert ecs.services[("edge", "web")]["taskDefinition"] == task_definition_arn("web", 3)


@pytest.mark.parametrize("options, changes, member, value", [
    ({"desired_count": 5}, ["desiredCount"], "desiredCount", 5),
    ({"task_definition": task_definition_arn("web", 3)}, ["taskDefinition"], "taskDefinition", task_definition_arn("web", 3)),
    ({"deployment_configuration": {"deployment_circuit_breaker": {"enable": True, "rollback": True}}},
     ["deploymentConfiguration.deploymentCircuitBreaker.enable", "deploymentConfiguration.deploymentCircuitBreaker.rollback"],
     "deploymentConfiguration", {"minimumHealthyPercent": 100, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": True, "rollback": True}}),
    ({"deployment_configuration": {"minimum_healthy_percent": 50}}, ["deploymentConfiguration.minimumHealthyPercent"],
     "deploymentConfiguration", {"minimumHealthyPercent": 50, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": False, "rollback": False}}),
    ({"placement_constraints": [{"type": "memberOf", "expression": "attribute:site == lyon"}]}, ["placementConstraints"],
     "placementConstraints", [{"type": "memberOf", "expression": "attribute:site == lyon"}]),
    ({"placement_strategy": [{"type": "spread", "field": "instanceId"}]}, ["placementStrategy"],
     "placementStrategy", [{"type": "spread", "field": "instanceId"}]),
    ({"propagate_tags": "SERVICE"}, ["propagateTags"], "propagateTags", "SERVICE"),
])
def test_each_kind_of_update_is_one_update_service_with_its_diff(ecs, create_shape, options, changes, member, value):
    create_web(ecs, create_shape)
    result = manager(ecs).ensure_present(services.wanted_service(params(**options), create_shape))
    assert result["changed"] is True and result["changes"] == changes
    assert ecs.calls == {"DescribeServices": 1, "UpdateService": 1}
    assert ecs.services[("edge", "web")][member] == value
    assert result["diff"]["after"][member] == value and result["diff"]["before"][member] != value


def test_tags_are_changed_with_tag_and_untag_resource_only(ecs, create_shape):
    create_web(ecs, create_shape)
    result = manager(ecs).ensure_present({}, {"team": "web", "site": "lyon"})
    assert result["changes"] == ["tags"] and result["service"]["tags"] == {"team": "web", "site": "lyon"}
    assert ecs.calls == {"DescribeServices": 1, "TagResource": 1}
    result = manager(ecs).ensure_present({}, {"site": "lyon"})
    assert ecs.calls["UntagResource"] == 1 and "UpdateService" not in ecs.calls


def test_check_mode_returns_the_would_be_service_without_any_change(ecs, create_shape):
    wanted = services.wanted_service(params(task_definition="web:2", desired_count=2), create_shape)
    result = manager(ecs, check_mode=True).ensure_present(wanted)
    assert result["changed"] is True
    assert result["service"]["launch_type"] == "EXTERNAL" and result["service"]["task_definition"] == "web:2"
    assert ecs.services == {} and ecs.calls == {"DescribeServices": 1}
    create_web(ecs, create_shape)
    result = manager(ecs, check_mode=True).ensure_present(services.wanted_service(params(desired_count=7), create_shape))
    assert result["changed"] is True and result["service"]["desired_count"] == 7
    assert ecs.services[("edge", "web")]["desiredCount"] == 2 and ecs.mutating_calls == {}


def test_force_new_deployment_always_updates(ecs, create_shape):
    create_web(ecs, create_shape)
    result = manager(ecs).ensure_present({}, force_new_deployment=True)
    assert result["changes"] == ["forceNewDeployment"]
    assert [deployment["status"] for deployment in result["deployments"]] == ["PRIMARY", "ACTIVE"]


@pytest.mark.parametrize("options, message", [
    ({"scheduling_strategy": "DAEMON"}, "scheduling_strategy: service web is REPLICA; UpdateService cannot change it to DAEMON, "
                                        "so delete the service and create it again"),
])
def test_what_update_service_cannot_change_fails_naming_the_field(ecs, create_shape, options, message):
    create_web(ecs, create_shape)
    with pytest.raises(AnsibleECSAnywhereError) as error:
        manager(ecs).ensure_present(services.wanted_service(params(**options), create_shape))
    assert error.value.message == message
    assert ecs.mutating_calls == {}


def test_a_service_of_another_launch_type_is_refused(ecs, create_shape):
    create_web(ecs, create_shape)
    ecs.services[("edge", "web")]["launchType"] = "EC2"
    with pytest.raises(AnsibleECSAnywhereError) as error:
        manager(ecs).ensure_present(services.wanted_service(params(desired_count=1), create_shape))
    assert error.value.message.startswith("launch_type: service web uses launchType EC2; UpdateService cannot change it")
    assert ecs.mutating_calls == {}


def test_daemon_service_refuses_a_desired_count(ecs, create_shape):
    manager(ecs).ensure_present(services.wanted_service(params(task_definition="web:2", scheduling_strategy="DAEMON"), create_shape))
    with pytest.raises(AnsibleECSAnywhereError) as error:
        manager(ecs).ensure_present(services.wanted_service(params(desired_count=2), create_shape))
    assert error.value.message == "desired_count: not used with DAEMON service web, which runs one task on each container instance"
    assert ecs.calls["UpdateService"] == 0


@pytest.mark.parametrize("options, message", [
    ({"desired_count": 2}, "task_definition: required to create service web"),
    ({"task_definition": "web:2"}, "desired_count: required to create REPLICA service web"),
    ({"task_definition": "nope"}, "task_definition: family nope has no ACTIVE revision"),
])
def test_what_a_new_service_lacks_fails_before_any_change(ecs, create_shape, options, message):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        manager(ecs).ensure_present(services.wanted_service(params(**options), create_shape))
    assert error.value.message == message
    assert ecs.mutating_calls == {}


def test_unknown_cluster_fails_with_the_aws_error_before_any_change(ecs, create_shape):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        ServiceManager(ecs, "nowhere", "web").ensure_present({"taskDefinition": "web:2", "desiredCount": 1})
    assert error.value.message == "Failed to describe services"
    assert "ClusterNotFoundException" in str(error.value.exception)
    assert ecs.mutating_calls == {}


# --- delete -------------------------------------------------------------------------------------------------------

def test_delete_without_force_refuses_a_scaled_service_before_any_change(ecs, create_shape):
    create_web(ecs, create_shape)
    with pytest.raises(AnsibleECSAnywhereError) as error:
        manager(ecs).ensure_absent(force=False)
    assert error.value.message == ("force: service web still has desiredCount 2, runningCount 2; set force=true to delete it with "
                                   "its tasks, or set desired_count to 0 and wait first")
    assert ecs.mutating_calls == {}


def test_delete_with_force_then_again_is_no_change(ecs, create_shape):
    create_web(ecs, create_shape)
    result = manager(ecs).ensure_absent(force=True)
    assert result["changed"] is True and result["service"]["status"] == "DRAINING"
    assert ecs.calls == {"DescribeServices": 1, "DeleteService": 1}
    ecs.services[("edge", "web")]["status"] = "INACTIVE"
    assert manager(ecs).ensure_absent(force=True)["changed"] is False


def test_delete_a_scaled_down_service_without_force_and_wait_until_inactive(ecs, create_shape):
    create_web(ecs, create_shape, desired_count=0)
    ecs.services[("edge", "web")]["runningCount"] = 0

    def drained_on_second_poll(service):
        if ecs.calls["DescribeServices"] >= 3:
            service["status"] = "INACTIVE"

    ecs.before_describe = drained_on_second_poll
    owner = manager(ecs)
    result = owner.wait_for_inactive(owner.ensure_absent(), timeout=60, delay=5)
    assert result["changed"] is True and result["service"]["status"] == "INACTIVE"
    assert result["wait"]["polls"] == 2 and owner.sleep.__self__.sleeps == [5]


def test_delete_check_mode_and_missing_service(ecs, create_shape):
    assert manager(ecs).ensure_absent()["changed"] is False
    create_web(ecs, create_shape)
    result = manager(ecs, check_mode=True).ensure_absent(force=True)
    assert result["changed"] is True and ecs.mutating_calls == {}


# --- wait ---------------------------------------------------------------------------------------------------------

def update_and_wait(ecs, create_shape, before_describe, timeout=60, delay=5, **options):
    create_web(ecs, create_shape)
    ecs.before_describe = before_describe
    owner = manager(ecs)
    result = owner.ensure_present(services.wanted_service(params(**options), create_shape))
    return owner.wait_for_deployment(result, timeout, delay), owner.sleep.__self__


def test_wait_success_reports_each_poll(ecs, create_shape):
    def scheduler(service):
        primary = service["deployments"][0]
        if primary["runningCount"] == 0:
            primary.update(runningCount=1, pendingCount=1)
        else:
            ecs.settle(service)

    result, clock = update_and_wait(ecs, create_shape, scheduler, task_definition="web:3")
    assert "failed" not in result
    assert result["wait"]["outcome"] == "completed" and result["wait"]["polls"] == 2 and clock.sleeps == [5]
    assert [(poll["running_count"], poll["rollout_state"]) for poll in result["wait"]["progress"]] == [(1, "IN_PROGRESS"), (2, "COMPLETED")]
    assert result["deployments"] == [dict(result["deployments"][0], rollout_state="COMPLETED", running_count=2)]
    assert result["service"]["task_definition"] == task_definition_arn("web", 3)


def test_wait_failure_carries_the_rollout_reason_and_the_events(ecs, create_shape):
    result, _clock = update_and_wait(ecs, create_shape, ecs.trip_circuit_breaker, task_definition="web:3")
    failed_id = result["wait"]["deployment_id"]
    assert result["failed"] is True and result["wait"]["outcome"] == "failed"
    assert result["msg"].startswith(
        "Service web: deployment {0} failed: ECS deployment circuit breaker: tasks failed to start.; rolled back to deployment "
        "ecs-svc/".format(failed_id))
    assert "Latest events: (service web) rolling back to deployment" in result["msg"]
    assert [event["id"] for event in result["events"]] == ["e3", "e2", "e1"]
    assert result["service"]["task_definition"] == task_definition_arn("web", 2)


def test_wait_timeout_names_the_deployment_and_its_counts(ecs, create_shape):
    def stuck(service):
        service["deployments"][0].update(runningCount=1, pendingCount=1)
        service["events"] = [{"id": "e1", "createdAt": "2026-11-24T10:01:00+00:00",
                              "message": "(service web) was unable to place a task because no container instance met all of its requirements."}]

    result, clock = update_and_wait(ecs, create_shape, stuck, timeout=20, delay=5, task_definition="web:3")
    assert result["failed"] is True and result["wait"]["outcome"] == "timeout"
    assert result["msg"].startswith("Timed out after 20 s waiting for service web: deployment ecs-svc/")
    assert "rolloutState IN_PROGRESS, 1 running, 1 pending, 0 failed of 2 desired. Latest events: (service web) was unable" in result["msg"]
    # Polls at 0, 5, 10, 15 and 20 s: one more sleep would pass the timeout.
    assert clock.sleeps == [5, 5, 5, 5] and result["wait"]["polls"] == 5


def test_wait_in_check_mode_makes_no_call(ecs, create_shape):
    create_web(ecs, create_shape)
    owner = manager(ecs, check_mode=True)
    result = owner.wait_for_deployment(owner.ensure_present({"desiredCount": 3}), 60, 5)
    assert "wait" not in result and ecs.calls == {"DescribeServices": 1}


# --- info ---------------------------------------------------------------------------------------------------------

def test_cluster_services_are_listed_by_page_and_described_by_ten(ecs, create_shape):
    for index in range(23):
        manager(ecs, name="svc-{0:02d}".format(index)).ensure_present(
            services.wanted_service(params(task_definition="web:2", desired_count=1), create_shape))
    ecs.calls.clear()
    found = services.describe_cluster_services(ecs, "edge")
    assert [service["service_name"] for service in found] == ["svc-{0:02d}".format(index) for index in range(23)]
    assert ecs.calls == {"ListServices": 1, "DescribeServices": 3}
    assert "events" not in found[0] and found[0]["tags"] == {}
    named = services.describe_cluster_services(ecs, "edge", ["svc-01", "missing"], include_events=True)
    assert [service["service_name"] for service in named] == ["svc-01"] and named[0]["events"] == []
    assert services.describe_cluster_services(FakeServicesECS(), "edge") == []
