"""CloudWatch Logs (moto's own) as the agent's awslogs driver writes it and the collection reads it back."""
import time

import pytest
from botocore.exceptions import ClientError

from lab.aws._ecs_testing import managed_agent

GROUP = "/ecs/web"
PREFIX = "web"
CLUSTER = "edge"


def awslogs_stream(prefix, container, task_arn):
    """The awslogs driver's stream name: <awslogs-stream-prefix>/<container-name>/<task-id>."""
    return f"{prefix}/{container}/{task_arn.rsplit('/', 1)[-1]}"


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def agent_logs(lab_aws):
    lab_aws.client("ecs").create_cluster(clusterName=CLUSTER)
    agent = managed_agent(lab_aws, CLUSTER)
    return lab_aws.client("logs", credentials=agent.credentials)


def write(logs, stream, messages, start):
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": start + i, "message": m} for i, m in enumerate(messages)])


def test_agent_writes_awslogs_streams_and_they_read_back(lab_aws, agent_logs):
    logs = lab_aws.client("logs")
    task_a = "arn:aws:ecs:us-east-1:123456789012:task/edge/0123456789abcdef0123456789abcdef"
    task_b = "arn:aws:ecs:us-east-1:123456789012:task/edge/fedcba9876543210fedcba9876543210"
    stream_a = awslogs_stream(PREFIX, "app", task_a)
    stream_b = awslogs_stream(PREFIX, "app", task_b)

    agent_logs.create_log_group(logGroupName=GROUP)
    # The agent creates the group on every start and ignores that it exists.
    with pytest.raises(ClientError) as excinfo:
        agent_logs.create_log_group(logGroupName=GROUP)
    assert excinfo.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    for stream in (stream_a, stream_b):
        agent_logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    start = now_ms()
    write(agent_logs, stream_a, ["starting", "ERROR disk full", "done"], start)
    write(agent_logs, stream_b, ["hello from b"], start + 10)

    events = logs.get_log_events(logGroupName=GROUP, logStreamName=stream_a, startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["starting", "ERROR disk full", "done"]
    assert [e["timestamp"] for e in events] == [start, start + 1, start + 2]

    described = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{PREFIX}/app/")["logStreams"]
    assert sorted(s["logStreamName"] for s in described) == sorted([stream_a, stream_b])
    by_task = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=stream_b)["logStreams"]
    assert [s["logStreamName"] for s in by_task] == [stream_b]

    matched = logs.filter_log_events(logGroupName=GROUP, filterPattern="ERROR")["events"]
    assert [(e["logStreamName"], e["message"]) for e in matched] == [(stream_a, "ERROR disk full")]
    one_stream = logs.filter_log_events(logGroupName=GROUP, logStreamNames=[stream_b])["events"]
    assert [e["message"] for e in one_stream] == ["hello from b"]
    windowed = logs.filter_log_events(logGroupName=GROUP, startTime=start + 1, endTime=start + 2)["events"]
    assert [e["message"] for e in windowed] == ["ERROR disk full", "done"]


def test_put_log_events_to_missing_stream(agent_logs):
    agent_logs.create_log_group(logGroupName=GROUP)
    with pytest.raises(ClientError) as excinfo:
        write(agent_logs, "web/app/missing", ["x"], now_ms())
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_get_log_events_pages_forward(lab_aws, agent_logs):
    logs = lab_aws.client("logs")
    stream = awslogs_stream(PREFIX, "app", "0123456789abcdef0123456789abcdef")
    agent_logs.create_log_group(logGroupName=GROUP)
    agent_logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    write(agent_logs, stream, [f"line {i}" for i in range(5)], now_ms())

    first = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True, limit=2)
    second = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True, limit=2,
                                 nextToken=first["nextForwardToken"])
    assert [e["message"] for e in first["events"] + second["events"]] == ["line 0", "line 1", "line 2", "line 3"]
