# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_anywhere_register end to end on a fake host in a temporary directory.

The fake host has a `systemctl` and an `amazon-ssm-agent` on PATH (small Python scripts that keep
their state in JSON files) and an introspection endpoint on 127.0.0.1 that answers like the ECS
agent: a container instance in the configured cluster while `ecs` runs with a registration.
"""

import hashlib
import http.server
import json
import os
import stat
import sys
import threading

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import ecs_config
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import host as host_module
from ansible_collections.fleetops.ecs_anywhere.plugins.modules import ecs_anywhere_register

CODE = "Zq8SecretActivationCode"
ACTIVATION_ID = "3b1b4a3e-8a8f-4a5e-9d36-2f9f4a1c2b7d"

SYSTEMCTL = r'''#!{python}
import json, sys
state_file, log_file = {state!r}, {log!r}
units = json.load(open(state_file))
verb, name = sys.argv[1], sys.argv[-1]
with open(log_file, "a") as log:
    log.write(json.dumps(["systemctl", verb, name]) + "\n")
unit = units.get(name)
if verb == "show":
    if unit is None:
        print("LoadState=not-found\nActiveState=inactive\nUnitFileState=")
    else:
        print("LoadState=loaded\nActiveState=%s\nUnitFileState=%s" % (
            "active" if unit["active"] else "inactive", "enabled" if unit["enabled"] else "disabled"))
    sys.exit(0)
if unit is None:
    print("Unit %s.service not found." % name, file=sys.stderr)
    sys.exit(5)
if unit.get("fail") == verb:
    print("Job for %s.service failed." % name, file=sys.stderr)
    sys.exit(1)
unit.update({{"start": {{"active": True}}, "restart": {{"active": True}}, "stop": {{"active": False}},
             "enable": {{"enabled": True}}, "disable": {{"enabled": False}}}}[verb])
json.dump(units, open(state_file, "w"))
'''

SSM_AGENT = r'''#!{python}
import hashlib, json, os, sys
vault, log_file, mode_file = {vault!r}, {log!r}, {mode!r}
args = sys.argv[1:]
mode = open(mode_file).read().strip() if os.path.exists(mode_file) else "ok"
def value(flag):
    return args[args.index(flag) + 1]
with open(log_file, "a") as log:
    # Record a digest of the code, never the code (the test checks files for it).
    shown = ["sha256:" + hashlib.sha256(a.encode()).hexdigest() if i and args[i - 1] == "-code" else a for i, a in enumerate(args)]
    log.write(json.dumps(["amazon-ssm-agent"] + shown) + "\n")
if "-clear" in args:
    json.dump({{"instanceID": "", "region": "", "privateKey": ""}}, open(vault, "w"))
    print("Registration information has been removed from the instance.")
    sys.exit(0)
# As the real agent: the vault is emptied (new private key, no id) before RegisterManagedInstance is called.
os.makedirs(os.path.dirname(vault), exist_ok=True)
json.dump({{"instanceID": "", "region": "", "privateKey": "-----BEGIN RSA PRIVATE KEY-----"}}, open(vault, "w"))
if mode != "ok":
    # A careless agent could echo its arguments; the module must still hide the code.
    print("Registration failed due to error registering the instance with AWS SSM. InvalidActivation: %s (code %s)"
          % ({{"expired": "Activation expired", "limit": "Registration limit reached"}}[mode], value("-code")), file=sys.stderr)
    sys.exit(1)
count = len(open(log_file).read().splitlines())
instance_id = "mi-%017x" % count
os.makedirs(os.path.dirname(vault), exist_ok=True)
json.dump({{"instanceID": instance_id, "region": value("-region"), "privateKey": "-----BEGIN RSA PRIVATE KEY-----"}}, open(vault, "w"))
print("Successfully registered the instance with AWS SSM using Managed instance-id: " + instance_id)
'''


class FakeHost:
    def __init__(self, root):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.units_file = root / "units.json"
        self.log_file = root / "calls.log"
        self.mode_file = root / "ssm-mode"
        self.log_file.write_text("")
        self.paths = host_module.Paths(
            registration_key=str(root / "var/lib/amazon/ssm/Vault/Store/RegistrationKey"),
            config_files={ecs_config.ETC: str(root / "etc/ecs/ecs.config"), ecs_config.VAR: str(root / "var/lib/ecs/ecs.config")},
            agent_data=str(root / "var/lib/ecs/data"),
        )
        self.set_units(ssm=dict(active=False, enabled=False), ecs=dict(active=False, enabled=False))
        fill = dict(python=sys.executable, state=str(self.units_file), log=str(self.log_file),
                    vault=self.paths.registration_key, mode=str(self.mode_file))
        self._script("systemctl", SYSTEMCTL.format(**fill))
        self._script("amazon-ssm-agent", SSM_AGENT.format(**fill))
        self.agent_reports = True

    def _script(self, name, text):
        path = self.bin / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def set_units(self, ssm=None, ecs=None):
        units = json.loads(self.units_file.read_text()) if self.units_file.exists() else {}
        if ssm is not None:
            units["amazon-ssm-agent"] = ssm
        if ecs is not None:
            units["ecs"] = ecs
        self.units_file.write_text(json.dumps(units))

    def units(self):
        return json.loads(self.units_file.read_text())

    def calls(self):
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def changing_calls(self):
        return [call for call in self.calls() if call[1] != "show"]

    def config(self, which):
        path = self.paths.config_files[which]
        return open(path).read() if os.path.exists(path) else None

    def write_config(self, which, text):
        path = self.paths.config_files[which]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(text)

    def vault(self):
        return json.loads(open(self.paths.registration_key).read())

    def register_as(self, instance_id, region):
        os.makedirs(os.path.dirname(self.paths.registration_key), exist_ok=True)
        open(self.paths.registration_key, "w").write(json.dumps({"instanceID": instance_id, "region": region}))

    def metadata(self):
        """What the ECS agent's introspection endpoint would answer now."""
        if not self.agent_reports or not self.units()["ecs"]["active"] or not os.path.exists(self.paths.registration_key):
            return None
        instance_id = self.vault()["instanceID"]
        cluster = ecs_config.parse(self.config("etc")).get("ECS_CLUSTER", "default")
        if not instance_id:
            return None
        digest = hashlib.sha256((cluster + instance_id).encode()).hexdigest()[:32]
        return {"Cluster": cluster, "ContainerInstanceArn": "arn:aws:ecs:eu-west-1:123456789012:container-instance/{0}/{1}".format(cluster, digest),
                "Version": "Amazon ECS Agent - v1.89.0"}


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    fake = FakeHost(tmp_path)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            answer = fake.metadata()
            if answer is None:
                self.send_error(503)
                return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setattr(host_module, "DEFAULT_PATHS", fake.paths)
    monkeypatch.setattr(host_module, "INTROSPECTION_URL", "http://127.0.0.1:{0}/v1/metadata".format(server.server_address[1]))
    monkeypatch.setenv("PATH", "{0}:{1}".format(fake.bin, os.environ["PATH"]))
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def run_module(capsys, check_mode=False, diff=False, **args):
    args.setdefault("wait_timeout", 10)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            ecs_anywhere_register.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result["_exit"] = exit_info.value.code
    result["_raw"] = out
    return result


