#!/usr/bin/env python3
"""Lesson 2, exercise 5 — trusting the header.

sticky_demo.py without its --max-frame check: a header that declares 4 GB
makes the server wait for (and buffer) 4 GB, and a line that never ends
grows without bound, instead of ending that connection with an `error:` line.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402



class TrustingBuffer(sticky_demo.FrameBuffer):
    def __init__(self, framing, max_frame):
        super().__init__(framing, float("inf"))  # the mistake: no limit


sticky_demo.FrameBuffer = TrustingBuffer
sticky_demo.main()
