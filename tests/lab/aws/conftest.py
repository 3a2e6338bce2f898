"""Fixtures of the ECS add-on tests."""
import pytest

from lab.aws._ecs_testing import CLUSTER


@pytest.fixture
def ecs(lab_aws):
    """An ECS client on the lab endpoint, with the tests' cluster created."""
    client = lab_aws.client("ecs")
    client.create_cluster(clusterName=CLUSTER)
    return client
