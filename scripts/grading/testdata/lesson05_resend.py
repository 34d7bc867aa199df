#!/usr/bin/env python3
"""Lesson 5, exercise 3 — resending on its own.

udp_echo.py's client sending its datagram again when no reply came within
the timeout, instead of reporting the missing reply. UDP does not resend, and
an echo client that does hides the loss it was asked to show.
"""

import edit

edit.run("03-udp-server/udp_echo.py",
         ("        if left <= 0:\n            fail(too_late)\n",
          "        if left <= 0:\n"
          "            if not resent:  # the mistake: a second try\n"
          "                resent = True\n"
          "                sock.sendto(data, addr)\n"
          "                deadline = time.monotonic() + args.timeout / 1000\n"
          "                continue\n"
          "            fail(too_late)\n"),
         ("    while True:\n        left = deadline",
          "    resent = False\n    while True:\n        left = deadline"),
         ("        except socket.timeout:\n            fail(too_late)\n",
          "        except socket.timeout:\n            continue\n"))
