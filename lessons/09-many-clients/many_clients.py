#!/usr/bin/env python3
"""many_clients.py — lesson 9 (一万个客户端) in Python: tcp-echo with --model.

The same program as `cargo run -p tcp-echo`, kept to README "Conventions", so
the same tests grade it:

    python3 lessons/09-many-clients/many_clients.py server --model poll [--bind ADDR]
    python3 lessons/09-many-clients/many_clients.py client ADDR [MESSAGE ...]
    scripts/grade --lesson 9 --impl tcp-echo='python3 lessons/09-many-clients/many_clients.py'
    scripts/grade --lesson 1 --impl tcp-echo='python3 lessons/09-many-clients/many_clients.py --model poll'

Three ways to serve many clients at once (多任务):

  threads  lesson 1's server: a thread per client, blocking recv and sendall.
  poll     one thread and `selectors` (IO 多路复用: epoll on Linux, kqueue on
           macOS, select elsewhere): non-blocking sockets, served when the
           kernel says they are ready.
  async    asyncio: one coroutine per client; `await` hands the thread back to
           asyncio's own selector loop until the socket is ready.

The client, the thread-per-client server and their command line are lesson
1's tcp_echo.py, imported: the one beside this file if there is one (under
my/tcp-echo/, your own), else lessons/01-tcp-transfer/tcp_echo.py.
"""

import argparse
import asyncio
import errno
import os
import selectors
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
# The course's lesson 1: beside lessons/09-many-clients/, or seen from my/tcp-echo/.
COURSE_LESSON1 = next((f for f in (os.path.join(HERE, "..", "01-tcp-transfer"),
                                   os.path.join(HERE, "..", "..", "lessons", "01-tcp-transfer"))
                       if os.path.exists(os.path.join(f, "tcp_echo.py"))), None)
for _folder in (HERE, COURSE_LESSON1):
    if _folder and os.path.exists(os.path.join(_folder, "tcp_echo.py")):
        sys.path.insert(0, _folder)
        break
import tcp_echo as lesson1  # noqa: E402


def lesson1_commands():
    """lesson 1's add_commands: from the tcp_echo.py imported above, or, if
    that one is your own and has none (written from scratch, or before the
    command line was shared), from the course's lessons/01-tcp-transfer."""
    if hasattr(lesson1, "add_commands"):
        return lesson1.add_commands
    import importlib.util
    spec = importlib.util.spec_from_file_location("course_tcp_echo",
                                                  os.path.join(COURSE_LESSON1, "tcp_echo.py"))
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    return course.add_commands


from conventions import (error_fields, listen_and_announce, log, show_addr,  # noqa: E402
                         start_trace, trace_event, traced_tcp, warn)

# Echo bytes one client may have waiting to be sent; past this we stop
# reading from it until it reads its echo (backpressure).
WRITE_BUFFER_LIMIT = 64 * 1024
# recv calls one client gets per turn of the loop (fairness).
READS_PER_TURN = 16

MODELS = ("threads", "poll", "async")


# ------------------------------------------------------------------ poll model

class Conn:
    """One client of the poll model. __slots__: ten thousand of these are
    small objects, and none holds a buffer while idle."""
    __slots__ = ("sock", "peer", "total", "unsent", "eof")

    def __init__(self, sock, peer):
        self.sock, self.peer, self.total = sock, peer, 0
        self.unsent = b""   # echo bytes the kernel had no room for yet
        self.eof = False    # the client's FIN came: close once unsent is sent


class Closed(Exception):
    """This connection is done (its error is already reported)."""


