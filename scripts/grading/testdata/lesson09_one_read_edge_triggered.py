#!/usr/bin/env python3
"""Lesson 9, exercise 3 — one recv per wake-up on an edge-triggered socket.

many_clients.py's poll model made edge-triggered, as mio (and so the Rust
version) is: epoll reports a socket when bytes arrive, not while they wait.
Reading once per report is then a mistake: with --buf-size 4, ten bytes that
arrive together are reported once, the loop takes 4, and the other 6 wait in
the receive buffer until the client sends more — which it never does, since
it waits for their echo. (Level-triggered, the same loop would only be slow.)
"""

import os
import select
import selectors
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402


class EdgeTriggered(selectors.EpollSelector):
    # EPOLLET: one report per arrival of bytes (or of room to write).
    _EVENT_READ = select.EPOLLIN | select.EPOLLET
    _EVENT_WRITE = select.EPOLLOUT | select.EPOLLET


def read_once(conn, buf, view, quiet):
    try:
        n = conn.sock.recv_into(buf)  # the mistake: one recv, whatever is left
    except BlockingIOError:
        return
    except OSError as err:
        many_clients.warn(f"recv {conn.peer}", err)
        raise many_clients.Closed() from None
    if n == 0:
        many_clients.log(f"closed {conn.peer} after {conn.total} bytes")
        conn.eof = True
        return
    conn.total += n
    if not quiet:
        many_clients.log(f"recv {n} bytes from {conn.peer}")
    many_clients.send_or_keep(conn, view[:n])


many_clients.selectors.DefaultSelector = EdgeTriggered
many_clients.read_some = read_once
many_clients.main()
