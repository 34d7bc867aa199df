#!/usr/bin/env python3
"""Lesson 7, exercise 4 — a sender without SO_BROADCAST.

broadcast_send.py that never sets SO_BROADCAST: the kernel refuses every
datagram to a broadcast address with EACCES ("Permission denied").
"""

import edit

edit.run("07-broadcast/broadcast_send.py",
         ("    if not args.no_broadcast_flag:\n", "    if False:  # the mistake\n"))
