#!/usr/bin/env python3
"""Lesson 2, exercise 3 — the one-`recv` bug.

sticky_demo.py reading a length frame with a single `recv(4)` for the header
and a single `recv(length)` for the body, no loops: it believes each `recv`
returns all it asked for. TCP may return less (a small --buf-size makes it
certain), and then the header or the body is cut and the stream goes astray.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402


def recv_messages_naively(conn, peer, args, counts):
    if args.framing != "length":
        return recv_messages(conn, peer, args, counts)
    while True:
        header = sticky_demo.recv(conn, min(4, args.buf_size), args)  # the mistake: one recv
        if not header:
            return
        counts["reads"] += 1
        if not args.quiet:
            sticky_demo.log(f"recv {counts['reads']}: {len(header)} bytes: {sticky_demo.show_bytes(header)}")
        (length,) = sticky_demo.HEADER.unpack(header.ljust(4, b"\0"))
        body = b""
        if length:
            body = sticky_demo.recv(conn, min(length, args.buf_size), args)  # and one more
            counts["reads"] += 1
            if not args.quiet:
                sticky_demo.log(f"recv {counts['reads']}: {len(body)} bytes: {sticky_demo.show_bytes(body)}")
        counts["messages"] += 1
        if not args.quiet:
            sticky_demo.log(f"message {counts['messages']}: {sticky_demo.show_bytes(body)}")


recv_messages = sticky_demo.recv_messages
sticky_demo.recv_messages = recv_messages_naively
sticky_demo.main()
