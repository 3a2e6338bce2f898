# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Identity of the collection, used in the AWS user agent."""

COLLECTION_NAME = "fleetops.ecs_anywhere"
COLLECTION_VERSION = "0.1.0"
