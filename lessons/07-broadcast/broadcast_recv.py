#!/usr/bin/env python3
"""broadcast_recv.py — lesson 7 (udp 应用之广播) in Python, the notes' own language.

The same program as `cargo run -p broadcast-recv`, kept to README "Conventions",
so the same tests grade it:

    python3 lessons/07-broadcast/broadcast_recv.py [--bind ADDR] [--count N] [--timeout MS]
    IMPL_BROADCAST_RECV='python3 lessons/07-broadcast/broadcast_recv.py' \\
        cargo test -p broadcast-recv -p broadcast-send --test lesson07

Receiving a broadcast needs no SO_BROADCAST (the notes say otherwise). It needs
a socket bound to 0.0.0.0 — not 127.0.0.1 — and, for several receivers on one
port, SO_REUSEADDR on every one of them (SO_REUSEPORT too on macOS and the BSDs).
"""

import argparse
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (fail, log, parse_addr, positive, show_addr, show_bytes,  # noqa: E402
                         add_trace_arg, start_trace, traced_udp)


def bind_shared(family, host, port):
    """A UDP socket on (host, port) that other receivers may bind too."""
    # region: bind-shared — a SOCK_DGRAM socket with SO_REUSEADDR set BEFORE bind, so other receivers can bind the port too; a failed bind is fail("bind ADDR", err)
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT") and not sys.platform.startswith("linux"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        s.bind((host, port))
    except OSError as err:
        fail(f"bind {show_addr((host, port))}", err)
    return s
    # endregion: bind-shared


def main():
    parser = argparse.ArgumentParser(
        prog="broadcast_recv.py",
        description="Receive UDP broadcasts; several receivers can share one port (lesson 7)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--bind", type=parse_addr, default="0.0.0.0:9004", metavar="ADDR",
                        help="address to bind: 0.0.0.0 hears broadcasts, 127.0.0.1 does not")
    parser.add_argument("--count", type=positive, default=None, metavar="N",
                        help="exit 0 after N datagrams (default: never)")
    parser.add_argument("--timeout", type=positive, default=None, metavar="MS",
                        help="exit 1 when no datagram arrives for MS milliseconds (default: never)")
    add_trace_arg(parser)
    args = parser.parse_args()
    start_trace("broadcast-recv", args.trace)

    s = traced_udp(bind_shared(*args.bind), bound=True)  # --trace: each recvfrom
    local = show_addr(s.getsockname())
    if args.timeout:
        s.settimeout(args.timeout / 1000)   # for each recvfrom: the clock restarts every datagram
    log(f"listening on {local}")
    # region: recvfrom-loop — recvfrom(65536) until --count datagrams: log `from PEER: TEXT`; socket.timeout fails with `timeout on ADDR: no datagram arrived within MS ms (received N so far)`
    received = 0
    try:
        while args.count is None or received < args.count:
            try:
                data, peer = s.recvfrom(65536)   # room for the largest datagram
            except socket.timeout:
                fail(f"timeout on {local}: no datagram arrived within {args.timeout} ms "
                     f"(received {received} so far)")
            log(f"from {show_addr(peer)}: {show_bytes(data)}")
            received += 1
    except KeyboardInterrupt:
        sys.exit(130)
    # endregion: recvfrom-loop


if __name__ == "__main__":
    main()
