# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ecs_anywhere project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudWatch Logs helpers for the collection's plugins.

A facade over the private _logs package (ansible-test's empty-init rule keeps __init__.py empty).
"""

from ._logs import events as _events
from ._logs import task_logs as _task_logs

awslogs_streams = _events.awslogs_streams
to_epoch_ms = _events.to_epoch_ms
get_log_events = _events.get_log_events
read_stream = _events.read_stream
select_tasks = _task_logs.select_tasks
gone_references = _task_logs.gone_references
tasks_from_definition = _task_logs.tasks_from_definition
gone_tasks_warning = _task_logs.gone_tasks_warning
collect_task_logs = _task_logs.collect_task_logs
