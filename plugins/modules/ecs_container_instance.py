#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_container_instance
short_description: Drain, activate, deregister, tag and set attributes on ECS (Anywhere) container instances
version_added: 0.1.0
description:
  - Runs on the controller. Selects container instances of O(cluster) by ARN or id (O(container_instances)),
    by SSM managed-instance id (O(managed_instance_ids), the C(mi-) ids of ECS Anywhere hosts) and by an
    ECS cluster-query-language expression (O(filter)); the selection is the union of all three.
  - O(state=active) and O(state=draining) set the status with UpdateContainerInstancesState, 10 instances per
    call. With O(wait), draining waits until the instances run no tasks.
  - O(state=absent) deregisters the container instances and, unless O(deregister_managed_instance=false),
    their SSM managed instances, including selected C(mi-) ids that have no container instance any more
    (for example after M(fleetops.ecs_anywhere.ecs_anywhere_register) O(fleetops.ecs_anywhere.ecs_anywhere_register#module:state=absent)).
    Instances already gone are not an error.
  - With O(state=present), O(state=active) or O(state=draining) it also manages custom attributes
    (O(attributes)) and tags (O(tags)). Every selected id must match a container instance.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  cluster:
    description:
      - The cluster (name or ARN).
    type: str
    required: true
  container_instances:
    description:
      - Container instances by ARN or id.
    type: list
    elements: str
  managed_instance_ids:
    description:
      - Container instances by the SSM managed-instance id (C(mi-)) of their host.
    type: list
    elements: str
  filter:
    description:
      - Container instances matching this ECS cluster-query-language expression,
        for example V(attribute:site == berlin).
    type: str
  exclude:
    description:
      - Container instances (ARN or id) left out of what the other options select, for example the current
        registration of hosts whose stale ones O(managed_instance_ids) with O(state=absent) deregisters.
    type: list
    elements: str
  state:
    description:
      - V(present) leaves the status alone; V(active) and V(draining) set it; V(absent) deregisters.
    type: str
    choices: [present, active, draining, absent]
    default: present
  force:
    description:
      - With O(state=absent), deregister even while tasks run on the instance (they are left orphaned).
    type: bool
    default: false
  deregister_managed_instance:
    description:
      - With O(state=absent), also deregister the hosts' SSM managed instances.
    type: bool
    default: true
  wait:
    description:
      - With O(state=draining), wait until the instances run and start no tasks.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait.
    type: int
    default: 300
  attributes:
    description:
      - Custom attributes the instances must carry. Names starting with C(ecs.) or C(com.amazonaws.ecs.)
        belong to ECS and are refused.
      - Unset leaves attributes alone.
    type: list
    elements: dict
    suboptions:
      name:
        description: The attribute name.
        type: str
        required: true
      value:
        description: The value; unset for an attribute without a value.
        type: str
  purge_attributes:
    description:
      - Remove custom attributes not listed in O(attributes).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
seealso:
  - module: fleetops.ecs_anywhere.ecs_anywhere_register
attributes:
  check_mode:
    description: Can run in check mode and return the instances as they would be.
    support: full
  diff_mode:
    description: Returns the status, custom attributes and tags of each instance before and after.
    support: full
  platform:
    description: Runs on the controller (or any host with boto3) against the ECS and SSM APIs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Drain two hosts and wait for their tasks to stop
  fleetops.ecs_anywhere.ecs_container_instance:
    region: eu-west-1
    cluster: edge
    managed_instance_ids:
      - mi-0123456789abcdef0
      - mi-0fedcba9876543210
    state: draining
    wait: true
    wait_timeout: 600

- name: Mark the Berlin hosts
  fleetops.ecs_anywhere.ecs_container_instance:
    region: eu-west-1
    cluster: edge
    filter: "ec2InstanceId in [mi-0123456789abcdef0, mi-0fedcba9876543210]"
    attributes:
      - name: site
        value: berlin
    tags:
      site: berlin
    purge_tags: false

- name: Remove a decommissioned host from ECS and SSM
  fleetops.ecs_anywhere.ecs_container_instance:
    region: eu-west-1
    cluster: edge
    managed_instance_ids: ["{{ __removed.previous_managed_instance_id }}"]
    state: absent
    force: true
"""

RETURN = r"""
container_instances:
  description:
    - The selected container instances after the change (as they would be in check mode), ordered by ARN,
      in DescribeContainerInstances' shape in snake_case.
    - O(state=absent) returns those it deregistered (status C(INACTIVE)).
  returned: always
  type: list
  elements: dict
  contains:
    container_instance_arn:
      description: The container instance ARN.
      type: str
    ec2_instance_id:
      description: The host's managed-instance id (C(mi-)) for ECS Anywhere instances.
      type: str
      sample: mi-0123456789abcdef0
    status:
      description: C(ACTIVE), C(DRAINING), C(INACTIVE), ...
      type: str
    agent_connected:
      description: Whether the ECS agent is connected.
      type: bool
    running_tasks_count:
      description: Tasks running on the instance.
      type: int
    pending_tasks_count:
      description: Tasks starting on the instance.
      type: int
    attributes:
      description: The custom attributes (name to value; null for an attribute without a value).
      type: dict
    tags:
      description: The tags.
      type: dict
deregistered_managed_instance_ids:
  description: The SSM managed instances deregistered (or that would be in check mode).
  returned: O(state=absent)
  type: list
  elements: str
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import ensure_container_instance_absent
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import ensure_container_instance_state
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        container_instances=dict(type="list", elements="str"),
        managed_instance_ids=dict(type="list", elements="str"),
        filter=dict(type="str"),
        exclude=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "active", "draining", "absent"], default="present"),
        force=dict(type="bool", default=False),
        deregister_managed_instance=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        attributes=dict(type="list", elements="dict", options=dict(name=dict(type="str", required=True), value=dict(type="str"))),
        purge_attributes=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleECSAnywhereModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("container_instances", "managed_instance_ids", "filter")],
    )
    params = module.params
    try:
        if params["state"] == "absent":
            result = ensure_container_instance_absent(module.client("ecs"), module.client("ssm"), params, module.check_mode)
        else:
            result = ensure_container_instance_state(module.client("ecs"), params, module.check_mode)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
