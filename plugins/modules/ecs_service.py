#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service
short_description: Create, update or delete ECS services on ECS Anywhere (EXTERNAL) instances, and wait for rollouts
version_added: 0.2.0
description:
  - Manages a long-lived ECS service whose tasks run on external (ECS Anywhere) container instances; the launch
    type is always C(EXTERNAL).
  - "Idempotency: one DescribeServices call (plus one DescribeTaskDefinition when O(task_definition) is a bare
    family) decides. The options that are set are compared with the service after filling in the defaults ECS
    fills in (deployment percentages per scheduling strategy, circuit breaker off, C(propagateTags=NONE)); options
    left unset keep the service's current values. Everything that differs is applied with one UpdateService
    (tags with TagResource/UntagResource), so running the task again makes no change."
  - The scheduling strategy and the launch type cannot be changed by UpdateService; asking for a different one
    fails, naming the field, before any change.
  - With O(wait=true), polls DescribeServices until the deployment started by the change completes, or fails
    (C(rolloutState=FAILED), for example when the deployment circuit breaker stops it and rolls it back), and
    reports each poll's counts. A failure message carries the C(rolloutStateReason) and the service's latest events.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  cluster:
    description: The ECS cluster (name or ARN).
    type: str
    default: default
  name:
    description: The service name.
    type: str
    required: true
    aliases: [service]
  state:
    description:
      - V(present) creates the service or updates what differs.
      - V(absent) deletes it (see O(force)).
    type: str
    choices: [present, absent]
    default: present
  task_definition:
    description:
      - The task definition as C(family), C(family:revision) or ARN. A family alone means its latest C(ACTIVE)
        revision, looked up with DescribeTaskDefinition.
      - Required to create the service. A different revision starts a new deployment.
    type: str
  desired_count:
    description:
      - How many tasks the service keeps running. Required to create a V(REPLICA) service; not used with V(DAEMON).
      - Changing it starts no new deployment.
    type: int
  scheduling_strategy:
    description:
      - V(REPLICA) keeps O(desired_count) tasks placed by ECS; V(DAEMON) runs one task on each container instance
        that meets O(placement_constraints).
      - Defaults to V(REPLICA) when the service is created; it cannot be changed afterwards.
    type: str
    choices: [REPLICA, DAEMON]
  deployment_configuration:
    description:
      - How a rolling deployment replaces tasks. Sub-options that are left out keep the service's current values
        (ECS's defaults for a new service).
    type: dict
    suboptions:
      minimum_healthy_percent:
        description:
          - The share of O(desired_count) that must stay C(RUNNING) during a deployment, 0 to 100.
          - ECS's default is V(100) for V(REPLICA) and V(0) for V(DAEMON).
        type: int
      maximum_percent:
        description:
          - The most tasks (old and new) that may run during a deployment, as a share of O(desired_count); at
            least 100.
          - ECS's default is V(200) for V(REPLICA) and V(100) for V(DAEMON).
        type: int
      deployment_circuit_breaker:
        description:
          - Stop a deployment whose tasks keep failing to start (C(rolloutState=FAILED)) and, with
            O(deployment_configuration.deployment_circuit_breaker.rollback), go back to the last deployment that
            completed.
        type: dict
        suboptions:
          enable:
            description: Turn the circuit breaker on.
            type: bool
            required: true
          rollback:
            description: Roll a failed deployment back.
            type: bool
            required: true
  placement_constraints:
    description:
      - The service's placement constraints (C(type) V(memberOf) or V(distinctInstance), C(expression)), in
        camelCase or snake_case. An empty list removes them all. Changing them starts no new deployment.
    type: list
    elements: dict
  placement_strategy:
    description:
      - The service's placement strategies in order (C(type) V(binpack), V(spread) or V(random), C(field)). An
        empty list removes them all. Not used with V(DAEMON).
    type: list
    elements: dict
  propagate_tags:
    description: Copy the task definition's or the service's tags to the tasks the service starts.
    type: str
    choices: [TASK_DEFINITION, SERVICE, NONE]
  force_new_deployment:
    description:
      - Start a new deployment even when nothing else changes (for example to pull an image tag again). The
        module then always reports a change.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), delete the service even though it still runs or wants tasks; ECS stops them.
        Without it such a service is refused before any change.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the service's deployment completes (C(rolloutState=COMPLETED) and one
        deployment left with every desired task running), failing when it fails or is rolled back.
      - With O(state=absent), wait until the service is C(INACTIVE).
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 600
  wait_delay:
    description: Seconds between two DescribeServices polls.
    type: int
    default: 10
notes:
  - Check mode changes nothing and returns the would-be service (a new one has no ARN and no deployments).
  - With C(--diff), before and after are the normalized services (with their tags), so only real differences show.
  - Options not covered here (load balancers, service discovery, network configuration) do not apply to ECS
    Anywhere's bridge and host networking and are left alone.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check mode; nothing is created, updated, tagged or deleted, and the would-be service is returned.
    support: full
  diff_mode:
    description: Returns the normalized service (with its tags) before and after.
    support: full
  platform:
    description: Runs on the controller (or any host with boto3) against the AWS APIs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Run three web tasks on the fleet and wait for the rollout
  fleetops.ecs_anywhere.ecs_service:
    cluster: edge
    name: web
    task_definition: web
    desired_count: 3
    deployment_configuration:
      minimum_healthy_percent: 50
      maximum_percent: 100
      deployment_circuit_breaker:
        enable: true
        rollback: true
    placement_constraints:
      - type: distinctInstance
    wait: true
    wait_timeout: 900

