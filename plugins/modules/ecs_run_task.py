#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_run_task
short_description: Run, start, stop or ensure ECS tasks on ECS Anywhere (EXTERNAL) instances
version_added: 0.1.0
description:
  - Launches tasks on external container instances and optionally waits for them to be C(RUNNING), or C(STOPPED)
    for one-shot jobs.
  - O(operation=run) lets ECS place O(count) tasks (RunTask, launch type C(EXTERNAL)).
  - O(operation=start) starts one task on each of O(container_instances) (StartTask, 10 instances per call).
  - O(operation=ensure) starts the task only on those of O(container_instances) where no task of the family is
    running or pending, so running it again reports no change.
  - O(operation=stop) stops the tasks in O(task_ids), or the running tasks of O(task_definition)'s family,
    O(started_by) and O(group), on O(container_instances) when given.
  - Tasks that cannot be placed (RunTask/StartTask C(failures)) fail the module, naming the instance and the
    reason, unless O(fail_on_placement_failure=false).
  - O(container_instances) entries may be container instance ARNs or ids, managed instance (C(mi-)) ids, or
    inventory hostnames whose host variables carry C(container_instance_arn) or C(managed_instance_id) (as the
    C(fleetops.ecs_anywhere.ecs_anywhere) inventory plugin sets them); the collection's action plugin resolves
    the hostnames.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  cluster:
    description: The ECS cluster.
    type: str
    default: default
  operation:
    description: What to do; see the description.
    type: str
    choices: [run, start, stop, ensure]
    default: run
  task_definition:
    description:
      - The task definition as C(family), C(family:revision) or ARN. A family alone means its latest C(ACTIVE) revision.
      - Required for O(operation=run), O(operation=start) and O(operation=ensure); with O(operation=stop) it
        selects the tasks of its family.
    type: str
  count:
    description:
      - With O(operation=run), how many tasks to place (default 1). Above 10, RunTask is called once per 10.
    type: int
  container_instances:
    description:
      - The instances for O(operation=start) and O(operation=ensure) (required), or to narrow O(operation=stop).
    type: list
    elements: str
  placement_constraints:
    description: With O(operation=run), RunTask placement constraints (C(type) memberOf or distinctInstance, C(expression)).
    type: list
    elements: dict
  placement_strategy:
    description: With O(operation=run), RunTask placement strategies (C(type) binpack, spread or random, C(field)).
    type: list
    elements: dict
  group:
    description: The task group (C(family:NAME) when unset); with O(operation=stop), only tasks of this group are stopped.
    type: str
  started_by:
    description:
      - A tag of up to 128 characters recorded on the task. With O(operation=stop) and O(operation=ensure), only
        tasks started with it count.
    type: str
  overrides:
    description:
      - RunTask/StartTask C(overrides) (C(containerOverrides), C(taskRoleArn), ...), in camelCase or snake_case.
    type: dict
  tags:
    description: Tags for the new tasks.
    type: dict
    aliases: [resource_tags]
  propagate_tags:
    description: Copy the task definition's tags to the tasks.
    type: str
    choices: [TASK_DEFINITION, SERVICE, NONE]
  enable_ecs_managed_tags:
    description: Let ECS add its managed tags (cluster, family) to the tasks.
    type: bool
  client_token:
    description:
      - With O(operation=run), an idempotency token (up to 64 characters). Retrying a RunTask with the same token
        does not place more tasks. Above 10 tasks each call gets the token suffixed with its batch number.
    type: str
  task_ids:
    description: With O(operation=stop), the tasks to stop (ids or ARNs).
    type: list
    elements: str
    aliases: [tasks]
  reason:
    description: With O(operation=stop), the reason recorded on the stopped tasks.
    type: str
  wait:
    description:
      - Wait until every new task is C(RUNNING) (or C(STOPPED), see O(wait_for)); with O(operation=stop), until every
        stopped task is C(STOPPED).
      - DescribeTasks is polled for the unfinished tasks, 100 per call, every O(wait_delay) seconds.
    type: bool
    default: false
  wait_for:
    description:
      - V(running) for services-like tasks, V(stopped) for one-shot jobs. A task that stops while V(running) is
        awaited fails the module at once. A job that stops with a non-zero exit code fails it once every job has
        stopped (or at the timeout), so that RV(tasks) has every job's exit codes.
    type: str
    choices: [running, stopped]
    default: running
  wait_timeout:
    description: How many seconds to wait. At the timeout the module fails, naming the pending tasks and their hosts.
    type: int
    default: 300
  wait_delay:
    description: Seconds between two polls.
    type: int
    default: 6
  fail_on_placement_failure:
    description:
      - When V(true), RunTask/StartTask failures fail the module; when V(false), they are returned in RV(failures).
    type: bool
    default: true
