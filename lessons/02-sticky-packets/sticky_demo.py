#!/usr/bin/env python3
"""sticky_demo.py — lesson 2 (tcp 粘包) in Python, the notes' own language.

The same program as `cargo run -p sticky-demo`, kept to README "Conventions"
and the lesson's log lines, so the same tests grade it:

    python3 lessons/02-sticky-packets/sticky_demo.py server [--framing none|line|length|delay]
        [--bind ADDR] [--buf-size N] [--read-delay MS] [--max-frame BYTES] [--quiet] [--unbuffered]
    python3 lessons/02-sticky-packets/sticky_demo.py client ADDR [--framing MODE] [--delay MS] MESSAGE ...
    python3 lessons/02-sticky-packets/sticky_demo.py client ADDR --framing length --bench N [--size S]
    IMPL_STICKY_DEMO='python3 lessons/02-sticky-packets/sticky_demo.py' \\
        cargo test -p sticky-demo --test lesson02

The server logs every recv, so you see TCP's byte stream as it is: five sends
can come out of one recv, one send out of several. With line or length
framing it keeps a receive buffer and takes every complete message out of it,
whatever the reads were: a read boundary is never a message boundary.
"""

import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (byte_count, fail, log, parse_addr, positive,  # noqa: E402
                         listen_and_announce, serve_each_client, show_addr,
                         show_bytes, tcp_connect, warn, add_trace_arg, start_trace)

HEADER = struct.Struct(">I")  # length framing: 4 bytes, unsigned, big-endian ("!I")
FRAMINGS = ["none", "line", "length", "delay"]
BENCH_BATCH = 256 * 1024  # --bench: bytes of frames gathered before each sendall
MAX_BENCH_SIZE = 256 << 20


# ------------------------------------------------------------------ framing

class FrameError(Exception):
    """The peer's bytes are not frames we accept: its connection must end."""


class FrameBuffer:
    """The receive buffer: feed it what recv returned, take out whole messages."""

    def __init__(self, framing, max_frame):
        self.framing, self.max_frame = framing, max_frame
        self.buffer = bytearray()
        self.start = 0    # buffer[start:] is received and not yet a message
        self.scanned = 0  # line framing: bytes after start known to hold no \n
        self.wanted = self.least()  # at least this many more bytes finish a message

    def least(self):
        return 4 if self.framing == "length" else 1

    def feed(self, data):
        del self.buffer[:self.start]  # drop the messages already taken out
        self.start = 0
        self.buffer += data

    def next_message(self):
        """The next complete message, or None until more bytes arrive."""
        # region: frame-decoder — length: 4-byte big-endian header, then that many bytes; line: up to the next \n. Return None (setting self.wanted) until a whole frame is buffered; refuse frames over max_frame
        have = len(self.buffer) - self.start
        if self.framing == "length":
            if have < 4:  # not even the whole header yet
                self.wanted = 4 - have
                return None
            (length,) = HEADER.unpack_from(self.buffer, self.start)
            if length > self.max_frame:  # judged before waiting for the body
                raise FrameError(f"frame of {length} bytes exceeds --max-frame {self.max_frame}")
            if have < 4 + length:
                self.wanted = 4 + length - have
                return None
            begin, end = self.start + 4, self.start + 4 + length
            self.start = end
        else:
            end = self.buffer.find(b"\n", self.start + self.scanned)
            if (have if end < 0 else end - self.start) > self.max_frame:
                # Waiting any longer for the \n would let a peer fill our memory.
                raise FrameError(f"line of more than {self.max_frame} bytes exceeds --max-frame {self.max_frame}")
            if end < 0:
                self.scanned = have  # never search these bytes again
                self.wanted = 1  # nobody can tell how far away the \n is
                return None
            begin, self.start, self.scanned = self.start, end + 1, 0
        self.wanted = self.least()
        return self.buffer[begin:end]
        # endregion: frame-decoder

    def finish(self):
        """At end of stream: None if it ended between messages, else what was cut."""
        have = len(self.buffer) - self.start
        if have == 0:
            return None
        if self.framing == "line":
            return f"{have} bytes arrived but not the \\n that ends them"
        if have < 4:
            return f"{have} of the 4 bytes of the length header arrived"
        needed = 4 + HEADER.unpack_from(self.buffer, self.start)[0]
        return f"{have} of the frame's {needed} bytes arrived (4-byte header included)"


