#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_anywhere_activation_info
short_description: List SSM hybrid activations with their registrations count and expiry
version_added: 0.1.0
description:
  - Lists the SSM activations of a region that match all the given selectors, with how many hosts
    registered with each (RV(activations[].registrations_count)) and whether it expired.
  - Activation codes are never returned; AWS gives them out only at creation.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  activation_ids:
    description:
      - Only these activations.
    type: list
    elements: str
  default_instance_name:
    description:
      - Only activations giving hosts this name.
    type: str
  iam_role:
    description:
      - Only activations giving hosts this IAM role (name or ARN).
    type: str
  tags:
    description:
      - Only activations carrying all of these tags.
    type: dict
  expired:
    description:
      - Only expired (V(true)) or unexpired (V(false)) activations. Unset lists both.
    type: bool
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: fleetops.ecs_anywhere.ecs_anywhere_activation
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Reads only; returns no diff.
    support: N/A
  platform:
    description: Runs on the controller (or any host with boto3) against the SSM API.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: How many hosts used the collection's activations
  fleetops.ecs_anywhere.ecs_anywhere_activation_info:
    region: eu-west-1
    tags:
      managed-by: fleetops.ecs_anywhere
  register: __activations

- name: Show the live ones
  ansible.builtin.debug:
    msg: "{{ __activations.activations | rejectattr('expired') | map(attribute='registrations_count') | list }}"
"""

RETURN = r"""
activations:
  description: The matching activations, oldest first (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    activation_id:
      description: The activation id.
      type: str
      sample: 3b1b4a3e-8a8f-4a5e-9d36-2f9f4a1c2b7d
    iam_role:
      description: The IAM role the registered hosts get.
      type: str
    registration_limit:
      description: How many hosts can register with it.
      type: int
      sample: 3
    registrations_count:
      description: How many hosts have registered with it.
      type: int
      sample: 3
    expiration_date:
      description: When it expires (ISO 8601).
      type: str
    expired:
      description: Whether it has expired.
      type: bool
    created_date:
      description: When it was created (ISO 8601).
      type: str
    default_instance_name:
      description: The name registered hosts get.
      type: str
    description:
      description: Its description.
      type: str
    tags:
      description: Its tags.
      type: dict
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ssm import find_activations


def main():
    argument_spec = dict(
        activation_ids=dict(type="list", elements="str"),
        default_instance_name=dict(type="str"),
        iam_role=dict(type="str"),
        tags=dict(type="dict"),
        expired=dict(type="bool"),
    )
    module = AnsibleECSAnywhereModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        activations = find_activations(module.client("ssm"), module.params)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, activations=activations)


if __name__ == "__main__":
    main()
