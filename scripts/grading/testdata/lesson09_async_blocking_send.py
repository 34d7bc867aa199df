#!/usr/bin/env python3
"""Lesson 9, exercise 7 — a blocking call inside a coroutine.

many_clients.py's async model echoing with sendall on a blocking socket, as
lesson 1's thread per client does, where the lesson awaits the send
(`await writer.drain()`). The stream's own socket has no sendall, so the
echo goes through a duplicate of its descriptor, made blocking for the call
(the same connection: O_NONBLOCK belongs to both). A coroutine that blocks
holds the loop's only thread: the first client that does not read its echo
fills its send buffer, sendall waits for room that never comes, and every
other client waits with it. (The drain that follows finds nothing to wait
for: nothing went through the writer.)
"""

import edit

edit.run("09-many-clients/many_clients.py",
         ("import selectors\n", "import selectors\nimport socket\n"),
         ("        writer.write(data)\n        try:\n",
          "        raw = socket.socket(fileno=os.dup(writer.get_extra_info(\"socket\").fileno()))\n"
          "        try:\n"
          "            raw.setblocking(True)\n"
          "            raw.sendall(data)  # the mistake: waits for room, and the loop with it\n"
          "            raw.setblocking(False)\n"
          "            raw.close()\n"))
