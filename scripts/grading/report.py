"""What grading shows: the table, and the files grading engines read.

- `table()`: one line per lesson, then `N passed, N failed`.
- `gradescope()`: Gradescope's results.json (autograder specifications),
  checked by results.schema.json beside this file.
- `classroom()`: the `result` output GitHub Classroom's
  autograding-grading-reporter reads: base64 of
  {"version": 1, "status", "max_score", "tests": [{"name", "status",
  "score", "message", "test_code", "filename", "line_no", "duration"}]},
  duration in milliseconds as the Classroom graders write it.
"""

import base64
import json
import os

from .points import as_number, show

STATUS_WORD = {"passed": "passed", "failed": "FAILED", "timeout": "TIMED OUT",
               "not run": "NOT RUN"}


class Lesson:
    def __init__(self, number, title, cents, tests, seconds, killed):
        self.number = number
        self.title = title
        self.cents = cents          # the lesson's points, in hundredths
        self.tests = tests
        self.seconds = seconds
        self.killed = killed        # processes left running, killed after the run

    @property
    def earned(self):
        return sum(t.earned for t in self.tests)

    @property
    def passed(self):
        return sum(1 for t in self.tests if t.passed)


def failures_text(lessons):
    """Each failed test, by lesson and name, with its message indented."""
    out = []
    for lesson in lessons:
        for test in lesson.tests:
            if test.passed:
                continue
            out.append(f"\n{STATUS_WORD[test.status]} lesson {lesson.number}: {test.name} "
                       f"({test.binary_id}, {test.duration:.1f} s)")
            for line in (test.message or "failed (no message)").splitlines():
                out.append("    " + line)
            out.append(f"    reproduce: {test.reproduce()}")
    return "\n".join(out)


def table(lessons):
    lines = [f"{'lesson':<7}{'topic':<30}{'tests':>9}{'points':>15}{'time':>8}"]
    for lesson in lessons:
        count = f"{lesson.passed}/{len(lesson.tests)}"
        points = f"{show(lesson.earned)}/{show(lesson.cents)}"
        lines.append(f"{lesson.number:<7}{lesson.title:<30}{count:>9}{points:>15}"
                     f"{lesson.seconds:>7.1f}s")
    earned = sum(lesson.earned for lesson in lessons)
    total = sum(lesson.cents for lesson in lessons)
    lines.append(f"{'total':<37}{'':>9}{f'{show(earned)}/{show(total)}':>15}")
    passed = sum(lesson.passed for lesson in lessons)
    failed = sum(len(lesson.tests) - lesson.passed for lesson in lessons)
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines)


def markdown_table(lessons):
    rows = ["| lesson | topic | tests passed | points | time |",
            "|-------:|-------|-------------:|-------:|-----:|"]
    for lesson in lessons:
        rows.append(f"| {lesson.number} | {lesson.title} | {lesson.passed}/{len(lesson.tests)} | "
                    f"{show(lesson.earned)}/{show(lesson.cents)} | {lesson.seconds:.1f} s |")
    earned = sum(lesson.earned for lesson in lessons)
    total = sum(lesson.cents for lesson in lessons)
    rows.append(f"| **total** | | | **{show(earned)}/{show(total)}** | |")
    return "\n".join(rows)


def fenced(text):
    """Text in a Markdown code fence that its own backticks cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


def test_markdown(test):
    if test.passed:
        return f"passed in {test.duration:.1f} s"
    return (f"**{STATUS_WORD[test.status].lower()}** after {test.duration:.1f} s\n\n"
            f"{fenced(test.message or 'failed (no message)')}\n\n"
            f"Run it again by hand: `{test.reproduce()}`")


def gradescope(lessons, seconds, commands, max_cents, problem=None, detail=""):
    """Gradescope's results.json as a dict (see results.schema.json)."""
    tests = []
    for lesson in lessons:
        for test in lesson.tests:
            tests.append({
                "name": test.name,
                "number": f"{lesson.number}.{test.index}",
                "score": as_number(test.earned),
                "max_score": as_number(test.cents),
                "status": "passed" if test.passed else "failed",
                "output": test_markdown(test),
                "output_format": "md",
                "tags": [f"lesson {lesson.number}"],
                "visibility": "visible",
            })
    if problem:
        output = f"**Grading could not run.**\n\n{fenced(problem)}"
        if detail:
            output += f"\n\nThe output before it:\n\n{fenced(detail.strip())}"
    else:
        used = "\n".join(f"- `{p}`: {c}" for p, c in commands.items())
        output = markdown_table(lessons) + (f"\n\nPrograms graded:\n\n{used}" if used else "")
    return {
        "score": as_number(sum(lesson.earned for lesson in lessons)),
        "execution_time": round(seconds),
        "output": output,
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "visible",
        "extra_data": {
            "max_score": as_number(max_cents),
            "lessons": [{"lesson": lesson.number, "title": lesson.title,
                         "score": as_number(lesson.earned), "max_score": as_number(lesson.cents),
                         "passed": lesson.passed, "tests": len(lesson.tests),
                         "seconds": round(lesson.seconds, 1),
                         "processes_killed": lesson.killed} for lesson in lessons],
        },
        "tests": tests,
    }


def classroom(lessons, max_cents, problem=None, detail=""):
    """GitHub Classroom's runner result as a dict."""
    tests = []
    for lesson in lessons:
        for test in lesson.tests:
            tests.append({
                "name": f"{lesson.number}.{test.index} {test.name}",
                "status": "pass" if test.passed else "fail",
                "score": as_number(test.earned),
                "message": "" if test.passed else
                           f"{STATUS_WORD[test.status]}: {test.message or 'failed'}",
                "test_code": test.reproduce(),
                "filename": f"crates/{test.package}/tests/{test.target}.rs",
                "line_no": 0,
                "duration": round(test.duration * 1000),
            })
    if problem:
        status = "error"
        message = f"{problem}\n\n{detail.strip()}" if detail else problem
        tests.append({"name": "grading", "status": "error", "score": 0, "message": message,
                      "test_code": "scripts/grade", "filename": "", "line_no": 0, "duration": 0})
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {"version": 1, "status": status, "max_score": as_number(max_cents), "tests": tests}


def write_classroom(result, lessons, out):
    """Append `result=<base64 JSON>` to $GITHUB_OUTPUT (or print it), and the
    grade table to $GITHUB_STEP_SUMMARY when set."""
    encoded = base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii")
    line = f"result={encoded}\n"
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(line)
    else:
        out.write(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            if lessons:
                f.write(markdown_table(lessons) + "\n\n")
            failed = [t for lesson in lessons for t in lesson.tests if not t.passed]
            for test in failed:
                f.write(f"<details><summary>{STATUS_WORD[test.status]} lesson {test.lesson}: "
                        f"{test.name}</summary>\n\n{fenced(test.message or 'failed')}\n\n"
                        "</details>\n\n")
            if result["status"] == "error":
                f.write(f"**Grading could not run:** {fenced(result['tests'][-1]['message'])}\n\n")