PRESENT = dict(cluster="edge", region="eu-west-1")
WITH_ACTIVATION = dict(PRESENT, activation_id=ACTIVATION_ID, activation_code=CODE)


def test_fresh_host_registers_configures_starts_and_waits(fake_host, capsys):
    result = run_module(capsys, **WITH_ACTIVATION)

    assert result["_exit"] == 0, result.get("msg")
    assert result["changed"] is True
    assert result["needs_activation"] is True
    assert result["managed_instance_id"] == fake_host.vault()["instanceID"]
    assert result["previous_managed_instance_id"] is None
    assert result["container_instance_arn"] == fake_host.metadata()["ContainerInstanceArn"]
    assert (result["cluster"], result["region"]) == ("edge", "eu-west-1")
    assert fake_host.config("etc") == "ECS_CLUSTER=edge\n"
    assert ecs_config.parse(fake_host.config("var")) == {"AWS_DEFAULT_REGION": "eu-west-1", "ECS_EXTERNAL": "true"}
    assert fake_host.units() == {"amazon-ssm-agent": {"active": True, "enabled": True}, "ecs": {"active": True, "enabled": True}}
    register_call = [call for call in fake_host.calls() if call[0] == "amazon-ssm-agent"][0]
    assert register_call == ["amazon-ssm-agent", "-register", "-code", "sha256:" + hashlib.sha256(CODE.encode()).hexdigest(),
                             "-id", ACTIVATION_ID, "-region", "eu-west-1", "-y"]
    assert CODE not in result["_raw"]


def test_second_run_changes_nothing_and_does_not_register(fake_host, capsys):
    first = run_module(capsys, **WITH_ACTIVATION)
    calls_before = len(fake_host.changing_calls())

    second = run_module(capsys, **WITH_ACTIVATION)

    assert second["changed"] is False, second["changes"]
    assert second["changes"] == []
    assert second["needs_activation"] is False
    assert second["managed_instance_id"] == first["managed_instance_id"]
    assert second["container_instance_arn"] == first["container_instance_arn"]
    assert len(fake_host.changing_calls()) == calls_before


