#!/usr/bin/env python3
"""Lesson 8, exercise 1 — the version's name read without regard to case.

mini_http.py upper-casing the request line's version before it checks it, so
`GET /echo http/1.1` is served as HTTP/1.1. RFC 9112 (section 2.3) says the
name `HTTP` is case-sensitive: that request line is malformed, 400 and a close.
"""

import edit

edit.run("08-http/mini_http.py",
         ('    m = re.fullmatch(rb"HTTP/(\\d)(?:\\.(\\d))?", version)\n',
          '    m = re.fullmatch(rb"HTTP/(\\d)(?:\\.(\\d))?", version.upper())\n'))
