"""Stand-in for amazon-ecs-init and the ECS agent it runs (see lab/PROTOCOL.md). No Docker: containers are
simulated.

`/usr/libexec/amazon-ecs-init start` (systemd unit `ecs`) runs the agent in the foreground:
- Configuration is read as the real ecs-init does: /var/lib/ecs/ecs.config (instance config, written by the
  install script) first, then /etc/ecs/ecs.config (the user's), whose keys win. Each line is KEY=VALUE, split
  at the first "="; no quoting, lines without "=" are ignored. ECS_ENABLE_GPU_SUPPORT=true from the instance
  config is dropped when no /dev/nvidia* device exists, as in ecs-init.
- External mode (ECS_EXTERNAL=true) without AWS_DEFAULT_REGION is a terminal error (exit 5). ECS_BACKEND_HOST
  is the ECS endpoint; lab convention: CloudWatch Logs calls go to the same endpoint.
- The container instance ARN is kept in /var/lib/ecs/data/ecs_agent_data.json and reused on restart. A saved
  ARN that the cluster deregistered, or a saved cluster that differs from ECS_CLUSTER, is a terminal error
  until /var/lib/ecs/data is wiped.
- Introspection on 127.0.0.1:51678: /v1/metadata, /v1/tasks (also ?taskarn=ARN, ?dockerid=ID).
- Lab-only keys: ECS_LAB_PING_INTERVAL (s between DiscoverPollEndpoint heartbeats, default 10),
  ECS_LAB_POLL_INTERVAL (s between task polls, default 2), ECS_LAB_INTROSPECTION_PORT (default 51678).

Simulated containers (command = the container override's command, else the definition's):
- ["exit", "N"]            the container exits at once with exit code N;
- ["echo", "word", ...]    it logs the words as one line and exits with 0;
- anything else, or none   it runs until the task is stopped, then exits with 0.
An essential container that exits stops its task ("Essential container in task exited"). Containers with the
awslogs driver write "[lab] …" lines (start, echo text, exit) to the stream <prefix>/<container>/<task-id>.
"""
import http.server
import json
import logging
import os
import secrets
import sys
import threading
import time
import urllib.parse

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
EXIT_TERMINAL = 5  # the real agent's "do not restart me" exit code
GPU_VAR = "ECS_ENABLE_GPU_SUPPORT"
RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"]
CAPABILITIES = [
    "ecs.capability.external", "com.amazonaws.ecs.capability.logging-driver.awslogs",
    "com.amazonaws.ecs.capability.logging-driver.json-file", "com.amazonaws.ecs.capability.logging-driver.none",
    "ecs.capability.execution-role-awslogs", "com.amazonaws.ecs.capability.task-iam-role",
    "com.amazonaws.ecs.capability.docker-remote-api.1.17", "com.amazonaws.ecs.capability.docker-remote-api.1.32",
]
# Lab only: how often the agent reports (DiscoverPollEndpoint) and polls for tasks.
DEFAULT_PING_SECONDS = 10
DEFAULT_POLL_SECONDS = 2
INACTIVE_HINTS = ("not ACTIVE", "INACTIVE", "inactive")


class Terminal(Exception):
    """A condition the real agent treats as terminal: exit 5, and systemd does not restart it."""


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


# ---- simulated containers ----

def container_command(definition, overrides):
    for override in (overrides or {}).get("containerOverrides", []):
        if override.get("name") == definition["name"] and override.get("command"):
            return override["command"]
    return definition.get("command") or []


def outcome(command):
    """(exit code or None while it keeps running, the lines it logs) for a simulated command."""
    if command[:1] == ["exit"]:
        try:
            return int(command[1]) if len(command) > 1 else 0, []
        except ValueError:
            return 2, [f"exit: illegal number: {command[1]}"]
    if command[:1] == ["echo"]:
        return 0, [" ".join(command[1:])]
    return None, []


