"""The agent role's preflight decisions (plugins/filter/agent_preflight.py): signing-key expiry per
package, and the Docker sources that AWS's install script refuses per distribution. The lab boots Debian hosts
only, so the RHEL, CentOS and Fedora refusals are checked here, without hosts."""
import datetime
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.fleetops.ecs_anywhere.plugins.filter import agent_preflight

REPO_ROOT = Path(__file__).resolve().parents[4]
ROLE = REPO_ROOT / "roles" / "agent"

DAY = 86400
NOW = 1_800_000_000
PACKAGES = ["amazon-ssm-agent", "amazon-ecs-init"]
SSM_FPR = "1C5B395CBE5E74E2F1CA21592784DBF388D19D46"
ECS_FPR = "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"


def listing(fingerprint, expires, validity="-", subkey_fingerprint=None):
    """gpg --show-keys --with-colons lines of one key (expires: Unix time or None)."""
    lines = ["pub:{0}:4096:1:{1}:1700000000:{2}::-:::escaESCA::::::23::0:".format(validity, fingerprint[-16:], expires or ""),
             "fpr:::::::::{0}:".format(fingerprint),
             "uid:{0}::::1700000000::AA::Signer <signer@example.com>::::::::::0:".format(validity)]
    if subkey_fingerprint:
        lines += ["sub:-:4096:1:{0}:1700000000:::::s::::::23:".format(subkey_fingerprint[-16:]),
                  "fpr:::::::::{0}:".format(subkey_fingerprint)]
    return lines


def report(keys_and_listings, now=NOW):
    keys = [key for key, lines in keys_and_listings]
    return agent_preflight.key_expiry_report(keys, [lines for key, lines in keys_and_listings], PACKAGES, now=now)


def ssm_key(name="amazon-ssm-agent", fingerprint=SSM_FPR, **extra):
    return dict({"name": name, "fingerprint": fingerprint, "package": "amazon-ssm-agent"}, **extra)


ECS_KEY = ({"name": "amazon-ecs-agent", "fingerprint": ECS_FPR, "package": "amazon-ecs-init"}, listing(ECS_FPR, None))


def test_valid_keys_give_no_error_and_no_warning():
    assert report([(ssm_key(), listing(SSM_FPR, NOW + 400 * DAY)), ECS_KEY]) == {"errors": [], "warnings": []}


def test_every_key_of_a_package_expired_is_an_error_naming_the_keys_and_the_date():
    result = report([(ssm_key(), listing(SSM_FPR, NOW - DAY)), ECS_KEY])

    assert len(result["errors"]) == 1
    error = result["errors"][0]
    assert error.startswith("agent_gpg_keys: every key for amazon-ssm-agent is expired: amazon-ssm-agent ({0}), expired {1}".format(
        SSM_FPR, datetime.datetime.fromtimestamp(NOW - DAY, tz=datetime.timezone.utc).strftime("%Y-%m-%d")))
    assert agent_preflight.SSM_KEY_DOCS in error


def test_gpg_marking_a_key_expired_counts_even_without_a_date():
    result = report([(ssm_key(), listing(SSM_FPR, None, validity="e")), ECS_KEY])

    assert result["errors"][0].startswith("agent_gpg_keys: every key for amazon-ssm-agent is expired")


def test_a_key_added_by_variable_covers_an_expired_one_with_a_warning():
    old = "4855A9E6833216D6A77D8FE451A8E050D0052E5D"
    result = report([(ssm_key("ssm-2025", old), listing(old, NOW - 10 * DAY)),
                     (ssm_key("ssm-next", SSM_FPR), listing(SSM_FPR, NOW + 500 * DAY)), ECS_KEY])

    assert result["errors"] == []
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith("agent_gpg_keys: key ssm-2025 ({0}), expired".format(old))


