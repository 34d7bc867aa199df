#!/usr/bin/env python3
"""Lesson 8, exercise 5 — leaving the root.

mini_http.py serving whatever path a request leads to (`/../../etc/passwd`,
a symlink out of --root) without checking that it stays inside the document
root.
"""

import edit

edit.run("08-http/mini_http.py",
         ("        if real != self.root and not real.startswith(self.root + os.sep):\n",
          "        if False:  # the mistake: no containment check\n"))
