#!/usr/bin/env python3
"""Hold a port for a transcript that needs it taken (check-transcripts' `with:`).

    python3 scripts/checks/hold-port.py tcp 127.0.0.1:9001
    python3 scripts/checks/hold-port.py udp 127.0.0.1:9004

Binds a plain socket — no SO_REUSEADDR once bound, and a TCP one never
listens — to ADDR, prints `holding ADDR`, and waits until it is stopped. While it runs, a
server's bind to the port fails with EADDRINUSE (the socket holding it did
not set SO_REUSEADDR), and a TCP client's connect is refused (nobody listens):
"while another program has the port" and "nobody listening" at once.
"""

import signal
import socket
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("tcp", "udp"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    host, _, port = sys.argv[2].rpartition(":")
    kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(socket.AF_INET, kind)
    try:
        # SO_REUSEADDR only to bind: the connections of an earlier run in
        # TIME_WAIT on the port would refuse a plain bind. Cleared at once,
        # so that the port is held as a plain socket holds it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    except (OSError, ValueError) as err:
        print(f"error: bind {sys.argv[2]}: {err}", file=sys.stderr)
        return 1
    print(f"holding {sys.argv[2]}", flush=True)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
