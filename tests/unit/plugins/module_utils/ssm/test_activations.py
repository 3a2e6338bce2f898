# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Activation requests: expiration parsing (durations, timestamps, 30-day cap), validation naming the
option, normalizing and selecting described activations."""

import datetime

import pytest

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._ssm import activations
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError

NOW = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.timezone.utc)
UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1h", NOW + datetime.timedelta(hours=1)),
        ("90m", NOW + datetime.timedelta(minutes=90)),
        ("1d12h", NOW + datetime.timedelta(days=1, hours=12)),
        (" 2h 30m ", NOW + datetime.timedelta(hours=2, minutes=30)),
        ("45s", NOW + datetime.timedelta(seconds=45)),
        ("4w", NOW + datetime.timedelta(weeks=4)),
        ("30d", NOW + datetime.timedelta(days=30)),
        ("2026-11-25T10:00:00Z", datetime.datetime(2026, 11, 25, 10, tzinfo=UTC)),
        ("2026-11-25T12:00:00+02:00", datetime.datetime(2026, 11, 25, 10, tzinfo=UTC)),
        ("2026-11-25 10:00:00", datetime.datetime(2026, 11, 25, 10, tzinfo=UTC)),
        ("2026-12-24", datetime.datetime(2026, 12, 24, tzinfo=UTC)),
    ],
)
def test_parse_expiration_accepts_durations_and_timestamps(value, expected):
    assert activations.parse_expiration(value, NOW) == expected


@pytest.mark.parametrize(
    "value,problem",
    [
        ("31d", "at most 30 days"),
        ("30d1s", "at most 30 days"),
        ("2026-12-24T10:00:01Z", "at most 30 days"),
        ("0h", "in the future"),
        ("2026-11-24T09:59:59Z", "in the future"),
        ("1 hour", "must be a duration such as 1h"),
        ("3600", "must be a duration such as 1h"),
        ("tomorrow", "must be a duration such as 1h"),
        ("1y", "must be a duration such as 1h"),
    ],
)
def test_parse_expiration_refuses_naming_the_option(value, problem):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        activations.parse_expiration(value, NOW)
    assert error.value.message.startswith("expiration must")
    assert problem in error.value.message


def test_activation_request_full():
    request = activations.activation_request(
        {"iam_role": "arn:aws:iam::123456789012:role/ecsAnywhereRole", "registration_limit": 3, "expiration": "1h",
         "description": "edge site 7", "default_instance_name": "edge-7", "tags": {"site": 7, "env": "lab"}}, NOW)

    assert request == {
        "IamRole": "ecsAnywhereRole", "RegistrationLimit": 3, "ExpirationDate": NOW + datetime.timedelta(hours=1),
        "Description": "edge site 7", "DefaultInstanceName": "edge-7",
        "Tags": [{"Key": "env", "Value": "lab"}, {"Key": "site", "Value": "7"}],
    }


def test_activation_request_defaults_leave_expiry_to_aws():
    assert activations.activation_request({"iam_role": "ecsAnywhereRole"}, NOW) == {"IamRole": "ecsAnywhereRole", "RegistrationLimit": 1}


@pytest.mark.parametrize(
    "params,option",
    [
        ({"iam_role": ""}, "iam_role"),
        ({"iam_role": "r" * 65}, "iam_role"),
        ({"iam_role": "ecsAnywhereRole", "registration_limit": 0}, "registration_limit"),
        ({"iam_role": "ecsAnywhereRole", "registration_limit": 1001}, "registration_limit"),
        ({"iam_role": "ecsAnywhereRole", "description": "d" * 257}, "description"),
        ({"iam_role": "ecsAnywhereRole", "default_instance_name": "bad;name"}, "default_instance_name"),
        ({"iam_role": "ecsAnywhereRole", "tags": {"k" * 129: "v"}}, "tags"),
        ({"iam_role": "ecsAnywhereRole", "tags": {"k": None}}, "tags"),
        ({"iam_role": "ecsAnywhereRole", "expiration": "45d"}, "expiration"),
    ],
)
def test_activation_request_refuses_bad_options_naming_them(params, option):
    with pytest.raises(AnsibleECSAnywhereError) as error:
        activations.activation_request(params, NOW)
    assert error.value.message.startswith(option)


DESCRIBED = [
    {"ActivationId": "b", "IamRole": "ecsAnywhereRole", "RegistrationLimit": 3, "RegistrationsCount": 3,
     "ExpirationDate": NOW, "Expired": True, "CreatedDate": NOW - datetime.timedelta(hours=2),
     "Tags": [{"Key": "managed-by", "Value": "fleetops.ecs_anywhere"}]},
    {"ActivationId": "a", "IamRole": "ecsAnywhereRole", "RegistrationLimit": 1, "RegistrationsCount": 0,
     "ExpirationDate": NOW + datetime.timedelta(hours=1), "Expired": False, "CreatedDate": NOW - datetime.timedelta(hours=1),
     "DefaultInstanceName": "edge", "Description": "d", "Tags": [{"Key": "managed-by", "Value": "fleetops.ecs_anywhere"}, {"Key": "site", "Value": "7"}]},
    {"ActivationId": "c", "IamRole": "other", "RegistrationLimit": 1, "RegistrationsCount": 1,
     "ExpirationDate": NOW, "Expired": True, "CreatedDate": NOW - datetime.timedelta(hours=3)},
]


def test_normalize_activation():
    assert activations.normalize_activation(DESCRIBED[1]) == {
        "activation_id": "a", "description": "d", "default_instance_name": "edge", "iam_role": "ecsAnywhereRole",
        "registration_limit": 1, "registrations_count": 0, "expiration_date": "2026-11-24T11:00:00+00:00",
        "expired": False, "created_date": "2026-11-24T09:00:00+00:00", "tags": {"managed-by": "fleetops.ecs_anywhere", "site": "7"},
    }


@pytest.mark.parametrize(
    "tags,expired,ids",
    [
        (None, None, ["c", "b", "a"]),
        ({"managed-by": "fleetops.ecs_anywhere"}, None, ["b", "a"]),
        ({"managed-by": "fleetops.ecs_anywhere"}, True, ["b"]),
        ({"site": 7}, None, ["a"]),
        (None, False, ["a"]),
        ({"absent": "x"}, None, []),
    ],
)
def test_select_activations_by_tags_and_expiry_oldest_first(tags, expired, ids):
    normalized = [activations.normalize_activation(a) for a in DESCRIBED]

    assert [a["activation_id"] for a in activations.select_activations(normalized, tags, expired)] == ids


def test_server_filters_use_the_api_filter_keys():
    assert activations.server_filters({"activation_ids": ["a", "b"], "default_instance_name": "edge",
                                       "iam_role": "arn:aws:iam::123456789012:role/ecsAnywhereRole", "tags": {"x": "y"}}) == [
        {"FilterKey": "ActivationIds", "FilterValues": ["a", "b"]},
        {"FilterKey": "DefaultInstanceName", "FilterValues": ["edge"]},
        {"FilterKey": "IamRole", "FilterValues": ["ecsAnywhereRole"]},
    ]
    assert activations.server_filters({}) == []


def test_check_mode_activation_from_request_defaults_to_24_hours():
    request = activations.activation_request({"iam_role": "ecsAnywhereRole", "registration_limit": 2}, NOW)

    activation = activations.activation_from_request(request, NOW)

    assert activation["expiration_date"] == "2026-11-25T10:00:00+00:00"
    assert activation["activation_id"] is None and activation["registrations_count"] == 0


class RecordingClient:
    """Stands in for the SSM client where the point is which calls are (not) made."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append(name)
            return {"ActivationList": []}
        return call


def test_absent_without_selector_fails_before_any_call():
    client = RecordingClient()

    with pytest.raises(AnsibleECSAnywhereError) as error:
        activations.ensure_absent(client, {"expired": False}, check_mode=False)

    assert "state=absent needs activation_id or a selector" in error.value.message
    assert client.calls == []


def test_present_with_bad_input_makes_no_call():
    client = RecordingClient()

    with pytest.raises(AnsibleECSAnywhereError):
        activations.ensure_present(client, {"iam_role": "ecsAnywhereRole", "expiration": "31d"}, check_mode=False)

    assert client.calls == []
