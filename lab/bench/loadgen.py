"""A small HTTP load generator for the lab's web tasks: `python -m lab.bench.loadgen --url URL --out FILE`.

Run it inside the island (`python -m lab exec -- python -m lab.bench.loadgen ...`). Worker threads send GET
requests back to back until SIGTERM or SIGINT. The summary is written to --out as JSON every second (replaced
atomically, so a reader sees the run so far) and once more at the end:
{"requests", "failures", "failure_samples" (the first 20: time, error), "versions" {version: answers},
"tasks" {task id: answers}, "seconds"}. A request fails when it raises (refused, reset, timed out) or
answers anything but 200 with the web image's page (`task=ID arn=ARN host=H version=V`).
"""
import argparse
import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request

PAGE = re.compile(r"^task=(?P<task>[0-9a-f-]+) arn=\S+ host=\S+ version=(?P<version>\S+)")
SAMPLES = 20


class Load:
    def __init__(self, url, timeout):
        self.url, self.timeout = url, timeout
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests = self.failures = 0
        self.failure_samples, self.versions, self.tasks = [], {}, {}
        self.started = time.monotonic()

    def record(self, task=None, version=None, error=None):
        with self.lock:
            self.requests += 1
            if error is not None:
                self.failures += 1
                if len(self.failure_samples) < SAMPLES:
                    self.failure_samples.append({"at": round(time.monotonic() - self.started, 2), "error": error})
                return
            self.versions[version] = self.versions.get(version, 0) + 1
            self.tasks[task] = self.tasks.get(task, 0) + 1

    def worker(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                    body = response.read().decode(errors="replace")
                match = PAGE.match(body)
                if match:
                    self.record(match["task"], match["version"])
                else:
                    self.record(error=f"unexpected page: {body[:80]!r}")
            except (OSError, urllib.error.HTTPError) as error:
                self.record(error=f"{type(error).__name__}: {error}")

    def summary(self):
        with self.lock:
            return {"requests": self.requests, "failures": self.failures, "failure_samples": self.failure_samples,
                    "versions": self.versions, "tasks": self.tasks,
                    "seconds": round(time.monotonic() - self.started, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True, help="where the JSON summary goes when the run ends")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a request counts as failed")
    args = parser.parse_args(argv)
    load = Load(args.url, args.timeout)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: load.stop.set())
    workers = [threading.Thread(target=load.worker, daemon=True) for _ in range(args.workers)]
    for thread in workers:
        thread.start()
    while not load.stop.wait(1.0):
        write(args.out, dict(load.summary(), running=True))
    for thread in workers:
        thread.join(timeout=args.timeout + 1)
    write(args.out, dict(load.summary(), running=False))
    return 0


def write(path, summary):
    temporary = f"{path}.tmp"
    with open(temporary, "w") as handle:
        json.dump(summary, handle)
    os.replace(temporary, path)


if __name__ == "__main__":
    raise SystemExit(main())