@pytest.mark.parametrize("days_left,warned", [(29, True), (30, True), (31, False)])
def test_warning_within_30_days_of_expiry(days_left, warned):
    result = report([(ssm_key(), listing(SSM_FPR, NOW + days_left * DAY)), ECS_KEY])

    assert result["errors"] == []
    assert bool(result["warnings"]) is warned
    if warned:
        assert "expires on" in result["warnings"][0] and "in {0} days".format(days_left) in result["warnings"][0]


def test_a_key_without_package_counts_for_every_package():
    lab_key = {"name": "fleetops-lab", "fingerprint": SSM_FPR}

    assert report([(lab_key, listing(SSM_FPR, None))]) == {"errors": [], "warnings": []}
    errors = report([(lab_key, listing(SSM_FPR, NOW - DAY))])["errors"]
    assert [error.split(":")[1].strip() for error in errors] == ["every key for amazon-ssm-agent is expired",
                                                                 "every key for amazon-ecs-init is expired"]


def test_a_package_with_no_key_is_an_error():
    errors = report([ECS_KEY])["errors"]

    assert errors == ["agent_gpg_keys: no key is given for amazon-ssm-agent (set package: amazon-ssm-agent on its key, "
                      "or leave package out for a key that signs every package)."]


def test_only_the_pinned_primary_key_is_read_not_a_subkey_or_another_key():
    other = "0123456789ABCDEF0123456789ABCDEF01234567"
    # The file also holds an expired key that is not pinned, and the pinned key has a subkey.
    lines = listing(other, NOW - DAY) + listing(SSM_FPR, NOW + 400 * DAY, subkey_fingerprint="FEDCBA9876543210FEDCBA9876543210FEDCBA98")

    assert report([(ssm_key(fingerprint=SSM_FPR.lower()), lines), ECS_KEY]) == {"errors": [], "warnings": []}


def test_shipped_keys_are_current_and_pinned_by_the_defaults():
    """Fails once a key in roles/agent/files expires (or comes within the warning time): ship AWS's next key."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    shipped = [key for key in defaults["agent_gpg_keys"] if "src" in key]
    assert shipped, "the role ships at least the SSM agent key"
    listings = []
    for key in shipped:
        path = ROLE / "files" / Path(key["src"]).name
        result = subprocess.run(["gpg", "--batch", "--show-keys", "--with-colons", str(path)], capture_output=True, text=True, check=True)
        listings.append(result.stdout.splitlines())
        listed = agent_preflight.parse_key_listing(listings[-1])
        # Every key in a shipped file is pinned: an unpinned key would be trusted through the file.
        assert [entry["fingerprint"] for entry in listed] == [key["fingerprint"]], path
        for entry in listed:
            assert entry["validity"] not in ("e", "r") and (entry["expires"] is None or entry["expires"] > datetime.datetime.now().timestamp()), (
                "{0}: key {1} expired on {2}".format(path, entry["fingerprint"], entry["expires"]))

    result = agent_preflight.key_expiry_report(shipped, listings, ["amazon-ssm-agent"])
    assert result == {"errors": [], "warnings": []}


@pytest.mark.parametrize("distribution,source,refused", [
    ("RedHat", "docker", "agent_docker_source=docker is not supported on RHEL"),
    ("RedHat", "distro", "agent_docker_source=distro is not supported on RHEL"),
    ("RedHat", "none", ""),
    ("CentOS", "distro", "agent_docker_source=distro is not supported on CentOS"),
    ("Fedora", "distro", "agent_docker_source=distro is not supported on Fedora"),
    ("CentOS", "docker", ""),
    ("Fedora", "docker", ""),
    ("Debian", "distro", ""),
    ("Debian", "docker", ""),
    ("Ubuntu", "distro", ""),
    ("Rocky", "distro", ""),
])
def test_docker_sources_refused_as_aws_install_script_does(distribution, source, refused):
    message = agent_preflight.docker_source_refusal(distribution, source)

    assert message.startswith(refused) if refused else message == ""
    if refused:
        assert "agent_docker_source: " in message
