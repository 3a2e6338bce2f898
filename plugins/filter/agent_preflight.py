# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's preflight decisions, as pure functions (unit-tested in tests/unit/plugins/filter/)."""
from __future__ import annotations

import datetime
import time

# A warning this long before a key expires: enough for an operator to add AWS's next key.
KEY_EXPIRY_WARNING_DAYS = 30
# Where AWS publishes the SSM agent's current key (and, before it rotates, the next one).
SSM_KEY_DOCS = "https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html"


def parse_key_listing(lines):
    """The primary keys of ``gpg --show-keys --with-colons`` output: [{fingerprint, validity, expires}].

    ``expires`` is a Unix time, or None for a key that never expires. The first ``fpr`` record after a
    ``pub`` record is the primary key's; later ones belong to its subkeys.
    """
    keys = []
    current = None
    for line in lines:
        fields = line.split(":")
        if fields[0] == "pub":
            current = {"fingerprint": None, "validity": fields[1], "expires": int(fields[6]) if fields[6] else None}
            keys.append(current)
        elif fields[0] == "fpr" and current is not None and current["fingerprint"] is None:
            current["fingerprint"] = fields[9].upper()
        elif fields[0] == "sub":
            current = None
    return keys


def _day(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc).strftime("%Y-%m-%d")


def key_expiry_report(keys, listings, packages, now=None, warning_days=KEY_EXPIRY_WARNING_DAYS):
    """Errors and warnings about the expiry of the pinned signing keys, per package.

    ``keys`` are agent_gpg_keys entries and ``listings`` the lines of ``gpg --show-keys --with-colons`` of
    each key's file, in the same order; a key without ``package`` counts for every package. ``now`` is a
    Unix time (default: the clock). A package whose keys
    are all expired (or that has none) is an error: gpgv would refuse every new release of it. A key that
    expires within ``warning_days``, or that is expired while another key still covers its package, is a
    warning.
    """
    now = time.time() if now is None else now
    errors, warnings = [], []
    expired_labels = {}
    for key, listing in zip(keys, listings):
        pinned = str(key["fingerprint"]).upper().replace(" ", "")
        found = [listed for listed in parse_key_listing(listing) if listed["fingerprint"] == pinned]
        expires = found[0]["expires"] if found else None
        expired = bool(found) and (found[0]["validity"] in ("e", "r") or (expires is not None and expires <= now))
        label = "{0} ({1})".format(key["name"], pinned)
        if expired:
            expired_labels[key["name"]] = "{0}, expired {1}".format(label, _day(expires) if expires else "or revoked")
        elif expires is not None and expires - now <= warning_days * 86400:
            warnings.append("agent_gpg_keys: key {0} expires on {1}, in {2} days; add the key that replaces it "
                            "(for the SSM agent: {3}).".format(label, _day(expires), int((expires - now) // 86400), SSM_KEY_DOCS))
    for package in packages:
        covering = [key for key in keys if key.get("package", package) == package]
        if not covering:
            errors.append("agent_gpg_keys: no key is given for {0} (set package: {0} on its key, or leave package out "
                          "for a key that signs every package).".format(package))
        elif all(key["name"] in expired_labels for key in covering):
            errors.append("agent_gpg_keys: every key for {0} is expired: {1}. gpgv would refuse its current packages; "
                          "add the current key with its fingerprint (for the SSM agent: {2}).".format(
                              package, "; ".join(expired_labels[key["name"]] for key in covering), SSM_KEY_DOCS))
        else:
            warnings.extend("agent_gpg_keys: key {0}; packages of {1} signed since then verify with the other keys only.".format(
                expired_labels[key["name"]], package) for key in covering if key["name"] in expired_labels)
    return {"errors": errors, "warnings": warnings}


def docker_source_refusal(distribution, docker_source):
    """Why AWS's install script refuses this Docker source on this distribution, or '' when it does not.

    aws/amazon-ecs-agent scripts/ecs-anywhere-install.sh: on RHEL it installs no Docker at all ("Docker
    install is not supported on RHEL. Please install yourself and rerun with --docker-install-source
    none"); on CentOS and Fedora it refuses the distribution's package, which is missing on CentOS 8 and
    comes with SELinux enforcing on the others. ``distribution`` is ansible_facts['distribution'].
    """
    if distribution == "RedHat" and docker_source != "none":
        return ("agent_docker_source={0} is not supported on RHEL ({1}): AWS's install script installs no Docker there. "
                "Install Docker yourself and set agent_docker_source: none.".format(docker_source, distribution))
    if distribution in ("CentOS", "Fedora") and docker_source == "distro":
        return ("agent_docker_source=distro is not supported on {0}: its Docker package is missing (CentOS 8) or runs "
                "with SELinux enforcing, as AWS's install script says. Use agent_docker_source: docker, or install "
                "Docker yourself and set agent_docker_source: none.".format(distribution))
    return ""


class FilterModule:
    """The agent role's preflight filters."""

    def filters(self):
        return {
            "agent_key_expiry_report": key_expiry_report,
            "agent_docker_source_refusal": docker_source_refusal,
        }
