#!/usr/bin/env python3
"""Lesson 1, exercise 7 — the client takes one recv for the whole echo.

tcp_echo.py whose client calls recv once per message and prints whatever it
returned. On loopback a short echo usually comes back in one piece, so this
passes against the lesson's own server; a server that echoes in pieces (as
tcp-echo does with `--buf-size 4`, section 1.2) shows the mistake: the client
prints the first piece and leaves the rest unread.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "01-tcp-transfer"))
import tcp_echo  # noqa: E402


def recv_once(sock, n, where):
    try:
        data = sock.recv(n)  # the mistake: one recv may bring only part of the echo
    except OSError as err:
        tcp_echo.fail(f"recv {where}", err)
    if not data:
        tcp_echo.fail(f"recv {where}: the server closed the connection")
    return data


tcp_echo.recv_exactly = recv_once
tcp_echo.main()
