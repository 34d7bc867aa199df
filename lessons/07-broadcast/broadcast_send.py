#!/usr/bin/env python3
"""broadcast_send.py — lesson 7 (udp 应用之广播) in Python, the notes' own language.

The same program as `cargo run -p broadcast-send`, kept to README "Conventions",
so the same tests grade it:

    python3 lessons/07-broadcast/broadcast_send.py [--to ADDR] [--count N] [--interval MS]
                                                   [--no-broadcast-flag] [--force] MESSAGE
    IMPL_BROADCAST_SEND='python3 lessons/07-broadcast/broadcast_send.py' \\
        cargo test -p broadcast-send --test lesson07

The notes' one line that matters is here: setsockopt(SOL_SOCKET, SO_BROADCAST, 1).
Without it the kernel refuses a broadcast address with EACCES ("Permission denied").
"""

import argparse
import errno
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (fail, log, parse_addr, reason, show_addr,  # noqa: E402
                         add_trace_arg, start_trace, traced_udp)

MIN_INTERVAL_MS = 10      # below this, a repeated broadcast needs --force
MAX_DATAGRAM = 65507      # 65,535 - 20 (IP header) - 8 (UDP header)


def whole_number(low, high):
    """argparse type: a whole number between low and high."""
    def parse(text):
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from {low} to {high}")
        return int(text)
    return parse


def main():
    parser = argparse.ArgumentParser(
        prog="broadcast_send.py",
        description="Send a UDP broadcast: one datagram to every host of a network (lesson 7)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--to", type=parse_addr, default="127.255.255.255:9004", metavar="ADDR",
                        help="where to send; the default, loopback's broadcast address, never leaves "
                             "this machine (a LAN's: its brd address, or 255.255.255.255)")
    parser.add_argument("--count", type=whole_number(0, 2**64 - 1), default=1, metavar="N",
                        help="datagrams to send (0: until interrupted)")
    parser.add_argument("--interval", type=whole_number(0, 86_400_000), default=1000, metavar="MS",
                        help="milliseconds between datagrams (below 10 needs --force)")
    parser.add_argument("--no-broadcast-flag", action="store_true",
                        help="leave SO_BROADCAST off, to see the OS refuse")
    parser.add_argument("--force", action="store_true", help="allow --interval below 10 ms")
    parser.add_argument("message", metavar="MESSAGE", help="the datagram's content")
    add_trace_arg(parser)
    args = parser.parse_args()
    start_trace("broadcast-send", args.trace)

    family, host, port = args.to
    to = show_addr((host, port))
    if family == socket.AF_INET6:
        parser.error(f"--to {to}: IPv6 has no broadcast; it reaches groups of hosts with "
                     "multicast instead (lesson 7)")
    if args.interval < MIN_INTERVAL_MS and args.count != 1 and not args.force:
        parser.error(f"--interval {args.interval} ms is below {MIN_INTERVAL_MS} ms: every host on "
                     "the network must handle every broadcast, so sending this fast loads the "
                     "whole LAN (a broadcast storm, notes 7); add --force if you mean it")
    data = os.fsencode(args.message)   # the bytes as given, even if not UTF-8
    if len(data) > MAX_DATAGRAM:
        parser.error(f"MESSAGE is {len(data)} bytes; one UDP datagram over IPv4 holds at most {MAX_DATAGRAM}")

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if not args.no_broadcast_flag:
        # region: so-broadcast — s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1): without it the kernel refuses to send to a broadcast address (EACCES)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)   # the notes' line
        # endregion: so-broadcast
    s = traced_udp(s)  # --trace: each sendto
    beat = time.monotonic()
    sent = 0
    try:
        while True:
            # region: send-one — n = s.sendto(data, (host, port)); log `sent N bytes to ADDR`; EACCES with --no-broadcast-flag fails with `send to ADDR: … — SO_BROADCAST is off`
            try:
                n = s.sendto(data, (host, port))
            except OSError as err:
                if err.errno == errno.EACCES and args.no_broadcast_flag:
                    fail(f"send to {to}: {reason(err)} — SO_BROADCAST is off")
                fail(f"send to {to}", err)
            log(f"sent {n} bytes to {to}")
            # endregion: send-one
            sent += 1
            if args.count and sent >= args.count:
                break
            beat += args.interval / 1000   # a steady beat, however long a send took
            time.sleep(max(0.0, beat - time.monotonic()))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
