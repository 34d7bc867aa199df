#!/usr/bin/env python3
"""Lesson 6, exercise 1 — a struct timeval read as two ints.

sockopt_inspect.py unpacking SO_RCVTIMEO and SO_SNDTIMEO with "ii" instead
of "ll": on a 64-bit Linux a timeval is two 8-byte longs, so "ii" reads the
two halves of tv_sec and never sees tv_usec.
"""

import edit

edit.run("06-socket-options/sockopt_inspect.py",
         ('sec, usec = struct.unpack("ll", sock.getsockopt(level, option, struct.calcsize("ll")))',
          'sec, usec = struct.unpack("ii", sock.getsockopt(level, option, struct.calcsize("ii")))'))
