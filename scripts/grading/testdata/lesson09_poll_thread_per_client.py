#!/usr/bin/env python3
"""Lesson 9, exercise 1 — a "poll" model that is a thread per client.

many_clients.py with `--model poll` running lesson 1's server: every echo
still comes back, so the echo tests pass, but the process runs a thread for
each connected client instead of one loop that serves them all. Only
counting the threads tells the models apart.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402

many_clients.serve_poll = many_clients.lesson1.serve  # the mistake: threads behind the poll name
many_clients.main()
