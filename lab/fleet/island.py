"""The island: a network namespace holding one bridge, with the gateway address and NO default route."""
import os

from lab.fleet import config
from lab.fleet.proc import in_island, run


def exists():
    return config.NETNS_PATH.exists()


def inode():
    """Identity of the island's namespace, so leftovers can be found by it after the name is gone."""
    return os.stat(config.NETNS_PATH).st_ino


def create():
    run(["ip", "netns", "add", config.NETNS])
    ip = ["ip", "-n", config.NETNS]
    run([*ip, "link", "set", "lo", "up"])
    run([*ip, "link", "add", config.BRIDGE, "type", "bridge"])
    run([*ip, "addr", "add", f"{config.GATEWAY}/{config.SUBNET.prefixlen}", "dev", config.BRIDGE])
    run([*ip, "link", "set", config.BRIDGE, "up"])
    # IPv4 only: no IPv6 addresses, so there is nothing to autoconfigure a route from either.
    run(in_island(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]))


def remove():
    if exists():
        run(["ip", "netns", "delete", config.NETNS])


def routes():
    return run(in_island(["ip", "-4", "route", "show", "table", "all"])).stdout
