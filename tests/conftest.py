"""How `make test` spreads the suites over pytest-xdist workers (`pytest -n 2 --dist loadgroup`).

A test module that needs a lab fleet says so with ``pytestmark = pytest.mark.fleet``. Fleet tests run in one of
two lanes (FLEET_LANES; a module not named there runs last in lane "fleet-1"), each lane's tests on one worker
in the lane's order, so that a module's lab and its tests stay together. Every worker brings its labs up under its own
FLEETOPS_LAB_ID (the given one, default 0, plus the worker's number), so two lanes run side by side without
sharing a namespace, subnet or state directory. The lanes are queued first and every other test after them:
whichever worker is free takes the next one, which balances the run. Without xdist (plain `pytest`) the same
order runs in one process on one lab.
"""
import os

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    # Set before any test module imports lab.fleet.config, which reads it once.
    os.environ["FLEETOPS_LAB_ID"] = str(int(os.environ.get("FLEETOPS_LAB_ID", "0")) + int(_WORKER.removeprefix("gw")))

# Each lane's modules (or single tests, by node id) in the order they run. Claims of the same size follow each other,
# so that the session's lab is cleaned and reused instead of booted again (tests/lab/conftest.py's session_lab); the
# tests that need the lab down come first. The molecule scenarios are split between the lanes to even them out.
MOLECULE = "tests/lab/roles/test_molecule_scenarios.py::test_scenario"
FLEET_LANES = {
    "fleet-1": [
        "tests/lab/demo/test_demo.py",
        "tests/lab/fleet/test_molecule.py",
        "tests/lab/fleet/test_up_failure.py",
        "tests/lab/registration/test_register_fleet.py",
        f"{MOLECULE}[default]",
        f"{MOLECULE}[offline]",
        f"{MOLECULE}[secrets]",
        "tests/lab/tasks/test_fleet_tasks.py",
        "tests/lab/services/test_services_fleet.py",
    ],
    "fleet-2": [
        "tests/lab/awx/test_runner.py",
        "tests/lab/inventory/test_inventory_fleet.py",
        f"{MOLECULE}[faults]",
        f"{MOLECULE}[upgrade]",
        f"{MOLECULE}[reregister]",
        f"{MOLECULE}[decommission]",
        "tests/lab/fleet/test_fleet.py",  # its last test takes the lab down
        "tests/lab/awx/test_job_slicing.py",
    ],
}
_POSITION = {name: (number, index)
             for number, names in enumerate(FLEET_LANES.values()) for index, name in enumerate(names)}
_LANE_NAMES = list(FLEET_LANES)


def pytest_configure(config):
    config.addinivalue_line("markers", "fleet: the test needs a lab fleet (root, network namespaces, nspawn hosts)")


def _position(item):
    """(lane number, place in the lane) of a fleet test; None for any other test."""
    if item.get_closest_marker("fleet") is None:
        return None
    for name in (item.nodeid, item.nodeid.split("::", 1)[0]):
        if name in _POSITION:
            return _POSITION[name]
    return 0, len(_POSITION)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    positions = {item: _position(item) for item in items}
    for item, position in positions.items():
        if position is not None:
            item.add_marker(pytest.mark.xdist_group(_LANE_NAMES[position[0]]))
    # The lanes first, each in its order (the sort is stable: file order within a module), then every other test.
    items.sort(key=lambda item: positions[item] or (len(_LANE_NAMES), 0))
