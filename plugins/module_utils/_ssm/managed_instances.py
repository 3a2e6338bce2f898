# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SSM managed-instance writes. Clients are RetryingClient instances."""

from ..errors import SSMErrorHandler


@SSMErrorHandler.deletion_error_handler("deregister managed instance")
def deregister_managed_instance(client, instance_id):
    """Deregister an mi- instance; False when SSM no longer knows it (InvalidInstanceId)."""
    client.deregister_managed_instance(InstanceId=instance_id)
    return True
