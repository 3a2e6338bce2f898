# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Join of ECS container instances with SSM managed instances, for the inventory plugin.

No API calls: the plugin fetches, these functions combine. Inputs keep boto3's shapes
(DescribeContainerInstances' containerInstances, DescribeInstanceInformation's
InstanceInformationList), fresh or from the inventory cache.
"""


def join_instances(region, clusters, managed_instances, include_ssm_only=False, require_managed_instance=False):
    """Host records of one region: each ECS container instance with the SSM managed instance its
    ec2InstanceId names.

    clusters maps a cluster name to its container instances; managed_instances is a list of
    instance-information entries. A record is a dict with region, cluster (None for SSM-only
    records), container_instance and managed_instance (either may be None).

    - A container instance without a managed instance (deregistered from SSM, or not yet seen by
      it) keeps managed_instance None, unless require_managed_instance drops it (the SSM filters
      did not select it).
    - A managed instance that no container instance names becomes a record of its own only with
      include_ssm_only.

    Records are sorted by cluster, container-instance ARN and managed-instance id, so that the
    inventory does not depend on the order in which concurrent reads finished.
    """
    by_instance_id = {instance["InstanceId"]: instance for instance in managed_instances}
    joined_ids = set()
    records = []
    for cluster, container_instances in clusters.items():
        for container_instance in container_instances:
            instance_id = container_instance.get("ec2InstanceId")
            managed_instance = by_instance_id.get(instance_id)
            if managed_instance is None and require_managed_instance:
                continue
            if managed_instance is not None:
                joined_ids.add(instance_id)
            records.append(_record(region, cluster, container_instance, managed_instance))
    if include_ssm_only:
        for instance_id, managed_instance in by_instance_id.items():
            if instance_id not in joined_ids:
                records.append(_record(region, None, None, managed_instance))
    return sorted(records, key=_record_key)


def _record(region, cluster, container_instance, managed_instance):
    return {"region": region, "cluster": cluster, "container_instance": container_instance, "managed_instance": managed_instance}


def _record_key(record):
    container_instance = record["container_instance"] or {}
    managed_instance = record["managed_instance"] or {}
    return (record["cluster"] or "", container_instance.get("containerInstanceArn", ""), managed_instance.get("InstanceId", ""))
