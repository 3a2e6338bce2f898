"""Benchmark (not a test): the cost of an idempotency check of a task definition whose family already has 1, 50
or 300 ACTIVE revisions, the latest of which matches, for fleetops.ecs_anywhere.ecs_task_definition and
community.aws.ecs_taskdefinition, on the same in-process lab AWS endpoint.

For each module and revision count it registers the revisions with boto3 (the last one equal to what the
module asks for), then reports:
- the AWS calls of one run (the lab's counters) and whether a run reported a change (a spurious revision);
- the median time of the module's main() called in this process (imports warm, a new client each call): the
  idempotency check itself, client creation included;
- the median time of the module task in a playbook (the ansible.posix.json callback's task duration: module
  transfer and Python start-up included, which dominate and vary with the machine's load).

    .venv/bin/python bench/task_definition_idempotency.py [--revisions 1 50 300] [--runs 3]

Prints a Markdown table (docs/task-modules.md has one).
"""
import argparse
import contextlib
import datetime
import importlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / ".venv" / "collections")]

from lab.aws.testing import LabAWS  # noqa: E402

IMAGE = "public.ecr.aws/nginx/nginx:1.27"
# Written out in full (essential, protocol, hostPort) so that community.aws's matcher can recognise it
# (ansible/ansible#22547, community.aws#690); ours would match the short form as well.
CONTAINER = {"name": "web", "image": IMAGE, "memory": 128, "essential": True,
             "portMappings": [{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}],
             "environment": [{"name": "REVISION", "value": "current"}]}


def register_revisions(lab, family, count, **task):
    ecs = lab.client("ecs")
    for number in range(count):
        container = dict(CONTAINER)
        if number < count - 1:
            container["environment"] = [{"name": "REVISION", "value": str(number)}]
        ecs.register_task_definition(family=family, containerDefinitions=[container], **task)


def playbook(lab, task):
    connection = {"endpoint_url": lab.url, "region": lab.region, "access_key": "testing", "secret_key": "testing"}
    module, arguments = task
    return [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "check", module: dict(connection, **arguments)}]}]


def run_once(lab, task, workdir):
    path = Path(workdir) / "play.json"
    path.write_text(json.dumps(playbook(lab, task)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    lab.reset_counters()
    process = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(path),
                              "-e", "ansible_python_interpreter=" + sys.executable],
                             capture_output=True, text=True, env=env, cwd=workdir)
    report = json.loads(process.stdout)
    result = report["plays"][0]["tasks"][0]
    host = result["hosts"]["localhost"]
    if host.get("failed"):
        raise SystemExit("module failed: {0}".format(host.get("msg")))
    duration = result["task"]["duration"]
    seconds = (_time(duration["end"]) - _time(duration["start"])).total_seconds()
    return seconds, lab.counters(), host.get("changed")


def in_process_seconds(lab, task):
    """Seconds for one call of the module's main() in this process, with the lab connection options."""
    from ansible.module_utils.testing import patch_module_args

    module_name, arguments = task
    namespace, collection, name = module_name.split(".")
    module = importlib.import_module("ansible_collections.{0}.{1}.plugins.modules.{2}".format(namespace, collection, name))
    connection = {"endpoint_url": lab.url, "region": lab.region, "access_key": "testing", "secret_key": "testing"}
    output = io.StringIO()
    with patch_module_args(dict(connection, **arguments)), contextlib.redirect_stdout(output):
        started = time.perf_counter()
        try:
            module.main()
        except SystemExit:
            pass
        seconds = time.perf_counter() - started
    result = json.loads(output.getvalue())
    if result.get("failed") or result.get("changed"):
        raise SystemExit("{0} did not find its revision: {1}".format(module_name, result.get("msg")))
    return seconds


def _time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def ours():
    return ("fleetops.ecs_anywhere.ecs_task_definition", {"family": "ours", "containers": [CONTAINER]})


def community():
    # community.aws refuses launch_type EXTERNAL, so its definition carries no requiresCompatibilities.
    return ("community.aws.ecs_taskdefinition", {"family": "theirs", "state": "present", "containers": [CONTAINER],
                                                 "network_mode": "bridge"})


def measure(revisions, runs):
    rows = []
    with LabAWS() as lab, tempfile.TemporaryDirectory() as workdir:
        for label, task, extra in (("fleetops.ecs_anywhere.ecs_task_definition", ours(), {"requiresCompatibilities": ["EXTERNAL"]}),
                                   ("community.aws.ecs_taskdefinition", community(), {})):
            for count in revisions:
                lab.reset()
                register_revisions(lab, task[1]["family"], count, networkMode="bridge", **extra)
                samples = [run_once(lab, task, workdir) for _ in range(runs)]
                in_process = [in_process_seconds(lab, task) for _ in range(max(runs, 5))]
                rows.append({"module": label, "revisions": count, "calls": samples[0][1],
                             "changed": any(sample[2] for sample in samples),
                             "in_process_ms": 1000 * statistics.median(in_process),
                             "median_s": statistics.median(sample[0] for sample in samples)})
    return rows


def table(rows):
    lines = ["| module | ACTIVE revisions | AWS calls of one check | reported changed | check in process (ms) | playbook task (s) |",
             "|---|---:|---|---|---:|---:|"]
    for row in rows:
        calls = ", ".join("{0} {1}".format(operation, number) for operation, number in sorted(row["calls"].items()))
        lines.append("| {0} | {1} | {2} | {3} | {4:.0f} | {5:.2f} |".format(
            row["module"], row["revisions"], calls, "yes" if row["changed"] else "no", row["in_process_ms"], row["median_s"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revisions", type=int, nargs="+", default=[1, 50, 300])
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    print(table(measure(arguments.revisions, arguments.runs)))


if __name__ == "__main__":
    main()
