"""The fleet tests share one lab per module (see lab/fleet/testing.py)."""
import pytest

from lab.fleet.testing import fleet_lab


@pytest.fixture(scope="module")
def fleet():
    with fleet_lab(hosts=3) as state:
        yield state
