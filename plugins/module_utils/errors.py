# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exceptions and error handlers of the collection, in amazon.aws's AWSErrorHandler style."""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


class AnsibleECSAnywhereError(AnsibleAWSError):
    """An AWS or validation failure, carrying the message and the botocore exception (if any)."""


class ECSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSAnywhereError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["ClusterNotFoundException", "ResourceNotFoundException"])


class SSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSAnywhereError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidActivationId", "InvalidInstanceId", "InvalidResourceId"])


class LogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSAnywhereError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")
