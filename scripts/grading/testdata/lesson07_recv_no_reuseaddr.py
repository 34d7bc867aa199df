#!/usr/bin/env python3
"""Lesson 7, exercise 4 — a receiver without SO_REUSEADDR.

broadcast_recv.py binding its port without SO_REUSEADDR: the first receiver
on the port works, the second fails with "Address already in use".
"""

import edit

edit.run("07-broadcast/broadcast_recv.py",
         ("    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n", ""))
