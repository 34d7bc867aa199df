#!/usr/bin/env python3
"""Lesson 4, exercise 2 — whose reply is it?

udp_echo.py's client taking the first datagram that arrives as the reply,
without comparing the sender's address with ADDR. Anyone may send to an
unconnected UDP socket.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("        if peer[:2] != addr:\n", "        if False:  # the mistake: any sender will do\n"))
