#!/usr/bin/env python3
"""udp_echo.py — lessons 3 and 4 (UDP 数据报套接字服务器, udp 客户端) in Python.

The same program as `cargo run -p udp-echo`, kept to README "Conventions", so
the same tests grade it (lesson 5's too):

    python3 lessons/03-udp-server/udp_echo.py server [--bind ADDR] [--buf-size N] [--count N]
    python3 lessons/03-udp-server/udp_echo.py client [--timeout MS] [--buf-size N]
                                              [--size BYTES] [--connect] ADDR [MESSAGE ...]
    IMPL_UDP_ECHO='python3 lessons/03-udp-server/udp_echo.py' \\
        cargo test -p udp-echo --test lesson03 --test lesson04 --test lesson05

The server is the notes' four steps: socket(AF_INET, SOCK_DGRAM), bind,
recvfrom/sendto in a loop, close — no listen, no accept. The client sends each
message as one datagram and waits a bounded time for a reply from exactly ADDR.
"""

import argparse
import ipaddress
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from conventions import (byte_count, fail, log, parse_addr, positive,  # noqa: E402
                         show_addr, show_bytes, warn, add_trace_arg, start_trace, traced_udp)

MAX_BUF_SIZE = 65536  # more than any UDP payload: recvfrom(65536) never cuts one
FILLER = b"0123456789abcdefghijklmnopqrstuvwxyz"  # --size: a cut shows where it fell


# ------------------------------------------------------------------ datagrams

def max_payload(family, host):
    """The largest payload one datagram to host can carry, and where the number comes from."""
    if family == socket.AF_INET or ipaddress.ip_address(host).ipv4_mapped:
        # IPv4's Total Length (16 bits) counts the whole packet, headers too.
        return 65535 - 20 - 8, "IPv4: 65535 (Total Length, 16 bits) - 20 (IPv4 header) - 8 (UDP header)"
    # IPv6's Payload Length does not count the 40-byte IPv6 header; UDP's own Length does count its 8.
    return 65535 - 8, "IPv6: 65535 (UDP Length, 16 bits) - 8 (UDP header)"


def recv_datagram(sock, size):
    """recvfrom(size): one datagram -> (data, sender, note about a cut).

    The part of a datagram that does not fit in size bytes is discarded, not
    kept for the next call (notes 4.4), and plain recvfrom does not say so.
    """
    if sys.platform.startswith("linux"):
        # MSG_TRUNC: Linux returns the datagram's real length, still copying only size bytes.
        # region: truncation-check — recvfrom_into(buf, size, MSG_TRUNC) returns the datagram's real size; more than size means it was cut: note ` (truncated: datagram was N bytes)`
        buf = bytearray(size)
        real, peer = sock.recvfrom_into(buf, size, socket.MSG_TRUNC)
        note = f" (truncated: datagram was {real} bytes)" if real > size else ""
        return bytes(buf[:min(real, size)]), peer, note
        # endregion: truncation-check
    if hasattr(sock, "recvmsg"):
        # Elsewhere recvmsg flags the cut, but the real size is gone with the bytes.
        data, _, flags, peer = sock.recvmsg(size)
        cut = flags & socket.MSG_TRUNC
        return data, peer, (" (truncated: datagram was larger than the buffer; this OS does "
                            "not report its real size, Linux does)") if cut else ""
    data, peer = sock.recvfrom(size)  # Windows: a cut raises OSError 10040 instead
    return data, peer, ""


# --------------------------------------------------------------------- server

