"""The record of progress: what each grading of a lesson found, for any tool.

`scripts/grade` writes two files per lesson it grades, in `<target>/grade/`,
where <target> is Cargo's build folder: $CARGO_TARGET_DIR (or
CARGO_BUILD_TARGET_DIR), relative to the repository's top folder when not
absolute, else `target/`. NN is the lesson's number on two digits.

`lessonNN.progress.jsonl` — live, while the lesson's tests run. Emptied
when the lesson starts (before its programs are built), then one JSON
object per line, appended and flushed as each test ends, in the order they
end:

    {"name": "recv_returns_empty_when_the_peer_disconnects",
     "status": "failed",
     "reason": "the first line of why it failed ('' when it passed)"}

  status is "passed", "failed" or "timeout". A program that did not build
  (or a command that cannot start) gives no lines: the lesson's record says
  why.

`lessonNN.json` — written when the lesson ends (also when its programs did
not build, or grading was stopped by SIGTERM/SIGINT), replacing the last
one; under 256 KiB (messages cut as README "Grading" says):

    {"lesson": 1,
     "title": "TCP data transfer",
     "passed": 15, "total": 16,             # tests passed, tests in the lesson
     "points": 9.375, "max_points": 10,     # exact: sixteenths of a point
     "graded_at": "2026-12-07T21:30:05Z",   # UTC, when the lesson ended
     "seconds": 12.3,
     "error": null,                         # or "why the lesson could not be
                                            #  graded" (its tests are then
                                            #  "not run", 0 points)
     "error_detail": "",                    # the compiler's first errors, …
     "commands": {"tcp-echo": "target/debug/my-tcp-echo"},  # each program of the
                                            #  lesson: its command, null for the
                                            #  workspace's own program
     "programs": [{"program": "tcp-echo",
                   "command": "target/debug/my-tcp-echo",   # null: the workspace's own
                   "source": "grading.toml",                 # --impl, IMPL_TCP_ECHO, built
                   "binary": "target/debug/my-tcp-echo",     # the file run, when known
                   "built_at": "2026-12-07T21:29:51Z",       # its modification time
                   "build": "cargo build -p my-tcp-echo --bin my-tcp-echo"}],  # or null
     "tests": [{"name": "recv_returns_empty_when_the_peer_disconnects",
                "status": "failed",         # passed, failed, timeout, not run
                "message": "the whole reason, as scripts/grade prints it",
                "points": 0, "max_points": 0.625,
                "reproduce": "cargo nextest run -p tcp-echo --test lesson01 -E …"}]}

  programs lists only the programs that were built and checked (none when
  the lesson was not graded); commands names every program of the lesson.
  tests are in the order of the lesson's "What the tests check" list (its
  README), tests it does not list after them. A reader should ignore fields
  it does not know: more may come.
"""

import json
import os
import time

from . import points, report

RECORD_LIMIT = 256 * 1024


def folder(target):
    return os.path.join(target, "grade")


def progress_path(target, lesson):
    return os.path.join(folder(target), f"lesson{lesson:02d}.progress.jsonl")


def record_path(target, lesson):
    return os.path.join(folder(target), f"lesson{lesson:02d}.json")


def utc(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class Progress:
    """lessonNN.progress.jsonl, emptied at the start, a line per finished test."""

    def __init__(self, target, lesson):
        self.path = progress_path(target, lesson)
        try:
            os.makedirs(folder(target), exist_ok=True)
            self.file = open(self.path, "w", encoding="utf-8")
        except OSError:
            self.file = None

    def finished(self, name, status, reason):
        if self.file is None:
            return
        line = json.dumps({"name": name, "status": status, "reason": reason[:500]},
                          ensure_ascii=False)
        self.file.write(line + "\n")
        self.file.flush()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def lesson_record(lesson, programs, commands=None):
    """lessonNN.json's content as a dict (see the module's docstring)."""
    ordered = sorted(lesson.tests, key=lambda t: (t.order or t.index, t.index))

    def build(messages):
        return {
            "lesson": lesson.number,
            "title": lesson.title,
            "passed": lesson.passed,
            "total": len(lesson.tests),
            "points": points.as_number(lesson.earned),
            "max_points": points.as_number(lesson.units),
            "graded_at": utc(time.time()),
            "seconds": round(lesson.seconds, 1),
            "error": lesson.error[0] if lesson.error else None,
            "error_detail": report.fit_one(lesson.error[1] or "", report.FIRST_LIMIT,
                                           "the whole output is in the grader's log")
                            if lesson.error else "",
            "commands": commands or {p["program"]: p["command"] for p in programs},
            "programs": programs,
            "tests": [{"name": t.name, "status": t.status, "message": messages.get(id(t), ""),
                       "points": points.as_number(t.earned), "max_points": points.as_number(t.units),
                       "reproduce": t.reproduce()} for t in ordered],
        }

    bare = len(json.dumps(build({}), ensure_ascii=False, indent=1).encode("utf-8"))
    return build(report.fitted_messages(ordered, RECORD_LIMIT - bare - 8 * 1024,
                                        "cut to fit the record; scripts/grade prints it whole"))


def write(target, lesson, programs, commands=None):
    """Write lessonNN.json (atomically: a reader never sees half of it)."""
    path = record_path(target, lesson.number)
    try:
        os.makedirs(folder(target), exist_ok=True)
        data = lesson_record(lesson, programs, commands)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
    except OSError as err:
        print(f"warning: write {path}: {err.strerror}", flush=True)
