# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host side of ecs_anywhere_register: observe the host, carry out a Plan, wait for the agent.

Runs on the managed host with only the Python standard library and ansible's module_utils (no
boto3). Every command goes through AnsibleModule.run_command with an argument list (no shell), and
no command line is ever put into a message: the registration command carries the activation code.
"""

import json
import os
import shutil
import socket
import time
from collections import namedtuple

from ansible.module_utils.urls import open_url

from . import ecs_config
from . import plan as planning
from . import vault

INTROSPECTION_URL = "http://127.0.0.1:51678/v1/metadata"
AGENT_DATA_DIR = "/var/lib/ecs/data"

Paths = namedtuple("Paths", ["registration_key", "config_files", "agent_data"])
# config_files: ecs_config role -> path.
DEFAULT_PATHS = Paths(vault.REGISTRATION_KEY, dict(ecs_config.CONFIG_FILES), AGENT_DATA_DIR)
MASK = "********"


class HostError(Exception):
    """A step on the host failed; the message names the host and never holds a secret."""


def cluster_name(cluster):
    """The short name of a cluster given by name or ARN."""
    return (cluster or "").rsplit("/", 1)[-1]


class Host:
    """Reads and changes the host through an AnsibleModule (run_command, atomic_move)."""

    def __init__(self, module, paths=None, introspection_url=None):
        self.module = module
        self.paths = paths or DEFAULT_PATHS
        self.introspection_url = introspection_url or INTROSPECTION_URL
        self.name = socket.gethostname()
        self._systemctl = module.get_bin_path("systemctl")
        self._ssm_agent = module.get_bin_path("amazon-ssm-agent")

    def fail(self, message):
        raise HostError("{0}: {1}".format(self.name, message))

    # --- observe -------------------------------------------------------------------------------

    def observe(self):
        registration, problem = vault.read_registration(self.paths.registration_key)
        return planning.HostState(
            registration=registration,
            vault_problem=problem,
            texts={role: _read_text(path) for role, path in self.paths.config_files.items()},
            config_paths=dict(self.paths.config_files),
            services={name: self.service_state(name) for name in (planning.SSM_SERVICE, planning.ECS_SERVICE)},
            agent_data=_has_entries(self.paths.agent_data),
            metadata=self.metadata(timeout=2)[0],
        )

    def service_state(self, name):
        if not self._systemctl:
            self.fail("systemctl was not found; ecs_anywhere_register needs a systemd host")
        rc, out, err = self.module.run_command([self._systemctl, "show", "--property=LoadState,ActiveState,UnitFileState", name])
        if rc != 0:
            self.fail("systemctl show {0} failed: {1}".format(name, (err or out).strip()))
        props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return planning.ServiceState(
            installed=props.get("LoadState") == "loaded",
            enabled=props.get("UnitFileState") in ("enabled", "enabled-runtime", "static", "alias"),
            active=props.get("ActiveState") in ("active", "activating", "reloading"),
        )

    def require_installed(self, state):
        missing = [name for name, service in sorted(state.services.items()) if not service.installed]
        if missing:
            self.fail("service(s) {0} not installed; install amazon-ssm-agent and amazon-ecs-init first".format(", ".join(missing)))
        self.require_ssm_agent()

    def require_ssm_agent(self):
        if not self._ssm_agent:
            self.fail("amazon-ssm-agent was not found in PATH")

    def metadata(self, timeout):
        """(introspection answer or None, error text or None)."""
        try:
            answer = open_url(self.introspection_url, timeout=timeout, use_proxy=False)
            return json.loads(answer.read()), None
        except Exception as error:  # pylint: disable=broad-except
            # Any failure (refused, timeout, HTTP error, bad JSON) means "not ready yet" to the caller.
            return None, "{0}: {1}".format(type(error).__name__, error)

    # --- change --------------------------------------------------------------------------------

    def systemctl(self, verb, name):
        rc, out, err = self.module.run_command([self._systemctl, verb, name])
        if rc != 0:
            self.fail("systemctl {0} {1} failed: {2}".format(verb, name, (err or out).strip()))

    def register(self, activation_id, activation_code, region, previous=None):
        """Run amazon-ssm-agent -register and return the new Registration.

        The code is in the child's argv only (the agent has no other way to take it); results and
        failures carry neither the command line nor the code. previous is the Registration the host had:
        amazon-ssm-agent empties its vault before it calls AWS (aws/amazon-ssm-agent,
        agent/cli-main/cli-main.go, registerManagedInstance: UpdateServerInfo("", "", privateKey, keyType)),
        so a failed call leaves the host unregistered and the previous mi- id orphaned; the failure says so.
        """
        command = [self._ssm_agent, "-register", "-code", activation_code, "-id", activation_id, "-region", region, "-y"]
        try:
            rc, out, err = self.module.run_command(command, handle_exceptions=False)
        except OSError as error:
            self.fail("cannot run amazon-ssm-agent: {0}".format(error.strerror or error))
        said = " ".join(part.strip() for part in (err, out) if part and part.strip()).replace(activation_code, MASK)
        if rc != 0:
            message = "registration with activation {0} in {1} failed ({2}). amazon-ssm-agent said: {3}".format(
                activation_id, region, registration_failure_hint(said), said or "nothing (rc={0})".format(rc))
            if previous is not None and vault.read_registration(self.paths.registration_key)[0] is None:
                message += (". amazon-ssm-agent cleared the host's registration as {0} ({1}) before the call: the host is no longer "
                            "registered, a run with a valid activation registers it anew, and {0} stays in SSM until it is "
                            "deregistered".format(previous.managed_instance_id, previous.region))
            self.fail(message)
        registration, problem = vault.read_registration(self.paths.registration_key)
        if registration is None or registration.region != region:
            self.fail("amazon-ssm-agent -register succeeded but the SSM Vault holds no registration in {0} ({1})".format(region, problem or registration))
        return registration

    def clear_registration(self):
        rc, out, err = self.module.run_command([self._ssm_agent, "-register", "-clear"])
        if rc != 0:
            self.fail("amazon-ssm-agent -register -clear failed: {0}".format((err or out).strip()))

    def write_file(self, path, text):
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        temporary = os.path.join(directory, ".{0}.fleetops-tmp".format(os.path.basename(path)))
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        if not os.path.exists(path):
            os.chmod(temporary, 0o644)
        self.module.atomic_move(temporary, path)

    def wipe_agent_data(self):
        """Empty the ECS agent's data directory (its container-instance ARN and task state)."""
        for entry in _entries(self.paths.agent_data):
            path = os.path.join(self.paths.agent_data, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def wait_for_container_instance(self, cluster, timeout):
        """The introspection answer once it names a container instance in cluster; fails after timeout."""
        deadline = time.monotonic() + timeout
        delay = 0.5
        while True:
            answer, error = self.metadata(timeout=min(5, max(1, timeout)))
            if answer and answer.get("ContainerInstanceArn") and cluster_name(answer.get("Cluster")) == cluster_name(cluster):
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = error or "ContainerInstanceArn={0!r}, Cluster={1!r}".format((answer or {}).get("ContainerInstanceArn"), (answer or {}).get("Cluster"))
                self.fail("the ECS agent reported no container instance in cluster {0} within {1}s on {2} (last: {3})".format(
                    cluster, timeout, self.introspection_url, seen))
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 5)


def registration_failure_hint(output):
    """A plain-words reading of amazon-ssm-agent's registration error (AWS answers InvalidActivation
    for all three cases; the message tells them apart)."""
    lowered = output.lower()
    if "expired" in lowered:
        return "the activation has expired"
    if "limit" in lowered:
        return "the activation has no registrations left"
    if "invalidactivation" in lowered or "not valid" in lowered or "not found" in lowered:
        return "the activation id or code is not valid"
    return "see the agent's message"


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _entries(directory):
    try:
        return sorted(os.listdir(directory))
    except FileNotFoundError:
        return []


def _has_entries(directory):
    return bool(_entries(directory))
