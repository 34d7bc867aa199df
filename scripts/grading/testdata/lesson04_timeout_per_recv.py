#!/usr/bin/env python3
"""Lesson 4, exercises 3 and 7 — a timeout is not a deadline.

udp_echo.py's client with its `deadline = …` line moved into the loop: each
recvfrom gets the full timeout again, so stray datagrams arriving more often
than the timeout keep the client waiting forever.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("    deadline = time.monotonic() + args.timeout / 1000\n", ""),
         ("    while True:\n        left = deadline - time.monotonic()\n",
          "    while True:\n        deadline = time.monotonic() + args.timeout / 1000  # the mistake\n"
          "        left = deadline - time.monotonic()\n"))
