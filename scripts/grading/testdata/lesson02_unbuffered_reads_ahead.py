#!/usr/bin/env python3
"""Lesson 2, exercise 8 — an --unbuffered server that still reads ahead.

sticky_demo.py accepting --unbuffered but reading --buf-size bytes anyway, so
one `recv` takes the next messages too: fewer reads than headers and bodies.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402


recv_messages = sticky_demo.recv_messages


def recv_messages_buffered(conn, peer, args, counts):
    args.unbuffered = False  # the mistake: the flag is ignored
    recv_messages(conn, peer, args, counts)


sticky_demo.recv_messages = recv_messages_buffered
sticky_demo.main()
