# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SSM agent's record of its own registration (its "Vault").

amazon-ssm-agent -register keeps the managed-instance id, the region and the instance's private key
in /var/lib/amazon/ssm/Vault/Store/RegistrationKey (JSON: instanceID, region, privateKey, ...), and
-register -clear rewrites it with an empty instanceID. It is the one reliable "already registered"
fact on a host. Only the id and the region are read here: the private key never leaves the file.
"""

import json
from collections import namedtuple

REGISTRATION_KEY = "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"

Registration = namedtuple("Registration", ["managed_instance_id", "region"])


class VaultError(ValueError):
    """The RegistrationKey exists but cannot be understood."""


def parse_registration_key(text):
    """The Registration stored in a RegistrationKey's text, or None when the host is not registered
    (no file, an empty file, or a cleared registration). Raises VaultError for anything else."""
    if text is None or not text.strip():
        return None
    try:
        stored = json.loads(text)
    except ValueError:
        raise VaultError("RegistrationKey is not JSON") from None
    if not isinstance(stored, dict):
        raise VaultError("RegistrationKey is not a JSON object")
    instance_id = stored.get("instanceID") or ""
    region = stored.get("region") or ""
    if not isinstance(instance_id, str) or not isinstance(region, str):
        raise VaultError("RegistrationKey has a non-text instanceID or region")
    if not instance_id:
        return None
    if not instance_id.startswith("mi-"):
        raise VaultError("RegistrationKey's instanceID {0!r} is not a managed-instance (mi-) id".format(instance_id))
    if not region:
        raise VaultError("RegistrationKey of {0} names no region".format(instance_id))
    return Registration(instance_id, region)


def read_registration(path=REGISTRATION_KEY):
    """(Registration or None, problem or None) for the RegistrationKey at path. An unreadable key
    counts as not registered; problem says why, for the module's report."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as error:
        return None, "cannot read {0}: {1}".format(path, error)
    try:
        return parse_registration_key(text), None
    except VaultError as error:
        return None, "{0}: {1}".format(path, error)
