# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task logs: awslogs stream resolution from the task definition, time options, and GetLogEvents paging
(a fake client that pages with tokens as CloudWatch Logs does, ending with the token it was given)."""

import collections
import datetime

import pytest
from botocore.exceptions import ClientError

from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils._logs import events as events_module
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.errors import AnsibleECSAnywhereError
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import awslogs_streams
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import gone_references
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import gone_tasks_warning
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import read_stream
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import tasks_from_definition
from ansible_collections.fleetops.ecs_anywhere.plugins.module_utils.logs import to_epoch_ms

TASK = {"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/edge/0123456789abcdef0123456789abcdef"}


def _container(name, driver="awslogs", **options):
    container = {"name": name, "image": "x"}
    if driver:
        container["logConfiguration"] = {"logDriver": driver, "options": options}
    return container


def test_awslogs_stream_is_prefix_container_task_id():
    definition = {"containerDefinitions": [
        _container("web", **{"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"}),
        _container("sidecar", driver="json-file"),
        _container("noprefix", **{"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"}),
        _container("silent", driver=None),
    ]}
    assert awslogs_streams(TASK, definition) == [
        {"container_name": "web", "log_group": "/ecs/web", "region": "eu-west-1", "log_stream": "ecs/web/0123456789abcdef0123456789abcdef"},
        {"container_name": "sidecar", "reason": "log driver is json-file, not awslogs"},
        {"container_name": "noprefix", "reason": "awslogs without awslogs-stream-prefix: the stream name is not known"},
        {"container_name": "silent", "reason": "log driver is unset, not awslogs"},
    ]


def test_awslogs_streams_of_chosen_containers():
    definition = {"containerDefinitions": [_container("a", **{"awslogs-stream-prefix": "p"}), _container("b", **{"awslogs-stream-prefix": "p"})]}
    assert [entry["container_name"] for entry in awslogs_streams(TASK, definition, containers=["b"])] == ["b"]


NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.mark.parametrize("value, expected", [
    (None, None),
    (1764000000000, 1764000000000),
    ("1764000000000", 1764000000000),
    ("2026-11-24T12:00:00Z", NOW_MS),
    ("2026-11-24T13:00:00+01:00", NOW_MS),
    ("2026-11-24T12:00:00", NOW_MS),
    ("-15m", NOW_MS - 15 * 60 * 1000),
    ("-2h", NOW_MS - 2 * 3600 * 1000),
    ("-1d", NOW_MS - 86400 * 1000),
    ("-30s", NOW_MS - 30 * 1000),
])
def test_to_epoch_ms(value, expected):
    assert to_epoch_ms(value, "start_time", now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "-5w", "15m", True])
def test_to_epoch_ms_names_the_field(value):
    with pytest.raises(AnsibleECSAnywhereError, match="^end_time: "):
        to_epoch_ms(value, "end_time")


class FakeLogs:
    """GetLogEvents over one stream of events with timestamps 0..n-1, paged by limit with f/N and b/N tokens."""

    def __init__(self, count):
        self.events = [{"timestamp": index, "message": "line {0}".format(index), "ingestionTime": index} for index in range(count)]
        self.calls = collections.Counter()
        self.limits = []

    def get_log_events(self, logGroupName, logStreamName, startFromHead, limit, startTime=None, endTime=None, nextToken=None):
        self.calls["GetLogEvents"] += 1
        self.limits.append(limit)
        if logStreamName != "s":
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "The specified log stream does not exist."}},
                              "GetLogEvents")
        events = [event for event in self.events if (startTime is None or event["timestamp"] >= startTime)
                  and (endTime is None or event["timestamp"] <= endTime)]
        if nextToken is None:
            start = 0 if startFromHead else max(0, len(events) - limit)
        elif nextToken.startswith("f/"):
            start = int(nextToken[2:])
        else:
            start = max(0, int(nextToken[2:]) - limit)
        end = min(len(events), start + limit) if (nextToken is None or nextToken.startswith("f/")) else int(nextToken[2:])
        page = events[start:end]
        return {"events": page, "nextForwardToken": "f/{0}".format(end), "nextBackwardToken": "b/{0}".format(start)}


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(events_module, "GET_LOG_EVENTS_LIMIT", 7)


def _messages(events):
    return [int(event["message"].split()[1]) for event in events]


def test_reads_every_page_from_the_head(small_pages):
    logs = FakeLogs(25)
    events, found = read_stream(logs, "g", "s")
    assert found is True
    assert _messages(events) == list(range(25))
    # 4 pages of events, then the repeated token that marks the end.
    assert logs.calls["GetLogEvents"] == 5


def test_limit_from_the_head(small_pages):
    logs = FakeLogs(25)
    events, _found = read_stream(logs, "g", "s", limit=10)
    assert _messages(events) == list(range(10))
    assert logs.limits == [7, 3]


def test_tail_reads_backwards_and_keeps_time_order(small_pages):
    logs = FakeLogs(25)
    events, _found = read_stream(logs, "g", "s", tail=True, limit=12)
    assert _messages(events) == list(range(13, 25))
    assert logs.limits == [7, 5]


def test_tail_without_limit_reads_the_whole_stream(small_pages):
    events, _found = read_stream(FakeLogs(25), "g", "s", tail=True)
    assert _messages(events) == list(range(25))


def test_time_window(small_pages):
    events, _found = read_stream(FakeLogs(25), "g", "s", start_time=5, end_time=9)
    assert _messages(events) == [5, 6, 7, 8, 9]


def test_missing_stream_is_not_an_error():
    assert read_stream(FakeLogs(3), "g", "not-yet") == ([], False)


# --- tasks ECS no longer describes (stopped more than about an hour ago) ------------------------------------

GONE_ID = "0123456789abcdef0123456789abcdef"
GONE_ARN = "arn:aws:ecs:us-east-1:123456789012:task/edge/" + GONE_ID


def test_gone_references_keep_the_users_names_and_order():
    failures = [{"arn": GONE_ARN, "reason": "MISSING"}, {"arn": "arn:aws:ecs:us-east-1:123456789012:task/edge/other", "reason": "MISSING"}]
    assert gone_references(["other", "found", GONE_ARN], failures) == [
        {"reference": "other", "task_arn": "arn:aws:ecs:us-east-1:123456789012:task/edge/other"},
        {"reference": GONE_ARN, "task_arn": GONE_ARN},
    ]
    assert gone_references(["found"], []) == []


class FakeDefinitions:
    """DescribeTaskDefinition over one family's revisions, answering an unknown one as ECS does."""

    def __init__(self, **revisions):
        self.definitions = dict(("arn:aws:ecs:us-east-1:123456789012:task-definition/" + name, definition)
                                for name, definition in revisions.items())

    def describe_task_definition(self, taskDefinition, include=()):
        for arn, definition in self.definitions.items():
            if taskDefinition in (arn, arn.rsplit("/", 1)[-1]):
                return {"taskDefinition": dict(definition, taskDefinitionArn=arn)}
        raise ClientError({"Error": {"Code": "ClientException", "Message": "Unable to describe task definition."}},
                          "DescribeTaskDefinition")