def serve(args):
    family, host, port = args.bind
    where = show_addr((host, port))
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)   # 1. a datagram socket
        sock.bind((host, port))                           # 2. our address; no listen, no accept
    except OSError as err:
        fail(f"bind {where}", err)
    local = show_addr(sock.getsockname())  # the real port, when --bind asked for 0
    sock = traced_udp(sock, bound=True)  # --trace: each recvfrom and sendto
    log(f"listening on {local}")

    # region: recvfrom-sendto — loop until --count: recv_datagram(sock, buf_size) gives data, sender and note; log `recv N bytes from PEER` + note; sendto the same bytes back to that sender
    echoed = 0
    while args.count is None or echoed < args.count:     # 3. recvfrom and sendto
        try:
            data, peer, note = recv_datagram(sock, args.buf_size)
        except OSError as err:
            # Windows reports an earlier reply's ICMP "port unreachable" here: one client is gone.
            warn(f"recvfrom {local}", err)
            continue
        # 0 bytes is an empty datagram, not a closed peer: there is no connection to close.
        log(f"recv {len(data)} bytes from {show_addr(peer)}{note}")
        try:
            sock.sendto(data, peer)  # one whole datagram back, to whoever sent this one
        except OSError as err:
            warn(f"sendto {show_addr(peer)}", err)
        echoed += 1
    sock.close()                                          # 4. nobody is told
    # endregion: recvfrom-sendto


# --------------------------------------------------------------------- client

