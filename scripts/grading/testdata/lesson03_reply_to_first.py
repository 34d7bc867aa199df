#!/usr/bin/env python3
"""Lesson 3, exercise 4 — replying to the wrong address.

udp_echo.py's server sending every reply to the first client it ever heard
from, instead of to the address recvfrom returned with this datagram.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("    echoed = 0\n", "    echoed = 0\n    first = None\n"),
         ("            sock.sendto(data, peer)",
          "            first = first or peer\n"
          "            sock.sendto(data, first)  # the mistake: not this datagram's sender"))
