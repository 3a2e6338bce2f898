# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM managed-instance reads. Clients are RetryingClient instances."""

from ..errors import SSMErrorHandler
from ..iterators import SSM_PAGE_SIZE
from ..iterators import chunks
from ..iterators import paginate


@SSMErrorHandler.common_error_handler("describe managed instances")
def describe_instance_information(client, instance_ids=None, filters=None):
    """InstanceInformationList entries, 50 per page.

    With instance_ids, asks only for those (50 ids per request, the filter's useful size at
    the page limit) instead of paging through the whole account.
    """
    filters = list(filters or [])
    if instance_ids is None:
        return list(
            paginate(client.describe_instance_information, "InstanceInformationList", token_key="NextToken", Filters=filters, MaxResults=SSM_PAGE_SIZE)
        )
    found = []
    for batch in chunks(sorted(set(instance_ids)), SSM_PAGE_SIZE):
        found.extend(
            paginate(
                client.describe_instance_information,
                "InstanceInformationList",
                token_key="NextToken",
                Filters=filters + [{"Key": "InstanceIds", "Values": batch}],
                MaxResults=SSM_PAGE_SIZE,
            )
        )
    return found


@SSMErrorHandler.list_error_handler("list managed instance tags", default_value=[])
def list_managed_instance_tags(client, instance_id):
    """The TagList of a managed instance (mi-), empty if it is gone; DescribeInstanceInformation returns no tags."""
    return client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id).get("TagList", [])
