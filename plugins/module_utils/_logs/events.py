# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudWatch Logs for ECS tasks: where the awslogs driver writes each container's output, and reading it.

The awslogs driver names a task's stream ``<awslogs-stream-prefix>/<container name>/<task id>`` in the
group ``awslogs-group`` of region ``awslogs-region`` (all three from the task definition), so the streams
are known without DescribeLogStreams. GetLogEvents pages are followed with their tokens; AWS marks the end by
returning the token it was given.
"""

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ..errors import AnsibleECSAnywhereError
from ..errors import LogsErrorHandler

# GetLogEvents returns at most 10,000 events (or 1 MB) per call.
GET_LOG_EVENTS_LIMIT = 10000
RELATIVE_TIME = re.compile(r"^-(?P<amount>\d+)(?P<unit>[smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def awslogs_streams(task, task_definition, containers=None):
    """One entry per container of task (or of the names in containers): where its awslogs output is.

    Each entry has container_name, log_group, log_stream and region, or a reason why it has none."""
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    entries = []
    for container in task_definition.get("containerDefinitions", []):
        if containers and container["name"] not in containers:
            continue
        entry = {"container_name": container["name"]}
        log_configuration = container.get("logConfiguration") or {}
        options = log_configuration.get("options") or {}
        if log_configuration.get("logDriver") != "awslogs":
            entry["reason"] = "log driver is {0}, not awslogs".format(log_configuration.get("logDriver") or "unset")
        elif not options.get("awslogs-stream-prefix"):
            # Without a prefix the stream is named after the Docker container id, which ECS does not report.
            entry["reason"] = "awslogs without awslogs-stream-prefix: the stream name is not known"
        else:
            entry.update(log_group=options.get("awslogs-group"), region=options.get("awslogs-region"),
                         log_stream="{0}/{1}/{2}".format(options["awslogs-stream-prefix"], container["name"], task_id))
        entries.append(entry)
    return entries


def to_epoch_ms(value, field, now=None):
    """Epoch milliseconds from an int (already ms), an ISO 8601 text, or a relative "-15m" / "-2h" / "-1d"."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise AnsibleECSAnywhereError(message="{0}: expected a time, got a boolean".format(field))
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    text = str(value).strip()
    relative = RELATIVE_TIME.match(text)
    if relative:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        moment = now - datetime.timedelta(seconds=int(relative.group("amount")) * UNIT_SECONDS[relative.group("unit")])
        return int(moment.timestamp() * 1000)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AnsibleECSAnywhereError(message=(
            "{0}: {1!r} is not epoch milliseconds, an ISO 8601 time or a relative time like -15m".format(field, value)))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp() * 1000)


@LogsErrorHandler.common_error_handler("get log events")
def get_log_events(client, **params):
    """One GetLogEvents page, or None when the group or stream does not exist (yet)."""
    try:
        return client.get_log_events(**params)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def read_stream(client, log_group, log_stream, start_time=None, end_time=None, limit=None, tail=False):
    """(events, found) for a stream, paginated: the first limit events, or with tail the last limit.

    Events are in time order either way; found is False when the stream does not exist."""
    params = {"logGroupName": log_group, "logStreamName": log_stream, "startFromHead": not tail}
    if start_time is not None:
        params["startTime"] = start_time
    if end_time is not None:
        params["endTime"] = end_time
    token_key = "nextBackwardToken" if tail else "nextForwardToken"
    pages = []
    collected = 0
    while limit is None or collected < limit:
        params["limit"] = min(GET_LOG_EVENTS_LIMIT, limit - collected) if limit else GET_LOG_EVENTS_LIMIT
        page = get_log_events(client, **params)
        if page is None:
            return [], False
        events = page.get("events", [])
        pages.append(events)
        collected += len(events)
        token = page.get(token_key)
        # Pages may be empty before the end; only a repeated token means there is nothing more.
        if not token or token == params.get("nextToken"):
            break
        params["nextToken"] = token
    if tail:
        pages.reverse()
    events = [event for page in pages for event in page]
    if limit is not None:
        events = events[-limit:] if tail else events[:limit]
    return events, True
