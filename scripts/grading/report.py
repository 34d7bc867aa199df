"""What grading shows: the table, and the files grading engines read.

- `table()`: one line per lesson, then `N passed, N failed`.
- `gradescope()`: Gradescope's results.json (autograder specifications),
  checked by results.schema.json beside this file.
- `classroom()`: the `result` output GitHub Classroom's
  autograding-grading-reporter reads: base64 of
  {"version": 1, "status", "max_score", "tests": [{"name", "status",
  "score", "message", "test_code", "filename", "line_no", "duration"}]},
  duration in milliseconds as the Classroom graders write it.

Every file and output is bounded, whatever a program under test prints
(README "Grading"): the Classroom result under CLASSROOM_LIMIT bytes of
base64 (the reporter gets it through one environment variable, and Linux
refuses a variable over 128 KiB), each Gradescope test output under
TEST_OUTPUT_LIMIT and the results file under RESULTS_LIMIT, the step
summary under SUMMARY_LIMIT (GitHub's cap is 1 MiB). Where messages must be
cut, `fit()` keeps the first failure whole and cuts the others in the
middle, each in proportion to its length; the cut text stays in the
step summary and the log.
"""

import base64
import json
import os

from .points import as_number, show

KIB = 1024
CLASSROOM_LIMIT = 64 * KIB     # base64 bytes of one --classroom result
TEST_OUTPUT_LIMIT = 16 * KIB   # bytes of one test's output in --json
RESULTS_LIMIT = 256 * KIB      # bytes of the --json file
SUMMARY_LIMIT = 768 * KIB      # bytes this grading adds to $GITHUB_STEP_SUMMARY
LOG_LIMIT = 768 * KIB          # bytes of failure messages the grader prints
FIRST_LIMIT = 12 * KIB         # the first failure is kept whole up to this (or half the budget)

STATUS_WORD = {"passed": "passed", "failed": "FAILED", "timeout": "TIMED OUT",
               "not run": "NOT RUN"}


class Lesson:
    def __init__(self, number, title, units, tests, seconds, killed, error=None):
        self.number = number
        self.title = title
        self.units = units          # the lesson's points, in sixteenths of a point
        self.tests = tests
        self.seconds = seconds
        self.killed = killed        # processes left running, killed after the run
        # (problem, detail) when the lesson could not be graded: its program
        # did not build or cannot start; its tests are then "not run".
        self.error = error

    @property
    def earned(self):
        return sum(t.earned for t in self.tests)

    @property
    def passed(self):
        return sum(1 for t in self.tests if t.passed)


def size(text):
    """Bytes of `text` inside a JSON string (UTF-8, escapes counted)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def cut(text, keep, where):
    """`text` in at most about `keep` characters: its start and its end, with
    a line in the middle saying how much was cut and where it all is."""
    if len(text) <= keep:
        return text
    marker = f"\n… {{}} characters cut here ({where}) …\n"
    room = keep - len(marker.format(len(text)))
    if room <= 0:
        return marker.format(len(text)).strip()
    head = room * 2 // 3
    tail = room - head
    # At line ends where one is near, so that no line starts half-way.
    newline = text.rfind("\n", head // 2, head)
    if newline > 0:
        head = newline
    start = len(text) - tail
    newline = text.find("\n", start, start + tail // 2)
    if newline >= 0:
        start = newline + 1
    return text[:head] + marker.format(start - head) + text[start:]


def fit(messages, budget, first=None, where="the whole message is in the log", each=None):
    """The messages cut so that together they take at most `budget` bytes.

    The message at index `first` (the first failure) stays whole, up to
    FIRST_LIMIT or half the budget, whichever is more; the others are cut in proportion to their lengths, each to
    at most `each` bytes when given. Sizes are measured as in a JSON string.
    """
    out = list(messages)
    if sum(size(m) for m in out) <= budget and (each is None or all(
            size(m) <= each for i, m in enumerate(out) if i != first)):
        return out
    if first is not None and 0 <= first < len(out):
        # Whole, unless it alone would take more than half of a large budget.
        out[first] = fit_one(out[first], min(budget, max(FIRST_LIMIT, budget // 2)), where)
    for i, text in enumerate(out):
        if each is not None and i != first:
            out[i] = fit_one(text, each, where)
    kept = size(out[first]) if first is not None and 0 <= first < len(out) else 0
    others = [i for i in range(len(out)) if i != first and out[i]]
    total = sum(size(out[i]) for i in others)
    room = budget - kept
    if total <= room:
        return out
    scale = max(room, 0) / total
    while True:
        trial = list(out)
        for i in others:
            trial[i] = cut(out[i], max(int(len(out[i]) * scale), 0), where)
        if sum(size(trial[i]) for i in others) <= room:
            return trial
        if scale == 0:  # even the cut markers do not fit: the log has it all
            for i in others:
                trial[i] = ""
            return trial
        scale = scale * 0.9 if scale > 1e-4 else 0


def fit_one(text, budget, where):
    """One message in at most `budget` bytes (as in a JSON string)."""
    keep = len(text)
    while size(text) > budget and keep > 0:
        keep = min(keep - 1, int(keep * budget / size(text)))
        text = cut(text, max(keep, 0), where)
    return text


def first_failure(tests):
    """Index of the failure a student should read first: the lesson's list
    order (`Test.order`, else the index), among the tests that did not pass."""
    failed = [i for i, t in enumerate(tests) if not t.passed]
    if not failed:
        return None
    return min(failed, key=lambda i: (getattr(tests[i], "order", None) or tests[i].index, i))


def in_list_order(tests):
    """Tests in the order of the lesson's "What the tests check" list."""
    return sorted(tests, key=lambda t: (t.lesson, getattr(t, "order", None) or t.index, t.index))


