#!/usr/bin/env python3
"""Lesson 1, exercise 8 — an empty recv not taken for the end.

tcp_echo.py whose server goes on reading after recv returns b"": the client
has closed (notes 1.3), every further recv returns b"" at once, and the
thread spins — logging `recv 0 bytes from PEER` as fast as it can, or, with
--quiet, burning a CPU in silence — and never closes the connection. The
usual form of this mistake in Rust is a read loop without an `Ok(0)` arm.
"""

import edit

edit.run("01-tcp-transfer/tcp_echo.py",
         ("if not data:  # empty: the peer closed (notes 1.3)",
          "if False:  # the mistake: an empty recv is taken for a pause"))
