"""The agent role's key checks (roles/agent/tasks/keys.yml, run in preflight) in a localhost play: pinned
fingerprints, expiry per package, the keyring. No host and no network: the keys are files on the controller."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SHIPPED_KEY = REPO_ROOT / "roles" / "agent" / "files" / "amazon-ssm-agent.gpg"
SHIPPED_FPR = "1C5B395CBE5E74E2F1CA21592784DBF388D19D46"
# AWS's SSM agent key of 2025-01-22, expired on 2026-07-15 (aws/amazon-ecs-ami files/amazon-ssm-agent.gpg).
EXPIRED_KEY = REPO_ROOT / "tests" / "unit" / "plugins" / "filter" / "files" / "amazon-ssm-agent-2025-expired.asc"
EXPIRED_FPR = "4855A9E6833216D6A77D8FE451A8E050D0052E5D"


def run_keys(tmp_path, keys):
    play = [{"name": "the agent role's key checks", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": [{"name": "keys.yml", "ansible.builtin.include_role": {"name": "fleetops.ecs_anywhere.agent", "tasks_from": "keys.yml"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({"agent_local_cache_path": str(tmp_path / "cache"), "agent_gpg_keys": keys,
                                                       "ansible_python_interpreter": sys.executable}))
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "play.yml", "-e", "@vars.yml"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                                   ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections")))


def keyring_fingerprints(tmp_path):
    listing = subprocess.run(["gpg", "--batch", "--show-keys", "--with-colons", str(tmp_path / "cache" / "keys" / "trusted.gpg")],
                             capture_output=True, text=True, check=True)
    return [line.split(":")[9] for line in listing.stdout.splitlines() if line.startswith("fpr:")]


def test_every_key_of_a_package_expired_stops_before_the_keyring(tmp_path):
    result = run_keys(tmp_path, [{"name": "ssm-2025", "src": str(EXPIRED_KEY), "fingerprint": EXPIRED_FPR, "package": "amazon-ssm-agent"},
                                 {"name": "ecs", "src": str(SHIPPED_KEY), "fingerprint": SHIPPED_FPR, "package": "amazon-ecs-init"}])

    assert result.returncode != 0
    assert ("agent_gpg_keys: every key for amazon-ssm-agent is expired: ssm-2025 ({0}), expired 2026-07-15.".format(EXPIRED_FPR)
            in result.stdout), result.stdout
    assert "Nothing was installed." in result.stdout
    assert not (tmp_path / "cache" / "keys" / "trusted.gpg").exists()


def test_an_added_current_key_covers_an_expired_one_with_a_warning(tmp_path):
    result = run_keys(tmp_path, [{"name": "ssm-2025", "src": str(EXPIRED_KEY), "fingerprint": EXPIRED_FPR, "package": "amazon-ssm-agent"},
                                 {"name": "ssm-2026", "src": str(SHIPPED_KEY), "fingerprint": SHIPPED_FPR}])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "agent_gpg_keys: key ssm-2025 ({0}), expired 2026-07-15".format(EXPIRED_FPR) in result.stdout
    assert sorted(keyring_fingerprints(tmp_path)) == sorted([EXPIRED_FPR, SHIPPED_FPR])


@pytest.mark.parametrize("package", ["amazon-ecs-agent", "ssm"])
def test_unknown_package_is_refused_naming_the_field(tmp_path, package):
    result = run_keys(tmp_path, [{"name": "ssm", "src": str(SHIPPED_KEY), "fingerprint": SHIPPED_FPR, "package": package}])

    assert result.returncode != 0
    assert "agent_gpg_keys: package must be one of amazon-ssm-agent, amazon-ecs-init, got {0}.".format(package) in result.stdout, result.stdout
