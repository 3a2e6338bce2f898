# Lab suites share one in-process lab AWS endpoint, reset before each test.
from lab.aws.pytest_plugin import lab_aws, lab_aws_env, lab_aws_server  # noqa: F401
