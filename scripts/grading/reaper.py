"""Nothing a test started outlives grading.

cargo-nextest stops a test that runs past its limit by killing the test's
process group, and crates/blackbox puts each program it starts in a group
of its own, tied to the test's life. A program that escapes both (it forks
into the background, or starts a new session) would be re-parented to init
and run on after grading, holding ports and threads.

On Linux the grader therefore declares itself a *child subreaper*
(prctl PR_SET_CHILD_SUBREAPER): orphans among its descendants are
re-parented to the grader instead of to init, so they stay in its process
tree. After each lesson it kills (SIGKILL) every descendant still alive,
with their process groups, and collects them.
"""

import ctypes
import errno
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36

LINUX = sys.platform.startswith("linux")


def become_subreaper():
    """True when orphaned descendants now come back to this process."""
    if not LINUX:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _processes():
    """{pid: (ppid, pgid, state)} from /proc."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) >= 3:
            table[int(name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def descendants(table=None):
    """Pids of every live (not zombie) descendant of this process."""
    table = _processes() if table is None else table
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return [pid for pid in found if table[pid][2] != "Z"]


def _reap():
    """Collect exited children (zombies), so they do not pile up."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_leftovers():
    """SIGKILL every descendant still running; the number killed."""
    if not LINUX:
        return 0
    own_group = os.getpgrp()
    killed = set()
    for _ in range(20):  # a process may fork while we look: look again
        table = _processes()
        alive = descendants(table)
        if not alive:
            break
        mine = set(alive)
        for group in {table[pid][1] for pid in alive}:
            members = [pid for pid, (_, pgid, _) in table.items() if pgid == group]
            # Only groups made entirely of our descendants (never our own).
            if group != own_group and all(pid in mine or table[pid][2] == "Z" for pid in members):
                try:
                    os.killpg(group, signal.SIGKILL)
                except OSError:
                    pass
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError as err:
                if err.errno != errno.ESRCH:
                    raise
        time.sleep(0.05)
        _reap()
    _reap()
    return len(killed)
