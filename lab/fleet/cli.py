"""``python -m lab up|down|status|exec``: the lab fleet's commands."""
import argparse
import json
import sys

from lab.fleet.proc import LabError


def add_commands(subparsers):
    up = subparsers.add_parser("up", help="make the island, start the endpoint and apt repo, boot N hosts")
    up.add_argument("--hosts", type=int, default=3, help="number of hosts (default 3)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for every sshd (default 120)")
    up.add_argument("--no-endpoint", dest="endpoint", action="store_false",
                    help="do not start the lab AWS endpoint (fleet debugging only)")
    up.set_defaults(func=_up)
    down = subparsers.add_parser("down", help="stop what the lab started and remove it (idempotent)")
    down.set_defaults(func=_down)
    status = subparsers.add_parser("status", help="what is up; exit status 0 only when the whole lab runs")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_status)
    run = subparsers.add_parser(
        "exec", help="run a command inside the island with the lab's environment",
        description="Run CMD inside the island (nsenter --net) with AWS_ENDPOINT_URL, dummy credentials, the "
                    "region, ANSIBLE_INVENTORY/ANSIBLE_CONFIG and the FLEETOPS_LAB_* variables set.")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    run.set_defaults(func=_exec)


def _guard(action):
    """Exit status 0, or 1 with the lab's error message."""
    try:
        action()
    except LabError as error:
        print(f"lab: {error}", file=sys.stderr)
        return 1
    return 0


def _up(args):
    from lab.fleet import lab

    return _guard(lambda: lab.up(args.hosts, timeout=args.timeout, endpoint=args.endpoint))


def _down(_args):
    from lab.fleet import lab

    return _guard(lab.down)


def _status(args):
    from lab.fleet import lab

    report = lab.status()
    healthy = report["status"] == "up" and report["netns"] and all(report["processes"].values())
    if args.json:
        print(json.dumps(report, indent=1))
    elif report["status"] == "down":
        leftovers = report["netns"] or report["mounts"]
        print("lab: down" + (" (leftovers: run `python -m lab down`)" if leftovers else ""))
    else:
        print(f"lab: {report['status']}, endpoint {report['endpoint_url']}, apt repo {report['repo_url']}")
        for label, alive in report["processes"].items():
            print(f"  {label:<24} {'running' if alive else 'NOT RUNNING'}")
        print(f"  inventory {report['inventory']}")
    return 0 if healthy else 3


def _exec(args):
    from lab.fleet import lab

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    return _guard(lambda: lab.exec_in(argv))
