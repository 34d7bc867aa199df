#!/usr/bin/env python3
"""Lesson 2, exercise 4 — decoding reads, not messages.

sticky_demo.py decoding each `recv`'s bytes as UTF-8 (and encoding them back)
before framing. A Chinese character split across two reads is two invalid
halves: each becomes U+FFFD, and the message (even its length) is no longer
what was sent.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402



class DecodingBuffer(sticky_demo.FrameBuffer):
    def feed(self, data):
        # The mistake: a read boundary is not a character boundary.
        super().feed(data.decode("utf-8", errors="replace").encode("utf-8"))


sticky_demo.FrameBuffer = DecodingBuffer
sticky_demo.main()
