"""The deploy role's checks, in a localhost play, before any AWS call: a service rollout that starts new tasks next
to old ones (maximum percent above 100) refuses fixed host ports, naming the port mapping, and bad settings are
named. No host and no AWS: the role must stop before it registers the task definition."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = json.loads((REPO_ROOT / "docs" / "examples" / "task-definition.json").read_text())


def run_deploy(tmp_path, **settings):
    play = [{"name": "the deploy role's checks", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "roles": [{"role": "fleetops.ecs_anywhere.deploy"}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    values = dict({"deploy_region": "us-east-1", "deploy_cluster": "edge", "ansible_python_interpreter": sys.executable}, **settings)
    (tmp_path / "vars.json").write_text(json.dumps(values))
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "play.yml", "-e", "@vars.json"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                                   ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"),
                                   AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"))


def with_port(host_port, network_mode="bridge"):
    definition = json.loads(json.dumps(EXAMPLE))
    definition["networkMode"] = network_mode
    definition["containerDefinitions"][0]["portMappings"] = [{"containerPort": 80, "hostPort": host_port}]
    return definition


@pytest.mark.parametrize("definition, named", [
    (with_port(8080), "containerDefinitions[web].portMappings[0] binds host port 8080"),
    (with_port(80, "host"), "containerDefinitions[web].portMappings[0] binds host port 80 (host networking)"),
])
def test_fixed_host_ports_are_refused_for_a_rollout_above_100_percent(tmp_path, definition, named):
    result = run_deploy(tmp_path, deploy_task_definition=definition, deploy_service_scheduling_strategy="REPLICA",
                        deploy_count=2, deploy_service_maximum_percent=200)
    assert result.returncode != 0
    assert "deploy_service_maximum_percent=200 starts new tasks next to the old ones" in result.stdout, result.stdout
    assert named in result.stdout
    assert "Register the task definition" not in result.stdout


@pytest.mark.parametrize("settings, named", [
    # Choices are the argument spec's (meta/argument_specs.yml), checked as the role starts.
    ({"deploy_mode": "services"}, "value of deploy_mode must be one of: service, per_host, count, got: services"),
    ({"deploy_service_maximum_percent": 50}, "deploy_service_maximum_percent=50 (at least 100)"),
    ({"deploy_service_minimum_healthy_percent": 101}, "deploy_service_minimum_healthy_percent=101 (0-100)"),
    ({"deploy_service_scheduling_strategy": "daemon"},
     "value of deploy_service_scheduling_strategy must be one of: REPLICA, DAEMON, got: daemon"),
    ({"deploy_lb_kind": "haproxy", "deploy_lb_host": "nowhere"}, "deploy_lb_host='nowhere' (an inventory host; haproxy only)"),
])
def test_bad_settings_are_named_before_any_change(tmp_path, settings, named):
    result = run_deploy(tmp_path, deploy_task_definition=EXAMPLE, **settings)
    assert result.returncode != 0
    assert named in result.stdout, result.stdout
    assert "Register the task definition" not in result.stdout