class Tasks:
    """The agent's view of its tasks; persisted with the agent data so simulated containers survive restarts."""

    def __init__(self, agent):
        self.agent = agent
        self.lock = threading.Lock()
        self.next_port = 32768

    def reconcile(self, server_tasks):
        for task in server_tasks:
            arn = task["taskArn"]
            local = self.agent.data["Tasks"].get(arn)
            if local is None and task.get("desiredStatus") == "RUNNING" and task.get("lastStatus") != "STOPPED":
                local = self.start(task)
            if local is None:
                continue
            local["DesiredStatus"] = task.get("desiredStatus", local["DesiredStatus"])
            self.report(local)  # RUNNING first, even when a container exits at once, as a real task does
            self.settle(local)
            if local["DesiredStatus"] == "STOPPED" and local["KnownStatus"] != "STOPPED":
                self.stop(local, reason="")
            self.report(local)
        self.agent.save()

    def start(self, task):
        definition = task["taskDefinition"]
        local = {
            "Arn": task["taskArn"], "Family": definition.get("family", ""),
            "Version": str(definition.get("revision", "")), "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
            "Reported": None, "Reason": "", "Containers": [],
        }
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        for definition_container in definition.get("containerDefinitions", []):
            name = definition_container["name"]
            command = container_command(definition_container, task.get("overrides"))
            container = {
                "Name": name, "DockerId": secrets.token_hex(32), "Essential": definition_container.get("essential", True),
                "DockerName": f"ecs-{local['Family']}-{local['Version']}-{name}-{secrets.token_hex(8)}",
                "Image": definition_container.get("image", ""), "KnownStatus": "RUNNING", "ExitCode": None,
                "Ports": self.bindings(definition_container, definition.get("networkMode", "bridge")),
                "Logs": self.agent.log_target(definition_container, task_id), "Reason": "",
            }
            container["PendingExit"], lines = outcome(command)
            local["Containers"].append(container)
            self.agent.write_logs(container, [f"[lab] container {name} started from image {container['Image']}"] + lines)
        with self.lock:
            self.agent.data["Tasks"][local["Arn"]] = local
        self.agent.log.info("task %s started (%d containers)", local["Arn"], len(local["Containers"]))
        return local

    def settle(self, local):
        """Let containers whose command ends do so; an essential one ending stops the task."""
        ending = [c for c in local["Containers"] if c["KnownStatus"] == "RUNNING" and c.get("PendingExit") is not None]
        for container in ending:
            self.exit(container, container["PendingExit"])
        if any(c["Essential"] for c in ending) and local["KnownStatus"] != "STOPPED":
            self.stop(local, reason="Essential container in task exited")

    def bindings(self, container, network_mode):
        bindings = []
        for mapping in container.get("portMappings", []):
            host_port = mapping.get("hostPort") or (mapping.get("containerPort") if network_mode == "host" else 0)
            if not host_port:
                host_port, self.next_port = self.next_port, self.next_port + 1
            bindings.append({"bindIP": "0.0.0.0", "containerPort": mapping.get("containerPort"),
                             "hostPort": host_port, "protocol": mapping.get("protocol", "tcp")})
        return bindings

    def exit(self, container, code):
        container["KnownStatus"], container["ExitCode"] = "STOPPED", code
        self.agent.write_logs(container, [f"[lab] container {container['Name']} exited with code {code}"])

    def stop(self, local, reason):
        for container in local["Containers"]:
            if container["KnownStatus"] != "STOPPED":
                self.exit(container, 0)
        with self.lock:
            local["KnownStatus"], local["Reason"] = "STOPPED", reason
        self.agent.log.info("task %s stopped %s", local["Arn"], reason)

    def report(self, local):
        if local["Reported"] == local["KnownStatus"]:
            return
        self.agent.submit_task_state(local)
        local["Reported"] = local["KnownStatus"]

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


# ---- the agent ----

