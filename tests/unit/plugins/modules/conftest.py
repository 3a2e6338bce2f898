# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the service modules' tests share: the AWS-like fake client in place of the module's, and main() run to its
JSON result."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.modules import AnsibleECSAnywhereModule

from ..module_utils.ecs.test_services import FakeServicesECS


@pytest.fixture
def ecs(monkeypatch):
    """FakeServicesECS as the client of every module run in the test."""
    fake = FakeServicesECS()
    monkeypatch.setattr(AnsibleECSAnywhereModule, "client", lambda self, service, retry_decorator=None, **extra: fake)
    return fake


def run_main(capsys, module, args):
    """Run module.main() with args; its JSON result (failed ones included)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)
