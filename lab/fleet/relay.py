"""Pipe stdin/stdout to HOST PORT: an SSH ProxyCommand for tools outside the island (stdlib only).

    ProxyCommand=nsenter --net=/run/netns/fleetops-lab python3 lab/fleet/relay.py %h %p

nsenter puts the relay in the island, so the TCP connection to the host is made there; only the pipe to the
ssh client crosses the namespace boundary. molecule's scenarios reach the lab hosts this way.
"""
import os
import selectors
import socket
import sys


# A host cut off the network must end the connection within seconds, in every phase of SSH: the client's
# ServerAliveInterval only runs once a session is up, and in the key exchange unacknowledged data otherwise keeps
# the connection for TCP's retransmission time (about 15 minutes). TCP_USER_TIMEOUT drops a connection whose sent
# data stays unacknowledged for 10 s, keepalives one that has gone silent (tcp(7)).
SOCKET_OPTIONS = ((socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 10_000), (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
                  (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5), (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 2),
                  (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3))


def main(host, port):
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.settimeout(None)
    for level, option, value in SOCKET_OPTIONS:
        conn.setsockopt(level, option, value)
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
