# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batching and pagination against moto."""

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.iterators import DESCRIBE_BATCH_SIZE
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.iterators import UPDATE_BATCH_SIZE
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.iterators import chunks
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.iterators import paginate
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import RetryingClient
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry

from .test_retries import inject_errors


@pytest.mark.parametrize(
    "count,size,expected",
    [
        (0, DESCRIBE_BATCH_SIZE, []),
        (100, DESCRIBE_BATCH_SIZE, [100]),
        (101, DESCRIBE_BATCH_SIZE, [100, 1]),
        (250, DESCRIBE_BATCH_SIZE, [100, 100, 50]),
        (25, UPDATE_BATCH_SIZE, [10, 10, 5]),
    ],
)
def test_chunks_sizes_and_order(count, size, expected):
    batches = list(chunks(iter(range(count)), size))

    assert [len(batch) for batch in batches] == expected
    assert [item for batch in batches for item in batch] == list(range(count))


def test_chunks_rejects_empty_size():
    with pytest.raises(ValueError):
        list(chunks([1], 0))


def test_paginate_ssm_walks_every_page(counting_client):
    ssm = counting_client("ssm")
    for index in range(23):
        ssm.put_parameter(Name=f"/lab/p{index:02d}", Value="v", Type="String")

    names = [p["Name"] for p in paginate(ssm.describe_parameters, "Parameters", token_key="NextToken", MaxResults=10)]

    assert sorted(names) == [f"/lab/p{index:02d}" for index in range(23)]
    assert counting_client.calls["DescribeParameters"] == 3


def test_paginate_logs_resumes_a_throttled_page(counting_client):
    logs = counting_client("logs")
    for index in range(12):
        logs.create_log_group(logGroupName=f"/ecs/group-{index:02d}")
    client = RetryingClient(logs, jittered_retry(retries=5, delay=0.001, max_delay=0.002))
    pages = {"seen": 0}

    def throttle_third_page(**kwargs):
        pages["seen"] += 1
        if pages["seen"] == 3:
            inject_errors(logs, "DescribeLogGroups", "ThrottlingException", times=2)

    logs.meta.events.register("provide-client-params.logs.DescribeLogGroups", throttle_third_page)

    groups = list(paginate(client.describe_log_groups, "logGroups", limit=5))

    assert [g["logGroupName"] for g in groups] == [f"/ecs/group-{index:02d}" for index in range(12)]
    # 3 pages, the third retried twice on its own: no page is fetched again.
    assert counting_client.calls["DescribeLogGroups"] == 5
