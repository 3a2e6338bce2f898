# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the SSM agent's Vault RegistrationKey."""

import json

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import vault
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.vault import Registration

# What amazon-ssm-agent -register stores (fields as the agent names them).
REGISTERED = {
    "instanceID": "mi-0123456789abcdef0",
    "region": "eu-west-1",
    "privateKey": "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n",
    "privateKeyType": "Rsa",
    "privateKeyCreatedDate": "2026-11-24T10:00:00Z",
    "availabilityZone": "",
    "availabilityZoneId": "",
}
# What amazon-ssm-agent -register -clear leaves behind.
CLEARED = {"instanceID": "", "region": "", "privateKey": "", "privateKeyType": ""}


def test_registered_key_gives_id_and_region_only():
    registration = vault.parse_registration_key(json.dumps(REGISTERED))

    assert registration == Registration("mi-0123456789abcdef0", "eu-west-1")
    assert "BEGIN RSA" not in repr(registration)


@pytest.mark.parametrize("text", [None, "", "  \n", json.dumps(CLEARED), json.dumps({"region": "eu-west-1"})])
def test_missing_empty_or_cleared_key_is_not_registered(text):
    assert vault.parse_registration_key(text) is None


@pytest.mark.parametrize(
    "text,problem",
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"instanceID": 5, "region": "eu-west-1"}), "non-text"),
        (json.dumps({"instanceID": "i-0abc", "region": "eu-west-1"}), "not a managed-instance"),
        (json.dumps({"instanceID": "mi-0abc", "region": ""}), "names no region"),
    ],
)
def test_unintelligible_key_raises_vault_error(text, problem):
    with pytest.raises(vault.VaultError, match=problem):
        vault.parse_registration_key(text)


def test_read_registration_from_files(tmp_path):
    key = tmp_path / "RegistrationKey"
    assert vault.read_registration(str(key)) == (None, None)

    key.write_text(json.dumps(REGISTERED))
    assert vault.read_registration(str(key)) == (Registration("mi-0123456789abcdef0", "eu-west-1"), None)

    key.write_text("garbage")
    registration, problem = vault.read_registration(str(key))
    assert registration is None
    assert problem == "{0}: RegistrationKey is not JSON".format(key)

    key.unlink()
    key.mkdir()
    registration, problem = vault.read_registration(str(key))
    assert registration is None and problem.startswith("cannot read")