def frame(framing, message):
    """message with its end marker or its length header; raw bytes for none/delay."""
    if framing == "line":
        at = message.find(b"\n")
        if at >= 0:  # it would arrive as two messages
            raise ValueError(f"message contains \\n (at byte {at}), which ends a message in line framing")
        return message + b"\n"
    if framing == "length":
        if len(message) > 0xFFFFFFFF:
            raise ValueError(f"message of {len(message)} bytes does not fit a 4-byte length header")
        return HEADER.pack(len(message)) + message
    return message


# ------------------------------------------------------------------- server

def counted(n, what):
    """`1 read`, `2 reads`, `0 messages`."""
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def serve(args):
    listener = listen_and_announce(args.bind)

    def serve_client(conn, peer):
        counts = {"reads": 0, "messages": 0}
        try:
            if args.framing in ("line", "length"):
                recv_messages(conn, peer, args, counts)
            else:
                recv_raw(conn, args, counts)
        except OSError as err:  # reset by the peer, for instance
            warn(f"recv {peer}", err)
        finally:
            conn.close()  # unread bytes left behind: the kernel sends RST, not FIN
        log(f"summary {peer}: {counted(counts['reads'], 'read')}, "
            f"{counted(counts['messages'], 'message')}")

    serve_each_client(listener, serve_client, max_clients=args.max_clients,
                      log_connected=not args.quiet)


def recv(conn, size, args):
    if args.read_delay:
        # Meanwhile the peer's bytes pile up in our receive buffer, where the
        # kernel keeps no trace of how they were sent.
        time.sleep(args.read_delay / 1000)
    return conn.recv(size)  # up to size bytes, whatever sends they came from; b"": peer closed


def recv_raw(conn, args, counts):
    """No framing: each recv as it came — part of a send, several, or the end of one and the start of the next."""
    # region: recv-raw — recv up to buf_size bytes until recv returns empty; count each recv and log `recv N: K bytes: TEXT` (no framing: one recv is not one message)
    while True:
        data = recv(conn, args.buf_size, args)
        if not data:
            return
        counts["reads"] += 1
        if not args.quiet:
            log(f"recv {counts['reads']}: {len(data)} bytes: {show_bytes(data)}")
    # endregion: recv-raw


def recv_messages(conn, peer, args, counts):
    """Line or length framing: one recv may complete many messages, or none."""
    # region: recv-messages — recv, frames.feed(data), then log every complete message frames.next_message() gives (`message N: TEXT`); at end of stream report what frames.finish() says was cut. With --unbuffered (args.unbuffered) recv only frames.wanted bytes (at least 1, at most buf_size): a recv must never go past the current message
    frames = FrameBuffer(args.framing, args.max_frame)
    while True:
        # --unbuffered asks only for what the current message still lacks, so
        # as never to read into the next one: recv(4), recv(length); lines byte by byte.
        size = max(1, min(frames.wanted, args.buf_size)) if args.unbuffered else args.buf_size
        data = recv(conn, size, args)
        if not data:
            cut = frames.finish()
            if cut:  # a cut message is reported, never silently dropped
                warn(f"{peer}: connection closed in the middle of message {counts['messages'] + 1}: {cut}")
            return
        counts["reads"] += 1
        if not args.quiet:
            log(f"recv {counts['reads']}: {len(data)} bytes: {show_bytes(data)}")
        frames.feed(data)
        try:
            message = frames.next_message()
            while message is not None:
                counts["messages"] += 1
                if not args.quiet:
                    log(f"message {counts['messages']}: {show_bytes(message)}")
                message = frames.next_message()
        except FrameError as err:
            # No way to find the next boundary in a stream that lies: end this
            # connection (the caller closes it); the other clients go on.
            warn(f"{peer}: {err}")
            return
    # endregion: recv-messages


