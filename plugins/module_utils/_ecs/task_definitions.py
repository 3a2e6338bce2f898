# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS task definitions: building and validating the RegisterTaskDefinition request, the normalize/compare
core that decides whether the latest ACTIVE revision already matches it, and the API calls.

The pure part (no client) is what unit tests drive: ``definition_from_options``/``definition_from_document``,
``normalize_task_definition`` and ``task_definition_differences``. Comparing normalized documents is what
fixes community.aws ecs_taskdefinition's spurious revisions: AWS fills in defaults (protocol tcp, essential
true, hostPort 0 or = containerPort, cpu 0, empty lists) and may reorder environment and secrets, so the
request and the described revision only match once both carry the same defaults in the same order
(ansible/ansible#22547, community.aws#690, community.aws#45).
"""

import json
import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_message
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ..errors import AnsibleECSAnywhereError
from ..errors import ECSErrorHandler
from ..iterators import DESCRIBE_BATCH_SIZE
from ..iterators import paginate
from .shapes import conform

EXTERNAL = "EXTERNAL"
# ECS's default network mode for Linux tasks that are not on Fargate.
DEFAULT_NETWORK_MODE = "bridge"
# Module options and the RegisterTaskDefinition members they set.
OPTION_MEMBERS = {
    "family": "family",
    "containers": "containerDefinitions",
    "network_mode": "networkMode",
    "requires_compatibilities": "requiresCompatibilities",
    "cpu": "cpu",
    "memory": "memory",
    "task_role_arn": "taskRoleArn",
    "execution_role_arn": "executionRoleArn",
    "volumes": "volumes",
    "placement_constraints": "placementConstraints",
    "runtime_platform": "runtimePlatform",
    "pid_mode": "pidMode",
    "ipc_mode": "ipcMode",
}
# What DescribeTaskDefinition returns besides the registered document.
RESPONSE_ONLY_KEYS = (
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt",
    "registeredBy", "deregisteredAt", "deleteRequestedAt", "tags",
)
# Maps whose keys are data (label names, driver options) and must keep their spelling in results.
OPAQUE_MAPS = ("dockerLabels", "options", "driverOpts", "labels")
# Docker refuses containers with less memory than this (AWS: "must be at least 6 MiB").
MIN_CONTAINER_MEMORY_MIB = 6
# Family and container names: "up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens".
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)
# ECS fills these in when a container's healthCheck leaves them out.
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}
# Booleans whose default is true; every other boolean of a task definition defaults to false.
TRUE_BY_DEFAULT = ("essential",)


# --- building the request ------------------------------------------------------------------------------

def definition_from_options(params, shape):
    """(request, tags, warnings) from the module's snake_case options; shape is RegisterTaskDefinition's input."""
    request = {}
    for option, member in OPTION_MEMBERS.items():
        if params.get(option) is not None:
            request[member] = conform(params[option], shape.members[member], option)
    labels = dict((member, option) for option, member in OPTION_MEMBERS.items())
    return _finish(request, params.get("tags"), labels)


def definition_from_document(document, shape, tags=None):
    """(request, tags, warnings) from a RegisterTaskDefinition document (a dict or JSON text), as in the AWS docs.

    The document's own tags (a list of key/value) are used unless the tags option is given too."""
    request = _conformed_document(document, shape)
    document_tags = request.pop("tags", None)
    if document_tags is not None and tags is not None:
        raise AnsibleECSAnywhereError(message="tags: given both as an option and in task_definition.tags")
    if document_tags is not None:
        tags = boto3_tag_list_to_ansible_dict(document_tags, "key", "value")
    labels = dict((member, "task_definition." + member) for member in shape.members)
    return _finish(request, tags, labels)


def task_definition_family(document, shape):
    """The family a task_definition document (a dict or JSON text) names."""
    family = _conformed_document(document, shape).get("family")
    if not family:
        _fail("task_definition.family", "required")
    return family


def _conformed_document(document, shape):
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as e:
            raise AnsibleECSAnywhereError(message="task_definition: not valid JSON: {0}".format(e))
    return conform(document, shape, "task_definition")


def _finish(request, tags, labels):
    # Empty task-level values (task_role_arn: "", volumes: []) mean unset, as they do when comparing.
    request = dict((key, value) for key, value in request.items() if value not in ("", [], {}))
    request.setdefault("requiresCompatibilities", [EXTERNAL])
    request.setdefault("networkMode", DEFAULT_NETWORK_MODE)
    warnings = validate_request(request, labels)
    # Send plain numbers: AWS documents "1 vCPU" and "1 GB", but not every spelling that validation accepts.
    for member, parse in (("cpu", task_cpu_units), ("memory", task_memory_mib)):
        if request.get(member) not in (None, ""):
            request[member] = str(parse(request[member]))
    return request, tags, warnings


# --- validation ----------------------------------------------------------------------------------------

def validate_request(request, labels=None):
    """Check what AWS (or the agent, later) would refuse; raise naming the field. Returns warnings."""
    labels = labels or {}

    def field(member, rest=""):
        return labels.get(member, member) + rest

    family = request.get("family")
    if not family:
        _fail(field("family"), "required")
    if not NAME_PATTERN.match(family):
        _fail(field("family"), "{0!r} must be 1-255 letters, digits, hyphens or underscores".format(family))
    network_mode = request.get("networkMode", DEFAULT_NETWORK_MODE)
    if network_mode == "awsvpc" and EXTERNAL in request.get("requiresCompatibilities", []):
        _fail(field("networkMode"), "awsvpc is not supported on EXTERNAL (ECS Anywhere) instances; use bridge, host or none")
    task_memory = _parsed(request, "memory", task_memory_mib, field)
    _parsed(request, "cpu", task_cpu_units, field)

    containers = request.get("containerDefinitions") or []
    if not containers:
        _fail(field("containerDefinitions"), "at least one container is required")
    volume_names = set(volume.get("name") for volume in request.get("volumes", []))
    names = {}
    for index, container in enumerate(containers):
        where = field("containerDefinitions", "[{0}]".format(index))
        name = container.get("name")
        if not name:
            _fail(where + ".name", "required")
        if not NAME_PATTERN.match(name):
            _fail(where + ".name", "{0!r} must be 1-255 letters, digits, hyphens or underscores".format(name))
        if name in names:
            _fail(where + ".name", "{0!r} is already the name of {1}".format(name, names[name]))
        names[name] = where
        if not container.get("image"):
            _fail(where + ".image", "required")
        _check_container_memory(container, where, task_memory)
        _check_awslogs(container, where)
        for mount_index, mount in enumerate(container.get("mountPoints", [])):
            if mount.get("sourceVolume") not in volume_names:
                _fail("{0}.mountPoints[{1}].sourceVolume".format(where, mount_index),
                      "{0!r} is not a volume of this task definition".format(mount.get("sourceVolume")))
    for index, container in enumerate(containers):
        where = field("containerDefinitions", "[{0}]".format(index))
        for depend_index, dependency in enumerate(container.get("dependsOn", [])):
            if dependency.get("containerName") not in names:
                _fail("{0}.dependsOn[{1}].containerName".format(where, depend_index),
                      "{0!r} is not a container of this task definition".format(dependency.get("containerName")))
    _check_ports(containers, network_mode, lambda index: field("containerDefinitions", "[{0}]".format(index)))
    return _image_warnings(request, field)


def _fail(path, message):
    raise AnsibleECSAnywhereError(message="{0}: {1}".format(path, message))


def _parsed(request, member, parse, field):
    if request.get(member) in (None, ""):
        return None
    try:
        return parse(request[member])
    except ValueError as e:
        _fail(field(member), str(e))


def _check_container_memory(container, where, task_memory):
    memory, reservation = container.get("memory"), container.get("memoryReservation")
    for key, value in (("memory", memory), ("memoryReservation", reservation)):
        if value is not None and value < MIN_CONTAINER_MEMORY_MIB:
            _fail("{0}.{1}".format(where, key), "{0} MiB is below the {1} MiB minimum".format(value, MIN_CONTAINER_MEMORY_MIB))
        if value is not None and task_memory is not None and value > task_memory:
            _fail("{0}.{1}".format(where, key), "{0} MiB exceeds the task's memory of {1} MiB".format(value, task_memory))
    if memory is not None and reservation is not None and reservation > memory:
        _fail(where + ".memoryReservation", "{0} MiB exceeds the container's memory limit of {1} MiB".format(reservation, memory))
    if memory is None and reservation is None and task_memory is None:
        # EC2 and EXTERNAL tasks without task-level memory need a per-container limit or reservation.
        _fail(where + ".memory", "set memory or memoryReservation for the container, or memory for the task")


def _check_awslogs(container, where):
    log_configuration = container.get("logConfiguration") or {}
    if log_configuration.get("logDriver") != "awslogs":
        return
    options = log_configuration.get("options") or {}
    # ECS Anywhere hosts have no instance metadata to infer the region from, so both are required.
    for option in ("awslogs-group", "awslogs-region"):
        if not options.get(option):
            _fail(where + ".logConfiguration.options", "the awslogs log driver needs {0!r}".format(option))


def _check_ports(containers, network_mode, where):
    used = {}
    for index, container in enumerate(containers):
        for mapping_index, mapping in enumerate(container.get("portMappings", [])):
            path = "{0}.portMappings[{1}]".format(where(index), mapping_index)
            if network_mode == "none":
                _fail(path, "port mappings are not allowed with network mode none")
            if "containerPortRange" in mapping:
                continue
            if network_mode in ("host", "awsvpc") and mapping.get("hostPort") not in (None, 0, mapping.get("containerPort")):
                _fail(path + ".hostPort", "must equal containerPort in {0} network mode".format(network_mode))
            host_port = effective_host_port(mapping, network_mode)
            if host_port is None:
                continue
            key = (host_port, mapping.get("protocol", "tcp"))
            if key in used:
                _fail(path, "host port {0}/{1} is already used by {2}".format(host_port, key[1], used[key]))
            used[key] = path


def effective_host_port(mapping, network_mode):
    """The host port a port mapping reserves, or None when ECS picks a dynamic one (bridge, hostPort 0/unset)."""
    if network_mode in ("host", "awsvpc"):
        return mapping.get("hostPort") or mapping.get("containerPort")
    return mapping.get("hostPort") or None


def _image_warnings(request, field):
    if request.get("executionRoleArn"):
        return []
    return [
        "{0}: {1} is in ECR, which needs an execution role to pull; set execution_role_arn".format(
            field("containerDefinitions", "[{0}].image".format(index)), container["image"])
        for index, container in enumerate(request["containerDefinitions"])
        if ECR_IMAGE.match(container["image"])
    ]


def ecr_image(image):
    """(registry_id, region, repository, {"imageTag"|"imageDigest": ...}) for an ECR image reference, else None."""
    match = ECR_IMAGE.match(image)
    if not match:
        return None
    image_id = {"imageDigest": match.group("digest")} if match.group("digest") else {"imageTag": match.group("tag") or "latest"}
    return match.group("registry"), match.group("region"), match.group("repository"), image_id


def task_cpu_units(value):
    """Task-level cpu as CPU units: "256" and 256 stay, "1 vCPU" / "0.5vcpu" become 1024 / 512."""
    return _units(value, ("vcpu",), "CPU units (e.g. 256) or vCPUs (e.g. '0.25 vCPU')")


def task_memory_mib(value):
    """Task-level memory in MiB: "512" and 512 stay, "1GB" / "1 gb" become 1024."""
    return _units(value, ("gb", "gib"), "MiB (e.g. 512) or GB (e.g. '1 GB')")


def _units(value, suffixes, expected):
    text = str(value).strip().lower().replace(" ", "")
    scale = 1
    for suffix in suffixes:
        if text.endswith(suffix):
            text, scale = text[:-len(suffix)], 1024
    try:
        amount = float(text) * scale
    except ValueError:
        raise ValueError("{0!r} is not {1}".format(value, expected))
    if amount <= 0 or not amount.is_integer():
        raise ValueError("{0!r} is not {1}".format(value, expected))
    return int(amount)


# --- normalize and compare -------------------------------------------------------------------------------

def normalize_task_definition(definition):
    """A canonical copy of a request or described revision, for comparing and diffing.

    Response-only keys and tags are dropped; AWS defaults are filled in; lists whose order means nothing to ECS
    are sorted; empty values and false booleans (all default to false except essential) are dropped."""
    normalized = dict((key, value) for key, value in definition.items() if key not in RESPONSE_ONLY_KEYS)
    network_mode = normalized.get("networkMode") or DEFAULT_NETWORK_MODE
    normalized["networkMode"] = network_mode
    for member, parse in (("cpu", task_cpu_units), ("memory", task_memory_mib)):
        if normalized.get(member) not in (None, ""):
            try:
                normalized[member] = str(parse(normalized[member]))
            except ValueError:
                pass  # left as given: validation reports it for requests, and AWS never returns such a value
    normalized["requiresCompatibilities"] = sorted(normalized.get("requiresCompatibilities") or [])
    normalized["containerDefinitions"] = sorted(
        (_normalize_container(container, network_mode) for container in normalized.get("containerDefinitions") or []),
        key=lambda container: container.get("name", ""),
    )
    normalized["volumes"] = sorted((_normalize_volume(volume) for volume in normalized.get("volumes") or []),
                                   key=lambda volume: volume.get("name", ""))
    _sort(normalized, "placementConstraints", "type", "expression")
    return _prune(normalized)


def _normalize_container(container, network_mode):
    container = dict(container)
    container.setdefault("essential", True)
    if container.get("cpu") == 0:
        del container["cpu"]
    container["portMappings"] = sorted(
        (_normalize_port_mapping(mapping, network_mode) for mapping in container.get("portMappings") or []),
        key=lambda mapping: (mapping.get("containerPort", 0), mapping.get("protocol"), mapping.get("hostPort", 0),
                             json.dumps(mapping, sort_keys=True)),
    )
    # ECS does not promise the order of environment, secrets and the other name-keyed lists (community.aws#45).
    _sort(container, "environment", "name", "value")
    _sort(container, "secrets", "name", "valueFrom")
    _sort(container, "mountPoints", "containerPath", "sourceVolume")
    _sort(container, "volumesFrom", "sourceContainer")
    _sort(container, "ulimits", "name")
    _sort(container, "extraHosts", "hostname", "ipAddress")
    _sort(container, "systemControls", "namespace")
    _sort(container, "resourceRequirements", "type")
    _sort(container, "dependsOn", "containerName")
    for key in ("links", "dockerSecurityOptions"):
        if container.get(key):
            container[key] = sorted(container[key])
    if container.get("healthCheck"):
        container["healthCheck"] = dict(HEALTH_CHECK_DEFAULTS, **container["healthCheck"])
    if container.get("logConfiguration"):
        container["logConfiguration"] = dict(container["logConfiguration"])
        _sort(container["logConfiguration"], "secretOptions", "name")
    if container.get("linuxParameters"):
        container["linuxParameters"] = _normalize_linux_parameters(container["linuxParameters"])
    return container


def _normalize_port_mapping(mapping, network_mode):
    mapping = dict(mapping)
    mapping["protocol"] = mapping.get("protocol") or "tcp"
    if "containerPortRange" not in mapping:
        # AWS stores hostPort 0 for a dynamic bridge port and containerPort in host/awsvpc mode (community.aws#690).
        host_port = effective_host_port(mapping, network_mode)
        if host_port is None:
            mapping.pop("hostPort", None)
        else:
            mapping["hostPort"] = host_port
    return mapping


def _normalize_linux_parameters(parameters):
    parameters = dict(parameters)
    if parameters.get("capabilities"):
        parameters["capabilities"] = dict((key, sorted(value or [])) for key, value in parameters["capabilities"].items())
    _sort(parameters, "devices", "hostPath", "containerPath")
    _sort(parameters, "tmpfs", "containerPath")
    return parameters


def _normalize_volume(volume):
    volume = dict(volume)
    efs = volume.get("efsVolumeConfiguration")
    if efs:
        volume["efsVolumeConfiguration"] = dict({"rootDirectory": "/"}, **efs)
    return volume


def _sort(document, key, *fields):
    if document.get(key):
        document[key] = sorted(document[key], key=lambda item: tuple(str(item.get(name, "")) for name in fields))


def _prune(value, key=None):
    """Drop None, empty strings/lists/dicts and false booleans (except those true by default), recursively."""
    if isinstance(value, dict):
        pruned = {}
        for item_key, item in value.items():
            item = _prune(item, item_key)
            if item in (None, "", [], {}) or (item is False and item_key not in TRUE_BY_DEFAULT):
                continue
            pruned[item_key] = item
        return pruned
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def task_definition_differences(wanted, existing):
    """Dotted paths where two normalized task definitions differ, with containers named by name
    (e.g. ``containerDefinitions[web].environment``). Empty when existing already is what is wanted."""
    differences = []
    _differences(wanted, existing, "", differences)
    return differences


def _differences(wanted, existing, path, found):
    if isinstance(wanted, dict) and isinstance(existing, dict):
        for key in sorted(set(wanted) | set(existing)):
            _differences(wanted.get(key), existing.get(key), "{0}.{1}".format(path, key) if path else key, found)
    elif path == "containerDefinitions" and isinstance(wanted, list) and isinstance(existing, list):
        wanted_by_name = dict((container.get("name"), container) for container in wanted)
        existing_by_name = dict((container.get("name"), container) for container in existing)
        for name in sorted(set(wanted_by_name) | set(existing_by_name)):
            _differences(wanted_by_name.get(name), existing_by_name.get(name), "{0}[{1}]".format(path, name), found)
    elif wanted != existing:
        found.append(path)


def task_definition_to_result(definition, tags=None):
    """The snake_case result form of a described (or would-be) task definition, with its tags as a dict."""
    untagged = dict((key, value) for key, value in definition.items() if key != "tags")
    result = camel_dict_to_snake_dict(untagged, ignore_list=OPAQUE_MAPS)
    result["tags"] = dict(tags or {})
    return result


# --- API calls -------------------------------------------------------------------------------------------

@ECSErrorHandler.common_error_handler("describe task definition")
def describe_task_definition(client, task_definition):
    """(task definition, tags dict) for an ARN, family:revision or family (its latest ACTIVE revision),
    or (None, {}) when there is none."""
    try:
        response = client.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    except is_boto3_error_message("Unable to describe task definition"):
        # ECS answers a missing family or revision with a ClientException, not a not-found code.
        return None, {}
    return response["taskDefinition"], boto3_tag_list_to_ansible_dict(response.get("tags") or [], "key", "value")


@ECSErrorHandler.common_error_handler("register task definition")
def register_task_definition(client, request, tags=None):
    """Register a new revision; returns (task definition, tags dict)."""
    params = dict(request)
    if tags:
        params["tags"] = ansible_dict_to_boto3_tag_list(tags, "key", "value")
    response = client.register_task_definition(**params)
    return response["taskDefinition"], boto3_tag_list_to_ansible_dict(response.get("tags") or [], "key", "value")


@ECSErrorHandler.common_error_handler("deregister task definition")
def deregister_task_definition(client, task_definition_arn):
    return client.deregister_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]


