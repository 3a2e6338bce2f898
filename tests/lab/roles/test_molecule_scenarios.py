"""The role and playbook scenarios of extensions/molecule/ (see each molecule.yml), run by `molecule test` inside the
island on the session's lab, claimed with 3 hosts (tests/lab/conftest.py's session_lab). Each scenario's prepare
step resets the lab endpoint and cleans the hosts, so every scenario starts from a clean lab whatever ran before.
Needs root (the lab fleet).
"""
import re

import pytest

from lab.fleet.testing import island_python, lab

SCENARIOS = ["default", "offline", "reregister", "decommission", "upgrade", "faults", "secrets"]
pytestmark = pytest.mark.fleet


def molecule_test(scenario):
    """`molecule test -s scenario` inside the island; its whole output."""
    result = lab("exec", "--", "molecule", "test", "-s", scenario, timeout=15 * 60,
                 env={"ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1", "PY_COLORS": "0"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"molecule test -s {scenario} failed:\n{output[-8000:]}"
    return output


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(fleet, scenario):
    output = molecule_test(scenario)

    summary = re.search(rf"^{scenario}\s*:\s*actions=(\d+)\s+successful=(\d+)\s.*failed=(\d+)", output, re.M)
    assert summary, output[-4000:]
    actions, successful, failed = (int(n) for n in summary.groups())
    assert (successful, failed) == (actions, 0), summary.group(0)
    # The lab keeps the scenario's AWS state until the next prepare: no code it issued is in molecule's output
    # (the secrets scenario searched everything else).
    codes = island_python("import json, os, urllib.request; print(json.dumps(json.load(urllib.request.urlopen("
                          "os.environ['FLEETOPS_LAB_ENDPOINT_URL'] + '/_lab/ssm/activation-codes'))['codes']))")
    assert codes, "the scenario made no activation"
    assert [code for code in codes if code in output] == []