def failures_text(lessons, limit=LOG_LIMIT):
    """Each lesson's error (the compiler's first errors) first, then each
    failed test in the order of the lesson's list, its message indented; the
    messages together at most `limit` bytes (the first failure whole)."""
    out = []
    for lesson in lessons:
        if lesson.error:
            problem, detail = lesson.error
            out.append(f"\nNOT GRADED lesson {lesson.number}: {problem}")
            for line in fit_one(detail or "", FIRST_LIMIT, "the grader caps it").splitlines():
                out.append("    " + line)
            continue
        failed = in_list_order([t for t in lesson.tests if not t.passed])
        messages = fit([t.message or "failed (no message)" for t in failed],
                       limit // max(len(lessons), 1), 0 if failed else None,
                       "the grader caps what it prints per lesson")
        for test, message in zip(failed, messages):
            out.append(f"\n{STATUS_WORD[test.status]} lesson {lesson.number}: {test.name} "
                       f"({test.binary_id}, {test.duration:.1f} s)")
            for line in message.splitlines():
                out.append("    " + line)
            out.append(f"    reproduce: {test.reproduce()}")
    return "\n".join(out)


def table(lessons):
    lines = [f"{'lesson':<7}{'topic':<30}{'tests':>9}{'points':>15}{'time':>8}"]
    for lesson in lessons:
        count = f"{lesson.passed}/{len(lesson.tests)}"
        points = f"{show(lesson.earned)}/{show(lesson.units)}"
        lines.append(f"{lesson.number:<7}{lesson.title:<30}{count:>9}{points:>15}"
                     f"{lesson.seconds:>7.1f}s")
    earned = sum(lesson.earned for lesson in lessons)
    total = sum(lesson.units for lesson in lessons)
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
                    f"{show(lesson.earned)}/{show(lesson.units)} | {lesson.seconds:.1f} s |")
    earned = sum(lesson.earned for lesson in lessons)
    total = sum(lesson.units for lesson in lessons)
    rows.append(f"| **total** | | | **{show(earned)}/{show(total)}** | |")
    return "\n".join(rows)


