#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_anywhere_register
short_description: Register a host with SSM and ECS Anywhere, or take it out again
version_added: 0.1.0
description:
  - Runs B(on the host), with C(become). It needs only Python 3, systemd, C(amazon-ssm-agent) and
    C(amazon-ecs-init); it makes no AWS API call itself and needs no boto3.
  - With O(state=present) it reads the SSM agent's Vault (C(/var/lib/amazon/ssm/Vault/Store/RegistrationKey)).
    A host already registered in O(region) keeps its registration, so re-running never uses up an
    activation or leaves a stale C(mi-) id behind. Otherwise it runs C(amazon-ssm-agent -register)
    and restarts the agent.
  - It manages only its own keys in C(/etc/ecs/ecs.config) (C(ECS_CLUSTER), C(HTTP_PROXY), C(NO_PROXY))
    and C(/var/lib/ecs/ecs.config) (C(AWS_DEFAULT_REGION), C(ECS_EXTERNAL), C(ECS_BACKEND_HOST),
    C(ECS_ENABLE_GPU_SUPPORT)). Each key is written once, in place, and removed from the other file;
    every other line is kept.
  - When the cluster, the region or the registration changes, it stops C(ecs), clears the agent's
    stale data in C(/var/lib/ecs/data) and starts it again, so that the agent registers a new
    container instance instead of failing on the old one.
  - It makes sure both C(amazon-ssm-agent) and C(ecs) are enabled and running, then waits for the
    agent's introspection endpoint (C(http://127.0.0.1:51678/v1/metadata)) to report a
    C(ContainerInstanceArn) in O(cluster).
  - With O(state=absent) it stops and disables both agents, clears the SSM registration and the ECS
    agent's data, and returns the ids the host had, so that the controller can deregister them with
    M(fleetops.ecs_anywhere.ecs_container_instance).
  - In check mode it reports the planned changes (and RV(needs_activation)) without an activation.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  state:
    description:
      - V(present) registers the host and configures and starts the agents.
      - V(absent) stops the agents and clears the registration and the agent data.
    type: str
    choices: [present, absent]
    default: present
  cluster:
    description:
      - The ECS cluster (name or ARN) the host's container instance joins. Required with O(state=present).
    type: str
  region:
    description:
      - The AWS region of the SSM activation and the ECS cluster. Required with O(state=present).
    type: str
  activation_id:
    description:
      - The SSM activation id, from M(fleetops.ecs_anywhere.ecs_anywhere_activation).
      - Needed only when the host is not registered in O(region) yet (see RV(needs_activation)).
    type: str
  activation_code:
    description:
      - The SSM activation code that goes with O(activation_id).
      - It is never shown in results, messages, diffs or files this module writes. It is passed to
        C(amazon-ssm-agent -register -code), which has no other way to take it, so it is in that
        process's argument list for the second or so the registration takes.
    type: str
  force_register:
    description:
      - Register again even when the host is already registered in O(region), for example after its
        managed instance was deregistered on the AWS side.
    type: bool
    default: false
  ecs_endpoint:
    description:
      - C(ECS_BACKEND_HOST), the ECS endpoint the agent talks to. Unset leaves the key alone; an
        empty string removes it.
    type: str
  enable_gpu:
    description:
      - V(true) sets C(ECS_ENABLE_GPU_SUPPORT=true); V(false) removes the key; unset leaves it alone.
    type: bool
  http_proxy:
    description:
      - C(HTTP_PROXY) for the ECS agent. Unset leaves the key alone; an empty string removes it.
    type: str
  no_proxy:
    description:
      - C(NO_PROXY) for the ECS agent, for example V(169.254.169.254,169.254.170.2,/var/run/docker.sock).
        Unset leaves the key alone; an empty string removes it.
    type: str
  wait:
    description:
      - Wait until the ECS agent reports a container instance in O(cluster).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the container instance.
    type: int
    default: 120
