#!/usr/bin/env python3
"""Lesson 5, exercise 1 — datagram boundaries lost.

udp_echo.py's server taking every datagram already queued from the same
sender and treating them as one, as a TCP reader gets one merged chunk: five
queued 1-byte datagrams become one 5-byte "datagram".
"""

import socket

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402

recv_datagram = udp_echo.recv_datagram


def recv_merged(sock, size):
    data, peer, note = recv_datagram(sock, size)
    sock.setblocking(False)
    try:
        while True:
            more, sender, _ = recv_datagram(sock, size)
            if sender != peer:
                break  # (another sender's datagram is lost; this variant is wrong anyway)
            data += more  # the mistake: boundaries thrown away
    except (BlockingIOError, socket.timeout):
        pass
    finally:
        sock.setblocking(True)
    return data, peer, note


udp_echo.recv_datagram = recv_merged
udp_echo.main()
