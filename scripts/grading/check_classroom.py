#!/usr/bin/env python3
"""What GitHub Classroom records from classroom.yml, reproduced (run by .ci/run).

    python3 scripts/grading/check_classroom.py [--lesson1 GITHUB_OUTPUT_FILE]

Classroom's reporter (classroom-resources/autograding-grading-reporter v1)
reads each runner's `<ID>_RESULTS` variable (base64 of the JSON that
`scripts/grade --classroom` writes), adds every test's `score` in runner
order as JavaScript numbers (IEEE doubles), and emits the notice
`Points <total>/<max>`, the number printed as JavaScript prints it: this
is what Classroom records. This check does the same arithmetic
(`points.js_number` prints as JavaScript does) on real results:

- lesson 1 graded for real with the course's program (the file named by
  --lesson1, from an earlier run; graded here when not given), lesson 8
  graded for real, and the other lessons built by the grader's own report code
  from their real test lists (`cargo nextest list`), every test passed:
  all the catalogue's points (`Points 110/110` with nine lessons), exactly;
- a partial submission: lesson 8 graded for real against a server that
  answers everything with garbage (scripts/grading/testdata/garbage_server.py), a
  third of the other lessons' tests failed: the notice's figure is a short
  decimal, and the same as the grade table's;
- a lesson step killed by SIGTERM after 5 s (lesson 1, a server that never
  answers): its result is there, an error worth 0, the other lessons count;
- a lesson step that left no result: the workflow's `results` step
  (fill_results.py) fills one in, and the reporter still gets every lesson;
- every result under 64 KiB of base64 (Linux refuses one variable over
  128 KiB), the garbage lesson 8's included.

Prints each scenario's notice; exit 1 on the first mismatch.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from grading import cli, course, points, report, tests  # noqa: E402

LIMIT = report.CLASSROOM_LIMIT
# Every lesson of the catalogue; lessons 1 and 8 are graded for real, the
# others' results built by the report code.
NUMBERS = list(course.load().lessons)
RUNNERS = [f"lesson{n}" for n in NUMBERS]
SYNTHESIZED = [n for n in NUMBERS if n not in (1, 8)]


class Mismatch(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Mismatch(what)


def grade(args, output, timeout_seconds=None):
    """Run scripts/grade --classroom; its GITHUB_OUTPUT line ("" when none)."""
    env = dict(os.environ, GITHUB_OUTPUT=output, GITHUB_STEP_SUMMARY=output + ".summary")
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "grade"), "--classroom", *args]
    if timeout_seconds:
        cmd = ["timeout", "-s", "TERM", str(timeout_seconds), *cmd]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    print(f"  scripts/grade {' '.join(args)}: exit {proc.returncode}, "
          f"{time.monotonic() - started:.1f} s, {len(proc.stdout)} bytes of output")
    return read_output(output)


def read_output(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines() if line.startswith("result=")]
    except FileNotFoundError:
        return ""
    return lines[-1][len("result="):] if lines else ""


def synthesized(number, info, listing, fail_every=0):
    """Lesson N's result as scripts/grade writes it, from its real test list;
    every `fail_every`-th test failed (0: none)."""
    lesson_tests = tests.lesson_tests(number, tests.lesson_targets(ROOT, number), listing)
    expect(lesson_tests, f"lesson {number}: no tests listed")
    for test, units in zip(lesson_tests, points.share(info["units"], len(lesson_tests))):
        test.units = units
        failed = fail_every and test.index % fail_every == 0
        test.status = "failed" if failed else "passed"
        test.message = "synthesized failure" if failed else ""
        test.earned = 0 if failed else units
    lesson = report.Lesson(number, info["title"], info["units"], lesson_tests, 0.0, 0)
    result = report.classroom([lesson], info["units"])
    return report.encode_classroom(result)[len("result="):].strip(), lesson


def reporter(env):
    """The reporter's arithmetic over every lesson's runner: (notice, results)."""
    results = []
    for runner in RUNNERS:
        encoded = env.get(f"{runner.upper()}_RESULTS", "")
        expect(encoded, f"{runner}: no result: the reporter would throw, and Classroom record nothing")
        expect(len(encoded) < LIMIT, f"{runner}: result of {len(encoded)} bytes, over {LIMIT}")
        results.append(json.loads(base64.b64decode(encoded).decode("utf-8")))
    total, maximum = 0, 0
    for result in results:
        if not result["max_score"]:
            continue
        maximum += result["max_score"]
        for test in result["tests"]:
            total += test["score"]  # in IEEE doubles, in runner order
    return f"Points {points.js_number(total)}/{points.js_number(maximum)}", results


def table_figure(results):
    """The same points, added exactly in sixteenths and shown as the grade table shows them."""
    units = sum(points.to_units(t["score"]) for r in results for t in r["tests"])
    return points.show(units)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson1", metavar="FILE",
                        help="a GITHUB_OUTPUT file of `scripts/grade --lesson 1 --classroom` "
                             "with the course's program (graded here when not given)")
    args = parser.parse_args(argv)
    info = cli.load_points()
    # The reporter's figures for all lessons, and without lesson 1's or lesson 3's points.
    maximum = sum(info[n]["units"] for n in NUMBERS)
    full = f"Points {points.js_number(points.as_number(maximum))}/{points.js_number(points.as_number(maximum))}"
    less_1 = f"Points {points.js_number(points.as_number(maximum - info[1]['units']))}/{points.js_number(points.as_number(maximum))}"
    less_3 = f"Points {points.js_number(points.as_number(maximum - info[3]['units']))}/{points.js_number(points.as_number(maximum))}"
    expect({1, 8} <= set(info), "course.json must have lessons 1 and 8")
    env = dict(os.environ, RUST_BACKTRACE="0", CARGO_TERM_COLOR="never")
    packages = sorted({p for n in SYNTHESIZED for p, _ in tests.lesson_targets(ROOT, n)})
    listing = tests.build_and_list(ROOT, env, packages)

    with tempfile.TemporaryDirectory() as tmp:
        print("real gradings:")
        lesson1 = read_output(args.lesson1) if args.lesson1 else \
            grade(["--lesson", "1"], os.path.join(tmp, "l1"))
        lesson8 = grade(["--lesson", "8"], os.path.join(tmp, "l8"))
        garbage = grade(["--lesson", "8", "--impl", "mini-http=python3 "
                         "scripts/grading/testdata/garbage_server.py"], os.path.join(tmp, "garbage"))
        killed = grade(["--lesson", "1", "--impl", "tcp-echo=python3 "
                        "scripts/grading/testdata/hanging_server.py silent check-classroom"],
                       os.path.join(tmp, "killed"), timeout_seconds=5)
        for name, encoded in (("lesson 1", lesson1), ("lesson 8", lesson8),
                              ("lesson 8, garbage", garbage), ("lesson 1, killed", killed)):
            expect(encoded, f"{name}: the grader wrote no result")
            expect(len(encoded) < LIMIT, f"{name}: {len(encoded)} bytes of base64, not under {LIMIT}")
            print(f"  {name}: a result of {len(encoded)} bytes of base64")

        passing = {n: synthesized(n, info[n], listing)[0] for n in SYNTHESIZED}
        partial = {n: synthesized(n, info[n], listing, fail_every=3)[0] for n in SYNTHESIZED}

        def runners(chosen):
            return {f"LESSON{n}_RESULTS": chosen[n] for n in NUMBERS}

        print("the reporter's notice:")
        notice, _ = reporter(runners({1: lesson1, 8: lesson8, **passing}))
        print(f"  every lesson passing: {notice}")
        expect(notice == full, f"a perfect submission: {notice}, not {full}")

        notice, results = reporter(runners({1: lesson1, 8: garbage, **partial}))
        figure = table_figure(results)
        print(f"  partial (lesson 8 garbage, a third of the other lessons' tests failed): {notice}; "
              f"the grade table: {figure}")
        expect(notice == f"Points {figure}/{points.js_number(points.as_number(maximum))}",
               f"partial: {notice}, the table says {figure}")
        expect(len(figure.partition(".")[2]) <= 4, f"partial: {figure} is not a short decimal")
        garbage_result = results[7]
        expect(garbage_result["status"] == "fail" and len(garbage_result["tests"]) > 1,
               "the garbage lesson 8 was not graded test by test")

        notice, results = reporter(runners({1: killed, 8: lesson8, **passing}))
        print(f"  lesson 1 killed by SIGTERM after 5 s: {notice}")
        expect(results[0]["status"] == "error" and results[0]["max_score"] == 10,
               f"the killed lesson's result: {results[0]['status']}")
        expect("SIGTERM" in results[0]["tests"][-1]["message"], "the killed lesson does not say why")
        expect(notice == less_1, f"killed: {notice}, not {less_1}")

        # A step that left nothing at all: the workflow's `results` step.
        out = os.path.join(tmp, "fill")
        step_env = dict(os.environ, GITHUB_OUTPUT=out, LESSON3_OUTCOME="cancelled",
                        **runners({1: lesson1, 8: lesson8, **passing}))
        step_env["LESSON3_RESULTS"] = ""
        subprocess.run([sys.executable, os.path.join(HERE, "fill_results.py"), *RUNNERS],
                       env=step_env, check=True, stdout=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            filled = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        expect(list(filled) == ["lesson3"], f"fill_results filled {list(filled)}, not lesson3")
        step_env["LESSON3_RESULTS"] = filled["lesson3"]
        notice, _ = reporter(step_env)
        print(f"  lesson 3's step left no result, filled by the `results` step: {notice}")
        expect(notice == less_3, f"filled: {notice}, not {less_3}")
    print("check_classroom: the reporter's figures are exact, every result present and under "
          f"{LIMIT // 1024} KiB")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Mismatch as err:
        print(f"check_classroom: {err}", file=sys.stderr)
        sys.exit(1)
