#!/usr/bin/env python3
"""Lesson 8's Python version served by one event loop, as the Rust mini-http is.

mini_http.py runs a thread per connection, blocking in recv and sendall: it
cannot make the two traps lesson 8 names for an event loop (exercises 3 and
8). This server can: one thread, non-blocking sockets, edge-triggered epoll
(as mio is), and mini_http.py's own parsing and answers, timeouts and
--max-connections policy. It gets every point of lesson 8 (grade-selftest
checks it), so that each variant that imports it and makes one trap
(lesson08_loop_*.py) fails for that trap, not for a missing feature. It is
a self-test's server, not a lesson's: files are read whole into memory, and
the timeouts are looked at every TICK.

Each connection is served until the kernel makes it wait (serve, below):

1. send what waits unsent; if the socket takes not all, wait for EPOLLOUT;
2. answer the complete requests already received, until OUTPUT_LIMIT bytes
   of answers wait unsent (back-pressure: then back to 1);
3. only when no complete request is left, recv; nothing new: wait for EPOLLIN.

Trap 1 (exercise 8.3): once the output has drained, the requests still
buffered are answered before any recv; no event comes for bytes the program
already holds. Trap 2 (exercise 8.8): a short recv has emptied the receive
buffer, so the next one is skipped — unless epoll said the FIN has come
(EPOLLRDHUP): then recv goes on until it returns b"".
"""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "lessons", "08-http"))
import mini_http  # noqa: E402
from mini_http import Closed, Reject  # noqa: E402

RECV_SIZE = 65536
OUTPUT_LIMIT = 64 << 10  # answers waiting unsent before the loop stops answering (the reference's)
TICK = 0.05  # seconds between two looks at the timeouts


class Incomplete(Exception):
    """The request is not all here yet: wait for more bytes, then parse it again."""


class Buffered(mini_http.Reader):
    """What the connection has received so far. mini_http.py's parser asks its reader
    for more bytes when it needs them; here the loop reads, and the parser waits."""

    def fill(self, deadline, timeout_reject=None):
        raise Incomplete()