def serve_poll(args):
    listener = listen_and_announce(args.bind)
    listener.setblocking(False)
    where = show_addr(listener.getsockname())
    # DefaultSelector is epoll on Linux, level-triggered: select() reports a
    # socket for as long as it is readable, so bytes left unread are
    # reported again next turn. (mio, in the Rust version, is edge-triggered:
    # it must read until WouldBlock, and queue what it leaves.)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    buf = bytearray(args.buf_size)  # the one read buffer every client shares
    view = memoryview(buf)
    finished = 0
    while True:
        # region: readiness-loop — for each (key, events) of selector.select(): key.data None is the listener (accept_all); else a Conn: flush on EVENT_WRITE, read_some on EVENT_READ, then want() its next interest, or close it (Closed, or eof with nothing unsent) and count it for --max-clients
        for key, events in selector.select():
            conn = key.data
            if conn is None:
                accept_all(listener, selector, where)
                continue
            try:
                if events & selectors.EVENT_WRITE:
                    flush(conn)
                if events & selectors.EVENT_READ:
                    read_some(conn, buf, view, args.quiet)
                if conn.eof and not conn.unsent:
                    raise Closed()
                want(selector, conn)
            except Closed:
                selector.unregister(conn.sock)
                conn.sock.close()
                finished += 1
                if args.max_clients and finished >= args.max_clients:
                    sys.stdout.flush()
                    os._exit(0)
        # endregion: readiness-loop


def accept_all(listener, selector, where):
    """Accept every client waiting in the backlog."""
    while True:
        try:
            sock, addr = listener.accept()
        except BlockingIOError:
            return
        except OSError as err:
            warn(f"accept {where}", err)
            if err.errno in (errno.EMFILE, errno.ENFILE):
                return  # reported again next turn; some may have closed by then
            continue
        sock.setblocking(False)
        conn = Conn(traced_tcp(sock, "accept"), show_addr(addr))
        log(f"connected {conn.peer}")
        selector.register(conn.sock, selectors.EVENT_READ, conn)


def want(selector, conn):
    """Ask for what this client needs next: to read while there is room to
    echo (and no FIN yet), to write while echo bytes wait. A full write buffer
    means no EVENT_READ: level-triggered, a readable socket we do not read
    would be reported again at once, for ever."""
    events = 0
    if not conn.eof and len(conn.unsent) < WRITE_BUFFER_LIMIT:
        events |= selectors.EVENT_READ
    if conn.unsent:
        events |= selectors.EVENT_WRITE
    if events != selector.get_key(conn.sock).events:
        selector.modify(conn.sock, events, conn)


def read_some(conn, buf, view, quiet):
    # region: read-some — up to READS_PER_TURN times while len(conn.unsent) < WRITE_BUFFER_LIMIT: recv_into the shared buf; BlockingIOError: stop; 0: log `closed PEER after N bytes`, set eof, stop; n: log `recv N bytes from PEER` and send_or_keep(conn, view[:n]); another OSError: warn `recv PEER` and raise Closed
    for _ in range(READS_PER_TURN):
        if len(conn.unsent) >= WRITE_BUFFER_LIMIT:
            return  # backpressure: its bytes wait in the kernel until it reads
        try:
            n = conn.sock.recv_into(buf)
        except BlockingIOError:
            return  # nothing more now
        except OSError as err:
            warn(f"recv {conn.peer}", err)
            raise Closed() from None
        if n == 0:
            log(f"closed {conn.peer} after {conn.total} bytes")
            conn.eof = True
            return
        conn.total += n
        if not quiet:
            log(f"recv {n} bytes from {conn.peer}")
        send_or_keep(conn, view[:n])
    # endregion: read-some


def send_or_keep(conn, data):
    """Echo `data` now if nothing waits before it; keep what the kernel does
    not take (never sendall: on a full send buffer it would block the loop)."""
    if conn.unsent:
        conn.unsent += bytes(data)  # older bytes go first
        return
    try:
        sent = conn.sock.send(data)
    except BlockingIOError:
        sent = 0
    except OSError as err:
        warn(f"send {conn.peer}", err)
        raise Closed() from None
    conn.unsent = bytes(data[sent:])


def flush(conn):
    """Send as much of what waits as the kernel takes now."""
    try:
        sent = conn.sock.send(conn.unsent)
    except BlockingIOError:
        return
    except OSError as err:
        warn(f"send {conn.peer}", err)
        raise Closed() from None
    conn.unsent = conn.unsent[sent:]


# ----------------------------------------------------------------- async model

