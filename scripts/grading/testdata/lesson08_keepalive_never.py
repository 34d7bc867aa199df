#!/usr/bin/env python3
"""Lesson 8, exercise 2 — every connection closed after one answer.

mini_http.py deciding never to keep a connection open, as an HTTP/1.0
server would: each answer says `Connection: close` and the server closes.
Every single request is still answered, so only a test that sends a second
request on the same connection notices that HTTP/1.1's default is lost.
"""

import edit

edit.run("08-http/mini_http.py",
         ('        keep_alive = "close" not in tokens and (head.minor == 1 or "keep-alive" in tokens)\n',
          '        keep_alive = False  # the mistake: HTTP/1.1 keeps the connection unless told otherwise\n'))
