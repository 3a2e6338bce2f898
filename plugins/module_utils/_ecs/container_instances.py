# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS container-instance reads, sized to the API limits. Clients are RetryingClient instances."""

from ..errors import ECSErrorHandler
from ..iterators import DESCRIBE_BATCH_SIZE
from ..iterators import chunks
from ..iterators import paginate


@ECSErrorHandler.common_error_handler("list container instances")
def list_container_instance_arns(client, cluster, query=None, status=None):
    """ARNs of the cluster's container instances, 100 per page, optionally narrowed by an ECS
    cluster-query-language query and a status (ACTIVE, DRAINING, REGISTERING, ...)."""
    params = {"cluster": cluster, "maxResults": DESCRIBE_BATCH_SIZE}
    if query:
        params["filter"] = query
    if status:
        params["status"] = status
    return list(paginate(client.list_container_instances, "containerInstanceArns", **params))


@ECSErrorHandler.common_error_handler("describe container instances")
def describe_container_instances(client, cluster, arns, include_tags=True):
    """Describe container instances in batches of 100. Returns (instances, failures)."""
    instances, failures = [], []
    extra = {"include": ["TAGS"]} if include_tags else {}
    for batch in chunks(arns, DESCRIBE_BATCH_SIZE):
        response = client.describe_container_instances(cluster=cluster, containerInstances=batch, **extra)
        instances.extend(response.get("containerInstances", []))
        failures.extend(response.get("failures", []))
    return instances, failures


def managed_instance_query(managed_instance_ids):
    """The cluster-query-language expression that selects container instances by mi- id."""
    return "ec2InstanceId in [{0}]".format(", ".join(managed_instance_ids))


@ECSErrorHandler.common_error_handler("list clusters")
def list_cluster_arns(client):
    """ARNs of every cluster of the client's region, 100 per page (ListClusters' limit)."""
    return list(paginate(client.list_clusters, "clusterArns", maxResults=DESCRIBE_BATCH_SIZE))


@ECSErrorHandler.common_error_handler("list container instances")
def list_container_instance_arn_page(client, cluster, query=None, status=None, next_token=None):
    """One ListContainerInstances page of up to 100 ARNs: (arns, next token or None).

    For callers that describe each page while the next one is listed.
    """
    params = {"cluster": cluster, "maxResults": DESCRIBE_BATCH_SIZE}
    if query:
        params["filter"] = query
    if status:
        params["status"] = status
    if next_token:
        params["nextToken"] = next_token
    page = client.list_container_instances(**params)
    return page.get("containerInstanceArns", []), page.get("nextToken")