notes:
  - The SSM agent itself keeps the registration in its Vault, C(/var/lib/amazon/ssm/Vault/Store/RegistrationKey)
    (the managed-instance id, the region and the instance's private key, not the activation code).
    The activation code is not stored on the host by this module or by the agent; after registering,
    delete the activation (M(fleetops.ecs_anywhere.ecs_anywhere_activation) O(state=absent)) so that the
    code is worthless even if it leaked.
  - Use pipelining (C(ANSIBLE_PIPELINING=true)) or keep C(ANSIBLE_KEEP_REMOTE_FILES) off; otherwise
    the module's arguments, code included, stay in the host's remote temporary directory.
seealso:
  - module: fleetops.ecs_anywhere.ecs_anywhere_activation
  - module: fleetops.ecs_anywhere.ecs_container_instance
attributes:
  check_mode:
    description: Can run in check mode and return the planned changes without changing the host.
    support: full
  diff_mode:
    description: Returns the before and after text of each ecs.config file it changes.
    support: full
  platform:
    description: Hosts with systemd, C(amazon-ssm-agent) and C(amazon-ecs-init).
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Find out which hosts need an activation
  fleetops.ecs_anywhere.ecs_anywhere_register:
    cluster: edge
    region: eu-west-1
  check_mode: true
  register: __plan

- name: Create one activation for the hosts that need one
  fleetops.ecs_anywhere.ecs_anywhere_activation:
    region: eu-west-1
    iam_role: ecsAnywhereRole
    registration_limit: "{{ __needing | length }}"
    expiration: 1h
    tags:
      managed-by: fleetops.ecs_anywhere
  vars:
    __needing: "{{ ansible_play_hosts | map('extract', hostvars, '__plan') | selectattr('needs_activation') | list }}"
  when: __needing | length > 0
  delegate_to: localhost
  run_once: true
  become: false
  no_log: true
  register: __activation

- name: Register the host and start its agents
  fleetops.ecs_anywhere.ecs_anywhere_register:
    cluster: edge
    region: eu-west-1
    activation_id: "{{ __activation.activation_id | default(omit) }}"
    activation_code: "{{ __activation.activation_code | default(omit) }}"
  become: true
  register: __registration

- name: Take a host out of ECS Anywhere
  fleetops.ecs_anywhere.ecs_anywhere_register:
    state: absent
  become: true
  register: __removed

- name: Deregister its container instance and managed instance
  fleetops.ecs_anywhere.ecs_container_instance:
    cluster: edge
    region: eu-west-1
    managed_instance_ids: ["{{ __removed.previous_managed_instance_id }}"]
    state: absent
    force: true
  delegate_to: localhost
  become: false
  when: __removed.previous_managed_instance_id is not none
"""

RETURN = r"""
managed_instance_id:
  description: The host's SSM managed-instance id (null after O(state=absent), or in check mode when it would register).
  returned: always
  type: str
  sample: mi-0123456789abcdef0
container_instance_arn:
  description: The ECS container instance of the host, from the agent's introspection endpoint.
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:container-instance/edge/0123456789abcdef0123456789abcdef
previous_managed_instance_id:
  description:
    - The managed-instance id the host had before it registered again (null if it had none), or before O(state=absent).
    - Deregister it on the AWS side; the host no longer uses it.
  returned: when the host (would) register, and with O(state=absent)
  type: str
previous_container_instance_arn:
  description: The container instance the agent reported before its data was cleared; deregister it on the AWS side.
  returned: when the agent's data was cleared and it had reported a container instance
  type: str
cluster:
  description: The cluster name (for O(state=absent), the one the host was in).
  returned: always
  type: str
  sample: edge
region:
  description: The region (for O(state=absent), the one the host was registered in).
  returned: always
  type: str
  sample: eu-west-1
needs_activation:
  description: Whether the host is (or, in check mode, would be) registered with an activation on this run.
  returned: always
  type: bool
changes:
  description: What changed (or would change in check mode), in order, and why.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: The step.
      type: str
      sample: update /etc/ecs/ecs.config
    reason:
      description: Why it was needed.
      type: str
      sample: change ECS_CLUSTER from blue to green
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.register import Host
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.register import HostError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.register import OptionError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.register import ensure_absent
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.register import ensure_present


def main():
    argument_spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        cluster=dict(type="str"),
        region=dict(type="str"),
        activation_id=dict(type="str"),
        activation_code=dict(type="str", no_log=True),
        force_register=dict(type="bool", default=False),
        ecs_endpoint=dict(type="str"),
        enable_gpu=dict(type="bool"),
        http_proxy=dict(type="str"),
        no_proxy=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["cluster", "region"])],
        required_together=[("activation_id", "activation_code")],
        supports_check_mode=True,
    )
    if module.params["wait_timeout"] < 1:
        module.fail_json(msg="wait_timeout must be at least 1 second")
    ensure = ensure_present if module.params["state"] == "present" else ensure_absent
    try:
        result = ensure(Host(module), module.params, check_mode=module.check_mode, diff=module._diff)
    except (HostError, OptionError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