class Agent:
    def __init__(self, config, log):
        self.config = config
        self.log = log
        self.region = config["AWS_DEFAULT_REGION"]
        self.cluster = config.get("ECS_CLUSTER") or "default"
        self.endpoint = awsapi.endpoint_url(config.get("ECS_BACKEND_HOST", ""), "ecs", self.region)
        self.ecs = awsapi.Client(self.endpoint, self.region, "ecs", self.credentials)
        self.data = awsapi.read_json(DATA) or {}
        self.data.setdefault("Tasks", {})
        self.tasks = Tasks(self)

    def credentials(self):
        return awsapi.shared_credentials(CREDENTIALS)

    def save(self):
        with self.tasks.lock:
            text = json.dumps(self.data, indent=1)
        awsapi.write_atomically(DATA, text)

    def interval(self, name, default):
        return float(self.config.get(name) or default)

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
        request = {
            "cluster": self.cluster, "totalResources": self.resources(), "attributes": self.attributes(),
            "versionInfo": {"agentVersion": VERSION, "agentHash": "lab" + VERSION.replace(".", ""),
                            "dockerVersion": "DockerVersion: simulated (fleetops lab)"},
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

    def submit_task_state(self, local):
        containers = []
        for c in local["Containers"]:
            entry = {"containerName": c["Name"], "status": c["KnownStatus"], "runtimeId": c["DockerId"],
                     "networkBindings": c["Ports"]}
            if c["ExitCode"] is not None:
                entry["exitCode"] = c["ExitCode"]
            if c["Reason"]:
                entry["reason"] = c["Reason"]
            containers.append(entry)
        request = {"cluster": self.cluster, "task": local["Arn"], "status": local["KnownStatus"], "containers": containers}
        if local["Reason"]:
            request["reason"] = local["Reason"]
        self.ecs.call("SubmitTaskStateChange", request)

    # ---- awslogs ----

    def log_target(self, container, task_id):
        logging_config = container.get("logConfiguration") or {}
        if logging_config.get("logDriver") != "awslogs":
            return None
        options = logging_config.get("options", {})
        prefix = options.get("awslogs-stream-prefix")
        return {
            "group": options.get("awslogs-group", ""), "region": options.get("awslogs-region", self.region),
            "stream": f"{prefix}/{container['name']}/{task_id}" if prefix else None,
            "create_group": options.get("awslogs-create-group") == "true", "ready": False,
        }

    def write_logs(self, container, lines):
        target = container["Logs"]
        if not target or not lines:
            return
        logs = awsapi.Client(self.endpoint, target["region"], "logs", self.credentials)
        stream = target["stream"] or container["DockerId"]
        try:
            if not target["ready"]:
                if target["create_group"]:
                    _ignore(logs, "CreateLogGroup", {"logGroupName": target["group"]})
                _ignore(logs, "CreateLogStream", {"logGroupName": target["group"], "logStreamName": stream})
                target["ready"] = True
            now = int(time.time() * 1000)
            logs.call("PutLogEvents", {"logGroupName": target["group"], "logStreamName": stream,
                                       "logEvents": [{"timestamp": now, "message": line} for line in lines]})
        except awsapi.ApiError as error:
            self.log.warning("awslogs for container %s: %s", container["Name"], error)


def _ignore(client, operation, payload):
    try:
        client.call(operation, payload)
    except awsapi.ApiError as error:
        if error.code != "ResourceAlreadyExistsException":
            raise


def _inactive(error):
    return error.code == "ClientException" and any(hint in error.message for hint in INACTIVE_HINTS)


class Introspection(http.server.BaseHTTPRequestHandler):
    agent = None

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
        except awsapi.ApiError as error:
            log.warning("registration failed, retrying: %s", error)
            if hostinfo.wait(5):
                return 0
    Introspection.agent = agent
    address = (INTROSPECTION[0], int(config.get("ECS_LAB_INTROSPECTION_PORT") or INTROSPECTION[1]))
    server = http.server.ThreadingHTTPServer(address, Introspection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
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
            server.shutdown()
            return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    action = argv[0] if argv else ""
    if action in ("pre-start", "stop", "post-stop"):
        return 0  # no Docker to prepare or clean up in the lab
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
