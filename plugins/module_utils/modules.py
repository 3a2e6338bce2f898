# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module base class every AWS-facing module of the collection uses."""

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.common import COLLECTION_VERSION
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import RetryingClient
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.retries import jittered_retry


class AnsibleECSAnywhereModule(AnsibleAWSModule):
    """AnsibleAWSModule that names this collection in the user agent and retries every call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def client(self, service, retry_decorator=None, **extra_params):
        """A boto3 client for service whose every operation retries throttling (see retries.py)."""
        return RetryingClient(super().client(service, **extra_params), retry_decorator or jittered_retry())
