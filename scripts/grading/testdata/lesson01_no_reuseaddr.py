#!/usr/bin/env python3
"""Lesson 6, exercise 4 — a server that does not set SO_REUSEADDR (graded on lesson 1).

tcp_echo.py with the setsockopt(SO_REUSEADDR) line of conventions.py's
listen_and_announce left out: stopped while a client is still connected, the
server cannot start again on its port until the old connection's socket
(FIN_WAIT_2, then TIME_WAIT) is gone: "Address already in use".
"""

import edit

edit.module("conventions.py",
            ("    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n", ""))
edit.run("01-tcp-transfer/tcp_echo.py")
