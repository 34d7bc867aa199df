#!/usr/bin/env python3
"""A deliberately broken tcp-echo, for testing the grader itself.

It is lesson 1's Python version with one classic mistake: each echo uses a
single `send` of all but the last byte received — a lost byte per recv. The
grader must take points away from it (scripts/grading/grade-selftest checks that).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "01-tcp-transfer"))
import tcp_echo  # noqa: E402


def lossy_echo_client(conn, peer, buf_size, quiet):
    total = 0
    try:
        while True:
            data = conn.recv(buf_size)
            if not data:
                tcp_echo.log(f"closed {peer} after {total} bytes")
                break
            total += len(data)
            if not quiet:
                tcp_echo.log(f"recv {len(data)} bytes from {peer}")
            conn.send(data[:-1])  # the bug: one byte short, and send, not sendall
    except OSError as err:
        tcp_echo.warn(f"recv {peer}", err)
    finally:
        conn.close()


tcp_echo.echo_client = lossy_echo_client
tcp_echo.main()
