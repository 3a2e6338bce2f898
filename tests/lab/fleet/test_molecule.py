"""The molecule wiring: the smoke scenario brings a lab up through shared/create.yml, reaches every host over
SSH through the island (lab/fleet/relay.py), and takes the lab down again through shared/destroy.yml."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab.fleet import config
from lab.fleet.testing import lab, last_lab_state, leftovers

pytestmark = pytest.mark.fleet


def test_smoke_scenario_runs_offline_and_cleans_up(no_lab):
    assert "lab: down" in lab("status").stdout, "another lab is up"
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]), ANSIBLE_FORCE_COLOR="0",
               NO_COLOR="1", FLEETOPS_LAB_NETNS=config.NETNS, FLEETOPS_LAB_RUN_DIR=str(config.RUN_DIR))
    result = subprocess.run([os.path.join(venv_bin, "molecule"), "test", "-s", "smoke"], cwd=config.REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    output = result.stdout + result.stderr
    # destroy, create, converge, verify, destroy: all five ran and succeeded.
    assert re.search(r"smoke\s*:\s*actions=5\s+successful=5\s.*failed=0", output), output[-2000:]
    for host in ("lab-host-01", "lab-host-02", "lab-host-03"):  # reached in converge and in verify
        assert len(re.findall(rf"^{host}\s*:\s*ok=\d+\s.*unreachable=0\s+failed=0", output, re.M)) == 2
    assert "lab: down" in lab("status").stdout
    assert leftovers(last_lab_state()) == []
