"""A connected UDP socket hears only its peer: what happens to a stranger's datagram.

Run: python3 lessons/04-udp-client/connected.py (loopback only).
"""
from socket import socket, AF_INET, SOCK_DGRAM
a = socket(AF_INET, SOCK_DGRAM)  # the client
a.bind(("127.0.0.1", 0))
b = socket(AF_INET, SOCK_DGRAM)  # its server
b.bind(("127.0.0.1", 0))
a.connect(b.getsockname())
c = socket(AF_INET, SOCK_DGRAM)  # a stranger
c.bind(("127.0.0.1", 0))
c.connect(a.getsockname())        # connected, so it hears ICMP errors
c.send(b"not from your server")
a.settimeout(0.5)
try:
    print("client got", a.recv(100))
except TimeoutError:
    print("client: nothing arrived (the kernel did not deliver it)")
c.settimeout(0.5)
try:
    print("stranger got", c.recv(100))
except OSError as e:
    print("stranger:", repr(e))
