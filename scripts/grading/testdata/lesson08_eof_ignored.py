#!/usr/bin/env python3
"""Lesson 8, exercise 8 — an empty recv taken for "nothing yet".

mini_http.py reading on when recv returns b"": the client has closed its
sending side (lesson 1), but the server takes the empty read for a pause and
reads again, so the connection stays open until --idle-timeout instead of
closing once the client's requests are answered. (It waits 50 ms between
reads, where the usual form of this bug spins a CPU; the outcome for the
client is the same.)
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "08-http"))
import mini_http  # noqa: E402


def fill_ignoring_eof(self, deadline, timeout_reject=None):
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise timeout_reject or mini_http.Closed("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise timeout_reject or mini_http.Closed("timed out") from None
        except OSError as err:
            raise mini_http.Closed(mini_http.reason(err)) from None
        if data:
            break
        time.sleep(0.05)  # the mistake: b"" means the client closed, not "try again"
    self.buf += data
    self.last_progress = time.monotonic()


mini_http.Reader.fill = fill_ignoring_eof
mini_http.main()
