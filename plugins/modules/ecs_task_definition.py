#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_task_definition
short_description: Register or deregister ECS task definitions for ECS Anywhere (EXTERNAL) instances
version_added: 0.1.0
description:
  - Registers a new revision of an ECS task definition family only when the latest C(ACTIVE) revision differs
    from what is asked for, and deregisters one revision or every C(ACTIVE) revision of a family.
  - The definition is given either as snake_case options (O(family), O(containers), ...) or as the AWS
    RegisterTaskDefinition document itself in O(task_definition), for example copied from the AWS documentation.
  - "Idempotency: the request and the latest C(ACTIVE) revision are compared after normalizing both: the
    defaults AWS fills in (port protocol C(tcp), C(essential=true), C(hostPort) per network mode, container C(cpu=0),
    health-check timings, bridge networking) are applied, empty values and false booleans are dropped, and the
    order of containers, environment variables, secrets, port mappings, mount points and the like is ignored.
    This takes one DescribeTaskDefinition call whatever the number of revisions."
  - Keys of O(containers), O(volumes) and O(task_definition) may be written in camelCase (as AWS writes them) or in
    snake_case. Numbers given as strings are converted. Unknown keys and values of the wrong type are refused,
    naming the field, before any AWS call.
  - Tags are not part of a revision's identity. When they are all that differs, the latest revision is tagged
    or untagged in place.
author:
  - fleetops.ecs_anywhere developers (!UNKNOWN)
options:
  state:
    description:
      - V(present) makes the latest C(ACTIVE) revision match the definition, registering a new revision if needed.
      - V(absent) deregisters revision O(revision) of the family or, without O(revision), every C(ACTIVE) revision.
    type: str
    choices: [present, absent]
    default: present
  family:
    description:
      - The task definition family. Required unless O(task_definition) gives it.
    type: str
  task_definition:
    description:
      - The whole RegisterTaskDefinition request, as a dictionary or as JSON text, in the form the AWS documentation
        and C(aws ecs register-task-definition --cli-input-json) use (C(family), C(containerDefinitions), ...).
      - Values that are null count as unset, so the output of C(describe-task-definition) can be fed back.
      - Its C(tags) list is used unless O(tags) is given too, which is an error.
      - Mutually exclusive with O(family), O(containers) and the other task-level options.
    type: raw
  containers:
    description:
      - The container definitions (RegisterTaskDefinition C(containerDefinitions)), in camelCase or snake_case.
      - Each needs C(name), C(image), and C(memory) or C(memory_reservation) unless O(memory) is set.
    type: list
    elements: dict
  network_mode:
    description:
      - The Docker networking mode. ECS Anywhere supports V(bridge), V(host) and V(none); V(awsvpc) is refused when
        O(requires_compatibilities) contains V(EXTERNAL).
      - When unset, V(bridge) is used.
    type: str
    choices: [bridge, host, none, awsvpc]
  requires_compatibilities:
    description:
      - The launch types the definition must be valid for.
      - With O(task_definition), its own C(requiresCompatibilities) applies instead, V([EXTERNAL]) when it has none.
    type: list
    elements: str
    choices: [EXTERNAL, EC2, FARGATE]
    default: [EXTERNAL]
  cpu:
    description:
      - Task-level CPU, in CPU units (V(256)) or vCPUs (V(0.25 vCPU)).
    type: raw
  memory:
    description:
      - Task-level memory, in MiB (V(512)) or GB (V(1 GB)).
    type: raw
  task_role_arn:
    description:
      - The IAM role the task's containers assume.
    type: str
  execution_role_arn:
    description:
      - The IAM role the agent uses to pull private images and fetch secrets. A warning is given when an ECR
        image is used without it.
    type: str
  volumes:
    description:
      - Volume definitions (C(name), C(host), C(dockerVolumeConfiguration), ...).
    type: list
    elements: dict
  placement_constraints:
    description:
      - Placement constraints of the definition (C(type=memberOf), C(expression)).
    type: list
    elements: dict
  runtime_platform:
    description:
      - C(cpuArchitecture) and C(operatingSystemFamily) of the hosts the task needs.
    type: dict
  pid_mode:
    description:
      - The process namespace of the task's containers.
    type: str
    choices: [host, task]
  ipc_mode:
    description:
      - The IPC namespace of the task's containers.
    type: str
    choices: [host, task, none]
  revision:
    description:
      - With O(state=absent), the one revision to deregister.
    type: int
  validate_images:
    description:
      - Check that every ECR image's tag (or digest) exists before registering, calling ECR C(DescribeImages) in
        the image's region. Images from other registries are not checked.
    type: bool
    default: false
