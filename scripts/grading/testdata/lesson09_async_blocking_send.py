#!/usr/bin/env python3
"""Lesson 9, exercise 7 — a blocking call inside a coroutine.

many_clients.py's async model echoing with sendall on a blocking socket, as
lesson 1's thread per client does, where the lesson awaits the send
(`await writer.drain()`). The stream's own socket has no sendall, so this
echo task sends through a duplicate of its descriptor, made blocking for
the call (the same connection: O_NONBLOCK belongs to both). A coroutine
that blocks holds the loop's only thread: the first client that does not
read its echo fills its send buffer, sendall waits for room that never
comes, and every other client waits with it.
"""

import asyncio
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "lessons", "09-many-clients"))
import many_clients  # noqa: E402


async def echo_task(reader, writer, peer, buf_size, quiet):
    raw = socket.socket(fileno=os.dup(writer.get_extra_info("socket").fileno()))
    total = reads = 0
    try:
        while True:
            try:
                data = await reader.read(buf_size)
            except OSError as err:
                many_clients.warn(f"recv {peer}", err)
                return
            if not data:
                many_clients.log(f"closed {peer} after {total} bytes")
                return
            total += len(data)
            if not quiet:
                many_clients.log(f"recv {len(data)} bytes from {peer}")
            try:
                raw.setblocking(True)
                raw.sendall(data)  # the mistake: waits for room, and the loop with it
                raw.setblocking(False)
            except OSError as err:
                many_clients.warn(f"send {peer}", err)
                return
            reads += 1
            if reads % many_clients.READS_PER_TURN == 0:
                await asyncio.sleep(0)  # as the lesson's task yields, now and then
    finally:
        raw.close()


many_clients.echo_task = echo_task
many_clients.main()
