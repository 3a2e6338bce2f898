#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_anywhere_activation
short_description: Create or delete SSM hybrid activations for ECS Anywhere hosts
version_added: 0.1.0
description:
  - Runs on the controller. With O(state=present) it creates one SSM activation that up to
    O(registration_limit) hosts can register with (see M(fleetops.ecs_anywhere.ecs_anywhere_register)),
    and returns RV(activation_id) and RV(activation_code).
  - B(The result holds a secret.) Register it on a task with C(no_log=true), as the examples do, and
    pass the code only to M(fleetops.ecs_anywhere.ecs_anywhere_register), which never shows it.
  - AWS returns the code only when the activation is created, so every run with O(state=present)
    creates a new activation. Create one activation for all the hosts that need one (guard the task
    with C(when:)), and delete it once they are registered.
  - With O(state=absent) it deletes the activation O(activation_id), or sweeps every activation that
    the selectors O(tags), O(default_instance_name), O(iam_role) and O(expired) all match, for example
    every expired activation this collection created.
  - Deleting an activation does not deregister the hosts that used it.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  state:
    description:
      - V(present) creates an activation; V(absent) deletes activations.
    type: str
    choices: [present, absent]
    default: present
  iam_role:
    description:
      - The IAM role (name or ARN) the registered hosts get. SSM must be able to assume it, and it needs
        the C(AmazonSSMManagedInstanceCore) and C(AmazonEC2ContainerServiceforEC2Role) policies.
      - Required with O(state=present). With O(state=absent), a selector.
    type: str
  registration_limit:
    description:
      - How many hosts can register with the activation (1 to 1000).
    type: int
    default: 1
  expiration:
    description:
      - When the activation expires, as a duration from now (V(1h), V(90m), V(1d12h); units s, m, h, d, w)
        or an ISO 8601 timestamp (UTC unless it has an offset), at most 30 days ahead.
      - AWS's default, when unset, is 24 hours. Short is safer; the code is useless once expired.
    type: str
  default_instance_name:
    description:
      - The name the registered hosts get in SSM. With O(state=absent), a selector.
    type: str
  description:
    description:
      - A description of the activation.
    type: str
  tags:
    description:
      - With O(state=present), tags of the activation. AWS copies them to every managed instance that
        registers with it.
      - With O(state=absent), a selector; activations carrying all of these tags are deleted.
    type: dict
  activation_id:
    description:
      - With O(state=absent), the activation to delete.
    type: str
  expired:
    description:
      - With O(state=absent), delete only activations that have (V(true)) or have not (V(false)) expired.
      - V(true) alone selects every expired activation of the account and region; V(false) must be combined
        with another selector.
    type: bool
  validate_role:
    description:
      - Before creating the activation, check that O(iam_role) exists, trusts C(ssm.amazonaws.com) and carries
        the C(AmazonSSMManagedInstanceCore) and C(AmazonEC2ContainerServiceforEC2Role) policies. Fails naming
        what is missing. Needs C(iam:GetRole) and C(iam:ListAttachedRolePolicies).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: fleetops.ecs_anywhere.ecs_anywhere_activation_info
  - module: fleetops.ecs_anywhere.ecs_anywhere_register
attributes:
  check_mode:
    description: Can run in check mode; nothing is created or deleted and no code is returned.
    support: full
  diff_mode:
    description: Returns the activation created, or the ids of the activations deleted.
    support: full
  platform:
    description: Runs on the controller (or any host with boto3) against the SSM API.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Create an activation for three hosts, valid for one hour
  fleetops.ecs_anywhere.ecs_anywhere_activation:
    region: eu-west-1
    iam_role: ecsAnywhereRole
    registration_limit: 3
    expiration: 1h
    default_instance_name: edge
    tags:
      managed-by: fleetops.ecs_anywhere
    validate_role: true
  no_log: true
  register: __activation

- name: Delete the activation once the hosts are registered
  fleetops.ecs_anywhere.ecs_anywhere_activation:
    region: eu-west-1
    state: absent
    activation_id: "{{ __activation.activation_id }}"

- name: Sweep the expired activations this collection created
  fleetops.ecs_anywhere.ecs_anywhere_activation:
    region: eu-west-1
    state: absent
    tags:
      managed-by: fleetops.ecs_anywhere
    expired: true
"""

RETURN = r"""
activation_id:
  description: The new activation's id (null in check mode).
  returned: O(state=present)
  type: str
  sample: 3b1b4a3e-8a8f-4a5e-9d36-2f9f4a1c2b7d
activation_code:
  description:
    - The new activation's code (null in check mode). A secret; register the result with C(no_log=true).
  returned: O(state=present)
  type: str
activation:
  description: The new activation as SSM describes it (without the code).
  returned: O(state=present)
  type: dict
  contains:
    activation_id:
      description: The activation id.
      type: str
    iam_role:
      description: The IAM role the registered hosts get.
      type: str
      sample: ecsAnywhereRole
    registration_limit:
      description: How many hosts can register with it.
      type: int
      sample: 3
    registrations_count:
      description: How many hosts have registered with it.
      type: int
      sample: 0
    expiration_date:
      description: When it expires (ISO 8601).
      type: str
      sample: "2026-11-24T11:00:00+00:00"
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
activations:
  description: The activations deleted (or that would be deleted in check mode), shaped like RV(activation).
  returned: O(state=absent)
  type: list
  elements: dict
"""

import functools

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ssm import ensure_activation_absent
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ssm import ensure_activation_present
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ssm import validate_activation_role


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        iam_role=dict(type="str"),
        registration_limit=dict(type="int", default=1),
        expiration=dict(type="str"),
        default_instance_name=dict(type="str"),
        description=dict(type="str"),
        tags=dict(type="dict"),
        activation_id=dict(type="str"),
        expired=dict(type="bool"),
        validate_role=dict(type="bool", default=False),
    )
    module = AnsibleECSAnywhereModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["iam_role"])],
    )
    params = module.params
    try:
        if params["state"] == "present":
            validate = functools.partial(validate_activation_role, module.client("iam")) if params["validate_role"] else None
            result = ensure_activation_present(module.client("ssm"), params, module.check_mode, validate=validate)
        else:
            result = ensure_activation_absent(module.client("ssm"), params, module.check_mode)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
