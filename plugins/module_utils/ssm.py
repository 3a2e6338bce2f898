# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM helpers for the collection's plugins (a facade over the private _ssm package)."""

from ._ssm import instances as _instances

describe_instance_information = _instances.describe_instance_information
list_managed_instance_tags = _instances.list_managed_instance_tags
