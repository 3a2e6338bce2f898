"""Pipe stdin/stdout to HOST PORT: an SSH ProxyCommand for tools outside the island (stdlib only).

    ProxyCommand=nsenter --net=/run/netns/fleetops-lab python3 lab/fleet/relay.py %h %p

nsenter puts the relay in the island, so the TCP connection to the host is made there; only the pipe to the
ssh client crosses the namespace boundary. molecule's scenarios reach the lab hosts this way.
"""
import os
import selectors
import socket
import sys


def main(host, port):
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.settimeout(None)
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "client")
    selector.register(conn, selectors.EVENT_READ, "host")
    while True:
        for key, _events in selector.select():
            if key.data == "client":
                data = os.read(key.fd, 65536)
                if not data:  # the ssh client closed its side; let the host finish
                    selector.unregister(key.fd)
                    conn.shutdown(socket.SHUT_WR)
                    continue
                conn.sendall(data)
            else:
                data = conn.recv(65536)
                if not data:
                    return 0
                view = memoryview(data)
                while view:
                    view = view[os.write(sys.stdout.fileno(), view):]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