# ------------------------------------------------------------------- client

def client(args, usage_error):
    where = show_addr(args.addr[1:])
    if args.bench is not None:
        if args.messages:
            usage_error("--bench sends its own messages: give no MESSAGE")
        if args.framing not in ("line", "length"):
            usage_error("--bench needs --framing line or length: without framing the server cannot count messages")
        if args.size > MAX_BENCH_SIZE:
            usage_error(f"--size {args.size}: at most {MAX_BENCH_SIZE} bytes (256M) per benchmark message")
        return bench(args, where)
    if not args.messages:
        usage_error("give at least one MESSAGE, or --bench N")
    if args.unbuffered:
        usage_error("--unbuffered goes with --bench")

    # Frame every message before connecting: one that cannot be framed is
    # refused before a single byte goes out.
    frames = []
    for i, message in enumerate(args.messages, 1):
        try:
            frames.append(frame(args.framing, message))
        except ValueError as err:
            fail(f"message {i} ({show_bytes(message)}): {err}")
    delay = args.delay if args.delay is not None else (100 if args.framing == "delay" else 0)

    sock = tcp_connect(args.addr)
    for i, data in enumerate(frames, 1):
        if i > 1 and delay:
            # The notes' third remedy: give the reader time to take this message
            # before the next one comes. Nothing guarantees it will.
            time.sleep(delay / 1000)
        try:
            sock.sendall(data)  # one send call normally takes it all; sendall loops if not
        except OSError as err:
            fail(f"send {where}", err)
        log(f"send {i}: {len(data)} bytes: {show_bytes(data)}")
    finish(sock, where, args.timeout)


def connect(addr, where):
    family, host, port = addr
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.connect((host, port))
    except OSError as err:
        fail(f"connect {where}", err)
    return sock


def finish(sock, where, timeout_ms):
    """Half-close, then wait for the server to close: exit 0 means it read everything."""
    try:
        sock.shutdown(socket.SHUT_WR)  # FIN: the server's recv returns b"" after our last byte
        sock.settimeout(timeout_ms / 1000)
        while sock.recv(4096):  # the server sends nothing; read until it closes
            pass
    except socket.timeout:
        fail(f"recv {where}: the server did not close the connection within {timeout_ms} ms of our last byte")
    except OSError as err:
        fail(f"recv {where}", err)


