"""Container instances for the lab's ECS add-ons: external (mi-) registration, heartbeat, status.

Backend-level helpers shared by ``lab.aws.ecs`` (the API layer) and ``lab.aws._ecs_tasks``. They work on
moto's own ``ContainerInstance`` objects, stored where moto stores them
(``backend.container_instances[cluster][id]``), with a few extra attributes prefixed ``_lab_``. Lab state
lives on the backend objects, so moto's reset (and so the lab's) clears it too.
"""
import copy
import datetime
import re
import threading

from moto.ecs.exceptions import ECSException, EcsClientException, InvalidParameterException
from moto.ecs.models import ContainerInstance
from moto.moto_api._internal import mock_random

from lab.aws import core
from lab.aws.ecs_query import MISSING

# One lock for every lab ECS mutation: moto's server is threaded and placement reads then writes.
LOCK = threading.RLock()

MI_ID = re.compile(r"^mi-[0-9a-f]{17}$")
INACTIVE_MESSAGE = "Container instance {id} is inactive: a deregistered container instance is not ACTIVE."
# What moto's ContainerInstance reports when the agent sends no totalResources.
DEFAULT_RESOURCES = (("CPU", 4096), ("MEMORY", 7482))
DEFAULT_RESERVED_PORTS = ["22", "2376", "2375", "51678", "51679"]
DEFAULT_VERSION_INFO = {"agentVersion": "1.0.0", "agentHash": "4023248", "dockerVersion": "DockerVersion: 1.5.0"}


def access_denied(message):
    return ECSException("AccessDeniedException", message)


class LabECSState:
    """Indexes kept beside moto's dicts, so that 5,000 instances are listed without O(n^2) work."""

    def __init__(self):
        self.instance_order = {}   # cluster name -> [ContainerInstance] in registration order
        self.by_ec2_id = {}        # (cluster name, ec2/mi id) -> the newest ContainerInstance
        self.task_by_id = {}       # task id -> Task (tasks the lab created)
        self.run_tokens = {}       # (cluster name, RunTask clientToken) -> (request fingerprint, task ARNs, failures)


def lab_state(backend):
    state = backend.__dict__.get("_lab_ecs")
    if state is None:
        with LOCK:
            state = backend.__dict__.get("_lab_ecs") or LabECSState()
            backend._lab_ecs = state
    return state


def now():
    return core.now()


def aware(moment):
    """moto stores naive UTC datetimes; the lab stores aware ones."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment


# --- agentConnected -----------------------------------------------------------------------------

def _agent_connected(ci):
    if ci.status == "INACTIVE" or ci.__dict__.get("_lab_disconnected"):
        return False
    last = ci.__dict__.get("_lab_last_contact")
    if last is None:  # an EC2 instance registered through moto's own path
        return ci.__dict__.get("_lab_agent_connected", True)
    return (now() - last).total_seconds() <= core.setting("connection_lost_after")


def _set_agent_connected(ci, value):
    ci.__dict__["_lab_agent_connected"] = value


AGENT_CONNECTED = property(_agent_connected, _set_agent_connected)


def record_contact(ci):
    """The agent was heard from (registration, DiscoverPollEndpoint, task poll)."""
    ci._lab_last_contact = now()
    ci._lab_disconnected = False


def record_disconnect(ci):
    """The agent stopped cleanly and closed its connection: agentConnected is false at once, until it is heard
    from again. On AWS the agent's ACS websocket closes when it stops (aws/amazon-ecs-agent,
    agent/sighandlers/termination_handler.go: on SIGTERM it saves its state, then cancels its context), and
    "when the Amazon ECS container agent connects or disconnects from the Amazon ECS backend, it changes the
    agentConnected status" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_container_instance_events.html).
    An agent that just goes silent (host lost) is only noticed after ``connection_lost_after``."""
    ci._lab_disconnected = True


# --- lookups ------------------------------------------------------------------------------------

def instance_id_of(arn_or_id):
    return arn_or_id.rsplit("/", 1)[-1]


def find_instance(backend, cluster_name, arn_or_id):
    return backend.container_instances.get(cluster_name, {}).get(instance_id_of(arn_or_id))


def ordered_instances(backend, cluster_name):
    """The cluster's instances in registration order (rebuilt if moto added some behind our back)."""
    with LOCK:  # registration adds to moto's dict and to this list in one step
        order = lab_state(backend).instance_order.setdefault(cluster_name, [])
        current = backend.container_instances.get(cluster_name, {})
        if len(order) != len(current):
            order[:] = list(current.values())
        return order


def is_external(ci):
    return ci.ec2_instance_id.startswith("mi-")