def test_keeps_foreign_keys_and_never_duplicates(fake_host, capsys):
    fake_host.write_config("etc", "# mine\nECS_LOGLEVEL=debug\nECS_CLUSTER=edge\nECS_CLUSTER=other\nAWS_DEFAULT_REGION=us-west-2\n")
    fake_host.write_config("var", "ECS_RESERVED_MEMORY=128\nECS_EXTERNAL=true\n")

    run_module(capsys, **WITH_ACTIVATION)
    run_module(capsys, **WITH_ACTIVATION)

    assert fake_host.config("etc") == "# mine\nECS_LOGLEVEL=debug\nECS_CLUSTER=edge\n"
    assert fake_host.config("var") == "ECS_RESERVED_MEMORY=128\nECS_EXTERNAL=true\nAWS_DEFAULT_REGION=eu-west-1\n"


def test_check_mode_reports_the_plan_and_diff_without_touching_the_host(fake_host, capsys):
    result = run_module(capsys, check_mode=True, diff=True, **PRESENT)

    assert result["_exit"] == 0, result.get("msg")
    assert result["changed"] is True
    assert result["needs_activation"] is True
    assert result["managed_instance_id"] is None
    assert [c["action"] for c in result["changes"]][0] == "register with SSM"
    assert result["diff"] == [
        {"before_header": fake_host.paths.config_files["etc"], "after_header": fake_host.paths.config_files["etc"],
         "before": "", "after": "ECS_CLUSTER=edge\n"},
        {"before_header": fake_host.paths.config_files["var"], "after_header": fake_host.paths.config_files["var"],
         "before": "", "after": "AWS_DEFAULT_REGION=eu-west-1\nECS_EXTERNAL=true\n"},
    ]
    assert fake_host.changing_calls() == []
    assert fake_host.config("etc") is None and not os.path.exists(fake_host.paths.registration_key)


def test_unregistered_host_without_activation_fails_naming_the_host(fake_host, capsys):
    result = run_module(capsys, **PRESENT)

    assert result["_exit"] == 1
    assert result["msg"].startswith(host_module.socket.gethostname() + ": needs an SSM activation (the host is not registered")
    assert fake_host.changing_calls() == []


@pytest.mark.parametrize("mode,hint", [("expired", "the activation has expired"), ("limit", "the activation has no registrations left")])
def test_exhausted_or_expired_activation_fails_clearly_without_the_code(fake_host, capsys, mode, hint):
    fake_host.mode_file.write_text(mode)

    result = run_module(capsys, **WITH_ACTIVATION)

    assert result["_exit"] == 1
    assert result["msg"].startswith(host_module.socket.gethostname() + ": registration with activation " + ACTIVATION_ID)
    assert hint in result["msg"]
    assert CODE not in result["_raw"]
    assert "-code" not in result["_raw"]  # no command line is echoed
    assert fake_host.config("etc") is None  # failed before anything else changed


def test_cluster_change_resets_agent_data_and_rejoins(fake_host, capsys):
    first = run_module(capsys, **WITH_ACTIVATION)
    data = fake_host.root / "var/lib/ecs/data"
    data.mkdir(parents=True)
    (data / "agent.db").write_text("old container instance")

    green = {**WITH_ACTIVATION, "cluster": "green"}
    moved = run_module(capsys, diff=True, **green)

    assert moved["changed"] is True
    assert moved["managed_instance_id"] == first["managed_instance_id"]  # registration kept
    assert moved["needs_activation"] is False
    assert "/green/" in moved["container_instance_arn"]
    assert moved["previous_container_instance_arn"] == first["container_instance_arn"]
    assert list(data.iterdir()) == []
    assert [c["action"] for c in moved["changes"]] == ["update {0}".format(fake_host.paths.config_files["etc"]), "clear ECS agent data", "restart ecs"]
    assert moved["diff"][0]["after"] == "ECS_CLUSTER=green\n"
    changing = fake_host.changing_calls()
    assert changing[-2:] == [["systemctl", "stop", "ecs"], ["systemctl", "start", "ecs"]]


def test_region_change_registers_again_and_returns_previous_ids(fake_host, capsys):
    fake_host.register_as("mi-0aaaaaaaaaaaaaaaa", "us-east-1")
    fake_host.set_units(ssm=dict(active=True, enabled=True))

    result = run_module(capsys, **WITH_ACTIVATION)

    assert result["previous_managed_instance_id"] == "mi-0aaaaaaaaaaaaaaaa"
    assert result["managed_instance_id"] != "mi-0aaaaaaaaaaaaaaaa"
    assert fake_host.vault()["region"] == "eu-west-1"
    assert ["systemctl", "stop", "amazon-ssm-agent"] in fake_host.changing_calls()


