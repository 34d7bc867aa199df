#!/usr/bin/env python3
"""Lesson 8, exercise 8 (second half) — an event loop that misses the FIN behind the data.

event_loop_http.py (lesson 8's Python version on one event loop) skipping the
recv after a short one whatever epoll said. A short recv has emptied the
receive buffer, so the next recv would only say WouldBlock: skipping it saves
a system call. But a client that sends its requests and shuts down its
sending side at once (`printf … | nc -N`) puts its FIN in the same buffer, and
epoll, edge-triggered, reports the two once (EPOLLIN with EPOLLRDHUP). The
loop takes the requests, answers them, and never calls the recv that would
return b"": the connection stays open until --idle-timeout.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import event_loop_http  # noqa: E402


def drained_ignoring_rdhup(self, n):
    return n < event_loop_http.RECV_SIZE  # the mistake: the FIN may be right behind those bytes


event_loop_http.LoopConnection.drained = drained_ignoring_rdhup
event_loop_http.main()
