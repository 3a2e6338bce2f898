# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS helpers for the collection's plugins.

A facade over the private _ecs package (ansible-test's empty-init rule keeps __init__.py empty).
"""

from ._ecs import container_instances as _container_instances

list_container_instance_arns = _container_instances.list_container_instance_arns
describe_container_instances = _container_instances.describe_container_instances
managed_instance_query = _container_instances.managed_instance_query
