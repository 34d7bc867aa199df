#!/usr/bin/env python3
"""clients.py — lesson 5: N echo clients, over TCP or UDP, to compare what they cost.

    python3 lessons/05-tcp-vs-udp/clients.py tcp PORT 100          # 100 echoes, then close
    python3 lessons/05-tcp-vs-udp/clients.py udp PORT 100 --hold   # ... and keep the sockets open

Each client opens its own socket to 127.0.0.1:PORT, sends "hello", waits
for the echo, and closes — or, with --hold, keeps its socket open until this
program is killed, so you can look at the server while 100 clients exist.
"""

import argparse
import signal
import socket

parser = argparse.ArgumentParser()
parser.add_argument("protocol", choices=["tcp", "udp"])
parser.add_argument("port", type=int)
parser.add_argument("count", type=int)
parser.add_argument("--hold", action="store_true", help="keep every socket open until killed")
args = parser.parse_args()

server = ("127.0.0.1", args.port)
held = []
for _ in range(args.count):
    if args.protocol == "tcp":
        s = socket.create_connection(server, timeout=10)  # the handshake happens here
        s.sendall(b"hello")
        echo = b""
        while len(echo) < 5:
            chunk = s.recv(5 - len(echo))
            if not chunk:
                raise SystemExit(f"error: recv {server}: closed early")
            echo += chunk
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # nothing sent yet
        s.settimeout(10)
        s.sendto(b"hello", server)
        echo, _ = s.recvfrom(1024)
    if args.hold:
        held.append(s)
    else:
        s.close()

print(f"clients.py: {args.count} {args.protocol.upper()} clients echoed"
      + (", their sockets held open" if args.hold else ""), flush=True)
if args.hold:
    signal.pause()