- name: Run a log shipper on every instance of the edge site
  fleetops.ecs_anywhere.ecs_service:
    cluster: edge
    name: log-shipper
    task_definition: log-shipper:4
    scheduling_strategy: DAEMON
    placement_constraints:
      - type: memberOf
        expression: attribute:site == lyon

- name: Delete the web service and its tasks
  fleetops.ecs_anywhere.ecs_service:
    cluster: edge
    name: web
    state: absent
    force: true
    wait: true
"""

RETURN = r"""
service:
  description:
    - The service in snake_case (AWS's DescribeServices shape without its events), with its tags as a dictionary.
      In check mode, the would-be service. Empty when there is none.
  returned: always
  type: dict
  contains:
    service_arn:
      description: The service's ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:service/edge/web
    service_name:
      description: The service name.
      type: str
      sample: web
    status:
      description: C(ACTIVE), C(DRAINING) or C(INACTIVE).
      type: str
      sample: ACTIVE
    task_definition:
      description: The task definition ARN the service runs.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/web:4
    desired_count:
      description: The desired number of tasks.
      type: int
      sample: 3
    running_count:
      description: The number of running tasks.
      type: int
      sample: 3
    launch_type:
      description: Always C(EXTERNAL) for services this module creates.
      type: str
      sample: EXTERNAL
    scheduling_strategy:
      description: C(REPLICA) or C(DAEMON).
      type: str
      sample: REPLICA
    deployment_configuration:
      description: The deployment configuration.
      type: dict
      sample: {minimum_healthy_percent: 50, maximum_percent: 100, deployment_circuit_breaker: {enable: true, rollback: true}}
    tags:
      description: The service's tags.
      type: dict
      sample: {team: ops}
deployments:
  description: The service's deployments with their progress, the PRIMARY one first.
  returned: always
  type: list
  elements: dict
  sample:
    - id: ecs-svc/1234567890123456789
      status: PRIMARY
      task_definition: arn:aws:ecs:eu-west-1:123456789012:task-definition/web:4
      desired_count: 3
      running_count: 3
      pending_count: 0
      failed_tasks: 0
      rollout_state: COMPLETED
      rollout_state_reason: ECS deployment ecs-svc/1234567890123456789 completed.
changes:
  description: The fields that differed (e.g. C(deploymentConfiguration.maximumPercent), C(tags)), or C(service) for a new one.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["desiredCount", "taskDefinition"]
wait:
  description: How the wait went; C(progress) has the followed deployment's counts at each poll.
  returned: when O(wait=true) and not in check mode
  type: dict
  sample:
    deployment_id: ecs-svc/1234567890123456789
    outcome: completed
    elapsed: 42.1
    polls: 5
    progress: [{id: ecs-svc/1234567890123456789, running_count: 1, pending_count: 2, failed_tasks: 0, rollout_state: IN_PROGRESS, elapsed: 0.1}]
events:
  description: The service's latest events (newest first) when a wait fails or times out.
  returned: on a failed wait
  type: list
  elements: dict
  sample: [{id: 3f0c5b6e, created_at: "2026-11-24T10:00:00+00:00", message: "(service web) rolling back to deployment ecs-svc/1."}]
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import ServiceManager
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import request_shape
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import validate_service_options
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import wanted_service
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule


def main():
    argument_spec = dict(
        cluster=dict(type="str", default="default"),
        name=dict(type="str", required=True, aliases=["service"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        task_definition=dict(type="str"),
        desired_count=dict(type="int"),
        scheduling_strategy=dict(type="str", choices=["REPLICA", "DAEMON"]),
        deployment_configuration=dict(type="dict", options=dict(
            minimum_healthy_percent=dict(type="int"),
            maximum_percent=dict(type="int"),
            deployment_circuit_breaker=dict(type="dict", options=dict(
                enable=dict(type="bool", required=True),
                rollback=dict(type="bool", required=True),
            )),
        )),
        placement_constraints=dict(type="list", elements="dict"),
        placement_strategy=dict(type="list", elements="dict"),
        propagate_tags=dict(type="str", choices=["TASK_DEFINITION", "SERVICE", "NONE"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        force_new_deployment=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        wait_delay=dict(type="int", default=10),
    )
    module = AnsibleECSAnywhereModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        validate_service_options(params)
        client = module.client("ecs")
        manager = ServiceManager(client, params["cluster"], params["name"], module.check_mode)
        if params["state"] == "absent":
            result = manager.ensure_absent(params["force"])
            if params["wait"]:
                result = manager.wait_for_inactive(result, params["wait_timeout"], params["wait_delay"])
        else:
            wanted = wanted_service(params, request_shape(client.meta.service_model, "CreateService"))
            result = manager.ensure_present(wanted, params["tags"], params["purge_tags"], params["force_new_deployment"])
            if params["wait"]:
                result = manager.wait_for_deployment(result, params["wait_timeout"], params["wait_delay"])
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if not module._diff:
        result.pop("diff", None)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
