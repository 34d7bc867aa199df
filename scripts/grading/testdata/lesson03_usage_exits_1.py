#!/usr/bin/env python3
"""Lesson 3, exercise 7 — a usage error reported as a failure (exit 1).

udp_echo.py with every argument it cannot parse reported as an `error:`
line and exit status 1, instead of argparse's usage message and exit 2.
"""

import argparse

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402



def error_exit_1(self, message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)  # the mistake: bad usage is exit 2


argparse.ArgumentParser.error = error_exit_1
udp_echo.main()
