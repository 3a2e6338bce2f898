"""Stand-in for amazon-ecs-init and the ECS agent it runs (see lab/PROTOCOL.md). Tasks run as real
containers in the host's Docker Engine, driven through the Engine API with the docker SDK, as the real agent
drives it (aws/amazon-ecs-agent, agent/dockerclient).

`/usr/libexec/amazon-ecs-init pre-start|start|stop|post-stop` (systemd unit `ecs`, after docker.service):
- pre-start waits for the Docker socket, then sets up what ecs-init's iptables.go sets up for the task
  credentials and metadata endpoint 169.254.170.2:80: `route_localnet` on docker0, a nat PREROUTING DNAT to
  127.0.0.1:51679 (containers) and a nat OUTPUT REDIRECT to 51679 (dockerd's own awslogs driver). post-stop
  removes the rules. The rules are checked (-C) before they are added, so a restart adds no duplicates.
- Configuration is read as the real ecs-init does: /var/lib/ecs/ecs.config (instance config, written by the
  install script) first, then /etc/ecs/ecs.config (the user's), whose keys win. Each line is KEY=VALUE, split
  at the first "="; no quoting, lines without "=" are ignored. ECS_ENABLE_GPU_SUPPORT=true from the instance
  config is dropped when no /dev/nvidia* device exists, as in ecs-init.
- External mode (ECS_EXTERNAL=true) without AWS_DEFAULT_REGION is a terminal error (exit 5). ECS_BACKEND_HOST
  is the ECS endpoint; lab convention: CloudWatch Logs and ECR calls go to the same endpoint.
- The container instance ARN is kept in /var/lib/ecs/data/ecs_agent_data.json and reused on restart. A saved
  ARN that the cluster deregistered, or a saved cluster that differs from ECS_CLUSTER, is a terminal error
  until /var/lib/ecs/data is wiped.
- Introspection on 127.0.0.1:51678: /v1/metadata, /v1/tasks (also ?taskarn=ARN, ?dockerid=ID), with the
  containers' Docker ids and names.
- 127.0.0.1:51679 (reached as 169.254.170.2): /v2/credentials/<id> (the task execution role's credentials,
  for dockerd's awslogs driver) and the task metadata endpoint v4 (/v4/<id>, /v4/<id>/task) that
  ECS_CONTAINER_METADATA_URI_V4 points each container at.
- Lab-only keys: ECS_LAB_PING_INTERVAL (s between DiscoverPollEndpoint heartbeats, default 10),
  ECS_LAB_POLL_INTERVAL (s between task polls, default 2), ECS_LAB_INTROSPECTION_PORT (default 51678),
  ECS_LAB_CREDENTIALS_PORT (default 51679; ecs-init's NAT rules keep 51679: only the tests that run the agent on the
  machine itself, side by side, move it).
  Real keys honoured: ECS_CONTAINER_STOP_TIMEOUT (default 30s), ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION
  (default 3h; stopped containers are removed after it), DOCKER_HOST.

A task's life: pull every image (ECR names log in with GetAuthorizationToken, with the task execution role's
credentials when the task has them, else the instance's), create and start the containers (names, labels,
limits, ports and log options as the real agent sets them), report RUNNING with the ports Docker bound,
watch them; an essential container's exit stops the others and the task ("Essential container in task
exited"). A pull, create or start error stops the task from PENDING with the real prefixes
("CannotPullContainerError: ...", "CannotCreateContainerError: ...", "CannotStartContainerError: ..."),
and every container created for it is removed, so nothing is left running.
"""
import base64
import http.server
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import awsapi
import hostinfo
from agent_version import VERSION

