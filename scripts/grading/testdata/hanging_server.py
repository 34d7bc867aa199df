#!/usr/bin/env python3
"""A server that hangs, to prove that grading stays bounded (lessons 1 and 8).

    python3 scripts/grading/testdata/hanging_server.py MODE MARK [ARGS ...]

It stands in for tcp-echo or mini-http (`--impl`); ARGS are what a test
passes. Invoked as a server (`server …`, `serve …`, `--bind ADDR`, or no
ARGS at all: mini-http's default) it does what MODE says; invoked any other
way (a client, `--help`) it hangs in silence, except in `exit` mode.

MODE:
  silent     bind, listen, print `listening on ADDR`, accept every connection
             and never answer nor close it. It first forks a grandchild (of
             the test) that sleeps forever and ignores SIGTERM and SIGHUP: the
             grader's cleanup must reach the whole process group, not just the
             program it started.
  no-accept  bind, listen with a backlog of 1, print `listening on ADDR`, and
             never accept: after a connection or two the kernel stops
             completing handshakes and clients hang in connect().
  exit       exit 0 at once, printing nothing, whatever it is asked.

MARK is a token unique to one grading run. It stays in this process's
command line, and in every child's, so that scripts/grading/grade-selftest can look
through /proc afterwards for anything left running.
"""

import os
import signal
import socket
import sys
import time

DEFAULT_PORTS = {"serve": 8000, "server": 9001}  # mini-http, tcp-echo (README "Conventions")


def sleep_forever():
    while True:
        time.sleep(3600)


def bind_address(args):
    """(family, host, port) from `--bind ADDR`, or the program's default."""
    port = DEFAULT_PORTS.get(args[0] if args else "serve", 9001)
    host, family = "127.0.0.1", socket.AF_INET
    if "--bind" in args[:-1]:
        text = args[args.index("--bind") + 1]
        host, _, port_text = text.rpartition(":")
        if host.startswith("["):
            host, family = host[1:-1], socket.AF_INET6
        elif host == "localhost":
            host = "127.0.0.1"
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            print(f"error: bad address {text}", file=sys.stderr, flush=True)
            sys.exit(2)
        port = int(port_text)
    return family, host, port


def listen(args, backlog):
    family, host, port = bind_address(args)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(backlog)
    except OSError as err:
        print(f"error: bind {host}:{port}: {err}", file=sys.stderr, flush=True)
        sys.exit(1)
    bound = listener.getsockname()
    shown = f"[{bound[0]}]:{bound[1]}" if family == socket.AF_INET6 else f"{bound[0]}:{bound[1]}"
    print(f"listening on {shown}", flush=True)
    return listener


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("silent", "no-accept", "exit"):
        print("usage: hanging_server.py silent|no-accept|exit MARK [ARGS ...]", file=sys.stderr)
        sys.exit(2)
    mode, args = sys.argv[1], sys.argv[3:]
    if mode == "exit":
        sys.exit(0)
    is_server = not args or args[0] in DEFAULT_PORTS or "--bind" in args
    if not is_server:
        sleep_forever()  # a client that never finishes, a --help that never prints
    if mode == "no-accept":
        listener = listen(args, backlog=1)
        sleep_forever()  # never accept(): the backlog fills, handshakes stop
    if os.fork() == 0:
        # The grandchild: outlives its parent unless the whole group is killed.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        sleep_forever()
    listener = listen(args, backlog=128)
    held = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)  # never read, never answered, never closed


if __name__ == "__main__":
    main()