def check_caller(ci, caller_instance_id):
    """A call signed by a managed instance may only act for that instance."""
    if caller_instance_id and caller_instance_id != ci.ec2_instance_id:
        raise access_denied(f"Managed instance {caller_instance_id} cannot act for container instance "
                            f"{ci.container_instance_arn} ({ci.ec2_instance_id})")


def value_of(ci):
    """The cluster-query-language view of a container instance (see lab.aws.ecs_query)."""
    def lookup(subject):
        if subject.startswith("attribute:"):
            return ci.attributes.get(subject[len("attribute:"):], MISSING)
        if subject == "ec2InstanceId":
            return ci.ec2_instance_id
        if subject == "agentConnected":
            return "true" if ci.agent_connected else "false"
        if subject == "registeredAt":
            return aware(ci.registered_at)
        return MISSING
    return lookup


# --- resources ----------------------------------------------------------------------------------

def _resource(name, integer=0, string_set=None):
    resource = {"doubleValue": 0.0, "integerValue": integer, "longValue": 0, "name": name,
                "type": "STRINGSET" if string_set is not None else "INTEGER"}
    if string_set is not None:
        resource["stringSetValue"] = list(string_set)
    return resource


def normalize_resources(total_resources):
    """The agent's totalResources in the shape describe returns, with moto's defaults for what is absent."""
    given = {}
    for item in total_resources or []:
        name = item.get("name")
        if not name:
            raise InvalidParameterException("totalResources: every resource needs a name.")
        resource = {"doubleValue": 0.0, "integerValue": 0, "longValue": 0, "name": name,
                    "type": item.get("type") or ("STRINGSET" if "stringSetValue" in item else "INTEGER")}
        for key in ("doubleValue", "integerValue", "longValue"):
            if item.get(key) is not None:
                resource[key] = item[key]
        if resource["type"] == "STRINGSET":
            resource["stringSetValue"] = [str(v) for v in item.get("stringSetValue") or []]
        given[name] = resource
    for name, default in DEFAULT_RESOURCES:
        given.setdefault(name, _resource(name, default))
    given.setdefault("PORTS", _resource("PORTS", string_set=DEFAULT_RESERVED_PORTS))
    given.setdefault("PORTS_UDP", _resource("PORTS_UDP", string_set=[]))
    return list(given.values())


def live_tasks(ci):
    """Tasks on the instance that hold resources (not STOPPED yet), by ARN."""
    tasks = ci.__dict__.get("_lab_tasks")
    if tasks is None:
        tasks = ci._lab_tasks = {}
    return tasks


def refresh(backend, ci):
    """Recompute remainingResources and the task counts from the live tasks (and the cluster's counts)."""
    cpu = memory = 0
    ports, udp_ports = set(), set()
    pending = running = 0
    for task in live_tasks(ci).values():
        needs = task._lab_needs
        cpu += needs["CPU"]
        memory += needs["MEMORY"]
        ports.update(needs["PORTS"])
        udp_ports.update(needs["PORTS_UDP"])
        if task.last_status == "PENDING":
            pending += 1
        else:
            running += 1
    remaining = copy.deepcopy(ci.registered_resources)
    for resource in remaining:
        if resource["name"] == "CPU":
            resource["integerValue"] -= cpu
        elif resource["name"] == "MEMORY":
            resource["integerValue"] -= memory
        elif resource["name"] == "PORTS":
            resource["stringSetValue"] = resource["stringSetValue"] + sorted(ports - set(resource["stringSetValue"]))
        elif resource["name"] == "PORTS_UDP":
            resource["stringSetValue"] = (resource["stringSetValue"]
                                          + sorted(udp_ports - set(resource["stringSetValue"])))
    ci.remaining_resources = remaining
    cluster = backend.clusters.get(ci.cluster_name)
    if cluster is not None:
        cluster.pending_tasks_count += pending - ci.pending_tasks_count
        cluster.running_tasks_count += running - ci.running_tasks_count
    ci.pending_tasks_count = pending
    ci.running_tasks_count = running
    bump_version(ci)


def remaining(ci, name):
    for resource in ci.remaining_resources:
        if resource["name"] == name:
            return resource.get("stringSetValue") if resource["type"] == "STRINGSET" else resource["integerValue"]
    return [] if name.startswith("PORTS") else 0


def bump_version(ci):
    ci.version = ci.__dict__.get("version", 0) + 1


# --- registration -------------------------------------------------------------------------------

def _attributes(attribute_list):
    attributes = {}
    for item in attribute_list or []:
        name = item.get("name")
        if not name:
            raise InvalidParameterException("attributes: every attribute needs a name.")
        attributes[name] = item.get("value")
    return attributes