def client(args, usage):
    family, host, port = args.addr
    host = socket.inet_ntop(family, socket.inet_pton(family, host))  # as recvfrom will write it
    addr, where = (host, port), show_addr((host, port))
    limit, why = max_payload(family, host)
    refuse_oversized(args, usage, where, limit, why)

    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)  # no bind: the first sendto picks a port
        if args.connect:
            # Sends nothing: it only records the peer, so the kernel drops other
            # senders' datagrams and reports ICMP "port unreachable" as an error.
            sock.connect(addr)
    except OSError as err:
        fail(f"{'connect' if args.connect else 'socket'} {where}", err)
    sock = traced_udp(sock)  # --trace: each sendto and recvfrom

    if args.size is not None:
        data = (FILLER * (args.size // len(FILLER) + 1))[:args.size]

        def as_size(reply, note):  # "1024 bytes of the 2000 sent": the server's buffer cut it
            sent = "" if len(reply) == len(data) else f" of the {len(data)} sent"
            return f"{len(reply)} bytes{sent}{note}"
        ask(sock, args, addr, data, as_size)
    elif args.messages:
        for message in args.messages:
            ask(sock, args, addr, message, as_text)
    else:
        send_stdin_lines(sock, args, addr, limit, why)
    sock.close()


def refuse_oversized(args, usage, where, limit, why):
    """Refuse what cannot be one datagram before sending anything (the kernel would say EMSGSIZE)."""
    if args.size is not None:
        if args.messages:
            usage("--size sends one datagram of filler; give it no MESSAGE")
        if args.size > limit:
            usage(f"--size {args.size}: one UDP datagram to {where} carries at most {limit} bytes ({why})")
    for message in args.messages:
        if len(message) > limit:
            usage(f"a MESSAGE of {len(message)} bytes cannot be one UDP datagram to {where}: "
                  f"the most is {limit} bytes ({why})")


def send_stdin_lines(sock, args, addr, limit, why):
    """One datagram per line, without its line ending, sent as soon as it is read."""
    number = 0
    while True:
        try:
            line = sys.stdin.buffer.readline(limit + 2)  # never more than a datagram plus "\r\n"
        except OSError as err:
            fail("read stdin", err)
        if not line:
            break
        number += 1
        line = line[:-1].removesuffix(b"\r") if line.endswith(b"\n") else line
        if len(line) > limit:
            fail(f"sendto {show_addr(addr)}: line {number} of stdin is longer than one UDP datagram "
                 f"can carry: at most {limit} bytes ({why})")
        ask(sock, args, addr, line, as_text)


def as_text(reply, note):
    return show_bytes(reply) + note


def ask(sock, args, addr, data, show):
    """Send data as one datagram to addr and print the reply from addr, or fail when the time is up."""
    where = show_addr(addr)
    # region: sendto — one datagram: sock.send(data) when --connect, else sock.sendto(data, addr); a failure is `fail("sendto ADDR", err)`
    try:
        sock.send(data) if args.connect else sock.sendto(data, addr)
    except OSError as err:
        fail(f"{'send' if args.connect else 'sendto'} {where}", err)
    # endregion: sendto
    # region: wait-for-reply — until one deadline: settimeout(time left), recv_datagram; socket.timeout ends with fail(timeout: …); a datagram not from addr is logged `ignored …` and skipped; log `reply from ADDR: …`
    # One deadline per request: a timeout set afresh for each recvfrom would
    # let a stream of stray datagrams keep us waiting forever.
    deadline = time.monotonic() + args.timeout / 1000
    too_late = f"timeout: no reply from {where} within {args.timeout} ms"  # and nothing is resent
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(too_late)
        sock.settimeout(left)
        try:
            reply, peer, note = recv_datagram(sock, args.buf_size)
        except socket.timeout:
            fail(too_late)
        except OSError as err:
            if isinstance(err, ConnectionResetError) and not args.connect:
                continue  # Windows reports ICMP errors to unconnected sockets too; Linux does not
            fail(f"{'recv' if args.connect else 'recvfrom'} {where}", err)
        if peer[:2] != addr:
            # Anyone may send to an unconnected UDP socket: only ADDR, IP and port, is the reply.
            log(f"ignored {len(reply)} bytes from {show_addr(peer)}: not from {where}")
            continue
        log(f"reply from {where}: {show(reply, note)}")
        return
    # endregion: wait-for-reply


# ----------------------------------------------------------------------- main

def up_to(most):
    """argparse type: a whole number from 1 to most."""
    def check(text):
        if positive(text) > most:
            raise argparse.ArgumentTypeError(f"{text} is not in 1..={most}")
        return int(text)
    return check


def main():
    parser = argparse.ArgumentParser(
        prog="udp_echo.py", description="UDP echo server and client (lessons 3-5)")
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="send every datagram back to its sender; log each one")
    server.add_argument("--bind", type=parse_addr, default="127.0.0.1:9003", metavar="ADDR",
                        help="address to bind; port 0: the OS picks (default: %(default)s)")
    server.add_argument("--buf-size", type=up_to(MAX_BUF_SIZE), default=1024, metavar="N",
                        help="bytes asked for in each recvfrom, like recvfrom(1024) in the notes; "
                             "the rest of a larger datagram is lost (default: %(default)s)")
    server.add_argument("--count", type=positive, metavar="N",
                        help="exit 0 after echoing N datagrams (default: never)")
    cli = commands.add_parser("client", help="send each message (or stdin line) as one datagram")
    cli.add_argument("addr", type=parse_addr, metavar="ADDR",
                     help="the server; only a datagram from exactly this address is the reply")
    cli.add_argument("messages", type=os.fsencode, nargs="*", metavar="MESSAGE",
                     help="each one is one datagram (its bytes as given); none: each stdin line is one")
    cli.add_argument("--timeout", type=up_to(86_400_000), default=1000, metavar="MS",
                     help="how long to wait for each reply; nothing is resent (default: %(default)s)")
    cli.add_argument("--buf-size", type=up_to(MAX_BUF_SIZE), default=MAX_BUF_SIZE, metavar="N",
                     help="bytes asked for in each recvfrom (default: %(default)s)")
    cli.add_argument("--size", type=byte_count, metavar="BYTES",
                     help="send one datagram of BYTES filler bytes instead; at most 65507 over IPv4, "
                          "65527 over IPv6")
    cli.add_argument("--connect", action="store_true",
                     help="connect() the socket to ADDR first: the kernel filters senders, ICMP errors show")
    add_trace_arg(server, cli)
    argv = sys.argv[1:]
    if argv[:1] == ["client"]:
        # Intermixed: options may also follow ADDR and the messages, as with clap.
        args = cli.parse_intermixed_args(argv[1:], argparse.Namespace(command="client"))
    else:
        args = parser.parse_args(argv)
    start_trace("udp-echo", args.trace)
    try:
        serve(args) if args.command == "server" else client(args, cli.error)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
