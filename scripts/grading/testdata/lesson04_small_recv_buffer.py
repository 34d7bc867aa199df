#!/usr/bin/env python3
"""Lesson 4, exercise 4 — a receive buffer too small for the largest reply.

udp_echo.py's client reading replies with the notes' `recvfrom(1024)`
instead of a buffer that holds any datagram: a large reply is cut.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ('cli.add_argument("--buf-size", type=up_to(MAX_BUF_SIZE), default=MAX_BUF_SIZE,',
          'cli.add_argument("--buf-size", type=up_to(MAX_BUF_SIZE), default=1024,'))
