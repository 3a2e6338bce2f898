"""Benchmark: wall time of `python -m lab up --hosts N` with the base cached (the figure in lab/README.md).

    python -m lab.bench.boot --hosts 10 --runs 3

Each run brings a lab up and down again; `up` itself reports when every host's sshd answered. Not a test:
it asserts nothing about time.
"""
import argparse
import statistics
import subprocess
import sys
import time

from lab.fleet import base, config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    base.ensure()
    lab = [sys.executable, "-m", "lab"]
    timings = []
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        subprocess.run([*lab, "up", "--hosts", str(args.hosts)], cwd=config.REPO_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        timings.append(time.monotonic() - started)
        down_started = time.monotonic()
        subprocess.run([*lab, "down"], cwd=config.REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"run {run}: up {timings[-1]:.1f} s (all {args.hosts} sshd answering), "
              f"down {time.monotonic() - down_started:.1f} s")
    print(f"{args.hosts} hosts, cached base: median {statistics.median(timings):.1f} s, "
          f"max {max(timings):.1f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
