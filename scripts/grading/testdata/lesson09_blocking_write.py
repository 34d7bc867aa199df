#!/usr/bin/env python3
"""Lesson 9, exercise 5 — a blocking write in the event loop.

many_clients.py's poll model echoing with sendall on a blocking socket, as
lesson 1's thread per client does. With one thread serving everyone, the
first client that does not read its echo fills its send buffer, sendall
waits for room that never comes, and every other client waits with it.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402


def send_or_keep(conn, data):
    try:
        conn.sock.setblocking(True)
        conn.sock.sendall(data)  # the mistake: waits for room, and the loop with it
        conn.sock.setblocking(False)
    except OSError as err:
        many_clients.warn(f"send {conn.peer}", err)
        raise many_clients.Closed() from None


many_clients.send_or_keep = send_or_keep
many_clients.main()
