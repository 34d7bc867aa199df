#!/usr/bin/env python3
"""Lesson 5, exercise 5 — a client that always connects.

udp_echo.py's client calling connect() on its UDP socket even without
--connect. connect sends nothing, but the kernel then reports an ICMP "port
unreachable" as "Connection refused": the client no longer shows the missing
reply that an unconnected socket (the lesson's default) sees.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402

client = udp_echo.client


def client_connected(args, usage):
    args.connect = True  # the mistake
    return client(args, usage)


udp_echo.client = client_connected
udp_echo.main()