def test_failed_reregistration_says_the_old_id_is_orphaned_and_a_rerun_recovers(fake_host, capsys):
    fake_host.register_as("mi-0aaaaaaaaaaaaaaaa", "us-east-1")
    fake_host.set_units(ssm=dict(active=True, enabled=True))
    fake_host.mode_file.write_text("expired")

    failed = run_module(capsys, **WITH_ACTIVATION)

    assert failed["_exit"] == 1
    assert "the activation has expired" in failed["msg"]
    assert "cleared the host's registration as mi-0aaaaaaaaaaaaaaaa (us-east-1)" in failed["msg"]
    assert fake_host.vault()["instanceID"] == ""
    assert CODE not in failed["_raw"]

    fake_host.mode_file.write_text("ok")
    recovered = run_module(capsys, **WITH_ACTIVATION)

    assert recovered["_exit"] == 0, recovered.get("msg")
    assert recovered["needs_activation"] is True
    assert recovered["managed_instance_id"].startswith("mi-") and recovered["managed_instance_id"] != "mi-0aaaaaaaaaaaaaaaa"
    assert fake_host.vault()["region"] == "eu-west-1"


def test_registered_host_keeps_registration_without_an_activation(fake_host, capsys):
    fake_host.register_as("mi-0bbbbbbbbbbbbbbbb", "eu-west-1")

    result = run_module(capsys, **PRESENT)

    assert result["_exit"] == 0, result.get("msg")
    assert result["managed_instance_id"] == "mi-0bbbbbbbbbbbbbbbb"
    assert result["needs_activation"] is False
    assert not [call for call in fake_host.calls() if call[0] == "amazon-ssm-agent"]


def test_wait_times_out_with_a_clear_message(fake_host, capsys):
    fake_host.agent_reports = False

    result = run_module(capsys, wait_timeout=1, **WITH_ACTIVATION)

    assert result["_exit"] == 1
    assert "the ECS agent reported no container instance in cluster edge within 1s" in result["msg"]


def test_missing_agent_packages_fail_before_any_change(fake_host, capsys):
    units = fake_host.units()
    del units["ecs"]
    fake_host.units_file.write_text(json.dumps(units))

    result = run_module(capsys, **WITH_ACTIVATION)

    assert result["_exit"] == 1
    assert "service(s) ecs not installed" in result["msg"]
    assert fake_host.changing_calls() == []


@pytest.mark.parametrize(
    "args,field",
    [
        (dict(cluster="bad cluster!", region="eu-west-1"), "cluster"),
        (dict(cluster="edge", region="Europe"), "region"),
        (dict(cluster="edge", region="eu-west-1", http_proxy="http://p:3128\nECS_CLUSTER=x"), "http_proxy"),
        (dict(cluster="edge", region="eu-west-1", wait_timeout=0), "wait_timeout"),
        (dict(region="eu-west-1"), "cluster"),
        (dict(cluster="edge", region="eu-west-1", activation_id=ACTIVATION_ID), "activation_code"),
    ],
)
def test_bad_input_fails_naming_the_field_and_changes_nothing(fake_host, capsys, args, field):
    result = run_module(capsys, **args)

    assert result["_exit"] == 1
    assert field in result["msg"]
    assert fake_host.calls() == []


def test_absent_stops_clears_and_returns_previous_ids(fake_host, capsys):
    first = run_module(capsys, **WITH_ACTIVATION)
    data = fake_host.root / "var/lib/ecs/data"
    data.mkdir(parents=True)
    (data / "state.json").write_text("{}")

    removed = run_module(capsys, state="absent")

    assert removed["changed"] is True
    assert removed["previous_managed_instance_id"] == first["managed_instance_id"]
    assert removed["previous_container_instance_arn"] == first["container_instance_arn"]
    assert removed["managed_instance_id"] is None and removed["container_instance_arn"] is None
    assert (removed["cluster"], removed["region"]) == ("edge", "eu-west-1")
    assert fake_host.units() == {"amazon-ssm-agent": {"active": False, "enabled": False}, "ecs": {"active": False, "enabled": False}}
    assert fake_host.vault()["instanceID"] == ""
    assert list(data.iterdir()) == []
    assert fake_host.config("etc") == "ECS_CLUSTER=edge\n"  # the user's config stays

    again = run_module(capsys, state="absent")
    assert again["changed"] is False
    assert again["previous_managed_instance_id"] is None


def test_absent_in_check_mode_changes_nothing(fake_host, capsys):
    run_module(capsys, **WITH_ACTIVATION)
    calls_before = len(fake_host.changing_calls())

    result = run_module(capsys, check_mode=True, state="absent")

    assert result["changed"] is True
    assert result["previous_managed_instance_id"] == fake_host.vault()["instanceID"]
    assert len(fake_host.changing_calls()) == calls_before