def serve_async(args):
    listener = listen_and_announce(args.bind)
    listener.setblocking(False)
    finished = [0]

    async def client(reader, writer):
        peer = show_addr(writer.get_extra_info("peername"))
        log(f"connected {peer}")
        ends = (show_addr(writer.get_extra_info("sockname")), peer)
        trace_event("accept", "tcp", *ends)
        if args.trace:
            reader, writer = TracedReader(reader, ends, args.buf_size), TracedWriter(writer, ends)
        try:
            await echo_task(reader, writer, peer, args.buf_size, args.quiet)
        finally:
            trace_event("close", "tcp", *ends)
            writer.close()
            finished[0] += 1
            if args.max_clients and finished[0] >= args.max_clients:
                try:
                    await writer.wait_closed()  # the last echo is sent first
                except OSError:
                    pass
                sys.stdout.flush()
                os._exit(0)

    async def main():
        # The transport reads for us (up to 256 KiB per recv) into the
        # reader's buffer, and stops reading once 2 x limit bytes wait there.
        # asyncio calls listen() again: with its default backlog of 100,
        # clients arriving by the thousand would be dropped and retried.
        server = await asyncio.start_server(client, sock=listener, limit=WRITE_BUFFER_LIMIT,
                                            backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class TracedReader:
    """An asyncio StreamReader whose reads are traced (--trace): the stream
    has no socket calls of its own to wrap, so each read is one `recv` event."""

    def __init__(self, reader, ends, asked):
        self._reader, self._ends, self._asked = reader, ends, asked

    async def read(self, n):
        try:
            data = await self._reader.read(n)
        except OSError as err:
            trace_event("error", "tcp", *self._ends, **error_fields("recv", err))
            raise
        trace_event("recv", "tcp", *self._ends, asked=self._asked, data=data)
        return data


class TracedWriter:
    """An asyncio StreamWriter whose writes are traced as `send` events."""

    def __init__(self, writer, ends):
        self._writer, self._ends = writer, ends

    def write(self, data):
        trace_event("send", "tcp", *self._ends, data=bytes(data))
        self._writer.write(data)

    def __getattr__(self, name):
        return getattr(self._writer, name)


async def echo_task(reader, writer, peer, buf_size, quiet):
    total = 0
    reads = 0
    # region: echo-task — loop: await reader.read(buf_size) (b"": log `closed PEER after N bytes` and return; an OSError: warn `recv PEER` and return); log `recv N bytes from PEER`; writer.write then await writer.drain() (backpressure); every READS_PER_TURN reads, await asyncio.sleep(0) so that the others get a turn
    while True:
        try:
            data = await reader.read(buf_size)
        except OSError as err:
            warn(f"recv {peer}", err)
            return
        if not data:
            log(f"closed {peer} after {total} bytes")
            return
        total += len(data)
        if not quiet:
            log(f"recv {len(data)} bytes from {peer}")
        writer.write(data)
        try:
            # Waits while more than 64 KiB wait to be sent: this client's
            # echo backs up, and so (the reader's buffer full) do its reads.
            await writer.drain()
        except OSError as err:
            warn(f"send {peer}", err)
            return
        # read() and drain() return at once, without letting another
        # coroutine run, while bytes are buffered and there is room: a
        # flooding client would keep the thread. asyncio has no budget
        # (tokio has one): yield now and then.
        reads += 1
        if reads % READS_PER_TURN == 0:
            await asyncio.sleep(0)
    # endregion: echo-task


# ------------------------------------------------------------------------ main

def main():
    parser = argparse.ArgumentParser(prog="many_clients.py",
                                     description="TCP echo server and client (lessons 1 and 9)",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # Before the subcommand (`many_clients.py --model poll server …`, so that
    # `--impl tcp-echo='python3 many_clients.py --model poll'` grades lesson 1
    # against one model) or after it, as the Rust program takes it.
    parser.add_argument("--model", choices=MODELS, default="threads",
                        help="how the server serves many clients; the client ignores it")
    server, cli = lesson1_commands()(parser)
    server.add_argument("--model", choices=MODELS, default=argparse.SUPPRESS,
                        help="threads: a thread per client; poll: one thread, selectors; "
                             "async: asyncio (default: threads, or as given before `server`)")
    cli.add_argument("--model", choices=MODELS, default=argparse.SUPPRESS, help="ignored")
    args = parser.parse_args()
    start_trace("tcp-echo", args.trace)
    try:
        if args.command == "client":
            lesson1.client(args)
        elif args.model == "poll":
            serve_poll(args)
        elif args.model == "async":
            serve_async(args)
        else:
            lesson1.serve(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
