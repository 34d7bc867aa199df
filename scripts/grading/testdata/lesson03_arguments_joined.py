#!/usr/bin/env python3
"""Lesson 3, exercise 5 — the command line joined into one datagram.

udp_echo.py's client sending all its MESSAGE arguments as one datagram,
joined with spaces (as if the shell had not split them), instead of one
datagram per argument.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402

client = udp_echo.client


def client_joining(args, usage):
    if args.messages:
        args.messages = [b" ".join(args.messages)]  # the mistake
    return client(args, usage)


udp_echo.client = client_joining
udp_echo.main()