notes:
  - Check mode registers and deregisters nothing; a would-be new revision is returned without ARN or revision number.
  - With C(--diff), before and after are the normalized task definitions (with their tags), so only real
    differences show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check mode; nothing is registered, deregistered or tagged, and a would-be new revision is returned.
    support: full
  diff_mode:
    description: Returns the normalized task definition (with its tags) before and after.
    support: full
  platform:
    description: Runs on the controller (or any host with boto3) against the AWS APIs.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Register the AWS documentation's example task definition, unchanged
  fleetops.ecs_anywhere.ecs_task_definition:
    task_definition: >-
      {"family":"my-task-definition","containerDefinitions":[{"name":"my-container","image":"public.ecr.aws/nginx/nginx:1.27",
      "cpu":256,"memory":512,"essential":true,"portMappings":[{"containerPort":80,"hostPort":80}],
      "logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/my-container",
      "awslogs-region":"eu-west-1","awslogs-stream-prefix":"ecs"}}}]}

- name: Define a web task with snake_case options
  fleetops.ecs_anywhere.ecs_task_definition:
    family: web
    network_mode: bridge
    containers:
      - name: web
        image: public.ecr.aws/nginx/nginx:1.27
        memory: 256
        port_mappings:
          - container_port: 80
            host_port: 8080
        environment:
          - name: GREETING
            value: hello
    tags:
      team: ops

- name: Deregister every active revision of a family
  fleetops.ecs_anywhere.ecs_task_definition:
    family: web
    state: absent
"""

RETURN = r"""
task_definition:
  description:
    - The matching or newly registered revision, in snake_case (docker labels and log options keep their keys),
      with its tags as a dictionary. In check mode a would-be new revision has no ARN or revision.
  returned: when O(state=present)
  type: dict
  contains:
    task_definition_arn:
      description: The revision's ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/web:4
    family:
      description: The family.
      type: str
      sample: web
    revision:
      description: The revision number.
      type: int
      sample: 4
    status:
      description: C(ACTIVE) or C(INACTIVE).
      type: str
      sample: ACTIVE
    container_definitions:
      description: The container definitions.
      type: list
      elements: dict
    network_mode:
      description: The network mode.
      type: str
      sample: bridge
    requires_compatibilities:
      description: The launch types the definition was validated for.
      type: list
      elements: str
      sample: [EXTERNAL]
    tags:
      description: The revision's tags.
      type: dict
      sample: {team: ops}
changes:
  description:
    - The fields where the latest C(ACTIVE) revision differs from the definition asked for (containers are named by
      name), or C(tags) when only tags differ. Empty when nothing changed.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["containerDefinitions[web].environment", "cpu"]
task_definition_arns:
  description: The revisions deregistered (or that would be, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"]
"""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import check_ecr_images
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import definition_from_document
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import definition_from_options
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import ensure_task_definition_absent
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import ensure_task_definition_present
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import request_shape
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.ecs import task_definition_family
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule

TASK_LEVEL_OPTIONS = ("family", "containers", "network_mode", "cpu", "memory", "task_role_arn", "execution_role_arn",
                      "volumes", "placement_constraints", "runtime_platform", "pid_mode", "ipc_mode")


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        family=dict(type="str"),
        task_definition=dict(type="raw"),
        containers=dict(type="list", elements="dict"),
        network_mode=dict(type="str", choices=["bridge", "host", "none", "awsvpc"]),
        requires_compatibilities=dict(type="list", elements="str", choices=["EXTERNAL", "EC2", "FARGATE"], default=["EXTERNAL"]),
        cpu=dict(type="raw"),
        memory=dict(type="raw"),
        task_role_arn=dict(type="str"),
        execution_role_arn=dict(type="str"),
        volumes=dict(type="list", elements="dict"),
        placement_constraints=dict(type="list", elements="dict"),
        runtime_platform=dict(type="dict"),
        pid_mode=dict(type="str", choices=["host", "task"]),
        ipc_mode=dict(type="str", choices=["host", "task", "none"]),
        revision=dict(type="int"),
        validate_images=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleECSAnywhereModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("family", "task_definition")],
        mutually_exclusive=[("task_definition", option) for option in TASK_LEVEL_OPTIONS],
    )
    params = module.params
    client = module.client("ecs")
    try:
        shape = request_shape(client.meta.service_model, "RegisterTaskDefinition")
        if params["state"] == "absent":
            family = params["family"] or task_definition_family(params["task_definition"], shape)
            result = ensure_task_definition_absent(client, family, params["revision"], module.check_mode)
        else:
            result = present(module, client, shape)
    except AnsibleECSAnywhereError as e:
        module.fail_json_aws_error(e)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


def present(module, client, shape):
    params = module.params
    if params["task_definition"] is not None:
        request, tags, warnings = definition_from_document(params["task_definition"], shape, params["tags"])
        containers_label = "task_definition.containerDefinitions"
    else:
        request, tags, warnings = definition_from_options(params, shape)
        containers_label = "containers"
    for warning in warnings:
        module.warn(warning)
    if params["validate_images"]:
        check_ecr_images(request, lambda region: module.client("ecr", region=region), containers_label)
    return ensure_task_definition_present(client, request, tags, params["purge_tags"], module.check_mode)


if __name__ == "__main__":
    main()
