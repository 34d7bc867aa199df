#!/usr/bin/env python3
"""Lesson 1, exercise 6 — one reset connection stops the whole server.

tcp_echo.py treating a failed recv (ECONNRESET: the peer closed with unread
bytes, or with SO_LINGER 0) as fatal to the process instead of to that one
connection.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "01-tcp-transfer"))
import tcp_echo  # noqa: E402

warn = tcp_echo.warn


def warn_and_exit(what, err=None):
    warn(what, err)
    sys.stdout.flush()
    os._exit(1)  # the mistake: one client's reset ends every client's service


tcp_echo.warn = warn_and_exit
tcp_echo.main()