notes:
  - In check mode nothing is started or stopped. O(operation=ensure) and O(operation=stop) still read the tasks, so
    they report whether something would change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check mode; nothing is started or stopped (ensure and stop still read the tasks).
    support: full
  diff_mode:
    description: Not supported; the tasks are returned instead.
    support: none
  platform:
    description: Runs on the controller (or any host with boto3) against the AWS APIs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Run two web tasks anywhere in the cluster and wait until they run
  fleetops.ecs_anywhere.ecs_run_task:
    cluster: edge
    task_definition: web
    count: 2
    placement_strategy:
      - type: spread
        field: instanceId
    wait: true

- name: Make sure every edge host runs the node-exporter task
  fleetops.ecs_anywhere.ecs_run_task:
    cluster: edge
    operation: ensure
    task_definition: node-exporter
    container_instances: "{{ groups['cluster_edge'] }}"
    started_by: ansible-ensure
    wait: true

- name: Run a one-shot migration job on one host and wait for it to finish
  fleetops.ecs_anywhere.ecs_run_task:
    cluster: edge
    operation: start
    task_definition: migrate:12
    container_instances: [mi-0123456789abcdef0]
    overrides:
      container_overrides:
        - name: migrate
          command: [migrate, --to, latest]
    wait: true
    wait_for: stopped

- name: Stop what the ensure task started
  fleetops.ecs_anywhere.ecs_run_task:
    cluster: edge
    operation: stop
    started_by: ansible-ensure
    reason: maintenance
"""

RETURN = r"""
tasks:
  description: The tasks started (or stopped), as last described.
  returned: always
  type: list
  elements: dict
  contains:
    task_arn:
      description: The task's ARN.
      type: str
    task_id:
      description: The task's id.
      type: str
    container_instance_arn:
      description: The container instance the task is on.
      type: str
    managed_instance_id:
      description: The host's managed instance (C(mi-)) id.
      type: str
      sample: mi-0123456789abcdef0
    last_status:
      description: PENDING, RUNNING, STOPPED, ...
      type: str
    desired_status:
      description: RUNNING or STOPPED.
      type: str
    stopped_reason:
      description: Why the task stopped.
      type: str
    stop_code:
      description: TaskFailedToStart, EssentialContainerExited, UserInitiated, ...
      type: str
    containers:
      description: Each container's C(name), C(last_status), C(exit_code), C(reason) and C(network_bindings).
      type: list
      elements: dict
    network_bindings:
      description: >-
        Every container's bindings with C(container_name), C(bind_ip), C(host_port), C(container_port), C(protocol) and
        C(address) (C(bind_ip:host_port)).
      type: list
      elements: dict
      sample: [{container_name: web, bind_ip: 0.0.0.0, host_port: 8080, container_port: 80, protocol: tcp, address: "0.0.0.0:8080"}]
failures:
  description: RunTask/StartTask failures (C(arn), C(reason), C(detail), C(managed_instance_id)); or tasks of O(task_ids) that were not found.
  returned: always
  type: list
  elements: dict
  sample: [{arn: "arn:aws:ecs:eu-west-1:123456789012:container-instance/edge/0f1e", reason: "RESOURCE:MEMORY", managed_instance_id: mi-0123456789abcdef0}]
already_running:
  description: With O(operation=ensure), the family's tasks already running or pending on the chosen instances.
  returned: when O(operation=ensure)
  type: list
  elements: dict
wait:
  description: How the wait went, with C(target), C(elapsed) seconds, C(polls), and C(progress) (task counts per status at each poll).
  returned: when O(wait=true) and tasks were started or stopped
  type: dict
  sample: {target: RUNNING, elapsed: 12.1, polls: 3, progress: [{PENDING: 3, elapsed: 0.0}, {PENDING: 1, RUNNING: 2, elapsed: 6.0}]}
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import TaskRunner
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import check_instance_references
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import request_shape
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import task_family
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import task_request
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule

# Options that only some operations use; anything else given with another operation is an error.
OPERATION_OPTIONS = {
    "count": ("run",), "placement_constraints": ("run",), "placement_strategy": ("run",), "client_token": ("run",),
    "container_instances": ("start", "ensure", "stop"), "task_ids": ("stop",), "reason": ("stop",),
    "overrides": ("run", "start", "ensure"), "tags": ("run", "start", "ensure"), "propagate_tags": ("run", "start", "ensure"),
    "enable_ecs_managed_tags": ("run", "start", "ensure"),
}
REQUEST_OPTIONS = ("task_definition", "overrides", "placement_constraints", "placement_strategy", "group", "started_by",
                   "tags", "propagate_tags", "enable_ecs_managed_tags")


def main():
    argument_spec = dict(
        cluster=dict(type="str", default="default"),
        operation=dict(type="str", choices=["run", "start", "stop", "ensure"], default="run"),
        task_definition=dict(type="str"),
        count=dict(type="int"),
        container_instances=dict(type="list", elements="str"),
        placement_constraints=dict(type="list", elements="dict"),
        placement_strategy=dict(type="list", elements="dict"),
        group=dict(type="str"),
        started_by=dict(type="str"),
        overrides=dict(type="dict"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        propagate_tags=dict(type="str", choices=["TASK_DEFINITION", "SERVICE", "NONE"]),
        enable_ecs_managed_tags=dict(type="bool"),
        client_token=dict(type="str", no_log=False),
        task_ids=dict(type="list", elements="str", aliases=["tasks"]),
        reason=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_for=dict(type="str", choices=["running", "stopped"], default="running"),
        wait_timeout=dict(type="int", default=300),
        wait_delay=dict(type="int", default=6),
        fail_on_placement_failure=dict(type="bool", default=True),
    )
    module = AnsibleECSAnywhereModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[
            ("operation", "run", ["task_definition"]),
            ("operation", "start", ["task_definition", "container_instances"]),
            ("operation", "ensure", ["task_definition", "container_instances"]),
            ("operation", "stop", ["task_ids", "started_by", "group", "task_definition"], True),
        ],
    )
    try:
        result = run_operation(module)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


def run_operation(module):
    params = module.params
    operation = params["operation"]
    for option, operations in OPERATION_OPTIONS.items():
        if params[option] is not None and operation not in operations:
            raise AnsibleECSAnywhereError(message="{0}: not used with operation={1} (only with {2})".format(
                option, operation, ", ".join(operations)))
    if params["count"] is not None and params["count"] < 1:
        raise AnsibleECSAnywhereError(message="count: must be at least 1")
    if params["wait_timeout"] < 1 or params["wait_delay"] < 1:
        raise AnsibleECSAnywhereError(message="wait_timeout and wait_delay: must be at least 1 second")
    check_instance_references(params["container_instances"] or [])
    client = module.client("ecs")
    shape = request_shape(client.meta.service_model, "StartTask" if operation in ("start", "ensure") else "RunTask")
    request = task_request(shape, **dict((option, params[option]) for option in REQUEST_OPTIONS if operation != "stop"))
    runner = TaskRunner(client, params["cluster"], module.check_mode, params["fail_on_placement_failure"])
    instance_arns = runner.hosts.resolve(params["container_instances"]) if params["container_instances"] else []
    if operation == "run":
        result = runner.run(request, params["count"] or 1, params["client_token"])
    elif operation == "start":
        result = runner.start(request, instance_arns)
    elif operation == "ensure":
        result = runner.ensure(request, instance_arns, params["started_by"])
    else:
        result = runner.stop(params["task_ids"], params["task_definition"] and task_family(params["task_definition"]),
                             params["started_by"], params["group"], instance_arns, params["reason"])
    if not params["wait"]:
        return result
    if operation == "stop":
        return runner.wait(result, "STOPPED", params["wait_timeout"], params["wait_delay"], check_exit_codes=False)
    return runner.wait(result, params["wait_for"].upper(), params["wait_timeout"], params["wait_delay"])


if __name__ == "__main__":
    main()