USER_CONFIG = "/etc/ecs/ecs.config"
INSTANCE_CONFIG = "/var/lib/ecs/ecs.config"
DATA = "/var/lib/ecs/data/ecs_agent_data.json"
SSM_REGISTRATION = "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"
CREDENTIALS = "/root/.aws/credentials"
LOG = "/var/log/ecs/ecs-agent.log"
INTROSPECTION = ("127.0.0.1", 51678)
CREDENTIALS_PORT = 51679
TASK_ENDPOINT = "169.254.170.2"
DOCKER_SOCKET = "unix:///var/run/docker.sock"
EXIT_TERMINAL = 5  # the real agent's "do not restart me" exit code
GPU_VAR = "ECS_ENABLE_GPU_SUPPORT"
RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"]
CAPABILITIES = [
    "ecs.capability.external", "com.amazonaws.ecs.capability.logging-driver.awslogs",
    "com.amazonaws.ecs.capability.logging-driver.json-file", "com.amazonaws.ecs.capability.logging-driver.none",
    "ecs.capability.execution-role-awslogs", "com.amazonaws.ecs.capability.task-iam-role",
    "com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull",
    "com.amazonaws.ecs.capability.docker-remote-api.1.17", "com.amazonaws.ecs.capability.docker-remote-api.1.32",
]
# Lab only: how often the agent reports (DiscoverPollEndpoint) and polls for tasks.
DEFAULT_PING_SECONDS = 10
DEFAULT_POLL_SECONDS = 2
# How often a running task's containers are inspected.
WATCH_SECONDS = 1.0
INACTIVE_HINTS = ("not ACTIVE", "INACTIVE", "inactive")
ECR_IMAGE = re.compile(r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/")
# The real agent caps reasons at 255 characters (agent/api/task/task.go, the reason sent with state changes).
REASON_LIMIT = 255
DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$")


class Terminal(Exception):
    """A condition the real agent treats as terminal: exit 5, and systemd does not restart it."""


class TaskError(Exception):
    """A container could not be pulled, created or started; the message is the task's stopped reason."""


def env_file(path):
    """KEY=VALUE lines exactly as ecs-init parses them (no comments, no quotes; split at the first '=')."""
    try:
        with open(awsapi.root_path(path)) as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    pairs = (line.strip().split("=", 1) for line in text.strip().split("\n"))
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def load_config():
    config = {}
    for key, value in env_file(INSTANCE_CONFIG).items():
        if key == GPU_VAR and value == "true" and not _nvidia_devices():
            continue
        config[key] = value
    config.update(env_file(USER_CONFIG))
    return config


def _nvidia_devices():
    return any(name.startswith("nvidia") for name in os.listdir(awsapi.root_path("/dev")))


def check_config(config):
    if config.get("ECS_EXTERNAL") != "true":
        raise Terminal("the lab agent runs in external mode only: set ECS_EXTERNAL=true")
    if not config.get("AWS_DEFAULT_REGION"):
        raise Terminal("AWS_DEFAULT_REGION must be set when ECS_EXTERNAL is true")


def duration(text, default):
    """Seconds of a Go duration as the agent's config takes them ("30s", "1h30m"); `default` when unset."""
    match = DURATION.match(text or "")
    if not text or not match or not any(match.groupdict().values()):
        return default
    parts = match.groupdict()
    return int(parts["h"] or 0) * 3600 + int(parts["m"] or 0) * 60 + float(parts["s"] or 0)


# ---- ecs-init: Docker and the 169.254.170.2 plumbing ----

# (table, chain, rule) as ecs-init's iptables.go sets them up (aws/amazon-ecs-agent, ecs-init/exec/iptables).
NAT_RULES = (
    ("nat", "PREROUTING", ["-d", f"{TASK_ENDPOINT}/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
                           "-j", "DNAT", "--to-destination", f"127.0.0.1:{CREDENTIALS_PORT}"]),
    ("nat", "OUTPUT", ["-d", f"{TASK_ENDPOINT}/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
                       "-j", "REDIRECT", "--to-ports", str(CREDENTIALS_PORT)]),
    # Only the host itself may reach the introspection API and, unless DNAT'd, the credentials port.
    ("filter", "INPUT", ["!", "-s", "127.0.0.0/8", "-d", "127.0.0.0/8", "-p", "tcp", "-m", "tcp",
                         "--dport", str(CREDENTIALS_PORT), "-m", "conntrack", "!", "--ctstate",
                         "RELATED,ESTABLISHED,DNAT", "-j", "DROP"]),
    ("filter", "INPUT", ["!", "-i", "lo", "-p", "tcp", "-m", "tcp", "--dport", str(INTROSPECTION[1]), "-j", "DROP"]),
)


def wait_for_docker(url, timeout):
    """ecs-init waits for the Docker daemon before it starts the agent (and gives up after a while)."""
    path = url.split("://", 1)[-1]
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(path)
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def _iptables(table, action, chain, rule):
    return subprocess.run(["iptables", "-w", "-t", table, action, chain, *rule], capture_output=True, text=True)


def pre_start(config):
    docker_url = config.get("DOCKER_HOST") or DOCKER_SOCKET
    if not wait_for_docker(docker_url, 60):
        print(f"Docker is not answering at {docker_url}", file=sys.stderr)
        return 1
    for name in ("all", "docker0"):
        path = f"/proc/sys/net/ipv4/conf/{name}/route_localnet"
        if os.path.exists(path):
            with open(path, "w") as handle:
                handle.write("1\n")
    for table, chain, rule in NAT_RULES:
        if _iptables(table, "-C", chain, rule).returncode != 0:
            added = _iptables(table, "-A", chain, rule)
            if added.returncode != 0:
                print(f"iptables -t {table} -A {chain}: {added.stderr.strip()}", file=sys.stderr)
                return 1
    return 0


def post_stop():
    for table, chain, rule in NAT_RULES:
        while _iptables(table, "-C", chain, rule).returncode == 0:
            _iptables(table, "-D", chain, rule)
    return 0


# ---- containers ----

def container_command(definition, overrides):
    for override in (overrides or {}).get("containerOverrides", []):
        if override.get("name") == definition["name"] and override.get("command"):
            return override["command"]
    return definition.get("command") or None


def container_environment(definition, overrides):
    environment = {item["name"]: item.get("value", "") for item in definition.get("environment", [])}
    for override in (overrides or {}).get("containerOverrides", []):
        if override.get("name") == definition["name"]:
            environment.update({item["name"]: item.get("value", "") for item in override.get("environment", [])})
    return environment


def docker_reason(prefix, error):
    """`<prefix>: <what dockerd said>`, as the agent words it, capped at REASON_LIMIT characters."""
    explanation = getattr(error, "explanation", None) or str(error)
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    text = f"{prefix}: Error response from daemon: {explanation}"
    return text[:REASON_LIMIT]


def split_image(image):
    """(repository, tag or digest) of an image reference; "latest" when it names neither."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
        return repository, tag
    return image, "latest"


def create_options(agent, local, definition, container, network_mode):
    """docker create arguments for one container, as the real agent fills the Engine API's create call."""
    task_id = local["Arn"].rsplit("/", 1)[-1]
    environment = container_environment(definition, local["Overrides"])
    environment["ECS_CONTAINER_METADATA_URI_V4"] = f"http://{TASK_ENDPOINT}/v4/{container['MetadataId']}"
    environment["ECS_CONTAINER_METADATA_URI"] = f"http://{TASK_ENDPOINT}/v3/{container['MetadataId']}"
    if local.get("CredentialsId"):
        environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = f"/v2/credentials/{local['CredentialsId']}"
    options = {
        "image": definition["image"], "name": container["DockerName"], "detach": True,
        "command": container_command(definition, local["Overrides"]), "entrypoint": definition.get("entryPoint"),
        "environment": environment, "working_dir": definition.get("workingDirectory"),
        "labels": {
            "com.amazonaws.ecs.cluster": agent.cluster,
            "com.amazonaws.ecs.container-name": definition["name"],
            "com.amazonaws.ecs.task-arn": local["Arn"],
            "com.amazonaws.ecs.task-definition-family": local["Family"],
            "com.amazonaws.ecs.task-definition-version": local["Version"],
            **(definition.get("dockerLabels") or {}),
        },
        # cpu units are CPU shares; the kernel's minimum is 2 (the agent's minimumCPUShare).
        "cpu_shares": max(int(definition.get("cpu") or 0), 2),
        "network_mode": "host" if network_mode == "host" else "bridge",
    }
    if definition.get("memory"):
        options["mem_limit"] = f"{int(definition['memory'])}m"
    if definition.get("memoryReservation"):
        options["mem_reservation"] = f"{int(definition['memoryReservation'])}m"
    if network_mode != "host":
        ports = {}
        for mapping in definition.get("portMappings", []):
            key = f"{mapping['containerPort']}/{mapping.get('protocol', 'tcp')}"
            ports[key] = mapping.get("hostPort") or None  # None: Docker picks a port from its ephemeral range
        options["ports"] = ports
        options["hostname"] = None
    if (definition.get("linuxParameters") or {}).get("initProcessEnabled"):
        options["init"] = True
    log_config = definition.get("logConfiguration")
    if log_config:
        options["log_config"] = {"type": log_config["logDriver"],
                                 "config": awslogs_options(agent, local, definition, log_config, task_id)}
    return options


def awslogs_options(agent, local, definition, log_config, task_id):
    """The driver's options; for awslogs, the agent adds the stream name and where dockerd gets credentials."""
    options = dict(log_config.get("options") or {})
    if log_config["logDriver"] != "awslogs":
        return options
    prefix = options.pop("awslogs-stream-prefix", None)
    if prefix:
        options["awslogs-stream"] = f"{prefix}/{definition['name']}/{task_id}"
    options.setdefault("awslogs-region", agent.region)
    if agent.logs_endpoint and "awslogs-endpoint" not in options:
        options["awslogs-endpoint"] = agent.logs_endpoint
    if local.get("CredentialsId"):
        # Without an execution role dockerd has no credentials: the real "NoCredentialProviders" failure.
        options["awslogs-credentials-endpoint"] = f"/v2/credentials/{local['CredentialsId']}"
    return options


class Tasks:
    """The agent's tasks: one thread each drives pull, create, start, watch, stop and clean-up."""

    def __init__(self, agent):
        self.agent = agent
        self.lock = threading.RLock()
        self.threads = {}

    def reconcile(self, server_tasks):
        for task in server_tasks:
            arn = task["taskArn"]
            with self.lock:
                local = self.agent.data["Tasks"].get(arn)
                if local is None:
                    if task.get("lastStatus") == "STOPPED":
                        continue
                    # A task stopped before the agent picked it up is taken all the same and goes straight to
                    # STOPPED, reported as any stop is (the real engine adds every new task and moves it to its
                    # desired status: aws/amazon-ecs-agent, agent/engine/docker_task_engine.go, AddTask); else ECS
                    # would keep it PENDING and its service deployment would never complete.
                    local = self.adopt(task)
                local["DesiredStatus"] = task.get("desiredStatus", local["DesiredStatus"])
                if task.get("executionRoleCredentials"):
                    self.agent.remember_credentials(task["executionRoleCredentials"])
            self.ensure_thread(local)
            # A state the endpoint did not take is sent again, as the real agent keeps unsent events queued
            # until they are sent (aws/amazon-ecs-agent, agent/eventhandler/task_handler_types.go).
            if local["KnownStatus"] != "PENDING" and local["Reported"] != local["KnownStatus"]:
                self.report(local)
        self.agent.save()

    def adopt(self, task):
        definition = task["taskDefinition"]
        credentials = task.get("executionRoleCredentials") or {}
        local = {
            "Arn": task["taskArn"], "Family": definition.get("family", ""),
            "Version": str(definition.get("revision", "")), "DesiredStatus": "RUNNING", "KnownStatus": "PENDING",
            "Reported": None, "Reason": "", "Overrides": task.get("overrides") or {},
            "NetworkMode": definition.get("networkMode") or "bridge", "CredentialsId": credentials.get("credentialsId"),
            "Definitions": definition.get("containerDefinitions", []), "StoppedAt": None, "CleanedUp": False,
            "Containers": [{
                "Name": c["name"], "DockerId": "", "Essential": c.get("essential", True),
                "DockerName": f"ecs-{definition.get('family', '')}-{definition.get('revision', '')}-{c['name']}-"
                              f"{secrets.token_hex(10)}",
                "Image": c.get("image", ""), "ImageId": "", "KnownStatus": "PENDING", "ExitCode": None, "Ports": [],
                "Reason": "", "MetadataId": str(uuid.uuid4()), "StartedAt": None, "FinishedAt": None,
            } for c in definition.get("containerDefinitions", [])],
        }
        self.agent.data["Tasks"][local["Arn"]] = local
        self.agent.log.info("task %s picked up (%d containers)", local["Arn"], len(local["Containers"]))
        return local

    def ensure_thread(self, local):
        with self.lock:
            thread = self.threads.get(local["Arn"])
            if (thread and thread.is_alive()) or local["CleanedUp"]:
                return
            thread = threading.Thread(target=self.drive, args=(local,), name=local["Arn"].rsplit("/", 1)[-1],
                                      daemon=True)
            self.threads[local["Arn"]] = thread
        thread.start()

    def resume(self):
        """After a restart: the saved tasks' threads pick up where the containers are."""
        with self.lock:
            saved = list(self.agent.data["Tasks"].values())
        for local in saved:
            self.ensure_thread(local)

    # -- the life of one task, in its own thread --

    def drive(self, local):
        try:
            if local["KnownStatus"] == "PENDING":
                if local["DesiredStatus"] == "STOPPED":
                    self.finish(local, "")
                else:
                    self.start(local)
            while local["KnownStatus"] == "RUNNING" and not hostinfo.STOP.is_set():
                self.watch(local)
                hostinfo.wait(WATCH_SECONDS)
            if local["KnownStatus"] == "STOPPED":
                self.clean_up_later(local)
        except Exception as error:  # the task must end STOPPED, whatever broke
            self.agent.log.exception("task %s: %s", local["Arn"], error)
            self.remove_containers(local)
            self.finish(local, f"CannotStartContainerError: {error}"[:REASON_LIMIT])

    def start(self, local):
        engine = self.agent.engine
        created = []
        self.remove_containers(local)  # what an agent stopped half-way through a start had created
        try:
            for container, definition in zip(local["Containers"], local["Definitions"]):
                self.pull(local, definition)
            for container, definition in zip(local["Containers"], local["Definitions"]):
                options = create_options(self.agent, local, definition, container, local["NetworkMode"])
                try:
                    handle = engine.containers.create(**options)
                except self.agent.docker_errors.APIError as error:
                    raise TaskError(docker_reason("CannotCreateContainerError", error)) from None
                container["DockerId"] = handle.id
                created.append((container, handle))
                self.agent.save()
            for container, handle in created:
                try:
                    handle.start()
                except self.agent.docker_errors.APIError as error:
                    container["Reason"] = docker_reason("CannotStartContainerError", error)
                    raise TaskError(container["Reason"]) from None
                handle.reload()
                container["KnownStatus"], container["StartedAt"] = "RUNNING", handle.attrs["State"].get("StartedAt")
                container["ImageId"] = handle.attrs.get("Image", "")
                container["Ports"] = bindings(handle.attrs, local["NetworkMode"], local["Definitions"], container)
        except TaskError as error:
            self.agent.log.warning("task %s failed to start: %s", local["Arn"], error)
            for container in local["Containers"]:
                container["Reason"] = container["Reason"] or str(error)
            self.remove_containers(local)
            self.finish(local, str(error))
            return
        with self.lock:
            local["KnownStatus"] = "RUNNING"
        self.agent.log.info("task %s RUNNING", local["Arn"])
        self.report(local)

    def pull(self, local, definition):
        image = definition["image"]
        repository, tag = split_image(image)
        auth = self.agent.registry_auth(image, local.get("CredentialsId"))
        try:
            self.agent.engine.api.pull(repository, tag=tag, auth_config=auth)
        except self.agent.docker_errors.APIError as error:
            raise TaskError(docker_reason("CannotPullContainerError", error)) from None
        except awsapi.ApiError as error:
            raise TaskError(f"CannotPullContainerError: {error}"[:REASON_LIMIT]) from None

    def watch(self, local):
        """Inspect the containers; an exited essential one (or desiredStatus STOPPED) stops the task."""
        errors = self.agent.docker_errors
        exited_essential = False
        for container in local["Containers"]:
            if container["KnownStatus"] != "RUNNING":
                continue
            try:
                state = self.agent.engine.api.inspect_container(container["DockerId"])["State"]
            except errors.NotFound:
                state = {"Running": False, "ExitCode": None, "FinishedAt": None}
            if not state.get("Running"):
                self.exited(container, state)
                exited_essential = exited_essential or container["Essential"]
        if exited_essential:
            self.stop(local, "Essential container in task exited")
        elif local["DesiredStatus"] == "STOPPED":
            self.stop(local, "")
        elif all(c["KnownStatus"] == "STOPPED" for c in local["Containers"]):
            self.finish(local, "")

    def exited(self, container, state):
        container["KnownStatus"], container["ExitCode"] = "STOPPED", state.get("ExitCode")
        container["FinishedAt"] = state.get("FinishedAt")
        if state.get("OOMKilled"):
            container["Reason"] = "OutOfMemoryError: Container killed due to memory usage"
        self.agent.log.info("container %s exited with %s", container["DockerName"], container["ExitCode"])

    def stop(self, local, reason):
        timeout = duration(self.agent.config.get("ECS_CONTAINER_STOP_TIMEOUT"), 30)
        for container in local["Containers"]:
            if container["KnownStatus"] == "RUNNING" and container["DockerId"]:
                try:
                    self.agent.engine.api.stop(container["DockerId"], timeout=int(timeout))
                    state = self.agent.engine.api.inspect_container(container["DockerId"])["State"]
                except self.agent.docker_errors.NotFound:
                    state = {"ExitCode": None}
                self.exited(container, state)
        self.finish(local, reason)

    def finish(self, local, reason):
        with self.lock:
            for container in local["Containers"]:
                if container["KnownStatus"] != "STOPPED":
                    container["KnownStatus"] = "STOPPED"
            local["KnownStatus"], local["Reason"] = "STOPPED", reason
            local["StoppedAt"] = time.time()
        self.agent.log.info("task %s STOPPED %s", local["Arn"], reason)
        self.agent.save()
        self.report(local)

    def clean_up_later(self, local):
        """Stopped containers stay for ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION (their logs, `docker ps -a`)."""
        wait = duration(self.agent.config.get("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION"), 3 * 3600)
        remaining = (local["StoppedAt"] or time.time()) + wait - time.time()
        if remaining > 0 and hostinfo.wait(remaining):
            return
        self.remove_containers(local)
        with self.lock:
            local["CleanedUp"] = True
            self.agent.data["Tasks"].pop(local["Arn"], None)
        self.agent.forget_credentials(local.get("CredentialsId"))
        self.agent.save()

    def remove_containers(self, local):
        for container in local["Containers"]:
            if container["DockerId"]:
                try:
                    self.agent.engine.api.remove_container(container["DockerId"], force=True)
                except self.agent.docker_errors.NotFound:
                    pass

    def report(self, local):
        with self.lock:
            if local["Reported"] == local["KnownStatus"]:
                return
            status = local["KnownStatus"]
        try:
            self.agent.submit_task_state(local)
        except awsapi.ApiError as error:
            self.agent.log.warning("task %s: state %s not reported (%s); retried on the next poll",
                                   local["Arn"], status, error)
            return
        with self.lock:
            local["Reported"] = status

    # -- views --

    def find(self, metadata_id):
        with self.lock:
            for local in self.agent.data["Tasks"].values():
                for container in local["Containers"]:
                    if container["MetadataId"] == metadata_id:
                        return local, container
        return None, None

    def introspection(self, arn=None, docker_id=None):
        with self.lock:
            tasks = [dict(t, Containers=[dict(c) for c in t["Containers"]]) for t in self.agent.data["Tasks"].values()]
        views = [{
            "Arn": t["Arn"], "DesiredStatus": t["DesiredStatus"], "KnownStatus": t["KnownStatus"],
            "Family": t["Family"], "Version": t["Version"],
            "Containers": [{"DockerId": c["DockerId"], "DockerName": c["DockerName"], "Name": c["Name"],
                            "Ports": [{"ContainerPort": p["containerPort"], "HostPort": p["hostPort"],
                                       "Protocol": p["protocol"]} for p in c["Ports"]]}
                           for c in t["Containers"]],
        } for t in tasks]
        if arn is not None:
            return next((v for v in views if v["Arn"] == arn), None)
        if docker_id is not None:
            return next((v for v in views if any(c["DockerId"] == docker_id for c in v["Containers"])), None)
        return {"Tasks": views}

    def metadata(self, metadata_id, whole_task):
        """Task metadata endpoint v4 (the fields the lab fills; AWS's reference has more)."""
        local, container = self.find(metadata_id)
        if local is None:
            return None
        with self.lock:
            views = [self.container_metadata(local, c) for c in local["Containers"]]
            task = {"Cluster": self.agent.cluster, "TaskARN": local["Arn"], "Family": local["Family"],
                    "Revision": local["Version"], "DesiredStatus": local["DesiredStatus"],
                    "KnownStatus": local["KnownStatus"], "LaunchType": "EXTERNAL", "Containers": views}
        if whole_task:
            return task
        return next(v for v in views if v["Name"] == container["Name"])

    def container_metadata(self, local, container):
        return {"DockerId": container["DockerId"], "Name": container["Name"], "DockerName": container["DockerName"],
                "Image": container["Image"], "ImageID": container["ImageId"], "DesiredStatus": local["DesiredStatus"],
                "KnownStatus": container["KnownStatus"], "ExitCode": container["ExitCode"],
                "Labels": {"com.amazonaws.ecs.cluster": self.agent.cluster, "com.amazonaws.ecs.task-arn": local["Arn"],
                           "com.amazonaws.ecs.container-name": container["Name"]},
                "Ports": [{"ContainerPort": p["containerPort"], "Protocol": p["protocol"], "HostPort": p["hostPort"],
                           "HostIp": p["bindIP"]} for p in container["Ports"]],
                "Type": "NORMAL"}


def bindings(attrs, network_mode, definitions, container):
    """networkBindings from what Docker bound (bridge), or the mappings themselves (host mode)."""
    definition = next(d for d in definitions if d["name"] == container["Name"])
    if network_mode == "host":
        return [{"bindIP": "0.0.0.0", "containerPort": m["containerPort"],
                 "hostPort": m.get("hostPort") or m["containerPort"], "protocol": m.get("protocol", "tcp")}
                for m in definition.get("portMappings", [])]
    found = []
    for key, host_bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items():
        port, protocol = key.split("/")
        for binding in host_bindings or []:
            if ":" in binding.get("HostIp", ""):
                continue  # IPv6 twins of the same binding
            found.append({"bindIP": binding.get("HostIp") or "0.0.0.0", "containerPort": int(port),
                          "hostPort": int(binding["HostPort"]), "protocol": protocol})
    return sorted(found, key=lambda b: (b["containerPort"], b["protocol"]))


# ---- the agent ----

class Agent:
    def __init__(self, config, log):
        import docker  # python3-docker, a dependency of the package
        import docker.errors

        self.config = config
        self.log = log
        self.region = config["AWS_DEFAULT_REGION"]
        self.cluster = config.get("ECS_CLUSTER") or "default"
        self.endpoint = awsapi.endpoint_url(config.get("ECS_BACKEND_HOST", ""), "ecs", self.region)
        # Lab convention: the lab endpoint also serves CloudWatch Logs; on AWS dockerd finds the regional one.
        self.logs_endpoint = self.endpoint if config.get("ECS_BACKEND_HOST") else ""
        self.ecs = awsapi.Client(self.endpoint, self.region, "ecs", self.credentials)
        self.docker_errors = docker.errors
        self.engine = docker.DockerClient(base_url=config.get("DOCKER_HOST") or DOCKER_SOCKET, timeout=120)
        self.data = awsapi.read_json(DATA) or {}
        self.data.setdefault("Tasks", {})
        self.task_credentials = {}
        self.tasks = Tasks(self)
        self.save_lock = threading.Lock()

    def credentials(self):
        return awsapi.shared_credentials(CREDENTIALS)

    def save(self):
        with self.tasks.lock:
            text = json.dumps(self.data, indent=1)
        with self.save_lock:
            awsapi.write_atomically(DATA, text)

    def interval(self, name, default):
        return float(self.config.get(name) or default)

    def remember_credentials(self, credentials):
        with self.tasks.lock:
            self.task_credentials[credentials["credentialsId"]] = credentials

    def forget_credentials(self, credentials_id):
        with self.tasks.lock:
            self.task_credentials.pop(credentials_id, None)

    def registry_auth(self, image, credentials_id):
        """ECR images: a GetAuthorizationToken with the execution role (else the instance) credentials."""
        match = ECR_IMAGE.match(image)
        if not match:
            return None
        with self.tasks.lock:
            role = self.task_credentials.get(credentials_id) if credentials_id else None
        if role:
            credentials = {"access_key": role["AccessKeyId"], "secret_key": role["SecretAccessKey"],
                           "token": role["Token"]}
        else:
            credentials = self.credentials()
        ecr = awsapi.Client(self.endpoint, match["region"], "ecr", lambda: credentials)
        answer = ecr.call("GetAuthorizationToken", {"registryIds": [match["registry"]]})
        token = base64.b64decode(answer["authorizationData"][0]["authorizationToken"]).decode()
        username, _, password = token.partition(":")
        return {"username": username, "password": password}

    def wait_for_credentials(self):
        while not self.credentials():
            self.log.info("waiting for instance credentials in %s (written by amazon-ssm-agent)", CREDENTIALS)
            if hostinfo.wait(2):
                return False
        return True

    def register(self):
        saved_cluster = self.data.get("Cluster")
        if saved_cluster and saved_cluster != self.cluster:
            raise Terminal(f"Data mismatch; saved cluster '{saved_cluster}' does not match configured cluster "
                           f"'{self.cluster}'. Perhaps you want to delete the configured checkpoint file?")
        docker_version = self.engine.version().get("Version", "unknown")
        request = {
            "cluster": self.cluster, "totalResources": self.resources(), "attributes": self.attributes(),
            "versionInfo": {"agentVersion": VERSION, "agentHash": "lab" + VERSION.replace(".", ""),
                            "dockerVersion": f"DockerVersion: {docker_version}"},
        }
        ssm = awsapi.read_json(SSM_REGISTRATION) or {}
        if ssm.get("instanceID"):
            request["instanceIdentityDocument"] = json.dumps({"instanceId": ssm["instanceID"], "region": self.region})
        if self.data.get("ContainerInstanceArn"):
            request["containerInstanceArn"] = self.data["ContainerInstanceArn"]
        tags = json.loads(self.config.get("ECS_CONTAINER_INSTANCE_TAGS") or "{}")
        if tags:
            request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        try:
            answer = self.ecs.call("RegisterContainerInstance", request)
        except awsapi.ApiError as error:
            if self.data.get("ContainerInstanceArn") and _inactive(error):
                raise Terminal(f"container instance {self.data['ContainerInstanceArn']} was deregistered ({error}); "
                               f"remove /var/lib/ecs/data to register anew") from None
            raise
        instance = answer["containerInstance"]
        with self.tasks.lock:
            self.data.update(Cluster=self.cluster, ContainerInstanceArn=instance["containerInstanceArn"],
                             EC2InstanceID=instance.get("ec2InstanceId", ssm.get("instanceID", "")))
        self.save()
        self.log.info("registered container instance %s in cluster %s", instance["containerInstanceArn"], self.cluster)

    def resources(self):
        memory_kib = 0
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory_kib = int(line.split()[1])
        memory = memory_kib // 1024 - int(self.config.get("ECS_RESERVED_MEMORY") or 0)
        return [
            {"name": "CPU", "type": "INTEGER", "integerValue": (os.cpu_count() or 1) * 1024},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": RESERVED_PORTS},
            {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
        ]

    def attributes(self):
        attributes = [{"name": name} for name in CAPABILITIES]
        attributes += [{"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": os.uname().machine}]
        if self.config.get(GPU_VAR) == "true":
            attributes.append({"name": "ecs.capability.gpu"})
        custom = json.loads(self.config.get("ECS_INSTANCE_ATTRIBUTES") or "{}")
        attributes += [{"name": k, "value": v} for k, v in custom.items()]
        return attributes

    def heartbeat(self):
        try:
            self.ecs.call("DiscoverPollEndpoint", {"containerInstance": self.data["ContainerInstanceArn"],
                                                   "cluster": self.cluster})
        except awsapi.ApiError as error:
            if _inactive(error):
                raise Terminal(f"container instance {self.data['ContainerInstanceArn']} was deregistered ({error})") from None
            raise

    def poll(self):
        answer = self.ecs.lab_call("/_lab/agent/poll", {"cluster": self.cluster,
                                                         "containerInstance": self.data["ContainerInstanceArn"]})
        self.tasks.reconcile(answer.get("tasks", []))

    def disconnect(self):
        """Tell the endpoint the agent stops (PROTOCOL.md step 6): the real agent's ACS websocket closes when it
        stops, and ECS shows agentConnected false at once. Best effort, as a closing socket is."""
        try:
            self.ecs.lab_call("/_lab/agent/disconnect", {"cluster": self.cluster,
                                                        "containerInstance": self.data["ContainerInstanceArn"]})
        except awsapi.ApiError as error:
            self.log.warning("could not tell the endpoint the agent stops: %s", error)

    def submit_task_state(self, local):
        containers = []
        with self.tasks.lock:
            for c in local["Containers"]:
                entry = {"containerName": c["Name"], "status": c["KnownStatus"], "networkBindings": c["Ports"]}
                if c["DockerId"]:
                    entry["runtimeId"] = c["DockerId"]
                if c["ExitCode"] is not None:
                    entry["exitCode"] = c["ExitCode"]
                if c["Reason"]:
                    entry["reason"] = c["Reason"]
                containers.append(entry)
            request = {"cluster": self.cluster, "task": local["Arn"], "status": local["KnownStatus"],
                       "containers": containers}
            if local["Reason"]:
                request["reason"] = local["Reason"]
        self.ecs.call("SubmitTaskStateChange", request)


def _inactive(error):
    return error.code == "ClientException" and any(hint in error.message for hint in INACTIVE_HINTS)


class JsonHandler(http.server.BaseHTTPRequestHandler):
    agent = None

    def answer(self, body):
        if body is None:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


class Introspection(JsonHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/v1/metadata":
            body = {"Cluster": self.agent.cluster, "ContainerInstanceArn": self.agent.data.get("ContainerInstanceArn"),
                    "Version": f"Amazon ECS Agent - v{VERSION} (lab{VERSION.replace('.', '')})"}
        elif url.path == "/v1/tasks":
            body = self.agent.tasks.introspection(query.get("taskarn"), query.get("dockerid"))
        else:
            body = None
        self.answer(body)


class TaskEndpoint(JsonHandler):
    """169.254.170.2 (DNAT'd to 127.0.0.1:51679): task credentials and task metadata."""

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        body = None
        if len(parts) == 3 and parts[:2] == ["v2", "credentials"]:
            with self.agent.tasks.lock:
                found = self.agent.task_credentials.get(parts[2])
            if found:
                body = {key: found[key] for key in ("RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration")}
        elif len(parts) in (2, 3) and parts[0] in ("v3", "v4") and parts[2:] in ([], ["task"]):
            body = self.agent.tasks.metadata(parts[1], whole_task=parts[2:] == ["task"])
        self.answer(body)


def serve(handler, address):
    server = http.server.ThreadingHTTPServer(address, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_agent(log):
    config = load_config()
    check_config(config)
    agent = Agent(config, log)
    if not agent.wait_for_credentials():
        return 0
    while True:
        try:
            agent.register()
            break
        except (awsapi.ApiError, agent.docker_errors.DockerException) as error:
            log.warning("registration failed, retrying: %s", error)
            if hostinfo.wait(5):
                return 0
    JsonHandler.agent = agent
    servers = [serve(Introspection, (INTROSPECTION[0], int(config.get("ECS_LAB_INTROSPECTION_PORT") or INTROSPECTION[1]))),
               serve(TaskEndpoint, ("127.0.0.1", int(config.get("ECS_LAB_CREDENTIALS_PORT") or CREDENTIALS_PORT)))]
    agent.tasks.resume()
    ping = agent.interval("ECS_LAB_PING_INTERVAL", DEFAULT_PING_SECONDS)
    last_ping = 0.0
    while True:
        try:
            if time.monotonic() - last_ping >= ping:
                agent.heartbeat()
                last_ping = time.monotonic()
            agent.poll()
        except awsapi.ApiError as error:
            log.warning("call failed: %s", error)
        if hostinfo.wait(agent.interval("ECS_LAB_POLL_INTERVAL", DEFAULT_POLL_SECONDS)):
            for server in servers:
                server.shutdown()
            # As amazon-ecs-agent on SIGTERM: save the state, then end the session with ECS.
            agent.save()
            agent.disconnect()
            return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    action = argv[0] if argv else ""
    if action == "pre-start":
        return pre_start(load_config())
    if action == "post-stop":
        return post_stop()
    if action == "stop":
        return 0  # systemd's SIGTERM stops the agent; the task containers keep running, as with the real one
    if action != "start":
        print("usage: amazon-ecs-init start|pre-start|stop|post-stop", file=sys.stderr)
        return 2
    log = hostinfo.setup_logging(LOG, "ecs-agent")
    hostinfo.stop_on_signals()
    log.info("Amazon ECS agent %s (lab stand-in) starting", VERSION)
    try:
        return run_agent(log)
    except Terminal as error:
        log.error("terminal error, not restarting: %s", error)
        return EXIT_TERMINAL


if __name__ == "__main__":
    sys.exit(main())