class LoopConnection(mini_http.Connection):
    """mini_http.py's connection whose sends go to an output buffer the loop sends."""

    def __init__(self, sock, peer, server):
        super().__init__(sock, peer, server)
        self.reader = Buffered(sock)
        self.out = bytearray()
        self.readable = False   # EPOLLIN came and recv has not said "empty" since
        self.fin_seen = False   # EPOLLRDHUP came: the client's FIN is in the receive buffer
        self.eof = False        # recv returned b"": the client sends no more
        self.closing = False    # answered with Connection: close (or refused)
        self.linger_until = None  # half-closed: drain the client's input until then
        self.served = 0
        self.admitted = True
        self.continued = False  # this request's 100 Continue is out (it is parsed anew)

    def send(self, data):
        if data.startswith(b"HTTP/1.1 100 "):
            if self.continued:
                return True  # the head parsed again as more body came: said once
            self.continued = True
        self.out += data
        return True

    def send_file(self, file, offset, count):
        file.seek(offset)
        self.out += file.read(count)
        return True

    def close_gently(self):
        self.set_state("closing")
        self.closing = True
        raise Closed("closing")

    def flush(self):
        """Send what waits. True: all sent; False: the socket is full."""
        sent = 0
        try:
            while sent < len(self.out):
                sent += self.sock.send(memoryview(self.out)[sent:])
        except BlockingIOError:
            return False
        except OSError as err:
            mini_http.warn(f"send {self.peer}", err)
            raise Closed("send failed") from None
        finally:
            del self.out[:sent]
        return True

    def recv_once(self):
        """One recv. -> the number of bytes (0 at the FIN), or None: nothing there."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return None
        except OSError as err:
            raise Closed(mini_http.reason(err)) from None
        if not data:
            self.eof = True
            return 0
        self.reader.buf += data
        self.reader.last_progress = time.monotonic()
        return len(data)

    def read(self):
        """Receive what has come since EPOLLIN. -> True when something did (bytes or the FIN)."""
        got = False
        while self.readable and not self.eof:
            n = self.recv_once()
            if n is None:
                self.readable = False
                break
            got = True
            if self.drained(n):
                self.readable = False
        return got

    def drained(self, n):
        """Whether a recv of n bytes emptied the receive buffer, so that the next
        would only say WouldBlock: a short one did. Not so when the FIN is there
        (EPOLLRDHUP): no event would come for it."""
        return n < RECV_SIZE and not self.fin_seen

    def answer_buffered(self):
        """Answer the complete requests received, while the output is under its limit.
        -> True when one was answered."""
        answered = False
        while len(self.out) < OUTPUT_LIMIT and self.reader.buf and not self.closing:
            saved = bytes(self.reader.buf)
            try:
                self.answer_one()
            except Incomplete:
                self.reader.buf[:] = saved  # parsed again when more has come
                if self.state == "idle":
                    self.set_state("head")  # ("busy" when its head is whole: a body to come)
                break
            answered = True
            self.continued = False
        return answered

    def answer_one(self):
        server, far = self.server, time.monotonic() + 1e9
        try:
            head = mini_http.read_head(self.reader, server.limits, far,
                                       server.config.head_timeout, lambda: None)
        except Reject as reject:
            self.refuse(reject)
            return
        self.set_state("busy")
        if not self.admitted:
            cfg = server.config
            response = mini_http.Response.error(503, f"all {cfg.max_connections} connections "
                                                     "(--max-connections) are in the middle of "
                                                     "a request; try again shortly")
            response.header("Retry-After", "1")
            self.respond(head, response, keep_alive=False)
            return
        if self.answer(head):
            self.served += 1
            self.set_state("idle")

    def respond(self, head, response, keep_alive, log_line=None):
        try:
            return super().respond(head, response, keep_alive, log_line)
        except Closed:
            return False


class Loop:
    """One thread, one epoll, every connection."""

    def __init__(self, server):
        self.server, self.config = server, server.config
        self.epoll = select.epoll()
        self.conns = {}  # fd -> LoopConnection
        self.last_tick = time.monotonic()

    def run(self):
        listener = mini_http.listen_and_announce(self.config.bind)
        listener.setblocking(False)
        self.listener = listener
        self.epoll.register(listener.fileno(), select.EPOLLIN)
        while True:
            for fd, events in self.epoll.poll(TICK):
                if fd == listener.fileno():
                    self.accept()
                elif fd in self.conns:
                    self.visit(self.conns[fd], events)
            now = time.monotonic()
            if now - self.last_tick >= TICK:
                self.last_tick = now
                for conn in list(self.conns.values()):
                    self.check_timeouts(conn, now)

    def accept(self):
        while True:
            try:
                sock, addr = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as err:  # out of descriptors: the others go on
                mini_http.warn("accept", err)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = LoopConnection(sock, mini_http.show_addr(addr), self.server)
            conn.admitted = self.server.places.admit(conn)
            self.conns[sock.fileno()] = conn
            # Edge-triggered, as mio registers: one report per change, not one per turn.
            self.epoll.register(sock.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP
                                | select.EPOLLET)

    def visit(self, conn, events):
        try:
            if conn.linger_until is not None:
                self.linger(conn)
            else:
                conn.readable |= bool(events & (select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLHUP))
                conn.fin_seen |= bool(events & (select.EPOLLRDHUP | select.EPOLLHUP))
                serve(conn)
                if conn.closing and not conn.out:
                    self.half_close(conn)
                elif conn.eof and not conn.out:
                    self.close(conn)  # everything before the FIN is answered
        except Closed:
            self.close(conn)
        except Exception as err:  # a bug costs this connection, never the server
            mini_http.warn(f"connection {conn.peer}: internal error", err)
            self.close(conn)

    def half_close(self, conn):
        """mini_http.py's close_gently: FIN, then drain the client's input a while."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close(conn)
            return
        conn.linger_until = time.monotonic() + mini_http.LINGER
        self.linger(conn)

    def linger(self, conn):
        while True:
            try:
                if not conn.sock.recv(RECV_SIZE):
                    break
            except BlockingIOError:
                return
            except OSError:
                break
        self.close(conn)

    def close(self, conn):
        fd = conn.sock.fileno()
        if self.conns.get(fd) is conn:
            del self.conns[fd]
            self.epoll.unregister(fd)
        self.server.places.release(conn)
        conn.sock.close()

    def check_timeouts(self, conn, now):
        cfg = self.config
        try:
            if conn.linger_until is not None:
                if now >= conn.linger_until:
                    self.close(conn)
                return
            if conn.out or conn.closing:
                return
            if conn.evicted and conn.state == "head" and conn.reader.buf:
                conn.refuse(Reject(503, "the server is full (--max-connections "
                                        f"{cfg.max_connections}) and this unfinished request "
                                        "head was the oldest"))
            elif conn.evicted:
                raise Closed("evicted")
            elif conn.state == "head" and now - conn.since >= cfg.head_timeout:
                conn.refuse(Reject(408, f"request head not complete after {cfg.head_timeout:g} s "
                                        "(--head-timeout)"))
            elif conn.state == "busy" and now - conn.reader.last_progress >= cfg.head_timeout:
                conn.refuse(Reject(408, f"request body stalled for {cfg.head_timeout:g} s "
                                        "(--head-timeout)"))
            elif not conn.reader.buf:
                wait = cfg.head_timeout if conn.served == 0 else cfg.idle_timeout
                if now - conn.since >= wait:
                    raise Closed("idle")
            if conn.out or conn.closing:
                self.visit(conn, 0)
        except Closed:
            self.close(conn)


def serve(conn):
    """Serve one connection until the kernel makes it wait (steps 1-3 above)."""
    while True:
        if conn.out and not conn.flush():
            return  # the socket is full: EPOLLOUT comes when the client has read
        if conn.closing:
            return
        if conn.answer_buffered() or conn.out:
            continue  # answers to send (or a 100 Continue), maybe more requests behind
        if conn.eof or not conn.read():
            return  # nothing more will come, or nothing yet: wait for EPOLLIN


def serve_forever(self):
    Loop(self).run()


def main():
    mini_http.Server.serve_forever = serve_forever
    mini_http.main()


if __name__ == "__main__":
    main()
