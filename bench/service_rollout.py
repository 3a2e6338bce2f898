"""Benchmark (not a test): requests through HAProxy during a rolling service update on the lab.

    .venv/bin/python bench/service_rollout.py [--hosts 3] [--tasks 6] [--json FILE]     # as root, no lab up

Brings a lab up (`python -m lab up`), rolls the agents out with playbooks/rollout.yml, deploys the docs' web
task (image tag 1) as a REPLICA service of --tasks tasks behind HAProxy on the first host with
playbooks/deploy.yml, then starts a load generator inside the island (lab.bench.loadgen, as lab.bench.rolling's
load() runs it), deploys revision 2 (minimumHealthyPercent 50, maximumPercent 200),
stops the generator once the deploy role reports the rollout settled, and takes the lab down. Prints the
requests, failures and answers per version during the rollout, and the rollout's wall time.
"""
import argparse
import json
import os
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from lab.bench import rolling  # noqa: E402
from lab.fleet.testing import SessionLab, create_clusters  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=6)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    fleet = SessionLab()
    try:
        fleet.claim(hosts=args.hosts)
        create_clusters("lab")
        for step, (name, extra) in enumerate([("rollout", {}),
                                              ("deploy", rolling.service_vars(rolling.task_definition("1"), count=args.tasks))]):
            done = rolling.playbook(name, extra)
            if done.returncode != 0:
                sys.exit(f"step {step} ({name}) failed:\n{done.stdout[-4000:]}")
        started = time.monotonic()
        with rolling.load() as generator:
            rolled = rolling.playbook("deploy", rolling.service_vars(rolling.task_definition("2"), count=args.tasks))
            seconds = time.monotonic() - started
        summary = generator.stop()
        if rolled.returncode != 0:
            sys.exit(f"the rolling update failed:\n{rolled.stdout[-4000:]}")
    finally:
        fleet.release()
    figures = {"hosts": args.hosts, "tasks": args.tasks, "rollout_seconds": round(seconds, 1),
               "requests": summary["requests"], "failures": summary["failures"], "versions": summary["versions"],
               "failure_samples": summary["failure_samples"]}
    print("| hosts | tasks | rollout (s) | requests through HAProxy | failed | answers by version |")
    print("|---:|---:|---:|---:|---:|---|")
    versions = ", ".join(f"v{v}: {n}" for v, n in sorted(summary["versions"].items()))
    print(f"| {args.hosts} | {args.tasks} | {figures['rollout_seconds']} | {summary['requests']} | {summary['failures']} "
          f"| {versions} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    return 0 if summary["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
