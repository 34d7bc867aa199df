#!/usr/bin/env python3
"""Lesson 4, exercise 5 — truncation on the client's side, unreported.

udp_echo.py's client printing a cut reply as if it were whole: the note with
the datagram's real size is dropped.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("            reply, peer, note = recv_datagram(sock, args.buf_size)\n",
          "            reply, peer, note = recv_datagram(sock, args.buf_size)\n"
          "            note = \"\"  # the mistake\n"))
