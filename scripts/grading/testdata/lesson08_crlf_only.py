#!/usr/bin/env python3
"""Lesson 8, exercise 1 — a head line must end in CRLF.

mini_http.py refusing (400) a request head whose lines end in a bare LF, as
`nc` or `echo` into bash's /dev/tcp sends them. RFC 9112 (section 2.2) lets a
server accept a bare LF as a line end, and lesson 8 (section 8.6) says
mini-http does, in the head as in a chunked body.
"""

import edit

edit.run("08-http/mini_http.py",
         ('        if line.endswith(b"\\r"):\n            line = line[:-1]\n',
          '        if not line.endswith(b"\\r"):\n'
          '            raise Reject(400, f"bare LF in the {what}")\n'
          '        line = line[:-1]\n'))
