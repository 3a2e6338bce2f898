"""Watch an ECS service's running tasks: `python -m lab.bench.service_watch --cluster C --service S --out FILE`.

Run it inside the island (`python -m lab exec -- python -m lab.bench.service_watch ...`), where boto3 reaches
the lab endpoint. Every --interval seconds it counts the service's tasks that ECS reports RUNNING with desired
status RUNNING (a task the scheduler is stopping no longer counts, as for minimumHealthyPercent), until
SIGTERM or SIGINT. The summary goes to --out as JSON after every sample and at the end (lab.bench.loadgen's
format rules): {"samples", "minimum", "maximum", "changes" [[seconds, running], ...], "errors", "seconds"}.
"""
import argparse
import signal
import threading
import time

import boto3

from lab.bench.loadgen import write


def running_tasks(ecs, cluster, service):
    arns = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service, desiredStatus="RUNNING"):
        arns += page["taskArns"]
    running = 0
    for start in range(0, len(arns), 100):
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100])["tasks"]
        running += sum(1 for task in tasks if task["lastStatus"] == "RUNNING")
    return running


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ecs = boto3.client("ecs")
    started = time.monotonic()
    summary = {"samples": 0, "minimum": None, "maximum": None, "changes": [], "errors": 0, "running": True}
    while not stop.is_set():
        try:
            running = running_tasks(ecs, args.cluster, args.service)
        except Exception:  # noqa: BLE001  (a throttled or failed read is counted, not a stop)
            summary["errors"] += 1
        else:
            summary["samples"] += 1
            summary["minimum"] = running if summary["minimum"] is None else min(summary["minimum"], running)
            summary["maximum"] = running if summary["maximum"] is None else max(summary["maximum"], running)
            if not summary["changes"] or summary["changes"][-1][1] != running:
                summary["changes"].append([round(time.monotonic() - started, 1), running])
        summary["seconds"] = round(time.monotonic() - started, 1)
        write(args.out, summary)
        stop.wait(args.interval)
    write(args.out, dict(summary, running=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
