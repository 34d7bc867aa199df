#!/usr/bin/env python3
"""Lesson 2 — no framing at all: each `recv` taken for one message.

sticky_demo.py with --framing line or length logging every read as one
`message` line, as if TCP kept the sender's boundaries. Merged sends come
out as one message, a split send as several.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402



def each_read_is_a_message(conn, peer, args, counts):
    while True:
        data = sticky_demo.recv(conn, args.buf_size, args)
        if not data:
            return
        counts["reads"] += 1
        counts["messages"] += 1  # the mistake: a read is not a message
        if not args.quiet:
            sticky_demo.log(f"recv {counts['reads']}: {len(data)} bytes: {sticky_demo.show_bytes(data)}")
            sticky_demo.log(f"message {counts['messages']}: {sticky_demo.show_bytes(data)}")


sticky_demo.recv_messages = each_read_is_a_message
sticky_demo.main()
