#!/usr/bin/env python3
"""Lesson 8, exercise 6 — a full server that never evicts an unfinished head.

mini_http.py whose --max-connections policy gives a newcomer the place of a
closing or idle connection only: once every place holds a client that sent
half a request head and stopped (slowloris), each newcomer gets 503 until
--head-timeout ends one of them.
"""

import edit

edit.run("08-http/mini_http.py",
         ('    EVICT_ORDER = {"closing": 3, "idle": 2, "head": 1}',
          '    EVICT_ORDER = {"closing": 3, "idle": 2}  # the mistake: a slow head keeps its place'))
