#!/usr/bin/env python3
"""Lesson 8, exercise 6 — Slowloris: no time limit on the request head.

mini_http.py waiting as long as a client likes for the rest of a request
head: one that sends `GET / HTTP/1.1\r\n` and nothing more holds a
connection (and a thread) forever instead of getting 408 and a close.
"""

import edit

edit.run("08-http/mini_http.py",
         ("    deadline = time.monotonic() + head_timeout\n",
          "    deadline = time.monotonic() + 10**9  # the mistake: no --head-timeout\n"))
