#!/usr/bin/env python3
"""Lesson 7 — a receiver that logs a datagram as decoded text.

broadcast_recv.py logging `data.decode(errors="replace")` instead of the
bytes by README "Conventions" rule 6: UTF-8 passes, but a control character
or a byte that is not UTF-8 is lost or shown raw, so the log no longer says
which bytes arrived. (A mistake of exercise 3, "Your own receiver".)
"""

import edit

edit.run("07-broadcast/broadcast_recv.py",
         ('log(f"from {show_addr(peer)}: {show_bytes(data)}")',
          'log(f"from {show_addr(peer)}: {data.decode(errors=\'replace\')}")'))
