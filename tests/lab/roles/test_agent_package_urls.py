"""The agent role's package URLs for every platform and source, against the layout of AWS's buckets as the official
ecs-anywhere-install.sh downloads them (amazon-ecs-init-VERSION.{amd64,arm64}.deb / .{x86_64,aarch64}.rpm with .asc;
amazon-ssm-agent.{deb,rpm} under VERSION/{debian,linux}_{amd64,arm64}/ with .sig). The lab boots Debian only, so
this is where the RPM path's URLs are checked.

The role's defaults and vars are loaded into a localhost play (ansible-playbook, no host, no AWS) and its file
list is rendered for each platform the way install.yml does it (``__agent_fetch_platform``).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
ROLE = REPO_ROOT / "roles" / "agent"
# What the role's _agent_platform is for each (os_family, architecture) of a host (roles/agent/vars/main.yml).
PLATFORMS = {
    "deb-amd64": {"type": "deb", "arch": "amd64", "ssm": "debian_amd64"},
    "deb-arm64": {"type": "deb", "arch": "arm64", "ssm": "debian_arm64"},
    "rpm-x86_64": {"type": "rpm", "arch": "x86_64", "ssm": "linux_amd64"},
    "rpm-aarch64": {"type": "rpm", "arch": "aarch64", "ssm": "linux_arm64"},
}


def package_files(tmp_path, **settings):
    """{platform: [(url, cache file name), ...]} as the role computes them with these settings."""
    out = tmp_path / "files.json"
    play = [{
        "name": "render the agent role's package files", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
        "vars": {"role_path": str(ROLE), "lab_platforms": PLATFORMS, "ansible_python_interpreter": sys.executable},
        "tasks": [
            {"name": "render each platform", "ansible.builtin.set_fact": {
                "lab_files": "{{ lab_files | default({}) | combine({__agent_platform_item.key: _agent_package_files}) }}"},
             # Task vars: above the play's vars_files (the role's defaults) in precedence.
             "vars": dict(settings, __agent_fetch_platform="{{ __agent_platform_item.value }}"),
             "loop": "{{ lab_platforms | dict2items }}", "loop_control": {"loop_var": "__agent_platform_item"}},
            {"name": "write them", "ansible.builtin.copy": {"content": "{{ lab_files | to_json }}", "dest": str(out), "mode": "0600"}},
        ],
    }]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(path)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1",
                                     ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                                     ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections")))
    assert result.returncode == 0, result.stdout + result.stderr
    return {platform: [(f["url"], f["file"]) for f in files] for platform, files in json.loads(out.read_text()).items()}


def expected(ecs_base, ssm_base, platform, version="latest"):
    p = PLATFORMS[platform]
    ecs = f"{ecs_base}/amazon-ecs-init-{version}.{p['arch']}.{p['type']}"
    ssm = f"{ssm_base}/{version}/{p['ssm']}/amazon-ssm-agent.{p['type']}"
    ssm_file = f"amazon-ssm-agent-{version}.{p['arch']}.{p['type']}"
    ecs_file = f"amazon-ecs-init-{version}.{p['arch']}.{p['type']}"
    return [(ssm, ssm_file), (ssm + ".sig", ssm_file + ".sig"), (ecs, ecs_file), (ecs + ".asc", ecs_file + ".asc")]


@pytest.mark.parametrize("region,domain", [("eu-west-1", "amazonaws.com"), ("cn-north-1", "amazonaws.com.cn")])
def test_aws_buckets_per_region_for_every_platform(tmp_path, region, domain):
    files = package_files(tmp_path, agent_region=region, agent_package_source="aws")

    base = f"https://s3.{region}.{domain}"
    assert files == {platform: expected(f"{base}/amazon-ecs-agent-{region}", f"{base}/amazon-ssm-{region}", platform)
                     for platform in PLATFORMS}


def test_pinned_versions_from_a_mirror(tmp_path):
    files = package_files(tmp_path, agent_region="us-east-1", agent_package_source="mirror", agent_mirror_url="https://mirror.example/ecsa/",
                          agent_ecs_init_version="1.89.2", agent_ssm_agent_version="1.89.2")

    for platform in PLATFORMS:
        assert files[platform] == expected("https://mirror.example/ecsa/ecs", "https://mirror.example/ecsa/ssm", platform, "1.89.2")


def test_local_directory_without_signatures_when_verification_is_off(tmp_path):
    files = package_files(tmp_path, agent_region="us-east-1", agent_package_source="local", agent_local_package_dir="/srv/ecsa",
                          agent_gpg_verify=False)

    assert files["rpm-x86_64"] == [("/srv/ecsa/ssm/latest/linux_amd64/amazon-ssm-agent.rpm", "amazon-ssm-agent-latest.x86_64.rpm"),
                                   ("/srv/ecsa/ecs/amazon-ecs-init-latest.x86_64.rpm", "amazon-ecs-init-latest.x86_64.rpm")]
