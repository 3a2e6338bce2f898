"""Benchmark (not a test): wall time and AWS API calls of playbooks/rollout.yml on N lab hosts.

    .venv/bin/python bench/rollout.py [--hosts 1 5 20] [--json FILE]      # as root, with no lab up

For each N: `python -m lab up --hosts N`, the lab's ECS cluster, then inside the island
`ansible-playbook playbooks/rollout.yml -e @lab/playbooks/lab-vars.yml` with the docs' task definition (agent
role, then one task per host) and forks = max(N, 20), timed; the same playbook again (the re-run, nothing to
change); `python -m lab down`. The lab's call counters are reset before each run and read after it, and split
into the collection's calls (from the controller) and the agents' own (registration, heartbeats, task state,
logs), which also grow with the run's length. Controller CPU is the children's CPU time of the run.

Prints a Markdown table for docs/rollout.md, the N=max/N=min wall-time ratio and the collection's calls per host.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from lab.fleet.testing import create_clusters, island_python, lab, lab_ok  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)
# Calls the agents make themselves (lab/PROTOCOL.md); every other operation is the collection's, from the controller.
AGENT_OPERATIONS = {"RegisterManagedInstance", "RequestManagedInstanceRoleToken", "UpdateInstanceInformation",
                    "RegisterContainerInstance", "DiscoverPollEndpoint", "SubmitTaskStateChange", "CreateLogGroup",
                    "CreateLogStream", "PutLogEvents"}
COUNTERS = ("import json, os, urllib.request; url = os.environ['FLEETOPS_LAB_ENDPOINT_URL'] + '/_lab/counters{0}'; "
            "print(json.dumps(json.load(urllib.request.urlopen(urllib.request.Request(url, method='{1}', data={2})))))")


def counters(reset=False):
    if reset:
        return island_python(COUNTERS.format("/reset", "POST", "b''"))
    return island_python(COUNTERS.format("", "GET", "None"))["calls"]


def run_rollout(hosts, extra_vars_file):
    """One rollout; (seconds, controller CPU seconds, calls per operation)."""
    counters(reset=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = lab("exec", "--", os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(TOP, "playbooks", "rollout.yml"),
                 "-e", "@" + os.path.join(TOP, "lab", "playbooks", "lab-vars.yml"), "-e", "@" + extra_vars_file,
                 env={"ANSIBLE_FORKS": str(max(hosts, 20)), "ANSIBLE_NOCOLOR": "1"}, timeout=3600)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"rollout on {hosts} hosts failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, counters()


def measure(hosts, extra_vars_file):
    lab_ok("up", "--hosts", str(hosts), timeout=600)
    try:
        create_clusters("lab")
        first = run_rollout(hosts, extra_vars_file)
        rerun = run_rollout(hosts, extra_vars_file)
    finally:
        lab("down", timeout=600)
    return {"hosts": hosts, "first": summarize(hosts, *first), "rerun": summarize(hosts, *rerun)}


def summarize(hosts, seconds, cpu, calls):
    collection = {op: n for op, n in sorted(calls.items()) if op not in AGENT_OPERATIONS}
    agents = {op: n for op, n in sorted(calls.items()) if op in AGENT_OPERATIONS}
    return {"seconds": round(seconds, 1), "controller_cpu_seconds": round(cpu, 1), "collection_calls": collection,
            "collection_calls_total": sum(collection.values()),
            "collection_calls_per_host": round(sum(collection.values()) / hosts, 2),
            "agent_calls": agents, "agent_calls_total": sum(agents.values())}


def table(results):
    lines = ["| N hosts | run | wall s | controller CPU s | collection calls (per host) | collection calls by operation | agents' calls |",
             "|---:|---|---:|---:|---:|---|---:|"]
    for result in results:
        for run in ("first", "rerun"):
            r = result[run]
            by_operation = ", ".join(f"{op} {n}" for op, n in r["collection_calls"].items())
            lines.append(f"| {result['hosts']} | {run} | {r['seconds']} | {r['controller_cpu_seconds']} | "
                         f"{r['collection_calls_total']} ({r['collection_calls_per_host']}) | {by_operation} | {r['agent_calls_total']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    if "lab: down" not in lab("status").stdout:
        sys.exit("a lab is up; this benchmark brings up its own (python -m lab down first, if it is yours)")
    with open(os.path.join(TOP, "docs", "examples", "task-definition.json")) as handle:
        task_definition = json.load(handle)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as extra_vars:
        json.dump({"deploy_task_definition": task_definition}, extra_vars)
    try:
        results = [measure(hosts, extra_vars.name) for hosts in args.hosts]
    finally:
        os.unlink(extra_vars.name)
    print(table(results))
    smallest, largest = results[0], results[-1]
    print(f"\nN={largest['hosts']}/N={smallest['hosts']} wall time: first run "
          f"{largest['first']['seconds'] / smallest['first']['seconds']:.2f}, re-run "
          f"{largest['rerun']['seconds'] / smallest['rerun']['seconds']:.2f}; collection calls per host: "
          + ", ".join(f"N={r['hosts']} {r['first']['collection_calls_per_host']}" for r in results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