@ECSErrorHandler.common_error_handler("list task definitions")
def list_task_definition_arns(client, family, status="ACTIVE"):
    """ARNs of the family's revisions with status, oldest first, 100 per page."""
    arns = paginate(client.list_task_definitions, "taskDefinitionArns",
                    familyPrefix=family, status=status, sort="ASC", maxResults=DESCRIBE_BATCH_SIZE)
    # familyPrefix is documented as the full family name; keep only exact matches all the same.
    return [arn for arn in arns if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]


@ECSErrorHandler.common_error_handler("tag task definition")
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(tags, "key", "value"))


@ECSErrorHandler.common_error_handler("untag task definition")
def untag_resource(client, arn, tag_keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(tag_keys))


@ECSErrorHandler.common_error_handler("describe ECR image")
def ecr_image_exists(ecr_client, registry_id, repository, image_id):
    """Whether an image tag or digest exists in an ECR repository."""
    try:
        response = ecr_client.describe_images(registryId=registry_id, repositoryName=repository, imageIds=[image_id])
    except is_boto3_error_code(["ImageNotFoundException", "RepositoryNotFoundException"]):
        return False
    return bool(response.get("imageDetails"))


# --- ensuring state ----------------------------------------------------------------------------------------

def ensure_present(client, request, tags, purge_tags=True, check_mode=False):
    """Reuse the family's latest ACTIVE revision if it matches request, else register a new one.

    One DescribeTaskDefinition call decides, whatever the number of revisions. tags=None leaves tags alone
    (a new revision keeps the latest revision's). Returns the result: changed, task_definition, changes, diff."""
    existing, existing_tags = describe_task_definition(client, request["family"])
    if existing is not None and existing.get("status") != "ACTIVE":
        existing, existing_tags = None, {}
    wanted = normalize_task_definition(request)
    before = normalize_task_definition(existing) if existing else {}
    changes = task_definition_differences(wanted, before)
    final_tags = _final_tags(existing_tags, tags, purge_tags)
    diff = {"before": dict(before, tags=existing_tags) if existing else {}, "after": dict(wanted, tags=final_tags)}
    if not changes:
        tags_to_set, tag_keys_to_remove = compare_aws_tags(existing_tags, final_tags, purge_tags=True)
        changed = bool(tags_to_set or tag_keys_to_remove)
        if changed and not check_mode:
            if tags_to_set:
                tag_resource(client, existing["taskDefinitionArn"], tags_to_set)
            if tag_keys_to_remove:
                untag_resource(client, existing["taskDefinitionArn"], tag_keys_to_remove)
        return {"changed": changed, "changes": ["tags"] if changed else [], "diff": diff,
                "task_definition": task_definition_to_result(existing, final_tags)}
    if check_mode:
        # A would-be revision: no ARN or revision number exists yet.
        return {"changed": True, "changes": changes, "diff": diff, "task_definition": task_definition_to_result(request, final_tags)}
    registered, registered_tags = register_task_definition(client, request, final_tags)
    return {"changed": True, "changes": changes, "diff": diff, "task_definition": task_definition_to_result(registered, registered_tags)}


