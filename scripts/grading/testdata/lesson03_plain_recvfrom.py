#!/usr/bin/env python3
"""Lesson 3, exercise 8 — plain `recvfrom`, truncation unchecked.

udp_echo.py with recv_datagram as the notes write it: `recvfrom(size)`. A
datagram larger than the buffer is still cut, and nobody is told how large it
was.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402



def plain_recvfrom(sock, size):
    data, peer = sock.recvfrom(size)  # the mistake: no MSG_TRUNC, no real size
    return data, peer, ""


udp_echo.recv_datagram = plain_recvfrom
udp_echo.main()
