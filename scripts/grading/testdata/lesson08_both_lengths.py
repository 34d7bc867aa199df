#!/usr/bin/env python3
"""Lesson 8, exercise 4 — request smuggling: both Content-Length and Transfer-Encoding.

mini_http.py accepting a request that carries both headers (and going by the
chunked coding) instead of answering 400 and closing: a proxy in front that
goes by Content-Length sees a different request boundary than this server.
"""

import edit

edit.run("08-http/mini_http.py",
         ('        if cl:\n            raise Reject(400, "both Content-Length and Transfer-Encoding: '
          'which one ends the body?")\n', ""))
