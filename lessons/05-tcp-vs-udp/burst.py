#!/usr/bin/env python3
"""burst.py — lesson 5: send datagrams back to back from one UDP socket, without waiting.

    python3 lessons/05-tcp-vs-udp/burst.py PORT a b c d e      # five datagrams
    python3 lessons/05-tcp-vs-udp/burst.py PORT --count 1000   # 0000 0001 … 0999

Sends to 127.0.0.1:PORT (or [::1]:PORT with --ipv6) and reports how many
sendto calls succeeded. Success means only that the kernel took the
datagram: it says nothing about whether anyone received it.
"""

import argparse
import socket

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("messages", nargs="*")
parser.add_argument("--count", type=int, help="send COUNT numbered datagrams instead")
parser.add_argument("--ipv6", action="store_true")
args = parser.parse_args()

if args.count is not None:
    datagrams = [b"%04d" % i for i in range(args.count)]
else:
    datagrams = [m.encode() for m in args.messages]

family, host = (socket.AF_INET6, "::1") if args.ipv6 else (socket.AF_INET, "127.0.0.1")
s = socket.socket(family, socket.SOCK_DGRAM)
sent = sum(1 for d in datagrams if s.sendto(d, (host, args.port)) == len(d))
print(f"burst.py: {sent} of {len(datagrams)} sendto calls succeeded")
