#!/usr/bin/env python3
"""Lesson 9, exercise 4 — a write buffer without bound.

many_clients.py's poll model keeping every echo byte the kernel will not take
yet, however many, and reading on: a client that sends and never reads its
echo then grows the server's memory by everything it sends (until the server
is killed for it), where a bounded buffer would stop reading from that client
and let TCP's window hold it back.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402

many_clients.WRITE_BUFFER_LIMIT = 1 << 62  # the mistake: no bound


def send_or_keep(conn, data):
    if not isinstance(conn.unsent, bytearray):
        conn.unsent = bytearray(conn.unsent)  # grows in place, without bound
    if conn.unsent:
        conn.unsent += data
        return
    try:
        sent = conn.sock.send(data)
    except BlockingIOError:
        sent = 0
    except OSError as err:
        many_clients.warn(f"send {conn.peer}", err)
        raise many_clients.Closed() from None
    conn.unsent += data[sent:]


many_clients.send_or_keep = send_or_keep
many_clients.main()
