#!/usr/bin/env python3
"""calls.py — lesson 5, difference 7: the "TCP calls" and the "UDP calls" work on both.

    cargo run -p tcp-echo -- server &     # 127.0.0.1:9001
    cargo run -p udp-echo -- server &     # 127.0.0.1:9003
    python3 lessons/05-tcp-vs-udp/calls.py

A connected UDP socket takes send/recv/sendall; a TCP socket takes
sendto/recvfrom (the address is ignored, and recvfrom reports None: the peer
is fixed by the connection).
"""

import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("127.0.0.1", 9003))       # UDP: no packet sent, the peer is only recorded
u.send(b"send on UDP")
print("UDP recv:", u.recv(1024))
u.sendall(b"sendall on UDP")         # one datagram, like sendto
print("UDP recvfrom:", u.recvfrom(1024))
t = socket.create_connection(("127.0.0.1", 9001))
t.sendto(b"sendto on TCP", ("127.0.0.1", 9001))
print("TCP recvfrom:", t.recvfrom(1024))
