"""How `make test` spreads the suites over pytest-xdist workers (`pytest -n 2 --no-loadscope-reorder`).

A test module that needs a lab fleet says so with ``pytestmark = pytest.mark.fleet`` and is named in one of two
lanes (FLEET_LANES; a fleet test in no lane stops the run). A lane's tests run on one worker in the lane's order,
so that a module's lab and its tests stay together. Every worker brings its labs up under its own
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


def _position(nodeid):
    """(lane number, place in the lane) of a fleet test; None for any other test."""
    for name in (nodeid, nodeid.split("::", 1)[0]):
        if name in _POSITION:
            return _POSITION[name]
    return None


def pytest_collection_modifyitems(config, items):
    unplaced = sorted({item.nodeid.split("::", 1)[0] for item in items
                       if item.get_closest_marker("fleet") and _position(item.nodeid) is None})
    if unplaced:
        raise pytest.UsageError(f"fleet tests in no lane of tests/conftest.py's FLEET_LANES: {', '.join(unplaced)}")
    # The lanes first, each in its order (the sort is stable: file order within a module), then every other test.
    items.sort(key=lambda item: _position(item.nodeid) or (len(_LANE_NAMES), 0))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's load-scope scheduling with each lane as one scope (every other test is a scope of its own). xdist's
    own `--dist loadgroup` cannot do it under pytest 9: it renames a test's node id to add its group, and pytest 9
    derives node ids anew."""
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            position = _position(nodeid)
            return nodeid if position is None else _LANE_NAMES[position[0]]

    return LaneScheduling(config, log)
