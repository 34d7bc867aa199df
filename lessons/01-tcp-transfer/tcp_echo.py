#!/usr/bin/env python3
"""tcp_echo.py — lesson 1 (tcp 数据传输) in Python, the notes' own language.

The same program as `cargo run -p tcp-echo`, kept to README "Conventions", so
the same tests grade it:

    python3 lessons/01-tcp-transfer/tcp_echo.py server [--bind ADDR] [--buf-size N]
    python3 lessons/01-tcp-transfer/tcp_echo.py client ADDR [MESSAGE ...] [--bench BYTES]
    IMPL_TCP_ECHO='python3 lessons/01-tcp-transfer/tcp_echo.py' \
        cargo test -p tcp-echo --test lesson01

One thread per client, blocking sockets, recv/sendall: the notes' style.
"""

import argparse
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (byte_count, fail, log, parse_addr, positive,  # noqa: E402
                         listen_and_announce, serve_each_client, show_addr,
                         show_bytes, tcp_connect, warn, add_trace_arg, start_trace)

CHUNK = 64 * 1024


# --------------------------------------------------------------------- server

def serve(args):
    listener = listen_and_announce(args.bind)
    serve_each_client(listener, lambda conn, peer: echo_client(conn, peer, args.buf_size, args.quiet),
                      max_clients=args.max_clients)


def echo_client(conn, peer, buf_size, quiet):
    total = 0
    try:
        # region: recv-send-loop — recv up to buf_size bytes until recv returns empty (the peer closed: log `closed PEER after N bytes`); log `recv N bytes from PEER`; sendall each chunk back
        while True:
            data = conn.recv(buf_size)  # at most buf_size; the rest waits (notes 1.2)
            if not data:  # empty: the peer closed (notes 1.3)
                log(f"closed {peer} after {total} bytes")
                break
            total += len(data)
            if not quiet:
                log(f"recv {len(data)} bytes from {peer}")
            conn.sendall(data)  # send may take only part; sendall loops
        # endregion: recv-send-loop
    except OSError as err:
        warn(f"recv {peer}", err)
    finally:
        conn.close()


# --------------------------------------------------------------------- client

def recv_exactly(sock, n, where):
    # region: recv-exactly — call recv until n bytes have come: one recv may bring part of the echo; empty means the server closed, socket.timeout means no echo
    data = b""
    while len(data) < n:
        try:
            more = sock.recv(n - len(data))
        except socket.timeout:
            fail(f"recv {where}: no echo in time ({len(data)} of {n} bytes came back)")
        except OSError as err:
            fail(f"recv {where}", err)
        if not more:
            fail(f"recv {where}: the server closed the connection after echoing {len(data)} of {n} bytes")
        data += more
    return data
    # endregion: recv-exactly


def client(args):
    where = show_addr(args.addr[1:])
    sock = tcp_connect(args.addr)
    if args.bench is not None:
        return bench(sock, where, args.bench)
    if not args.messages:
        return pipe(sock, where)
    sock.settimeout(args.timeout / 1000)
    for message in args.messages:
        data = message.encode("utf-8", errors="surrogateescape")
        try:
            sock.sendall(data)
        except OSError as err:
            fail(f"send {where}", err)
        log(show_bytes(recv_exactly(sock, len(data), where)))
    sock.shutdown(socket.SHUT_WR)


def pipe(sock, where):
    """stdin -> server and server -> stdout at the same time (no deadlock)."""
    sent = [0, False, None]  # bytes, finished, error

    def send_stdin():
        try:
            while True:
                chunk = sys.stdin.buffer.read1(CHUNK)
                if not chunk:
                    break
                sock.sendall(chunk)
                sent[0] += len(chunk)
            sock.shutdown(socket.SHUT_WR)  # FIN: the server reads empty
        except OSError as err:
            sent[2] = err
        sent[1] = True

    sender = threading.Thread(target=send_stdin, daemon=True)
    sender.start()
    received = 0
    out = sys.stdout.buffer
    while True:
        try:
            data = sock.recv(CHUNK)
        except OSError as err:
            fail(f"recv {where}", err)
        if not data:
            break
        out.write(data)
        received += len(data)
    out.flush()
    sender.join(timeout=1)
    if not sent[1]:
        fail(f"recv {where}: the server closed the connection before the end of input")
    if sent[2] is not None:
        fail(f"send {where}", sent[2])
    if received != sent[0]:
        fail(f"recv {where}: the server closed the connection after echoing {received} of {sent[0]} bytes")


def bench(sock, where, total):
    period = 251
    pattern = bytes(i % period for i in range(CHUNK + period))
    started = time.perf_counter()

    def send_all():
        done = 0
        while done < total:
            n = min(CHUNK, total - done)
            start = done % period
            sock.sendall(pattern[start:start + n])
            done += n
        sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=send_all, daemon=True).start()
    received = 0
    while received < total:
        data = sock.recv(CHUNK)
        if not data:
            fail(f"recv {where}: the server closed the connection after echoing {received} of {total} bytes")
        start = received % period
        if data != pattern[start:start + len(data)]:
            fail(f"recv {where}: echoed bytes differ from those sent near byte {received}")
        received += len(data)
    seconds = max(time.perf_counter() - started, 1e-9)
    log(f"echoed {total} bytes in {seconds:.3f} s: {total / seconds / 1e6:.1f} MB/s (every byte checked)")


# ----------------------------------------------------------------------- main

def add_commands(parser):
    """The `server` and `client` subcommands and their options, on parser:
    (server, client), for lesson 9's many_clients.py to add its --model to."""
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="echo every byte back; log each recv",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    server.add_argument("--bind", type=parse_addr, default="127.0.0.1:9001", metavar="ADDR",
                        help="address to listen on (port 0: the OS picks)")
    server.add_argument("--buf-size", type=positive, default=1024, metavar="N",
                        help="bytes asked for in each recv")
    server.add_argument("--max-clients", type=positive, default=None, metavar="N",
                        help="exit 0 once N clients have disconnected (default: never)")
    server.add_argument("--quiet", action="store_true", help="no recv lines")
    cli = commands.add_parser("client", help="send messages or stdin, print the echo",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_argument("addr", type=parse_addr, metavar="ADDR")
    cli.add_argument("messages", nargs="*", metavar="MESSAGE")
    cli.add_argument("--bench", type=byte_count, metavar="BYTES",
                     help="stream BYTES, check every echoed byte, print MB/s")
    cli.add_argument("--timeout", type=positive, default=10000, metavar="MS",
                     help="with messages: how long to wait for each echo")
    add_trace_arg(server, cli)
    return server, cli


def main():
    parser = argparse.ArgumentParser(prog="tcp_echo.py", description="TCP echo server and client (lesson 1)")
    add_commands(parser)
    args = parser.parse_args()
    start_trace("tcp-echo", args.trace)
    try:
        serve(args) if args.command == "server" else client(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
