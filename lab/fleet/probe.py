"""Wait until services inside the island answer. Runs inside the island: `nsenter --net=… python -m lab.fleet.probe`.

Checks: `ssh:ADDR:PORT` (the SSH banner is read), `http:ADDR:PORT` (any HTTP status line), `tcp:ADDR:PORT`
(accepts connections: a TLS server sends nothing first). `--watch PID:LABEL`
fails at once when a process the checks depend on has exited, instead of waiting for the timeout.
"""
import argparse
import socket
import sys
import time
from pathlib import Path

BANNERS = {"ssh": b"SSH-", "http": b"HTTP/"}


def answers(kind, address, port):
    try:
        with socket.create_connection((address, port), timeout=1.0) as conn:
            if kind == "tcp":
                return True
            conn.settimeout(2.0)
            if kind == "http":
                conn.sendall(f"HEAD / HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
            return conn.recv(16).startswith(BANNERS[kind])
    except OSError:
        return False


def running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checks", nargs="+", help="KIND:ADDRESS:PORT")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--watch", action="append", default=[], help="PID:LABEL")
    args = parser.parse_args(argv)
    pending = [tuple(c.split(":")) for c in args.checks]
    watched = [w.split(":", 1) for w in args.watch]
    deadline = time.monotonic() + args.timeout
    while pending:
        pending = [c for c in pending if not answers(c[0], c[1], int(c[2]))]
        dead = [label for pid, label in watched if not running(int(pid))]
        if dead:
            print(f"exited before answering: {', '.join(dead)}", file=sys.stderr)
            return 2
        if pending and time.monotonic() > deadline:
            print(f"no answer within {args.timeout:.0f} s: {' '.join(':'.join(c) for c in pending)}", file=sys.stderr)
            return 1
        if pending:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