JOB_LOGS = {"awslogs-group": "/ecs/job", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"}
JOB = {"containerDefinitions": [_container("app", **JOB_LOGS)]}


def test_stand_ins_name_the_streams_from_the_given_definition():
    ecs = FakeDefinitions(**{"job:7": JOB})
    gone = [{"reference": GONE_ID, "task_arn": GONE_ARN}]
    stand_ins, definitions = tasks_from_definition(ecs, gone, "job:7")
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/job:7"
    assert stand_ins == [{"taskArn": GONE_ARN, "taskDefinitionArn": arn}]
    assert list(definitions) == [arn]
    assert awslogs_streams(stand_ins[0], definitions[arn]) == [
        {"container_name": "app", "log_group": "/ecs/job", "region": "eu-west-1", "log_stream": "ecs/app/" + GONE_ID}]


def test_an_unknown_definition_for_gone_tasks_names_the_field_and_the_tasks():
    with pytest.raises(AnsibleECSAnywhereError) as excinfo:
        tasks_from_definition(FakeDefinitions(), [{"reference": GONE_ID, "task_arn": GONE_ARN}], "job:9")
    assert excinfo.value.message == ("task_definition: job:9 does not exist; it is needed for the logs of {0}, "
                                     "which ECS no longer describes".format(GONE_ID))


def test_warning_names_the_tasks_and_the_hour_ecs_keeps_them():
    gone = [{"reference": GONE_ID, "task_arn": GONE_ARN}, {"reference": "abc", "task_arn": "abc"}]
    without = gone_tasks_warning("edge", gone)
    assert without.startswith("ECS does not describe task(s) {0}, abc in cluster edge: ".format(GONE_ID))
    assert "stopped task for about an hour" in without
    assert without.endswith("Set task_definition to the task definition they ran (family:revision) to read their logs anyway.")
    with_definition = gone_tasks_warning("edge", gone, "arn:aws:ecs:us-east-1:123456789012:task-definition/job:7")
    assert with_definition.endswith("Their logs were read from the streams named by job:7.")