def fenced(text):
    """Text in a Markdown code fence that its own backticks cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


def test_markdown(test, message=None):
    if test.passed:
        return f"passed in {test.duration:.1f} s"
    message = test.message if message is None else message
    return (f"**{STATUS_WORD[test.status].lower()}** after {test.duration:.1f} s\n\n"
            f"{fenced(message or 'failed (no message)')}\n\n"
            f"Run it again by hand: `{test.reproduce()}`")


def fitted_messages(tests, budget, where, each=None):
    """{id(test): message} for the tests that did not pass, cut by `fit()`."""
    failed = [t for t in tests if not t.passed]
    messages = fit([t.message or "failed (no message)" for t in failed], budget,
                   first_failure(failed), where, each)
    return {id(t): m for t, m in zip(failed, messages)}


def problem_text(problem, detail):
    """A grading error and the output before it (a compiler's first errors),
    at most FIRST_LIMIT bytes."""
    message = f"{problem}\n\n{detail.strip()}" if detail and detail.strip() else problem
    return fit_one(message, FIRST_LIMIT, "the whole output is in the grader's log")


def gradescope(lessons, seconds, commands, max_units, problem=None, detail=""):
    """Gradescope's results.json as a dict (see results.schema.json), under
    RESULTS_LIMIT bytes as written, each test's output under TEST_OUTPUT_LIMIT."""
    every = [test for lesson in lessons for test in lesson.tests]

    def build(messages):
        tests = []
        for lesson in lessons:
            for test in lesson.tests:
                tests.append({
                    "name": test.name,
                    "number": f"{lesson.number}.{test.index}",
                    "score": as_number(test.earned),
                    "max_score": as_number(test.units),
                    "status": "passed" if test.passed else "failed",
                    "output": test_markdown(test, messages.get(id(test), "")),
                    "output_format": "md",
                    "tags": [f"lesson {lesson.number}"],
                    "visibility": "visible",
                })
        if problem:
            output = f"**Grading could not run.**\n\n{fenced(problem)}"
            if detail and detail.strip():
                shown = fit_one(detail.strip(), FIRST_LIMIT, "the whole output is in the grader's log")
                output += f"\n\nThe output before it:\n\n{fenced(shown)}"
        else:
            used = "\n".join(f"- `{p}`: {c}" for p, c in commands.items())
            output = markdown_table(lessons) + (f"\n\nPrograms graded:\n\n{used}" if used else "")
            for lesson in lessons:
                if lesson.error:
                    shown = problem_text(*lesson.error)
                    output += f"\n\n**Lesson {lesson.number} was not graded:**\n\n{fenced(shown)}"
        return {
            "score": as_number(sum(lesson.earned for lesson in lessons)),
            "execution_time": round(seconds),
            "output": output,
            "output_format": "md",
            "test_output_format": "md",
            "visibility": "visible",
            "stdout_visibility": "visible",
            "extra_data": {
                "max_score": as_number(max_units),
                "lessons": [{"lesson": lesson.number, "title": lesson.title,
                             "score": as_number(lesson.earned), "max_score": as_number(lesson.units),
                             "passed": lesson.passed, "tests": len(lesson.tests),
                             "seconds": round(lesson.seconds, 1),
                             "processes_killed": lesson.killed} for lesson in lessons],
            },
            "tests": tests,
        }

    # What the file takes without the messages; they share the rest.
    bare = len(json.dumps(build({}), ensure_ascii=False, indent=2).encode("utf-8"))
    budget = RESULTS_LIMIT - bare - 8 * KIB
    where = "cut to fit the results file; the whole message is in the grader's output"
    return build(fitted_messages(every, budget, where, each=TEST_OUTPUT_LIMIT - KIB))


def classroom(lessons, max_units, problem=None, detail=""):
    """GitHub Classroom's runner result as a dict, under CLASSROOM_LIMIT
    bytes once base64-encoded."""
    every = [test for lesson in lessons for test in lesson.tests]

    def build(messages):
        tests = []
        for lesson in lessons:
            if lesson.error:
                tests.append({"name": f"{lesson.number}.0 lesson {lesson.number} not graded",
                              "status": "error", "score": 0,
                              "message": problem_text(*lesson.error),
                              "test_code": f"scripts/grade --lesson {lesson.number}",
                              "filename": "", "line_no": 0, "duration": 0})
            for test in lesson.tests:
                tests.append({
                    "name": f"{lesson.number}.{test.index} {test.name}",
                    "status": "pass" if test.passed else "fail",
                    "score": as_number(test.earned),
                    "message": "" if test.passed else
                               f"{STATUS_WORD[test.status]}: {messages.get(id(test), '')}",
                    "test_code": test.reproduce(),
                    "filename": f"crates/{test.package}/tests/{test.target}.rs",
                    "line_no": 0,
                    "duration": round(test.duration * 1000),
                })
        if problem:
            tests.append({"name": "grading", "status": "error", "score": 0,
                          "message": problem_text(problem, detail), "test_code": "scripts/grade",
                          "filename": "", "line_no": 0, "duration": 0})
        if problem or any(lesson.error for lesson in lessons):
            status = "error"
        else:
            status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
        return {"version": 1, "status": status, "max_score": as_number(max_units), "tests": tests}

    # base64 makes 4 bytes of every 3; `result=` and a margin come off too.
    bare = len(json.dumps(build({}), ensure_ascii=False).encode("utf-8"))
    budget = CLASSROOM_LIMIT * 3 // 4 - bare - 2 * KIB
    where = "cut to fit Classroom's result; the whole message is in this step's log and summary"
    return build(fitted_messages(every, budget, where))


def encode_classroom(result):
    """The `result=<base64 JSON>` line GitHub Classroom's reporter reads."""
    encoded = base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii")
    return f"result={encoded}\n"


def write_classroom(result, lessons, out):
    """Append `result=<base64 JSON>` to $GITHUB_OUTPUT (or print it), and the
    grade table and each failure (under SUMMARY_LIMIT) to $GITHUB_STEP_SUMMARY
    when set."""
    line = encode_classroom(result)
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
            every = [t for lesson in lessons for t in lesson.tests]
            messages = fitted_messages(every, SUMMARY_LIMIT - 64 * KIB,
                                       "cut to fit GitHub's step summary; the whole message is in "
                                       "this step's log")
            for lesson in lessons:
                if lesson.error:
                    f.write(f"**Lesson {lesson.number} was not graded:** "
                            f"{fenced(problem_text(*lesson.error))}\n\n")
            for test in in_list_order([t for t in every if not t.passed]):
                f.write(f"<details><summary>{STATUS_WORD[test.status]} lesson {test.lesson}: "
                        f"{test.name}</summary>\n\n{fenced(messages[id(test)])}\n\n"
                        "</details>\n\n")
            if result["status"] == "error":
                f.write(f"**Grading could not run:** {fenced(result['tests'][-1]['message'])}\n\n")
