#!/usr/bin/env python3
"""Lesson 8, exercise 5 — checking the path's string instead of the file.

mini_http.py resolving `..` in the text of the path (os.path.abspath) but
not following symlinks: `/../../etc/passwd` is still refused, yet a symlink
inside --root that points outside it is served, because the string stays
inside the root while the file does not. traversal_attempts_never_leave_the_root
(its link-out.txt case) catches it too.
"""

import edit

edit.run("08-http/mini_http.py",
         ("            real = os.path.realpath(path, strict=True)\n",
          "            os.stat(path)  # missing file: 404 as before\n"
          "            real = os.path.abspath(path)  # the mistake: the string, not the file\n"))
