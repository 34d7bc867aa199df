#!/usr/bin/env python3
"""A server that answers everything with garbage, to prove results stay bounded.

    python3 scripts/grading/testdata/garbage_server.py [ARGS ...]

It stands in for mini-http or tcp-echo (`--impl`). Invoked with any ARGS it
binds `--bind ADDR` (default 127.0.0.1:0), prints `listening on ADDR` and,
on every connection, answers the first read with 64 KiB of garbage (lines
of it, a few bytes that are not UTF-8 in each) and closes; it prints the
same garbage on stdout and stderr. Every test fails, with as much of the program's output in its
message as a test can show: the grader's results must still stay under
their limits (README "Grading"). Used by scripts/grading/check_classroom.py.
"""

import socket
import sys
import threading

LINE = b"garbage \xff\xfe " + bytes(range(0x21, 0x7f)) + b"\r\n\r\n"
ANSWER = (LINE * (64 * 1024 // len(LINE) + 1))[:64 * 1024]


def address(args):
    text = args[args.index("--bind") + 1] if "--bind" in args[:-1] else "127.0.0.1:0"
    host, _, port = text.rpartition(":")
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    return family, host.strip("[]") or "127.0.0.1", int(port or 0)


def serve(conn):
    with conn:
        try:
            # Each request (or line) gets garbage; the connection closes
            # after it, so that a test shows what came back, not a timeout.
            if conn.recv(65536):
                conn.sendall(ANSWER)
            # And it logs garbage too, on both streams, which the tests show.
            text = ANSWER.decode("utf-8", "replace")
            sys.stdout.write(text)
            sys.stdout.flush()
            sys.stderr.write(text)
        except OSError:
            pass


def main(args):
    family, host, port = address(args)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(128)
    bound = listener.getsockname()
    shown = f"[{bound[0]}]:{bound[1]}" if family == socket.AF_INET6 else f"{bound[0]}:{bound[1]}"
    print(f"listening on {shown}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
