#!/usr/bin/env python3
"""Lesson 2 — the wrong header: a little-endian length.

sticky_demo.py with its 4-byte length header in little-endian order ("<I")
instead of network order ("!I", big-endian). Client and server agree with each
other, so a run of the two looks fine — and neither speaks the lesson's wire
format: b"\x05\x00\x00\x00" is 83,886,080 to everyone else.
"""

import struct

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "02-sticky-packets"))
import sticky_demo  # noqa: E402

sticky_demo.HEADER = struct.Struct("<I")  # the mistake: not network byte order
sticky_demo.main()
