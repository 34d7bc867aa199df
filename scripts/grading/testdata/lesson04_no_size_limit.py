#!/usr/bin/env python3
"""Lesson 4, exercise 4 — not knowing the limit.

udp_echo.py's client without its size check: a --size above what one
datagram can carry is sent anyway, and the kernel's EMSGSIZE turns a usage
error (exit 2, before sending) into a failed send (exit 1).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402



def no_limit(family, host):
    return 1 << 30, "no limit checked"  # the mistake


udp_echo.max_payload = no_limit
udp_echo.main()
