#!/usr/bin/env python3
"""Lesson 3, exercise 6 — `arg.encode()` instead of `os.fsencode(arg)`.

udp_echo.py's client taking each MESSAGE as text and encoding it as UTF-8.
An argument that is not UTF-8 (b"caf\xe9") reaches Python as a string with
surrogates, and .encode() refuses it: the client dies with a traceback.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ('cli.add_argument("messages", type=os.fsencode,',
          'cli.add_argument("messages", type=str.encode,'))
