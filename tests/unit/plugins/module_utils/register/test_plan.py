# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning ecs_anywhere_register's steps from observed host facts."""

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import ecs_config
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register import plan as planning
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.ecs_config import ETC
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.ecs_config import VAR
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.plan import ECS_SERVICE
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.plan import SSM_SERVICE
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.plan import ServiceState
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._register.vault import Registration

RUNNING = ServiceState(installed=True, enabled=True, active=True)
STOPPED = ServiceState(installed=True, enabled=False, active=False)
CONFIGURED = {
    ETC: "ECS_LOGLEVEL=debug\nECS_CLUSTER=edge\n",
    VAR: "AWS_DEFAULT_REGION=eu-west-1\nECS_EXTERNAL=true\n",
}
ETC_PATH, VAR_PATH = "/etc/ecs/ecs.config", "/var/lib/ecs/ecs.config"
REGISTERED = Registration("mi-0123456789abcdef0", "eu-west-1")


def state(registration=REGISTERED, texts=None, ssm=RUNNING, ecs=RUNNING, agent_data=True, vault_problem=None):
    return planning.HostState(
        registration=registration, vault_problem=vault_problem, texts=dict(CONFIGURED if texts is None else texts),
        config_paths={ETC: ETC_PATH, VAR: VAR_PATH},
        services={SSM_SERVICE: ssm, ECS_SERVICE: ecs}, agent_data=agent_data, metadata=None)


def desired(cluster="edge", region="eu-west-1", force=False, **options):
    to_set, to_remove = ecs_config.desired_keys(cluster, region, **options)
    return planning.Desired(cluster, region, to_set, to_remove, force)


def actions(plan):
    return [change["action"] for change in plan.changes]


def test_configured_running_host_needs_nothing():
    plan = planning.plan_present(state(), desired())

    assert not plan.changed
    assert not plan.register and not plan.files and not plan.start and not plan.stop


def test_fresh_host_registers_writes_both_files_and_starts_both_agents():
    plan = planning.plan_present(state(registration=None, texts={ETC: None, VAR: None},
                                       ssm=STOPPED, ecs=STOPPED, agent_data=False), desired())

    assert plan.register
    assert sorted(plan.files) == [ETC_PATH, VAR_PATH]
    assert not plan.wipe_agent_data  # nothing to wipe
    assert plan.enable == [SSM_SERVICE, ECS_SERVICE]
    assert plan.start == [SSM_SERVICE, ECS_SERVICE]
    assert plan.stop == []
    assert actions(plan) == [
        "register with SSM", "update /etc/ecs/ecs.config", "update /var/lib/ecs/ecs.config",
        "enable amazon-ssm-agent", "start amazon-ssm-agent", "enable ecs", "start ecs"]
    assert plan.changes[0]["reason"] == "the host is not registered with SSM"
    assert plan.changes[1]["reason"] == "set ECS_CLUSTER=edge"


def test_registered_in_the_region_keeps_registration_even_with_an_activation_at_hand():
    plan = planning.plan_present(state(), desired())

    assert not plan.register


def test_registration_in_another_region_registers_again_and_resets_the_ecs_agent():
    plan = planning.plan_present(state(registration=Registration("mi-0aaaaaaaaaaaaaaaa", "us-east-1")), desired())

    assert plan.register
    assert plan.stop == [SSM_SERVICE, ECS_SERVICE]
    assert plan.wipe_agent_data
    assert plan.changes[0]["reason"] == "registered as mi-0aaaaaaaaaaaaaaaa in us-east-1, not in eu-west-1"
    assert {"action": "clear ECS agent data", "reason": "the host gets a new managed-instance id"} in plan.changes
    assert plan.start == [SSM_SERVICE, ECS_SERVICE]
    assert "restart amazon-ssm-agent" in actions(plan) and "restart ecs" in actions(plan)


def test_force_register_and_unreadable_vault_register():
    assert planning.plan_present(state(), desired(force=True)).changes[0]["reason"] == "force_register is set"
    plan = planning.plan_present(state(registration=None, vault_problem="RegistrationKey is not JSON"), desired())
    assert plan.register
    assert plan.changes[0]["reason"] == "the SSM registration cannot be read (RegistrationKey is not JSON)"


def test_cluster_change_stops_ecs_wipes_data_and_starts_it_keeping_registration():
    plan = planning.plan_present(state(), desired(cluster="green"))

    assert not plan.register
    assert plan.files[ETC_PATH] == (CONFIGURED[ETC], "ECS_LOGLEVEL=debug\nECS_CLUSTER=green\n")
    assert plan.stop == [ECS_SERVICE]
    assert plan.wipe_agent_data
    assert plan.start == [ECS_SERVICE]
    assert plan.changes == [
        {"action": "update /etc/ecs/ecs.config", "reason": "change ECS_CLUSTER from edge to green"},
        {"action": "clear ECS agent data", "reason": "cluster changes from edge to green"},
        {"action": "restart ecs", "reason": "configuration or registration changed"},
    ]


def test_unset_cluster_counts_as_default_cluster():
    texts = {ETC: "", VAR: CONFIGURED[VAR]}

    plan = planning.plan_present(state(texts=texts), desired())

    assert {"action": "clear ECS agent data", "reason": "cluster changes from default to edge"} in plan.changes
    assert not planning.plan_present(state(texts=texts), desired(cluster="default")).wipe_agent_data


def test_config_only_change_restarts_ecs_without_wiping():
    plan = planning.plan_present(state(), desired(ecs_endpoint="http://10.213.0.1:4566"))

    assert not plan.wipe_agent_data and plan.stop == []
    assert plan.start == [ECS_SERVICE]
    assert plan.changes[0] == {"action": "update /var/lib/ecs/ecs.config", "reason": "set ECS_BACKEND_HOST=http://10.213.0.1:4566"}


def test_stopped_or_disabled_agents_are_started_and_enabled():
    plan = planning.plan_present(state(ecs=ServiceState(True, False, False)), desired())

    assert plan.changes == [
        {"action": "enable ecs", "reason": "it is not enabled at boot"},
        {"action": "start ecs", "reason": "it is not running"},
    ]


def test_duplicates_are_reported():
    texts = dict(CONFIGURED)
    texts[ETC] += "ECS_CLUSTER=edge\n"

    plan = planning.plan_present(state(texts=texts), desired())

    assert plan.changes[0] == {"action": "update /etc/ecs/ecs.config", "reason": "drop 1 duplicate line(s)"}


def test_absent_stops_disables_clears_and_wipes():
    plan = planning.plan_absent(state())

    assert plan.stop == [ECS_SERVICE, SSM_SERVICE]
    assert plan.disable == [ECS_SERVICE, SSM_SERVICE]
    assert plan.clear_registration and plan.wipe_agent_data
    assert {"action": "clear SSM registration", "reason": "registered as mi-0123456789abcdef0 in eu-west-1"} in plan.changes


def test_absent_on_a_clean_host_changes_nothing():
    plan = planning.plan_absent(state(registration=None, ssm=STOPPED, ecs=STOPPED, agent_data=False))

    assert not plan.changed
