#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_task_logs
short_description: Fetch the CloudWatch Logs output of ECS tasks
version_added: 0.1.0
description:
  - For the tasks in O(task_ids), or the running and recently stopped tasks of O(task_definition)'s family and/or
    O(started_by), finds each container's C(awslogs) group and stream from the task definition (the stream is
    C(<awslogs-stream-prefix>/<container name>/<task id>)) and reads its events with GetLogEvents, page by page.
  - This replaces C(aws logs describe-log-streams) followed by C(aws logs get-log-events).
  - ECS describes a stopped task for about an hour after it stops, then forgets it; its logs stay. A task named in
    O(task_ids) that ECS no longer describes is listed in RV(missing_tasks) with a warning. With O(task_definition)
    set as well, its streams are named from that task definition's C(awslogs) settings and read all the same.
  - An information module; it changes nothing.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  cluster:
    description: The ECS cluster.
    type: str
    default: default
  task_ids:
    description: The tasks (ids or ARNs).
    type: list
    elements: str
    aliases: [tasks]
  task_definition:
    description:
      - Without O(task_ids), select the tasks of this family (C(family), C(family:revision) or ARN; the revision is
        ignored).
      - With O(task_ids), the task definition the named tasks ran (C(family:revision) or ARN; a bare C(family) is its
        latest ACTIVE revision). It is used only for tasks ECS no longer describes (stopped more than about an hour
        ago), whose streams are named from its C(awslogs) settings and the task id.
    type: str
  started_by:
    description: Select the tasks started with this C(startedBy).
    type: str
  containers:
    description: Only these containers (by name). All containers when unset.
    type: list
    elements: str
  start_time:
    description:
      - Only events at or after this time, as epoch milliseconds, ISO 8601 (V(2026-11-24T10:00:00Z)) or relative to now
        (V(-15m), V(-2h), V(-1d)).
    type: raw
  end_time:
    description: Only events at or before this time, in the same forms as O(start_time).
    type: raw
  limit:
    description: At most this many events per stream (the first ones, or the last ones with O(tail=true)).
    type: int
  tail:
    description: Read from the end of each stream rather than from its start.
    type: bool
    default: false
notes:
  - Containers that do not log with C(awslogs), or do so without C(awslogs-stream-prefix) (their stream is named after the Docker
    container id, which ECS does not report), are listed with a C(reason) and no events.
  - The logs are read in the task definition's C(awslogs-region), which may differ from O(region).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check mode; the module only reads.
    support: full
  diff_mode:
    description: Not supported; nothing changes.
    support: none
  platform:
    description: Runs on the controller (or any host with boto3) against the AWS APIs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Fetch the last 50 lines of a one-shot job's output
  fleetops.ecs_anywhere.ecs_task_logs:
    cluster: edge
    task_ids: "{{ job.tasks | map(attribute='task_id') }}"
    tail: true
    limit: 50
  register: job_logs

- name: Show them
  ansible.builtin.debug:
    msg: "{{ job_logs.logs | map(attribute='events') | flatten | map(attribute='message') }}"

- name: The output of a job that stopped hours ago (ECS no longer describes it; its task definition names the stream)
  fleetops.ecs_anywhere.ecs_task_logs:
    cluster: edge
    task_ids: [0123456789abcdef0123456789abcdef]
    task_definition: nightly-report:7

- name: Everything the web tasks logged in the last 15 minutes
  fleetops.ecs_anywhere.ecs_task_logs:
    cluster: edge
    task_definition: web
    start_time: -15m
"""

RETURN = r"""
logs:
  description: One entry per container of each selected task. Empty when no task matches.
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
    managed_instance_id:
      description: The host's managed instance (C(mi-)) id.
      type: str
    last_status:
      description: The task's lastStatus; null for a task ECS no longer describes.
      type: str
    task_found:
      description:
        - Whether ECS still describes the task. False for a task of RV(missing_tasks) whose stream was named from
          O(task_definition); its C(managed_instance_id) and C(last_status) are then null.
      type: bool
    container_name:
      description: The container.
      type: str
    log_group:
      description: The awslogs group.
      type: str
      sample: /ecs/web
    log_stream:
      description: The awslogs stream.
      type: str
      sample: ecs/web/0123456789abcdef0123456789abcdef
    region:
      description: The awslogs region.
      type: str
    found:
      description: Whether the stream exists (a task that has not logged yet has none).
      type: bool
    events:
      description: The events, oldest first, each with C(timestamp) (epoch ms) and C(message).
      type: list
      elements: dict
    reason:
      description: Why a container has no stream to read.
      type: str
missing_tasks:
  description:
    - The O(task_ids) that ECS does not describe, as given. ECS forgets a stopped task about an hour after it stops
      (or the id is wrong). A warning names them; their logs are in RV(logs) only when O(task_definition) is set.
  returned: always
  type: list
  elements: str
  sample: [0123456789abcdef0123456789abcdef]
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import task_family
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import collect_task_logs
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import gone_tasks_warning
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import select_tasks
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import tasks_from_definition
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import to_epoch_ms
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule


def main():
    argument_spec = dict(
        cluster=dict(type="str", default="default"),
        task_ids=dict(type="list", elements="str", aliases=["tasks"]),
        task_definition=dict(type="str"),
        started_by=dict(type="str"),
        containers=dict(type="list", elements="str"),
        start_time=dict(type="raw"),
        end_time=dict(type="raw"),
        limit=dict(type="int"),
        tail=dict(type="bool", default=False),
    )
    module = AnsibleECSAnywhereModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("task_ids", "task_definition", "started_by")],
        mutually_exclusive=[("task_ids", "started_by")],
    )
    params = module.params
    try:
        start_time = to_epoch_ms(params["start_time"], "start_time")
        end_time = to_epoch_ms(params["end_time"], "end_time")
        if params["limit"] is not None and params["limit"] < 1:
            raise AnsibleECSAnywhereError(message="limit: must be at least 1")
        ecs = module.client("ecs")
        logs_clients = {}

        def logs_client_for(region):
            if region not in logs_clients:
                logs_clients[region] = module.client("logs", region=region) if region else module.client("logs")
            return logs_clients[region]

        family = params["task_definition"] and not params["task_ids"] and task_family(params["task_definition"])
        tasks, gone = select_tasks(ecs, params["cluster"], params["task_ids"], family, params["started_by"])
        definitions = {}
        if gone and params["task_definition"]:
            stand_ins, definitions = tasks_from_definition(ecs, gone, params["task_definition"])
            tasks.extend(stand_ins)
        logs = collect_task_logs(ecs, logs_client_for, params["cluster"], tasks, params["containers"], start_time, end_time,
                                 params["limit"], params["tail"], definitions)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if gone:
        module.warn(gone_tasks_warning(params["cluster"], gone, next(iter(definitions), None)))
    module.exit_json(changed=False, logs=logs, missing_tasks=[item["reference"] for item in gone])


if __name__ == "__main__":
    main()