def _final_tags(existing_tags, tags, purge_tags):
    # Keys starting with aws: belong to AWS; they can be neither set nor removed.
    kept = dict((key, value) for key, value in existing_tags.items() if not key.startswith("aws:"))
    if tags is None:
        return kept
    if purge_tags:
        return dict(tags)
    return dict(kept, **tags)


def ensure_absent(client, family, revision=None, check_mode=False):
    """Deregister one revision, or every ACTIVE revision of the family (listed page by page).

    Returns the result: changed and task_definition_arns (those deregistered, or that would be)."""
    if revision is not None:
        existing, _tags = describe_task_definition(client, "{0}:{1}".format(family, revision))
        arns = [existing["taskDefinitionArn"]] if existing and existing.get("status") == "ACTIVE" else []
    else:
        arns = list_task_definition_arns(client, family)
    if not check_mode:
        for arn in arns:
            deregister_task_definition(client, arn)
    return {"changed": bool(arns), "task_definition_arns": arns}


def check_ecr_images(request, ecr_client_for, containers_label):
    """Fail naming the container's image field when an ECR image's tag or digest does not exist.

    ecr_client_for(region) returns an ECR client for the image's region; other registries are not checked."""
    for index, container in enumerate(request["containerDefinitions"]):
        reference = ecr_image(container["image"])
        if reference is None:
            continue
        registry_id, region, repository, image_id = reference
        if not ecr_image_exists(ecr_client_for(region), registry_id, repository, image_id):
            _fail("{0}[{1}].image".format(containers_label, index),
                  "{0} {1!r} not found in ECR repository {2} of registry {3}".format(
                      "digest" if "imageDigest" in image_id else "tag", list(image_id.values())[0], repository, registry_id))
