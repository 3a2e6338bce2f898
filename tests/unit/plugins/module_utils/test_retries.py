# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RetryingClient retries throttling and transient errors per call, and nothing else."""

import botocore.awsrequest
import botocore.exceptions
import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import RetryingClient
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry

FAST_RETRY = jittered_retry(retries=5, delay=0.001, max_delay=0.002)


def inject_errors(client, operation, code, times, status=400):
    """Make the next ``times`` calls of ``operation`` answer an AWS JSON error ``code``."""
    remaining = {"count": times}

    def respond(request, **kwargs):
        if remaining["count"] <= 0:
            return None
        remaining["count"] -= 1
        body = ('{"__type": "%s", "message": "injected"}' % code).encode()
        return botocore.awsrequest.AWSResponse(request.url, status, {"x-amzn-RequestId": "lab"}, _RawBody(body))

    client.meta.events.register(f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}", respond)
    return remaining


class _RawBody:
    def __init__(self, body):
        self._body = body

    def stream(self, **kwargs):
        yield self._body

    def read(self, *args):
        body, self._body = self._body, b""
        return body


@pytest.mark.parametrize(
    "service,operation,method,code",
    [
        ("ecs", "ListClusters", "list_clusters", "ThrottlingException"),
        ("ssm", "DescribeParameters", "describe_parameters", "ThrottlingException"),
        ("ssm", "DescribeParameters", "describe_parameters", "TooManyUpdates"),
        ("ecs", "ListClusters", "list_clusters", "ServerException"),
        ("ssm", "DescribeParameters", "describe_parameters", "InternalServerError"),
    ],
)
def test_retries_throttling_until_success(counting_client, service, operation, method, code):
    raw = counting_client(service)
    inject_errors(raw, operation, code, times=3)

    result = getattr(RetryingClient(raw, FAST_RETRY), method)()

    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert counting_client.calls[operation] == 4


def test_gives_up_after_retries(counting_client):
    raw = counting_client("ecs")
    inject_errors(raw, "ListClusters", "ThrottlingException", times=50)

    with pytest.raises(botocore.exceptions.ClientError) as error:
        RetryingClient(raw, FAST_RETRY).list_clusters()

    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    assert counting_client.calls["ListClusters"] == 5


def test_does_not_retry_client_errors(counting_client):
    client = RetryingClient(counting_client("ecs"), FAST_RETRY)

    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.describe_services(cluster="missing", services=["nothing"])

    assert error.value.response["Error"]["Code"] == "ClusterNotFoundException"
    assert counting_client.calls["DescribeServices"] == 1


def test_paginators_and_attributes_pass_through(counting_client):
    raw = counting_client("ecs")
    client = RetryingClient(raw, FAST_RETRY)

    assert client.meta is raw.meta
    assert client.can_paginate("list_clusters") is True
    assert client.get_paginator("list_clusters").paginate().build_full_result() == {"clusterArns": []}
