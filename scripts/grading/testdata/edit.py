"""Run a lesson's Python version with a few lines of its source changed.

    import edit
    edit.run("03-udp-server/udp_echo.py", ("old line", "new line"), ...)
    edit.module("conventions.py", ("old line", "new line"))  # then run a lesson's file

What a student would do by hand — copy the file and change a line — done on
the fly, so the variant stays one edit away from the real Python version.
Each `old` text must occur exactly once in the source; if the Python version
changes and an edit no longer applies, the variant stops with an `error:`
line (exit 3) instead of silently testing the unchanged program.
"""

import os
import sys
import types

LESSONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lessons")


def edited(path, edits):
    """The lesson file's path and compiled code, with `edits` made."""
    path = os.path.normpath(os.path.join(LESSONS, path))
    with open(path, encoding="utf-8") as f:
        source = f.read()
    for old, new in edits:
        if source.count(old) != 1:
            print(f"error: edit {path}: {old!r} occurs {source.count(old)} times, not once "
                  "(the Python version changed: update this variant)", file=sys.stderr, flush=True)
            sys.exit(3)
        source = source.replace(old, new)
    return path, compile(source, path, "exec")  # tracebacks name the lesson's file


def run(path, *edits):
    path, code = edited(path, edits)
    sys.argv[0] = path
    exec(code, {"__name__": "__main__", "__file__": path})


def module(path, *edits):
    """Import a module the lessons share (`conventions.py`) with `edits` made:
    a program run after this imports the edited one."""
    path, code = edited(path, edits)
    name = os.path.splitext(os.path.basename(path))[0]
    edited_module = types.ModuleType(name)
    edited_module.__file__ = path
    sys.modules[name] = edited_module
    exec(code, edited_module.__dict__)