def bench(args, where):
    """--bench N: N messages of --size bytes as fast as we can; print messages/s."""
    size, count = args.size, args.bench
    payload = b"x" * size  # 'x' is not \n: fits both framings
    frame_len = len(frame(args.framing, payload))
    per_send = 1 if args.unbuffered else max(1, BENCH_BATCH // frame_len)
    sock = tcp_connect(args.addr)
    sends = 0
    started = time.perf_counter()
    try:
        # Every message is framed on its own, as a real program must. Unbuffered,
        # each one goes out in its own sendall: at least one send syscall per
        # message. Buffered, thousands are joined into one ~256 KiB bytes object
        # first, and they share the cost of one sendall.
        left = count
        while left > 0:
            n = min(left, per_send)
            sock.sendall(b"".join([frame(args.framing, payload) for _ in range(n)]))
            sends += 1
            left -= n
    except OSError as err:
        fail(f"send {where}", err)
    finish(sock, where, args.timeout)  # the clock stops when the server has read them all
    seconds = max(time.perf_counter() - started, 1e-9)
    log(f"bench: {count} messages of {size} bytes, {args.framing} framing, "
        f"{'unbuffered' if args.unbuffered else 'buffered'}: {sends} sendall calls in {seconds:.3f} s = "
        f"{count / seconds:.0f} messages/s, {count * frame_len / seconds / 1e6:.1f} MB/s")


# --------------------------------------------------------------------- main

def at_most(limit, what):
    """argparse type: a byte count (K, M suffixes) from 1 to limit."""
    def check(text):
        n = byte_count(text)
        if not 1 <= n <= limit:
            raise argparse.ArgumentTypeError(f"'{text}' is out of range: {what}")
        return n
    return check


def whole(text):
    """argparse type: a whole number, 0 included."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    return int(text)


def main():
    parser = argparse.ArgumentParser(prog="sticky_demo.py",
                                     description="TCP sticky packets (粘包) and message framing (lesson 2)")
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="log every recv (and every message): see where boundaries go")
    server.add_argument("--bind", type=parse_addr, default="127.0.0.1:9002", metavar="ADDR",
                        help="address to listen on; port 0: the OS picks (default: %(default)s)")
    server.add_argument("--framing", choices=FRAMINGS, default="none", metavar="MODE",
                        help="none, line (\\n at the end), length (4-byte header) or delay (default: %(default)s)")
    server.add_argument("--buf-size", type=at_most(64 << 20, "a recv buffer of 1 byte to 64M"), default="64K",
                        metavar="N", help="bytes asked for in each recv, like recv(1024) in the notes "
                                          "(default: %(default)s)")
    server.add_argument("--read-delay", type=whole, default=0, metavar="MS",
                        help="sleep before each recv, so that quick messages pile up and merge "
                             "(default: %(default)s)")
    server.add_argument("--max-frame", type=at_most(0xFFFFFFFF, "at most 4294967295 bytes"), default="16M",
                        metavar="BYTES", help="largest message accepted (line or length); a bigger one ends "
                                              "that connection (default: %(default)s)")
    server.add_argument("--max-clients", type=positive, metavar="N",
                        help="exit 0 once N clients have disconnected (default: never)")
    server.add_argument("--quiet", action="store_true", help="log only each connection's summary and errors")
    server.add_argument("--unbuffered", action="store_true",
                        help="line or length: recv only what the current message still needs (the slow way)")
    cli = commands.add_parser("client", help="send each MESSAGE in its own write, framed as --framing says")
    cli.add_argument("addr", type=parse_addr, metavar="ADDR", help="the server, such as 127.0.0.1:9002")
    cli.add_argument("messages", type=os.fsencode, nargs="*", metavar="MESSAGE",
                     help="messages, each framed and sent with its own sendall")
    cli.add_argument("--framing", choices=FRAMINGS, default="none", metavar="MODE",
                     help="none, line, length or delay; must match the server's (default: %(default)s)")
    cli.add_argument("--delay", type=whole, metavar="MS",
                     help="pause between two sends (default: 100 with --framing delay, else 0)")
    cli.add_argument("--bench", type=whole, metavar="N",
                     help="send N messages of --size bytes as fast as possible (line or length framing) "
                          "and print messages/s")
    cli.add_argument("--size", type=byte_count, default=32, metavar="S",
                     help="with --bench: bytes in each message (default: %(default)s)")
    cli.add_argument("--unbuffered", action="store_true",
                     help="with --bench: one sendall per message instead of 256 KiB at a time")
    cli.add_argument("--timeout", type=positive, default=10000, metavar="MS",
                     help="how long to wait for the server to close once everything is sent (default: %(default)s)")
    add_trace_arg(server, cli)
    argv = sys.argv[1:]
    if argv[:1] == ["client"]:
        # Intermixed: options may also follow ADDR and the messages, as with clap.
        args = cli.parse_intermixed_args(argv[1:], argparse.Namespace(command="client"))
    else:
        args = parser.parse_args(argv)
    if args.command == "server" and args.unbuffered and args.framing not in ("line", "length"):
        server.error("--unbuffered needs --framing line or length: without framing there is no message to stop at")
    start_trace("sticky-demo", args.trace)
    try:
        serve(args) if args.command == "server" else client(args, cli.error)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
