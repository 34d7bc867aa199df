#!/usr/bin/env python3
"""Lesson 9, exercise 7 — an async echo that never gives the others a turn.

many_clients.py's async model without its `await asyncio.sleep(0)`. While a
client's bytes are already buffered and its echo has room, `reader.read()`
and `writer.drain()` return without suspending, so one client that sends
without pause keeps the only thread and the other clients wait.
"""

import edit

edit.run("09-many-clients/many_clients.py",
         ("            await asyncio.sleep(0)\n", "            pass  # the mistake: no turn for the others\n"))
