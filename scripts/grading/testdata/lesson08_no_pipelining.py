#!/usr/bin/env python3
"""Lesson 8, exercise 3 — pipelined requests dropped.

mini_http.py parsing only the first request of what one recv brought: before
each request head it throws away whatever is left in its buffer, so the
requests a client sent right behind the first never get an answer.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "08-http"))
import mini_http  # noqa: E402

read_head = mini_http.read_head


def read_head_after_dropping(reader, *args):
    reader.buf.clear()  # the mistake: bytes already received are a next request too
    return read_head(reader, *args)


mini_http.read_head = read_head_after_dropping
mini_http.main()
