#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_info
short_description: Describe the ECS services of a cluster
version_added: 0.2.0
description:
  - Returns the named services of a cluster, or every service ListServices lists (C(ACTIVE) and C(DRAINING)
    ones, page by page), described with DescribeServices ten at a time (the API's maximum) with their tags.
  - Names that ECS does not know are left out; with none found, RV(services) is an empty list.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  cluster:
    description: The ECS cluster (name or ARN).
    type: str
    default: default
  names:
    description:
      - Service names or ARNs. Unset describes every service of the cluster.
    type: list
    elements: str
    aliases: [services]
  events:
    description:
      - Include each service's event stream (ECS keeps the latest 100).
    type: bool
    default: false
  tasks:
    description:
      - Include each service's tasks that are meant to run (C(PENDING) or C(RUNNING), desired status C(RUNNING)),
        with their hosts' managed instance ids and host:port bindings, e.g. to point an on-prem load balancer at
        them. Costs a ListTasks and a DescribeTasks per service and one DescribeContainerInstances.
    type: bool
    default: false
    version_added: 0.2.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: fleetops.ecs_anywhere.ecs_service
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Reads only; returns no diff.
    support: N/A
  platform:
    description: Runs on the controller (or any host with boto3) against the ECS API.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Describe every service of the edge cluster
  fleetops.ecs_anywhere.ecs_service_info:
    cluster: edge
  register: edge_services

- name: Find the hosts and ports of the web service's tasks
  fleetops.ecs_anywhere.ecs_service_info:
    cluster: edge
    names: [web]
    tasks: true
  register: web_tasks

- name: Show the web service's latest events
  fleetops.ecs_anywhere.ecs_service_info:
    cluster: edge
    names: [web]
    events: true
  register: web_service
"""

RETURN = r"""
services:
  description:
    - The services in snake_case (AWS's DescribeServices shape), with their tags as a dictionary, in the order
      ECS returned them. Empty when there are none.
  returned: always
  type: list
  elements: dict
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
    desired_count:
      description: The desired number of tasks.
      type: int
      sample: 3
    running_count:
      description: The number of running tasks.
      type: int
      sample: 3
    deployments:
      description: The service's deployments (C(rollout_state), counts, task definition).
      type: list
      elements: dict
    tags:
      description: The service's tags.
      type: dict
      sample: {team: ops}
    events:
      description: The service's latest events, newest first (C(id), C(created_at), C(message)).
      type: list
      elements: dict
      returned: when O(events=true)
    tasks:
      description:
        - The service's tasks, as M(fleetops.ecs_anywhere.ecs_run_task) returns them (C(task_arn), C(task_id),
          C(task_definition_arn), C(container_instance_arn), C(managed_instance_id), C(last_status),
          C(started_by), C(network_bindings) with C(host_port) and C(container_port)).
      type: list
      elements: dict
      returned: when O(tasks=true)
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import describe_cluster_services
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule


def main():
    argument_spec = dict(
        cluster=dict(type="str", default="default"),
        names=dict(type="list", elements="str", aliases=["services"]),
        events=dict(type="bool", default=False),
        tasks=dict(type="bool", default=False),
    )
    module = AnsibleECSAnywhereModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        services = describe_cluster_services(module.client("ecs"), params["cluster"], params["names"], params["events"],
                                             params["tasks"])
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, services=services)


if __name__ == "__main__":
    main()
