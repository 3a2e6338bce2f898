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
list_cluster_arns = _container_instances.list_cluster_arns
list_container_instance_arn_page = _container_instances.list_container_instance_arn_page

# Task definitions (ecs_task_definition): request building and validation, normalize/compare, ensure state.
from ._ecs import shapes as _shapes  # noqa: E402 pylint: disable=wrong-import-position
from ._ecs import task_definitions as _task_definitions  # noqa: E402 pylint: disable=wrong-import-position

request_shape = _shapes.request_shape
conform_to_shape = _shapes.conform
definition_from_options = _task_definitions.definition_from_options
definition_from_document = _task_definitions.definition_from_document
task_definition_family = _task_definitions.task_definition_family
normalize_task_definition = _task_definitions.normalize_task_definition
task_definition_differences = _task_definitions.task_definition_differences
task_definition_to_result = _task_definitions.task_definition_to_result
describe_task_definition = _task_definitions.describe_task_definition
check_ecr_images = _task_definitions.check_ecr_images
ensure_task_definition_present = _task_definitions.ensure_present
ensure_task_definition_absent = _task_definitions.ensure_absent

# Tasks (ecs_run_task): run / start / stop / ensure, the wait, and task summaries.
from ._ecs import tasks as _tasks  # noqa: E402 pylint: disable=wrong-import-position

TaskRunner = _tasks.TaskRunner
task_request = _tasks.task_request
task_family = _tasks.task_family
check_instance_references = _tasks.check_instance_references
list_task_arns = _tasks.list_task_arns
describe_tasks = _tasks.describe_tasks
summarize_task = _tasks.summarize_task

# Container-instance writes (ecs_container_instance): state by 10, deregistration, attributes, tags.
from ._ecs import container_instance_state as _container_instance_state  # noqa: E402 pylint: disable=wrong-import-position

select_container_instances = _container_instance_state.select_container_instances
normalize_container_instance = _container_instance_state.normalize_container_instance
ensure_container_instance_state = _container_instance_state.ensure_state
ensure_container_instance_absent = _container_instance_state.ensure_absent

# Services (ecs_service, ecs_service_info): validation, normalize/compare, ensure state, the rollout wait.
from ._ecs import services as _services  # noqa: E402 pylint: disable=wrong-import-position

ServiceManager = _services.ServiceManager
validate_service_options = _services.validate_service_options
wanted_service = _services.wanted_service
normalize_service = _services.normalize_service
service_changes = _services.service_changes
deployment_outcome = _services.deployment_outcome
describe_services = _services.describe_services
list_service_arns = _services.list_service_arns
describe_cluster_services = _services.describe_cluster_services
