#!/usr/bin/env python3
"""Lesson 2, exercise 6 — a cut message dropped in silence.

sticky_demo.py ending a connection whose peer closed in the middle of a frame
or a line without the `error:` line that names the peer: the partial message
simply disappears.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402



class SilentBuffer(sticky_demo.FrameBuffer):
    def finish(self):
        return None  # the mistake: whatever was left is dropped, unreported


sticky_demo.FrameBuffer = SilentBuffer
sticky_demo.main()