def _new_external(backend, cluster_name, instance_id):
    """A moto ContainerInstance for an mi- id (moto's constructor insists on an EC2 instance)."""
    ci = ContainerInstance.__new__(ContainerInstance)
    ci.ec2_instance_id = instance_id
    ci.status = "ACTIVE"
    ci.registered_resources = normalize_resources(None)
    ci.remaining_resources = copy.deepcopy(ci.registered_resources)
    ci.pending_tasks_count = 0
    ci.running_tasks_count = 0
    ci.version_info = dict(DEFAULT_VERSION_INFO)
    ci.attributes = {}
    ci.registered_at = now()
    ci.region_name = backend.region_name
    ci.id = str(mock_random.uuid4())
    ci.cluster_name = cluster_name
    ci._account_id = backend.account_id
    ci._backend = backend
    return ci


def _new_ec2(backend, cluster_name, instance_id):
    try:
        ci = ContainerInstance(instance_id, backend.account_id, backend.region_name, cluster_name, backend=backend)
    except Exception:  # moto's EC2 lookup error does not serialize as an ECS error
        raise EcsClientException(f"The identity document names EC2 instance {instance_id}, which does not exist.") \
            from None
    ci.registered_at = now()
    return ci


def _apply(ci, resources, attributes, version_info, tags):
    if resources is not None:
        ci.registered_resources = resources
    if attributes is not None:
        ci.attributes.update(attributes)
    if version_info:
        ci.version_info = {**ci.version_info, **version_info}
    if tags is not None:
        ci.tags = list(tags)
    elif not hasattr(ci, "tags"):
        ci.tags = []


def register(backend, cluster_name, instance_id, *, total_resources=None, attributes=None, version_info=None,
             tags=None, container_instance_arn=None):
    """Register (or re-register) the instance; returns moto's ContainerInstance.

    With ``container_instance_arn`` the same instance is updated; a deregistered one is refused with
    AWS's ClientException. Without it a NEW container instance is made, even when an ACTIVE or DRAINING
    one of the same ec2/mi id is in the cluster: that one stays as it is (and disconnected once its agent
    is gone), as on AWS. The agent sends the ARN it saved in its data directory only to update its own
    registration (aws/amazon-ecs-agent, ecs-agent/api/ecs/client/ecs_client.go, RegisterContainerInstance:
    "Supplying a non-empty container instance ARN allows a container instance to update its registered
    resources"); an agent whose data was wiped registers anew and gets a new ARN.
    """
    state = lab_state(backend)
    cluster = backend.clusters[cluster_name]
    # Checked before anything changes, so bad input leaves no half-registered instance.
    resources = normalize_resources(total_resources) if total_resources is not None else None
    attributes = _attributes(attributes) if attributes is not None else None
    with LOCK:
        if container_instance_arn:
            ci = find_instance(backend, cluster_name, container_instance_arn)
            if ci is None:
                raise EcsClientException(f"Container instance {container_instance_arn} was not found in cluster "
                                         f"{cluster_name}.")
            if ci.status == "INACTIVE":
                raise EcsClientException(INACTIVE_MESSAGE.format(id=ci.id))
            if ci.ec2_instance_id != instance_id:
                raise EcsClientException(f"Container instance {container_instance_arn} belongs to "
                                         f"{ci.ec2_instance_id}, not {instance_id}.")
        else:
            ci = None
        if ci is None:
            ci = (_new_external if instance_id.startswith("mi-") else _new_ec2)(backend, cluster_name, instance_id)
            ordered_instances(backend, cluster_name)
            backend.container_instances.setdefault(cluster_name, {})[ci.id] = ci
            state.instance_order.setdefault(cluster_name, []).append(ci)
            state.by_ec2_id[(cluster_name, instance_id)] = ci
            cluster.registered_container_instances_count += 1
        _apply(ci, resources, attributes, version_info, tags)
        record_contact(ci)
        refresh(backend, ci)
        return ci


def set_status(backend, ci, status):
    """UpdateContainerInstancesState: ACTIVE <-> DRAINING (INACTIVE is only reached by deregistering)."""
    with LOCK:
        if ci.status != status:
            ci.status = status
            bump_version(ci)


def deregister(backend, ci, force):
    """ACTIVE/DRAINING -> INACTIVE. Tasks that still hold the instance block it unless ``force``; forced,
    they are left as they are (orphaned, as AWS documents)."""
    with LOCK:
        if ci.status == "INACTIVE":
            return ci
        if live_tasks(ci) and not force:
            raise InvalidParameterException("Found running tasks on the instance.")
        ci.status = "INACTIVE"
        cluster = backend.clusters.get(ci.cluster_name)
        if cluster is not None:
            cluster.registered_container_instances_count -= 1
        bump_version(ci)
        return ci
