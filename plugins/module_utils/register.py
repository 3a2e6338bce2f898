# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Host-side helpers of ecs_anywhere_register (a facade over the private _register package).

Imports only the standard library and ansible's module_utils: the module runs on hosts without boto3.
"""

from ._register import ecs_config as _ecs_config
from ._register import host as _host
from ._register import plan as _plan
from ._register import runner as _runner
from ._register import vault as _vault

ETC_ECS_CONFIG = _ecs_config.ETC_ECS_CONFIG
VAR_ECS_CONFIG = _ecs_config.VAR_ECS_CONFIG
MANAGED_KEYS = _ecs_config.MANAGED_KEYS
parse_ecs_config = _ecs_config.parse
update_ecs_config = _ecs_config.update

REGISTRATION_KEY = _vault.REGISTRATION_KEY
Registration = _vault.Registration
VaultError = _vault.VaultError
parse_registration_key = _vault.parse_registration_key
read_registration = _vault.read_registration

plan_present = _plan.plan_present
plan_absent = _plan.plan_absent

Host = _host.Host
HostError = _host.HostError
Paths = _host.Paths
DEFAULT_PATHS = _host.DEFAULT_PATHS

OptionError = _runner.OptionError
desired_from_params = _runner.desired_from_params
ensure_present = _runner.ensure_present
ensure_absent = _runner.ensure_absent
