"""Host facts and service plumbing shared by the stand-ins: log setup, stoppable waits, platform, IP."""
import logging
import os
import signal
import socket
import threading
import urllib.parse

from awsapi import root_path

STOP = threading.Event()


def setup_logging(path, name):
    """Log to the agent's file (as the real agents do) and to stderr (the journal)."""
    path = root_path(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handlers = [logging.FileHandler(path), logging.StreamHandler()]
    logging.basicConfig(level=logging.INFO, handlers=handlers, format="%(asctime)s %(levelname)s [" + name + "] %(message)s")
    return logging.getLogger(name)


def stop_on_signals():
    """SIGTERM/SIGINT end the service loop promptly (systemctl stop)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: STOP.set())


def wait(seconds):
    """Sleep between service rounds; True when the service was asked to stop."""
    return STOP.wait(seconds)


def os_release():
    fields = {}
    try:
        with open(root_path("/etc/os-release")) as handle:
            for line in handle:
                key, _, value = line.strip().partition("=")
                fields[key] = value.strip('"')
    except FileNotFoundError:
        pass
    return fields


def platform():
    """PlatformName/PlatformVersion as the real SSM agent reports them on Debian (e.g. "Debian GNU/Linux", "12")."""
    fields = os_release()
    return fields.get("NAME", "Linux"), fields.get("VERSION_ID", "")


def address_towards(url):
    """The host's own IPv4 address on the route to `url`. A UDP connect picks the route without sending."""
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((parts.hostname, parts.port or 443))
            return probe.getsockname()[0]
    except OSError:
        return ""


def hostname():
    return socket.gethostname()
