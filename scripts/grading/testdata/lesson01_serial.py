#!/usr/bin/env python3
"""Lesson 1, exercise 3 — one client at a time.

tcp_echo.py with its thread per client taken away: the server accepts a
client, echoes it until it closes, and only then accepts the next. The kernel
still completes the other clients' handshakes (they wait in the listen
backlog), so they connect fine — and get no echo while the first stays open.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "01-tcp-transfer"))
import tcp_echo  # noqa: E402


def serve_one_after_another(listener, serve, max_clients=None, log_connected=True):
    served = 0
    while not max_clients or served < max_clients:
        conn, addr = listener.accept()
        peer = tcp_echo.show_addr(addr)
        if log_connected:
            tcp_echo.log(f"connected {peer}")
        serve(conn, peer)  # the mistake: the next accept waits for this client to leave
        served += 1


tcp_echo.serve_each_client = serve_one_after_another
tcp_echo.main()
