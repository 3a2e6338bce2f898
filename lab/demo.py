"""`make demo`: a 3-host lab with ECS Anywhere rolled out on it, shown through the collection.

Brings the lab up unless it is up already, creates the lab's ECS cluster, runs lab/playbooks/demo.yml
(the rollout with the docs' task definition, a task's log lines and a summary table), then shows the
fleet through the inventory plugin. The lab stays up afterwards.
"""
import os
import subprocess
import sys
import time

from lab.fleet import config

PLAYBOOKS = config.REPO_ROOT / "lab" / "playbooks"
BIN = os.path.dirname(sys.executable)
CLUSTER = "lab"
TASK_DEFINITION = config.REPO_ROOT / "docs" / "examples" / "task-definition.json"


def _run(*command):
    print("\n$ " + " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=config.REPO_ROOT)


def _lab(*arguments):
    _run(sys.executable, "-m", "lab", *arguments)


def demo(args):
    try:
        return _demo(args)
    except subprocess.CalledProcessError as error:
        print(f"\nmake demo: failed at `{' '.join(str(part) for part in error.cmd[2:])}` (exit {error.returncode}).\n"
              "The lab is left up for a look: `python -m lab status`; tear it down with `make lab-down`.")
        return 1


def _demo(args):
    started = time.monotonic()
    if subprocess.run([sys.executable, "-m", "lab", "status"], capture_output=True, check=False).returncode != 0:
        _lab("up", "--hosts", args.hosts)
    # The ECS agent needs its cluster to exist (only "default" is created by the real agent).
    _lab("exec", "--", sys.executable, "-c",
         f"import boto3; boto3.client('ecs').create_cluster(clusterName='{CLUSTER}')")
    _lab("exec", "--", os.path.join(BIN, "ansible-playbook"), PLAYBOOKS / "demo.yml",
         "-e", f"@{PLAYBOOKS / 'lab-vars.yml'}", "-e", f"demo_task_definition_file={TASK_DEFINITION}")
    _lab("exec", "--", os.path.join(BIN, "ansible-inventory"), "-i", PLAYBOOKS / "lab.ecs_anywhere.yml", "--graph")
    print(f"\nmake demo: done in {time.monotonic() - started:.0f} s. The lab stays up:\n"
          "  python -m lab exec -- ansible all -m ping     # run commands in the lab\n"
          "  make lab-down                                 # tear it down")
    return 0


def add_commands(commands):
    parser = commands.add_parser("demo", help="roll ECS Anywhere out on a lab and show it")
    parser.add_argument("--hosts", type=int, default=3)
    parser.set_defaults(func=demo)
