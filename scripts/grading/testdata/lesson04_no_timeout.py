#!/usr/bin/env python3
"""Lesson 4, exercise 1 — forever is too long.

udp_echo.py's client waiting for a reply with no timeout, as the notes'
client does: when no reply comes, it blocks in recvfrom forever.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("        sock.settimeout(left)\n", "        sock.settimeout(None)  # the mistake\n"))
