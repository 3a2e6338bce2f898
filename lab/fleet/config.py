"""Names, addresses and paths of the lab fleet. One lab runs at a time on a machine."""
import contextlib
import fcntl
import ipaddress
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Host root filesystems and SSH control sockets: outside the repo so linters never walk mounted trees,
# and short, because a unix socket path must fit in 108 bytes.
# Several labs can run side by side (e.g. CI from a clean clone next to a developer's lab): each
# FLEETOPS_LAB_ID (0-199) has its own namespace, bridge, subnet and run directory.
LAB_ID = int(os.environ.get("FLEETOPS_LAB_ID", "0"))
if not 0 <= LAB_ID <= 199:
    raise ValueError(f"FLEETOPS_LAB_ID must be between 0 and 199, not {LAB_ID}")
_SUFFIX = str(LAB_ID) if LAB_ID else ""
# Files other tools read (inventory, SSH key, ansible.cfg, lab.json): git-ignored, inside the repo, one
# directory per lab (lab/state, lab/state5...), so that labs side by side never share their state.
STATE_DIR = Path(os.environ.get("FLEETOPS_LAB_STATE_DIR", REPO_ROOT / "lab" / f"state{_SUFFIX}"))
RUN_DIR = Path(os.environ.get("FLEETOPS_LAB_RUN_DIR", f"/run/fleetops-lab{_SUFFIX}"))
# The debootstrap'd base survives `lab down`; it is rebuilt only when its recipe changes.
CACHE_DIR = Path(os.environ.get("FLEETOPS_LAB_CACHE_DIR", "/var/cache/fleetops-lab"))

NETNS = f"fleetops-lab{_SUFFIX}"
NETNS_PATH = Path("/run/netns") / NETNS
BRIDGE = f"fllab{LAB_ID}"
SUBNET = ipaddress.ip_network(f"10.213.{LAB_ID}.0/24")
GATEWAY = SUBNET.network_address + 1
FIRST_HOST = 11
MAX_HOSTS = 200

ENDPOINT_PORT = 4566
# The fleet's endpoint counts a service task as healthy 40 s after RUNNING, as AWS does for tasks without health
# checks: the deploy role points the load balancer at new tasks within that time. Shorter waits (10 s, then 30 s)
# left HAProxy with only stopped tasks when the 2-core machine was loaded with other labs.
ENDPOINT_SETTINGS = {"service_healthy_after": 40}
REPO_PORT = 8080
REGION = "us-east-1"
# moto's account: ECR image names (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG) resolve, on the hosts, to
# the lab registry on the gateway (TLS with the lab's CA, basic auth with the password of moto's ECR token).
ACCOUNT_ID = "123456789012"
REGISTRY_PORT = 443
REGISTRY_USER = "AWS"
REGISTRY_PASSWORD = f"{ACCOUNT_ID}-auth-token"
# ECS's address for the task metadata and credentials endpoints (ecs-init DNATs it to the agent).
TASK_METADATA_ADDRESS = "169.254.170.2"
DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"

APT_SUITE = "bookworm"
APT_COMPONENT = "main"
KEY_NAME = "fleetops-lab-archive-key"


def host_name(index):
    """Name of the index-th host (1-based); also its nspawn machine name and inventory hostname."""
    return f"lab-host-{index:02d}"


def host_address(index):
    return SUBNET.network_address + FIRST_HOST + index - 1


def endpoint_url():
    return f"http://{GATEWAY}:{ENDPOINT_PORT}"


def registry_host(region=REGION):
    return f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com"


def repo_url():
    return f"http://{GATEWAY}:{REPO_PORT}"


@contextlib.contextmanager
def cache_lock():
    """One writer of CACHE_DIR at a time on the machine: labs side by side (pytest-xdist workers, a CI clone next to
    a developer's lab) may build or unpack the same cache entry at once. Not re-entrant: its users do not nest."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
