# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Batching and pagination helpers sized to the ECS and SSM API limits."""

# DescribeContainerInstances, DescribeTasks and ListContainerInstances pages take at most 100 items.
DESCRIBE_BATCH_SIZE = 100
# StartTask instances, RunTask count and UpdateContainerInstancesState take at most 10 items.
UPDATE_BATCH_SIZE = 10
# DescribeInstanceInformation and DescribeActivations return at most 50 items per page.
SSM_PAGE_SIZE = 50


def chunks(items, size):
    """Yield successive lists of at most size items from items."""
    if size < 1:
        raise ValueError("size must be at least 1")
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def paginate(operation, result_key, token_key="nextToken", response_token_key=None, **params):
    """Yield the items under result_key across every page of operation.

    operation is a (retrying) client method; each page is requested, and retried, on its own.
    ECS names its token nextToken and SSM NextToken; both directions use token_key unless
    the response names it differently.
    """
    response_token_key = response_token_key or token_key
    params = dict(params)
    while True:
        page = operation(**params)
        yield from page.get(result_key, [])
        token = page.get(response_token_key)
        if not token:
            return
        params[token_key] = token
