#!/usr/bin/env python3
"""Lesson 3, exercise 3 — the TCP habit: `if not data: break`.

udp_echo.py's server stopping at the first empty datagram, as a TCP server
stops when recv returns b"". Over UDP an empty datagram is a datagram: there
is no connection, so there is no "peer closed".
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("        log(f\"recv {len(data)} bytes from {show_addr(peer)}{note}\")\n",
          "        if not data:\n            break  # the mistake\n"
          "        log(f\"recv {len(data)} bytes from {show_addr(peer)}{note}\")\n"))
