"""pytest fixtures for the lab AWS endpoint.

Load with ``pytest_plugins = ["lab.aws.pytest_plugin"]`` in a test module or the root conftest, with
``-p lab.aws.pytest_plugin``, or by importing the fixtures into a conftest
(``from lab.aws.pytest_plugin import lab_aws, lab_aws_server, lab_aws_env  # noqa: F401``).

- ``lab_aws_server`` (session): one ``lab.aws.testing.LabAWS`` for the whole run.
- ``lab_aws``: the same server, reset (moto state, faults, counters, clock, settings) before the test.
- ``lab_aws_env``: ``lab_aws`` plus the environment boto3 and amazon.aws modules read (AWS_ENDPOINT_URL,
  region, the lab admin's credentials ``testing``, see lab.aws.auth), set for the test only.
"""
import pytest

from lab.aws.testing import LabAWS


@pytest.fixture(scope="session")
def lab_aws_server():
    with LabAWS() as lab:
        yield lab


@pytest.fixture
def lab_aws(lab_aws_server):
    lab_aws_server.reset()
    yield lab_aws_server


@pytest.fixture
def lab_aws_env(lab_aws, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", lab_aws.url)
    monkeypatch.setenv("AWS_REGION", lab_aws.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", lab_aws.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield lab_aws
