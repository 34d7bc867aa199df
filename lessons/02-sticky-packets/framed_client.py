#!/usr/bin/env python3
"""A Python client that speaks sticky-demo's wire formats (lesson 2).

Start the Rust server, then send it messages from Python:

    cargo run -q -p sticky-demo -- server --framing length
    python3 lessons/02-sticky-packets/framed_client.py --framing length 127.0.0.1:9002 hello 你好

Line framing:   each message, then b"\\n"      (the message may not contain b"\\n")
Length framing: struct.pack("!I", len(message)), then the message
                ("!" = network byte order, big-endian; "I" = 4-byte unsigned)

--cut N sends the frames as one byte string cut every N bytes, each piece in
its own sendall: the server must still recover exactly the messages sent.
--half-close sends a frame's header and first bytes, then closes: the server
must report a message cut short.
"""

import argparse
import socket
import struct
import sys


def frame(framing, message):
    if framing == "line":
        if b"\n" in message:
            raise ValueError("line framing cannot carry a message containing \\n")
        return message + b"\n"
    if len(message) > 0xFFFFFFFF:
        raise ValueError("a 4-byte length cannot describe more than 4 GiB - 1")
    return struct.pack("!I", len(message)) + message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framing", choices=["line", "length"], default="length")
    parser.add_argument("--cut", type=int, default=0, metavar="N",
                        help="cut the byte stream every N bytes, one sendall per piece")
    parser.add_argument("--half-close", action="store_true",
                        help="end in the middle of the last message")
    parser.add_argument("addr", help="IP:PORT, such as 127.0.0.1:9002")
    parser.add_argument("messages", nargs="*")
    args = parser.parse_args()

    host, _, port = args.addr.rpartition(":")
    try:
        frames = [frame(args.framing, m.encode("utf-8")) for m in args.messages]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    stream = b"".join(frames)
    if args.half_close and frames:
        stream = stream[: len(stream) - max(1, len(frames[-1]) // 2)]

    try:
        sock = socket.create_connection((host.strip("[]"), int(port)))
    except OSError as err:
        print(f"error: connect {args.addr}: {err.strerror}", file=sys.stderr)
        return 1
    if args.cut > 0:
        pieces = [stream[i:i + args.cut] for i in range(0, len(stream), args.cut)]
    elif args.half_close:
        pieces = [stream]
    else:
        pieces = frames
    with sock:
        try:
            # Segments leave at once: any merging happens at the receiver.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in pieces:
                sock.sendall(piece)
            print(f"sent {len(stream)} bytes in {len(pieces)} sendall calls", flush=True)
            # FIN, then wait for the server to close: it has read everything.
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
        except OSError as err:
            print(f"error: {args.addr}: {err.strerror}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
