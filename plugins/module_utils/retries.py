# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Throttling retries shared by every AWS call of the collection.

amazon.aws's AWSRetry retries "Throttling" and 5xx-style codes, but ECS and SSM throttle with
"ThrottlingException" (and SSM also with "TooManyUpdates"), so those are added here. Each call is
retried on its own: a paginated listing that is throttled on page 40 resumes at page 40.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Codes that ECS, SSM and CloudWatch Logs use for throttling or transient server faults, on top of
# those AWSRetry already retries. SSM's server fault is InternalServerError, ECS's ServerException.
EXTRA_RETRY_CODES = (
    "ThrottlingException", "TooManyUpdates", "ServerException", "InternalServerError", "ServiceUnavailableException",
)


def jittered_retry(retries=10, delay=1.0, max_delay=30.0):
    """A decorator that retries throttled or transient AWS errors with jittered exponential backoff."""
    return AWSRetry.jittered_backoff(
        retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=list(EXTRA_RETRY_CODES)
    )


class RetryingClient:
    """A boto3 client whose every operation is retried with retry.

    amazon.aws's RetryingBotoClientWrapper retries only when a call passes aws_retry=True; here
    retrying is the default so that no call of the collection can forget it.
    """

    def __init__(self, client, retry=None):
        self.client = client
        self._retry = retry or jittered_retry()

    def __getattr__(self, name):
        attribute = getattr(self.client, name)
        if not callable(attribute) or name in ("get_paginator", "can_paginate", "get_waiter"):
            return attribute
        wrapped = self._retry(attribute)
        setattr(self, name, wrapped)
        return wrapped
