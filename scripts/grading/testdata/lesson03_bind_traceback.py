#!/usr/bin/env python3
"""Lesson 3, exercise 7 — a port already in use ends in a traceback.

udp_echo.py's server without its `except OSError` around bind: the exit
status is still 1 (Python's, for an uncaught exception), but what the user
reads is a traceback instead of one line `error: bind ADDR: Address already
in use`.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ('    except OSError as err:\n        fail(f"bind {where}", err)\n',
          '    except ValueError as err:  # the mistake: an OSError escapes as a traceback\n'
          '        fail(f"bind {where}", err)\n'))
