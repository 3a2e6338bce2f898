# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for module_utils tests: boto3 clients on moto, with per-operation call counts."""

import collections

import boto3
import botocore.config
import pytest

moto = pytest.importorskip("moto")

REGION = "us-east-1"


@pytest.fixture
def aws_credentials(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mocked_aws(aws_credentials):
    with moto.mock_aws():
        yield


class CountingClient:
    """Builds boto3 clients with botocore's own retries off and counts the calls each one sends."""

    def __init__(self):
        self.calls = collections.Counter()

    def __call__(self, service):
        client = boto3.client(
            service, region_name=REGION, config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})
        )
        client.meta.events.register("before-send", self._count)
        return client

    def _count(self, request, **kwargs):
        operation = request.context.get("operation_name") if hasattr(request, "context") else None
        self.calls[operation or kwargs.get("event_name", "").rsplit(".", 1)[-1]] += 1


@pytest.fixture
def counting_client(mocked_aws):
    return CountingClient()
