"""What SO_REUSEADDR lets `bind` do on Linux, with live sockets (no TIME_WAIT).

Each case binds 127.0.0.1 on a port the OS picked for the first socket, then
tries to bind a second socket to the same address. Loopback only.

Run: python3 lessons/06-socket-options/reuseaddr.py
"""
from socket import (socket, AF_INET, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET,
                    SO_REUSEADDR)


def new(kind, reuse):
    s = socket(AF_INET, kind)
    if reuse:
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    return s


def try_bind(what, s, addr):
    try:
        s.bind(addr)
        print(f"{what:<58} bind ok")
        return True
    except OSError as e:
        print(f"{what:<58} bind failed: {e.strerror}")
        return False


held = []  # keep every socket open until the end

# TCP: a live listener blocks the port, even when both set SO_REUSEADDR.
first = new(SOCK_STREAM, True)
first.bind(("127.0.0.1", 0))
first.listen()
held.append(first)
try_bind("TCP, both SO_REUSEADDR, the first is listening:", new(SOCK_STREAM, True), first.getsockname())

# TCP: two bound sockets, neither listening, both with the option: shared.
first = new(SOCK_STREAM, True)
first.bind(("127.0.0.1", 0))
held.append(first)
try_bind("TCP, both SO_REUSEADDR, neither listening:", new(SOCK_STREAM, True), first.getsockname())

# TCP: the listener is closed, but a connection it accepted is still open
# (ESTABLISHED, not TIME_WAIT): a restarted server may bind and listen.
listener = new(SOCK_STREAM, True)
listener.bind(("127.0.0.1", 0))
listener.listen()
addr = listener.getsockname()
client = socket(AF_INET, SOCK_STREAM)
client.connect(addr)
conn, _ = listener.accept()
listener.close()
held += [client, conn]
try_bind("TCP, without SO_REUSEADDR, a live accepted connection:", new(SOCK_STREAM, False), addr)
again = new(SOCK_STREAM, True)
if try_bind("TCP, with SO_REUSEADDR, a live accepted connection:", again, addr):
    again.listen()
    held.append(again)

# UDP: sockets that all set SO_REUSEADDR share a live port (lesson 7's
# receivers); one without it is refused, and refuses others.
first = new(SOCK_DGRAM, True)
first.bind(("127.0.0.1", 0))
held.append(first)
second = new(SOCK_DGRAM, True)
try_bind("UDP, both SO_REUSEADDR, both live:", second, first.getsockname())
held.append(second)
try_bind("UDP, the new one without SO_REUSEADDR:", new(SOCK_DGRAM, False), first.getsockname())
plain = new(SOCK_DGRAM, False)
plain.bind(("127.0.0.1", 0))
held.append(plain)
try_bind("UDP, the first without SO_REUSEADDR:", new(SOCK_DGRAM, True), plain.getsockname())
