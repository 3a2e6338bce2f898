# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM helpers for the collection's plugins (a facade over the private _ssm package)."""

from ._ssm import instances as _instances

describe_instance_information = _instances.describe_instance_information
list_managed_instance_tags = _instances.list_managed_instance_tags

# Hybrid activations (ecs_anywhere_activation, ecs_anywhere_activation_info) and their IAM role check.
from ._ssm import activation_role as _activation_role  # noqa: E402 pylint: disable=wrong-import-position
from ._ssm import activations as _activations  # noqa: E402 pylint: disable=wrong-import-position

parse_expiration = _activations.parse_expiration
activation_request = _activations.activation_request
normalize_activation = _activations.normalize_activation
select_activations = _activations.select_activations
find_activations = _activations.find_activations
ensure_activation_present = _activations.ensure_present
ensure_activation_absent = _activations.ensure_absent
role_problems = _activation_role.role_problems
validate_activation_role = _activation_role.validate_role
