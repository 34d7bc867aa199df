#!/usr/bin/env python3
"""A result for every lesson step that left none (classroom.yml's guard step).

    python3 scripts/grading/fill_results.py lesson1 lesson2 …

GitHub Classroom's reporter decodes every runner's `<ID>_RESULTS` variable
with no guard: one empty or unreadable variable (a step killed at its time
limit before the grader could write, a step skipped, a crashed grader) and
it throws before its `Points X/Y` notice, so Classroom records nothing for
any lesson. This step runs before it (`if: always()`) with each lesson
step's output in `<ID>_RESULTS` and its outcome in `<ID>_OUTCOME`; for each
runner id `lessonN` whose result is missing or not a result the reporter
can read, it writes `<id>=<base64 JSON>` to $GITHUB_OUTPUT: an error result
worth 0 of lesson N's points (course.json) with one test
saying why. The reporter takes `steps.<this>.outputs.<id>` first, the
lesson step's own result otherwise, so one lesson's failure never costs the
others. Standard library only; prints one line per runner.
"""

import base64
import binascii
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from grading import course  # noqa: E402


def readable(encoded):
    """Why the reporter could not use this result, or None when it can."""
    if not encoded.strip():
        return "it left no result"
    try:
        data = json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as err:
        return f"its result is not base64 of JSON ({err})"
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return "its result has no tests list"
    if not isinstance(data.get("max_score"), (int, float)) or data.get("status") not in (
            "pass", "fail", "error"):
        return "its result has no max_score or status"
    if not all(isinstance(t, dict) and isinstance(t.get("score", 0), (int, float))
               for t in data["tests"]):
        return "a test in its result has no numeric score"
    return None


def error_result(runner, lesson, max_score, why, outcome):
    message = (f"error: the step `{runner}` (lesson {lesson}) {why}; its outcome was "
               f"{outcome or 'unknown'}. A step stops without a result when it runs past its "
               "timeout-minutes, when the run is cancelled, or when it fails before grading. "
               "This lesson scores 0 this time; the other lessons count as graded. Its log, in "
               "this run's Actions tab, says where it stopped.")
    return {"version": 1, "status": "error", "max_score": max_score,
            "tests": [{"name": f"lesson {lesson}: no result", "status": "error", "score": 0,
                       "message": message, "test_code": f"scripts/grade --lesson {lesson}",
                       "filename": "", "line_no": 0, "duration": 0}]}


def main(runners):
    if not runners:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        lessons = course.load().lessons
    except course.CourseError as err:
        print(f"error: {err}; the lessons' maxima are unknown, a missing result "
              "counts 0 of 0", file=sys.stderr)
        lessons = {}
    lines = []
    for runner in runners:
        match = re.fullmatch(r"lesson(\d+)", runner)
        if not match:
            print(f"error: {runner}: a runner id must be lessonN", file=sys.stderr)
            return 2
        lesson = int(match.group(1))
        why = readable(os.environ.get(f"{runner.upper()}_RESULTS", ""))
        if why is None:
            print(f"{runner}: has its result")
            continue
        max_score = lessons[lesson].points if lesson in lessons else 0
        result = error_result(runner, lesson, max_score, why,
                              os.environ.get(f"{runner.upper()}_OUTCOME", ""))
        encoded = base64.b64encode(json.dumps(result).encode("utf-8")).decode("ascii")
        lines.append(f"{runner}={encoded}\n")
        print(f"{runner}: {why}: an error result in its place, 0/{max_score} points")
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
