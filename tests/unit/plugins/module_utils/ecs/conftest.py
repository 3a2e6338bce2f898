# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the ECS module_utils tests: botocore's request shapes (no client, no network)."""

import botocore.session
import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ecs.shapes import request_shape


@pytest.fixture(scope="session")
def ecs_model():
    return botocore.session.get_session().get_service_model("ecs")


@pytest.fixture(scope="session")
def register_shape(ecs_model):
    return request_shape(ecs_model, "RegisterTaskDefinition")
