"""A failing `lab up` tears down what it made before it reports the failure."""
import pytest

from lab.fleet import lab as fleet_lab
from lab.fleet.testing import lab, last_lab_state, leftovers

pytestmark = pytest.mark.fleet


@pytest.mark.parametrize("step", fleet_lab.FAIL_POINTS)
def test_failed_up_leaves_nothing(no_lab, step):
    assert "lab: down" in lab("status").stdout, "another lab is up"
    result = lab("up", "--hosts", "2", env={fleet_lab.FAIL_AFTER: step})
    assert result.returncode == 1
    assert f"failing after step '{step}'" in result.stderr
    assert "tearing down" in result.stdout
    recorded = last_lab_state()
    assert "netns_inode" in recorded  # the island had been made, so the check below looks for its processes
    if step != "island":
        assert any(label.startswith("host:") for label in recorded["processes"])
    assert leftovers(recorded) == []
