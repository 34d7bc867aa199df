#!/usr/bin/env python3
"""truncation.py — lesson 3: what recvfrom(bufsize) does to a datagram that is too big.

    python3 lessons/03-udp-server/truncation.py

Two sockets on loopback. The sender sends 2000-byte datagrams; the receiver
reads them with a 1024-byte buffer, three different ways:

1. recvfrom(1024) — what the notes use. The datagram is cut to 1024 bytes and
   nothing says so (on Windows, Python raises OSError 10040 instead).
2. recvmsg(1024) — the returned flags carry MSG_TRUNC: "this was cut", but not
   by how much.
3. recvfrom_into(buf, 1024, MSG_TRUNC) — Linux only: the kernel returns the
   datagram's real length, 2000, while still copying only 1024 bytes.

Each time, the next datagram shows that the cut-off 976 bytes are gone: they
are not waiting for the next call, as they would be on a TCP stream.
"""

import socket
import sys

receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", 0))
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
to = receiver.getsockname()


def send_pair(label):
    """A 2000-byte datagram, then a short one that follows it."""
    sender.sendto(label.encode() * 2000, to)
    sender.sendto(b"next", to)


send_pair("a")
data, peer = receiver.recvfrom(1024)
print(f"{'recvfrom(1024)':<26} -> {len(data)} bytes from {peer}; nothing says it was cut")
data, _ = receiver.recvfrom(1024)
print(f"{'next recvfrom(1024)':<26} -> {data!r}: the other 976 bytes are gone")

send_pair("b")
data, _ancillary, flags, _ = receiver.recvmsg(1024)
cut = bool(flags & socket.MSG_TRUNC)
print(f"{'recvmsg(1024)':<26} -> {len(data)} bytes, MSG_TRUNC in flags: {cut}")
receiver.recvfrom(1024)

if sys.platform.startswith("linux"):
    send_pair("c")
    buf = bytearray(1024)
    real, _ = receiver.recvfrom_into(buf, 1024, socket.MSG_TRUNC)
    print(f"{'recvfrom_into(MSG_TRUNC)':<26} -> returns {real}: the real size; {min(real, len(buf))} bytes copied")
    receiver.recvfrom(1024)
else:
    print("recvfrom_into(MSG_TRUNC): only Linux returns a datagram's real size")
