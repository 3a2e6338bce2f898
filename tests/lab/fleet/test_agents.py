"""The agent stand-ins' own behaviour, run from source on this machine against the in-process lab endpoint.

Each agent runs as a subprocess with LAB_AGENT_ROOT pointing at a temporary directory, so the host paths it
uses (/etc/ecs, /var/lib/amazon/ssm/…, /root/.aws/credentials) live there. The ECS agent's introspection
server binds a port of this machine's 127.0.0.1 while it runs.
"""
import datetime
import http.server
import json
import logging
import os
import signal
import socketserver
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lab.fleet import config
from lab.fleet.testing import wait_for

SOURCES = Path(__file__).resolve().parents[3] / "lab" / "agents" / "src"
sys.path.insert(0, str(SOURCES))
import awsapi  # noqa: E402  (the agents import their modules flat, as installed on a host)
import ecs_agent  # noqa: E402

CLUSTER = "agents"
# Not 51678/51679: on this shared machine they are in the ephemeral range and may be held by a client socket. One
# pair per lab id, so that the agents of two workers' tests (tests/conftest.py) do not take each other's ports.
INTROSPECTION_PORT = 29678 + 2 * config.LAB_ID
CREDENTIALS_PORT = INTROSPECTION_PORT + 1


@pytest.fixture
def host_root(tmp_path, monkeypatch):
    """A fake host root for the agents, with the agent_version module the package build would add."""
    (tmp_path / "dev").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "agent_version.py").write_text('VERSION = "9.8.7"\n')
    monkeypatch.setenv("LAB_AGENT_ROOT", str(tmp_path))
    return tmp_path


def agent_env(root):
    return dict(os.environ, LAB_AGENT_ROOT=str(root), PYTHONPATH=f"{root / 'lib'}{os.pathsep}{SOURCES}",
                PYTHONDONTWRITEBYTECODE="1")


def ssm_agent(root, *args, timeout=60):
    return subprocess.run([sys.executable, "-P", str(SOURCES / "ssm_agent.py"), *args], env=agent_env(root),
                          capture_output=True, text=True, timeout=timeout)


