#!/usr/bin/env python3
"""socket_calls.py — lesson 6: the notes' socket-module calls, in Python.

Every call from section 6 of the notes (s.type, getpeername, getsockname,
fileno, setsockopt, getsockopt) on real loopback sockets, with what it
returns — or the OSError it raises. Compare with `cargo run -p sockopt-inspect`,
which asks the same kernel the same questions from Rust.

    python3 lessons/06-socket-options/socket_calls.py
"""

import socket
import struct


def show(expression, thunk):
    """Print `expression -> repr(result)`, or the error the OS gave instead."""
    try:
        result = thunk()
    except OSError as err:
        result = f"OSError: {err}"
    print(f"{expression:<52} -> {result if isinstance(result, str) else repr(result)}")


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
client = socket.create_connection(server.getsockname())
conn, addr = server.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

print("# 6.1 s.type")
show("server.type", lambda: server.type)
show("udp.type", lambda: udp.type)

print("# 6.2 getpeername: the other end of a connection")
show("conn.getpeername()", conn.getpeername)
show("client.getpeername()", client.getpeername)
show("server.getpeername()", server.getpeername)

print("# 6.3 getsockname: this end's address")
show("server.getsockname()", server.getsockname)
show("conn.getsockname()", conn.getsockname)
show("client.getsockname()", client.getsockname)
show("udp.getsockname()   (not bound yet)", udp.getsockname)

print("# 6.4 fileno: small numbers, distinct while open, reused after close")
show("server, client, conn, udp .fileno()",
     lambda: [s.fileno() for s in (server, client, conn, udp)])
number = udp.fileno()
udp.close()
again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
show("udp.close(); new socket's fileno()", lambda: (number, again.fileno()))

print("# 6.5 setsockopt / 6.6 getsockopt")
show("server.getsockopt(SOL_SOCKET, SO_REUSEADDR)",
     lambda: server.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
fresh = socket.socket()
show("fresh.getsockopt(SOL_SOCKET, SO_REUSEADDR)",
     lambda: fresh.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
show("... after setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
     lambda: fresh.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
fresh.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 9973)
show("... after setsockopt(SOL_SOCKET, SO_RCVBUF, 9973)",
     lambda: fresh.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
show("getsockopt(IPPROTO_TCP, TCP_NODELAY)",
     lambda: fresh.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
# A struct option comes back as bytes when you give a buffer length.
show("getsockopt(SOL_SOCKET, SO_LINGER, 8) bytes",
     lambda: fresh.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
show("... unpacked as struct linger (l_onoff, l_linger)",
     lambda: struct.unpack("ii", fresh.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)))
show("udp.getsockopt(IPPROTO_TCP, TCP_NODELAY)  (UDP!)",
     lambda: again.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

for s in (server, client, conn, again, fresh):
    s.close()
