#!/usr/bin/env python3
"""Lesson 8, exercise 3 (second half) — an event loop that reads before it answers.

event_loop_http.py (lesson 8's Python version on one event loop) with its
visit of a connection in the other order: send what waits, recv, then answer.
Two hundred pipelined requests come in one recv; their answers pass the
64 KiB the loop lets wait unsent, so it stops answering and sends. Once that
output has drained (at once, or on EPOLLOUT after a send that would block),
it calls recv before answering the requests it still holds: recv says
WouldBlock, since they were all read long ago, and the loop waits for an
EPOLLIN that never comes. The client gets the first seventy-odd answers,
then nothing. (The Rust mini-http's first version did this: "How fast, and
why an event loop".)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import event_loop_http  # noqa: E402


def serve_reading_first(conn):
    while True:
        if conn.out and not conn.flush():
            return
        if conn.closing:
            return
        # The mistake: only new bytes lead to answers. The requests already
        # received wait for an event, and no event comes for them.
        if conn.eof or not conn.read():
            return
        conn.answer_buffered()


event_loop_http.serve = serve_reading_first
event_loop_http.main()
