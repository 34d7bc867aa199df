#!/usr/bin/env python3
"""Lesson 9, exercise 6 — reading one client until it has nothing left.

many_clients.py's poll model without READS_PER_TURN: each ready client is
read until recv says it would block. A client whose bytes keep coming faster
than the server echoes them (here: --buf-size 1) is then never left, and
every other client starves behind it.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402

many_clients.READS_PER_TURN = 1 << 62  # the mistake: no bound per turn
many_clients.main()
