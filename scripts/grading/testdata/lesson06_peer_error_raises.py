#!/usr/bin/env python3
"""Lesson 6, exercise 1 — getpeername's error taken for a crash.

sockopt_inspect.py calling getpeername() on every socket without catching
OSError: the listener (and any unconnected socket) has no peer, ENOTCONN is
raised, and the program dies with a traceback instead of reporting
{"error": …} as that socket's peer.
"""

import edit

edit.run("06-socket-options/sockopt_inspect.py",
         ('"peer": answer(lambda: show_addr(sock.getpeername())),',
          '"peer": show_addr(sock.getpeername()),  # the mistake: ENOTCONN is not caught'))
