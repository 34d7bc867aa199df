#!/usr/bin/env python3
"""Lesson 9, exercise 7 — a blocking call inside a coroutine.

many_clients.py's async model echoing with sendall on a blocking socket, as
lesson 1's thread per client does, where the lesson awaits the send
(`await writer.drain()`; here `loop.sock_recv` reads, since a stream's
socket has no sendall). A coroutine that blocks holds the loop's only
thread: the first client that does not read its echo fills its send
buffer, sendall waits for room that never comes, and every other client
waits with it.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402

log, warn, show_addr = many_clients.log, many_clients.warn, many_clients.show_addr


async def echo_task(loop, conn, peer, buf_size, quiet):
    total = 0
    while True:
        try:
            data = await loop.sock_recv(conn, buf_size)
        except OSError as err:
            warn(f"recv {peer}", err)
            return
        if not data:
            log(f"closed {peer} after {total} bytes")
            return
        total += len(data)
        if not quiet:
            log(f"recv {len(data)} bytes from {peer}")
        try:
            conn.setblocking(True)
            conn.sendall(data)  # the mistake: waits for room, and the loop with it
            conn.setblocking(False)
        except OSError as err:
            warn(f"send {peer}", err)
            return
        await asyncio.sleep(0)


def serve_async(args):
    listener = many_clients.listen_and_announce(args.bind)
    listener.setblocking(False)
    finished = [0]
    tasks = set()  # the loop keeps only weak references to tasks

    async def client(loop, conn, peer):
        log(f"connected {peer}")
        try:
            await echo_task(loop, conn, peer, args.buf_size, args.quiet)
        finally:
            conn.close()
            finished[0] += 1
            if args.max_clients and finished[0] >= args.max_clients:
                sys.stdout.flush()
                os._exit(0)

    async def main():
        loop = asyncio.get_running_loop()
        while True:
            conn, addr = await loop.sock_accept(listener)
            conn.setblocking(False)
            task = asyncio.create_task(client(loop, conn, show_addr(addr)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    asyncio.run(main())


many_clients.serve_async = serve_async
many_clients.main()
