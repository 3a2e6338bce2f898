# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for fleetops.ecs_anywhere.ecs_run_task: resolves inventory hostnames in container_instances.

A module cannot see the inventory, so the hostnames a play names (``groups['cluster_edge']``) are replaced here,
on the controller, by the host's ``container_instance_arn`` (or ``managed_instance_id``) variable, which the
fleetops.ecs_anywhere.ecs_anywhere inventory plugin sets. Anything else is passed on for the module to check.
"""

from ansible.plugins.action import ActionBase

MODULE = "fleetops.ecs_anywhere.ecs_run_task"
HOST_VARIABLES = ("container_instance_arn", "managed_instance_id")


def resolve_hostnames(references, hostvars):
    """references with each inventory hostname replaced by its first HOST_VARIABLES value that is set."""
    resolved = []
    for reference in references:
        host_vars = hostvars[reference] if isinstance(reference, str) and reference in hostvars else {}
        resolved.append(next((host_vars.get(name) for name in HOST_VARIABLES if host_vars.get(name)), reference))
    return resolved


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        module_args = dict(self._task.args)
        references = module_args.get("container_instances")
        if isinstance(references, list):
            module_args["container_instances"] = resolve_hostnames(references, task_vars.get("hostvars", {}))
        result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        return result
