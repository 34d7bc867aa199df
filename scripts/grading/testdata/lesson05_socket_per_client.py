#!/usr/bin/env python3
"""Lesson 5, exercise 4 — a socket per client, as if UDP had connections.

udp_echo.py's server giving each new client address a socket of its own
(bound to port 0) and answering that client from it: one socket per client,
and replies from a port the client never sent to.
"""

import socket

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "03-udp-server"))
import udp_echo  # noqa: E402

PLAIN = socket.socket


class SocketPerClient(PLAIN):
    def sendto(self, data, peer):
        sockets = self.__dict__.setdefault("per_client", {})
        if peer not in sockets:  # the mistake: a "connection" per client
            own = PLAIN(self.family, socket.SOCK_DGRAM)
            own.bind((self.getsockname()[0], 0))
            sockets[peer] = own
        return sockets[peer].sendto(data, peer)


serve = udp_echo.serve


def serve_with_socket_per_client(args):
    udp_echo.socket.socket = SocketPerClient  # the server's sockets only
    serve(args)


udp_echo.serve = serve_with_socket_per_client
udp_echo.main()