def start_service(root, script, *args):
    return subprocess.Popen([sys.executable, "-P", str(SOURCES / script), *args], env=agent_env(root),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_service(process):
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def write(root, path, text):
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_sigv4_signature_matches_botocore():
    credentials = {"access_key": "AKIDEXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                   "token": "session-token"}
    url, body = "http://10.213.0.1:4566/_lab/agent/poll?b=2&a=x%20y", b'{"cluster": "c"}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.UpdateInstanceInformation"}
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials("AKIDEXAMPLE", credentials["secret_key"], "session-token"), "ssm", "eu-west-1").add_auth(request)
    # botocore signs at the current time; sign ours at the same moment.
    when = datetime.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    ours = awsapi.sign("POST", url, headers, body, credentials, "eu-west-1", "ssm", now=when)
    assert ours["authorization"] == request.headers["Authorization"]


def test_ssm_register_refuse_override_clear_and_version(lab_aws, host_root):
    write(host_root, "/etc/amazon/ssm/amazon-ssm-agent.json", json.dumps({"Ssm": {"Endpoint": lab_aws.url}}))
    activation = lab_aws.create_activation(registration_limit=2)
    args = ("-register", "-code", activation["ActivationCode"], "-id", activation["ActivationId"], "-region", "us-east-1")
    registered = ssm_agent(host_root, *args)
    assert registered.returncode == 0, registered.stderr
    key_file = host_root / "var/lib/amazon/ssm/Vault/Store/RegistrationKey"
    key = json.loads(key_file.read_text())
    assert key["region"] == "us-east-1" and key["instanceID"] in registered.stdout
    listed = lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [key["instanceID"]]

    again = ssm_agent(host_root, *args)  # no -y and no terminal to confirm on
    assert again.returncode == 1 and "already registered" in again.stderr
    assert json.loads(key_file.read_text()) == key

    wrong = ssm_agent(host_root, "-register", "-code", "not-the-code", "-id", activation["ActivationId"],
                      "-region", "us-east-1", "-y")
    assert wrong.returncode == 1 and "InvalidActivation" in wrong.stderr
    # As amazon-ssm-agent: the vault was emptied before the call, so the failed -y leaves the host unregistered.
    assert json.loads(key_file.read_text())["instanceID"] == ""

    assert ssm_agent(host_root, "-clear").returncode == 0
    assert not key_file.exists()
    assert ssm_agent(host_root, "-version").stdout.strip() == "SSM Agent version: 9.8.7"


def test_ssm_register_finds_only_activations_of_its_region(lab_aws, host_root):
    write(host_root, "/etc/amazon/ssm/amazon-ssm-agent.json", json.dumps({"Ssm": {"Endpoint": lab_aws.url}}))
    activation = lab_aws.client("ssm", region="eu-west-1").create_activation(IamRole="ecsAnywhereRole")
    args = ("-register", "-code", activation["ActivationCode"], "-id", activation["ActivationId"], "-y", "-region")

    elsewhere = ssm_agent(host_root, *args, "us-east-1")
    assert elsewhere.returncode == 1 and "InvalidActivation" in elsewhere.stderr

    registered = ssm_agent(host_root, *args, "eu-west-1")
    assert registered.returncode == 0, registered.stderr
    listed = lab_aws.client("ssm", region="eu-west-1").describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [registered.stdout.split()[-1]]


def test_ssm_register_retries_throttling_three_times_as_the_sdk_does(lab_aws, host_root):
    write(host_root, "/etc/amazon/ssm/amazon-ssm-agent.json", json.dumps({"Ssm": {"Endpoint": lab_aws.url}}))
    activation = lab_aws.create_activation()
    args = ("-register", "-code", activation["ActivationCode"], "-id", activation["ActivationId"], "-region", "us-east-1")
    lab_aws.set_faults({"RegisterManagedInstance": {"throttle_rate": 1.0}})
    lab_aws.reset_counters()

    throttled = ssm_agent(host_root, *args)

    assert throttled.returncode == 1 and "ThrottlingException" in throttled.stderr
    assert lab_aws.counters()["RegisterManagedInstance"] == 4  # one call and 3 retries

    lab_aws.set_faults({"RegisterManagedInstance": {"error_rate": 1.0}})
    assert ssm_agent(host_root, *args).returncode == 1
    lab_aws.clear_faults()
    lab_aws.reset_counters()
    registered = ssm_agent(host_root, *args)
    assert registered.returncode == 0, registered.stderr
    assert lab_aws.counters()["RegisterManagedInstance"] == 1


def test_ssm_service_writes_credentials_and_heartbeats(lab_aws, host_root):
    write(host_root, "/etc/amazon/ssm/amazon-ssm-agent.json",
          json.dumps({"Ssm": {"Endpoint": lab_aws.url}, "Lab": {"PingIntervalSeconds": 0.5}}))
    activation = lab_aws.create_activation()
    assert ssm_agent(host_root, "-register", "-code", activation["ActivationCode"], "-id",
                     activation["ActivationId"], "-region", "us-east-1").returncode == 0
    service = start_service(host_root, "ssm_agent.py")
    try:
        def online():
            listed = lab_aws.client("ssm").describe_instance_information()["InstanceInformationList"]
            return listed if listed and listed[0].get("PingStatus") == "Online" else None

        info = wait_for(online, 30, "the managed instance Online")[0]
        assert info["AgentVersion"] == "9.8.7" and info["IPAddress"] == "127.0.0.1"
        assert info["ComputerName"] == os.uname().nodename
        credentials = awsapi.shared_credentials()
        assert credentials["access_key"] and credentials["token"]
        # The lab clock jumps past the credentials' expiry: the endpoint answers ExpiredTokenException, and the
        # agent asks for new credentials and is back Online.
        lab_aws.clock(advance=2 * 3600)
        wait_for(lambda: awsapi.shared_credentials()["access_key"] != credentials["access_key"] and online(), 30,
                 "new role credentials and the instance Online again")
    finally:
        assert stop_service(service) == 0


def test_ecs_config_is_read_like_ecs_init(host_root):
    write(host_root, "/var/lib/ecs/ecs.config",
          "AWS_DEFAULT_REGION=eu-west-1\nECS_EXTERNAL=true\nECS_CLUSTER=from-instance\nECS_ENABLE_GPU_SUPPORT=true\n")
    write(host_root, "/etc/ecs/ecs.config",
          '  ECS_CLUSTER=from-user  \n# ECS_LOGLEVEL=debug\nnot a pair\nECS_INSTANCE_ATTRIBUTES="quoted"\nA=b=c\n')
    config = ecs_agent.load_config()
    assert config["ECS_CLUSTER"] == "from-user"  # the user's file wins
    assert config["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert config["ECS_INSTANCE_ATTRIBUTES"] == '"quoted"'  # no quote processing
    assert config["A"] == "b=c"
    assert "ECS_ENABLE_GPU_SUPPORT" not in config  # no /dev/nvidia* here
    (host_root / "dev" / "nvidia0").touch()
    assert ecs_agent.load_config()["ECS_ENABLE_GPU_SUPPORT"] == "true"


def test_ecs_refuses_external_mode_without_region(host_root):
    write(host_root, "/var/lib/ecs/ecs.config", "ECS_EXTERNAL=true\n")
    result = subprocess.run([sys.executable, "-P", str(SOURCES / "ecs_agent.py"), "start"], env=agent_env(host_root),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == ecs_agent.EXIT_TERMINAL
    assert "AWS_DEFAULT_REGION must be set" in result.stderr


def introspect(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{INTROSPECTION_PORT}{path}", timeout=5) as response:
        return json.loads(response.read())


class DockerVersionOnly(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The two Engine API calls the agent makes before it registers (the SDK's version probe and the
    dockerVersion it reports). Containers are not run from source: tests/lab/tasks runs them in the lab
    hosts' Docker Engines."""
    daemon_threads = True


class _VersionHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/version"):
            body = json.dumps({"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "MinAPIVersion": "1.12"}).encode()
        elif self.path.endswith("/_ping"):
            body = b"OK"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "docker.sock"

    def log_message(self, *_args):
        pass


@pytest.fixture
def docker_socket(tmp_path):
    path = tmp_path / "docker.sock"
    server = DockerVersionOnly(str(path), _VersionHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{path}"
    server.shutdown()
    server.server_close()


def ecs_agent_host(lab_aws, host_root, docker_socket):
    """A registered managed instance whose ECS agent is configured against the lab and the cluster; the ECS
    client."""
    activation = lab_aws.create_activation()
    instance_id, credentials = lab_aws.register_managed_instance(activation["ActivationId"], activation["ActivationCode"])
    write(host_root, "/root/.aws/credentials", (
        f"[default]\naws_access_key_id = {credentials['AccessKeyId']}\n"
        f"aws_secret_access_key = {credentials['SecretAccessKey']}\naws_session_token = {credentials['SessionToken']}\n"))
    write(host_root, "/var/lib/amazon/ssm/Vault/Store/RegistrationKey", json.dumps({"instanceID": instance_id}))
    write(host_root, "/var/lib/ecs/ecs.config", f"AWS_DEFAULT_REGION=us-east-1\nECS_EXTERNAL=true\n"
                                                f"ECS_BACKEND_HOST={lab_aws.url}\nECS_LAB_POLL_INTERVAL=0.3\n"
                                                f"ECS_LAB_INTROSPECTION_PORT={INTROSPECTION_PORT}\n"
                                                f"ECS_LAB_CREDENTIALS_PORT={CREDENTIALS_PORT}\n"
                                                f"DOCKER_HOST={docker_socket}\n")
    write(host_root, "/etc/ecs/ecs.config", f"ECS_CLUSTER={CLUSTER}\n")
    ecs = lab_aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    return instance_id, ecs


def the_container_instance(ecs):
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    found = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"] if arns else []
    return found[0] if found else None


def connected_instance(ecs):
    instance = the_container_instance(ecs)
    return instance if instance and instance["agentConnected"] else None


def test_ecs_agent_registers_reuses_its_arn_and_refuses_when_deregistered(lab_aws, host_root, docker_socket):
    instance_id, ecs = ecs_agent_host(lab_aws, host_root, docker_socket)

    agent = start_service(host_root, "ecs_agent.py", "start")
    try:
        def connected():
            return connected_instance(ecs)

        instance = wait_for(connected, 30, "the container instance registered and connected")
        assert instance["ec2InstanceId"] == instance_id and instance["status"] == "ACTIVE"
        assert {"ecs.capability.external", "com.amazonaws.ecs.capability.logging-driver.awslogs",
                "ecs.capability.execution-role-awslogs"} <= {a["name"] for a in instance["attributes"]}
        assert instance["versionInfo"]["dockerVersion"] == "DockerVersion: 20.10.24+dfsg1"
        arn = instance["containerInstanceArn"]
        assert wait_for(lambda: introspect_or_none("/v1/metadata"), 30, "introspection") == {
            "Cluster": CLUSTER, "ContainerInstanceArn": arn,
            "Version": "Amazon ECS Agent - v9.8.7 (lab987)"}
        assert introspect("/v1/tasks") == {"Tasks": []}
        assert stop_service(agent) == 0

        agent = start_service(host_root, "ecs_agent.py", "start")  # restart: the saved ARN is reused
        wait_for(lambda: introspect_or_none("/v1/metadata"), 30, "the restarted agent's introspection")
        assert introspect("/v1/metadata")["ContainerInstanceArn"] == arn
        assert len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) == 1
        assert stop_service(agent) == 0

        ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn, force=True)
        agent = start_service(host_root, "ecs_agent.py", "start")
        assert agent.wait(timeout=30) == ecs_agent.EXIT_TERMINAL
        assert "remove /var/lib/ecs/data" in agent.stdout.read()

        for path in (host_root / "var/lib/ecs/data").iterdir():  # wiping the data lets it register anew
            path.unlink()
        agent = start_service(host_root, "ecs_agent.py", "start")
        fresh = wait_for(connected, 30, "a new container instance after the data was wiped")
        assert fresh["containerInstanceArn"] != arn
    finally:
        if agent.poll() is None:
            stop_service(agent)


def test_ecs_agent_stop_shows_disconnected_at_once_and_silence_after_the_timeout(lab_aws, host_root, docker_socket):
    _instance_id, ecs = ecs_agent_host(lab_aws, host_root, docker_socket)
    agent = start_service(host_root, "ecs_agent.py", "start")
    try:
        wait_for(lambda: connected_instance(ecs), 30, "the container instance registered and connected")
        # A clean stop (systemctl stop: SIGTERM) ends the agent's session: disconnected at once, with the lab
        # clock not moved, long before connection_lost_after (60 s) of silence.
        assert stop_service(agent) == 0
        assert the_container_instance(ecs)["agentConnected"] is False

        agent = start_service(host_root, "ecs_agent.py", "start")
        wait_for(lambda: connected_instance(ecs), 30, "the restarted agent connected again")
        # A lost host (SIGKILL: nothing is said) stays connected until connection_lost_after of silence.
        agent.kill()
        agent.wait(timeout=30)
        assert the_container_instance(ecs)["agentConnected"] is True
        lab_aws.clock(advance=lab_aws.settings()["connection_lost_after"] + 1)
        assert the_container_instance(ecs)["agentConnected"] is False
    finally:
        if agent.poll() is None:
            stop_service(agent)


def introspect_or_none(path):
    try:
        return introspect(path)
    except OSError:
        return None


class _ReportingAgent:
    """What Tasks.reconcile needs of the agent: its data, a log, and a SubmitTaskStateChange that the endpoint
    refuses while `refuse` is set."""

    def __init__(self):
        self.data = {"Tasks": {}}
        self.config = {"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "0s"}
        self.log = logging.getLogger("test")
        self.refuse = True
        self.sent = []

    def save(self):
        pass

    def remember_credentials(self, credentials):
        pass

    def forget_credentials(self, credentials_id):
        pass

    def submit_task_state(self, local):
        if self.refuse:
            raise awsapi.ApiError("ThrottlingException", "Rate exceeded", 400)
        self.sent.append(local["KnownStatus"])


def test_ecs_agent_sends_a_task_state_the_endpoint_refused_again_on_the_next_poll():
    agent = _ReportingAgent()
    tasks = ecs_agent.Tasks(agent)
    arn = "arn:aws:ecs:us-east-1:123456789012:task/agents/0123"
    local = {"Arn": arn, "KnownStatus": "RUNNING", "DesiredStatus": "RUNNING", "Reported": None, "CleanedUp": False}
    agent.data["Tasks"][arn] = local
    running = threading.Event()
    tasks.threads[arn] = threading.Thread(target=running.wait, daemon=True)  # the task's own thread, busy
    tasks.threads[arn].start()
    try:
        tasks.report(local)  # the task thread's report, refused (SDK retries spent)
        assert local["Reported"] is None and agent.sent == []
        agent.refuse = False
        tasks.reconcile([{"taskArn": arn, "desiredStatus": "RUNNING", "lastStatus": "PENDING"}])
        assert agent.sent == ["RUNNING"] and local["Reported"] == "RUNNING"
        tasks.reconcile([{"taskArn": arn, "desiredStatus": "RUNNING", "lastStatus": "RUNNING"}])
        assert agent.sent == ["RUNNING"]  # sent once
    finally:
        running.set()


def test_ecs_agent_reports_a_task_stopped_before_it_was_picked_up_as_stopped():
    agent = _ReportingAgent()
    agent.refuse = False
    tasks = ecs_agent.Tasks(agent)
    arn = "arn:aws:ecs:us-east-1:123456789012:task/agents/4567"
    definition = {"family": "web", "revision": 1, "containerDefinitions": [{"name": "web", "image": "web:1"}]}
    tasks.reconcile([{"taskArn": arn, "desiredStatus": "STOPPED", "lastStatus": "PENDING", "taskDefinition": definition}])
    wait_for(lambda: agent.sent == ["STOPPED"], 10, "the STOPPED report")
    tasks.threads[arn].join(timeout=10)
    assert arn not in agent.data["Tasks"]  # nothing was created, so nothing is kept for the clean-up wait
