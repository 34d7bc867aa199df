"""Unit tests of the grader's parts that need no Cargo (run by .ci/run):

    python3 -m unittest discover -s scripts/grading -t scripts
"""

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from grading import cli, points, programs, record, report, tests
from grading.programs import GradingError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class PointsTest(unittest.TestCase):
    def test_shares_add_up_exactly_with_the_remainder_first(self):
        for total in (160, 240, 400, 1, 0):
            for count in range(1, 80):
                shares = points.share(total, count)
                self.assertEqual(sum(shares), total)
                self.assertLessEqual(max(shares) - min(shares), 1)
                self.assertEqual(shares, sorted(shares, reverse=True))
        # Lesson 1: 10 points, 15 tests: ten of 11/16, five of 10/16.
        self.assertEqual(points.share(160, 15), [11] * 10 + [10] * 5)

    def test_every_sum_of_shares_is_exact_in_binary_floating_point(self):
        # What GitHub Classroom's reporter does: add the scores as doubles, in
        # runner order, and print the sum as JavaScript prints a number.
        lessons = {1: (10, 16), 2: (15, 29), 3: (10, 14), 4: (10, 14), 5: (10, 4),
                   6: (10, 16), 7: (10, 17), 8: (25, 66)}
        scores = [points.as_number(u) for n, (p, count) in sorted(lessons.items())
                  for u in points.share(points.to_units(p), count)]
        total = 0
        for score in scores:
            total += score
        self.assertEqual(points.js_number(total), "100")
        # Any subset, in any order: the float sum is the exact sum.
        import random
        rng = random.Random(20)
        for _ in range(200):
            chosen = [s for s in scores if rng.random() < 0.7]
            rng.shuffle(chosen)
            added = 0.0
            for score in chosen:
                added += score
            units = sum(points.to_units(s) for s in chosen)
            self.assertEqual(added * points.UNIT, units)
            self.assertEqual(points.js_number(added), points.show(units))
        # Hundredths were not: lesson 1's 8 x 0.63 + 8 x 0.62 added as doubles.
        added = 0.0
        for score in [0.63] * 8 + [0.62] * 8:
            added += score
        self.assertEqual(points.js_number(added), "9.999999999999998")

    def test_points_show_and_serialise_exactly(self):
        self.assertEqual(points.show(160), "10")
        self.assertEqual(points.show(11), "0.6875")
        self.assertEqual(points.show(40), "2.5")
        self.assertEqual(points.show(1450), "90.625")
        self.assertEqual(points.as_number(160), 10)
        self.assertEqual(points.as_number(11), 0.6875)
        self.assertEqual(json.dumps(points.as_number(1450)), "90.625")
        self.assertEqual(points.to_units(12.5), 200)
        self.assertEqual(points.to_units(0.0625), 1)
        with self.assertRaises(ValueError):
            points.to_units(0.01)
        self.assertEqual(points.js_number(100.0), "100")
        self.assertEqual(points.js_number(90.625), "90.625")


class GradingFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "grading.toml")

    def tearDown(self):
        self.dir.cleanup()

    def choose(self, text, impl=(), environ=None):
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(text)
        return programs.choose(ROOT, list(impl), environ or {}, self.path, True)

    def error(self, text):
        with self.assertRaises(GradingError) as caught:
            choices = self.choose(text)
            for choice in choices.values():
                if choice.command is not None:
                    programs.check(choice)
        return str(caught.exception)

    def test_each_mistake_is_named_with_its_file_and_key(self):
        self.assertIn("not valid TOML", self.error("[impl"))
        self.assertIn("impl.tcp-ecko: unknown program", self.error('[impl]\ntcp-ecko = "x"'))
        self.assertIn("impl.tcp-echo: must be a string", self.error("[impl]\ntcp-echo = 3"))
        self.assertIn("impl.tcp-echo: empty command", self.error('[impl]\ntcp-echo = " "'))
        self.assertIn("impl.tcp-echo: nosuch-program-x: command not found",
                      self.error('[impl]\ntcp-echo = "nosuch-program-x --flag"'))
        self.assertIn("impl.tcp-echo: my/echo.py: no such file",
                      self.error('[impl]\ntcp-echo = "python3 my/echo.py"'))
        self.assertIn("impl.tcp-echo: ./echo: no such file", self.error('[impl]\ntcp-echo = "./echo"'))
        self.assertIn("other: unknown table", self.error("[other]\na = 1"))
        self.assertTrue(self.error('[impl]\ntcp-echo = "python3 x.py"').startswith(self.path))

    def test_precedence_is_impl_then_environment_then_file_then_built(self):
        script = os.path.join(self.dir.name, "echo.py")
        open(script, "w").close()
        text = '[impl]\ntcp-echo = "python3 echo.py"\nudp-echo = "python3 echo.py"\n' \
               'mini-http = "python3 echo.py"'
        choices = self.choose(text, impl=["tcp-echo=python3 a.py"],
                              environ={"IMPL_UDP_ECHO": "python3 b.py", "IMPL_TCP_ECHO": "c"})
        self.assertEqual((choices["tcp-echo"].command, choices["tcp-echo"].source),
                         ("python3 a.py", "--impl"))
        self.assertEqual((choices["udp-echo"].command, choices["udp-echo"].source),
                         ("python3 b.py", "IMPL_UDP_ECHO"))
        self.assertEqual(choices["mini-http"].command, "python3 echo.py")
        self.assertIsNone(choices["sticky-demo"].command)
        programs.check(choices["mini-http"])  # the script exists beside the file

    def test_a_file_elsewhere_runs_its_commands_from_its_own_folder(self):
        choices = self.choose('[impl]\ntcp-echo = "python3 echo.py"')
        line = programs.shell_line(choices["tcp-echo"], ROOT)
        self.assertIn(f"cd {self.dir.name}", line)
        # As crates/blackbox runs it, with `pwd` for the program.
        line = line.replace("python3 echo.py", "pwd")
        out = subprocess.run(["sh", "-c", f'exec {line} "$@"', "x"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        self.assertEqual(os.path.realpath(out.strip()), os.path.realpath(self.dir.name))

    def test_cargo_run_is_built_first_with_the_same_options(self):
        choice = programs.Choice("mini-http", "cargo run -q --release -p my-http -- --x",
                                 "grading.toml", "grading.toml: impl.mini-http", ROOT)
        self.assertEqual(programs.cargo_build_command(choice),
                         ["cargo", "build", "-q", "--release", "-p", "my-http"])
        choice.command = "python3 x.py"
        self.assertIsNone(programs.cargo_build_command(choice))


ESCAPE = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from grading import reaper
assert reaper.become_subreaper()
# A program that slips away: a grandchild in a session of its own, its
# parent gone, so without a subreaper init would adopt it.
read, write = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        time.sleep(60)
    os._exit(0)
os.close(write)
escaped = int(os.read(read, 32))
print(escaped, reaper.kill_leftovers(), flush=True)
"""


@unittest.skipUnless(sys.platform.startswith("linux"), "the subreaper is Linux-only")
class ReaperTest(unittest.TestCase):
    def test_a_process_that_slipped_away_is_killed(self):
        out = subprocess.run([sys.executable, "-c", ESCAPE, os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))], stdout=subprocess.PIPE, text=True, check=True,
            timeout=30).stdout.split()
        escaped, killed = int(out[0]), int(out[1])
        self.assertEqual(killed, 1)
        self.assertFalse(os.path.exists(f"/proc/{escaped}"), f"process {escaped} still runs")


JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="2" errors="0">
  <testsuite name="tcp-echo::lesson01" tests="3" failures="2" errors="0">
    <testcase name="a_passes" classname="tcp-echo::lesson01" time="0.5"/>
    <testcase name="b_fails" classname="tcp-echo::lesson01" time="1.25">
      <failure type="test failure with exit code 101" message="panicked"/>
      <system-out>running 1 test
test b_fails ... FAILED</system-out>
      <system-err>thread 'b_fails' (7) panicked at crates/x.rs:1:5:
sent 3 bytes, expected 3 back
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace</system-err>
    </testcase>
    <testcase name="c_hangs" classname="tcp-echo::lesson01" time="15.01">
      <failure type="test timeout"/>
      <system-out>running 1 test
</system-out>
      <system-err>step 1: started the server</system-err>
    </testcase>
  </testsuite>
</testsuites>
"""


class ResultsTest(unittest.TestCase):
    def lesson(self):
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "junit.xml")
            with open(store, "w", encoding="utf-8") as f:
                f.write(JUNIT)
            results = tests.read_junit(store)
        found = []
        for index, name in enumerate(["a_passes", "b_fails", "c_hangs", "d_never_ran"], 1):
            test = tests.Test(1, index, "tcp-echo::lesson01", name)
            test.status, test.duration, test.message = results.get(
                (test.binary_id, name), ("not run", 0.0, "never ran"))
            found.append(test)
        for test, units in zip(found, points.share(160, len(found))):
            test.units = units
            test.earned = units if test.passed else 0
        return report.Lesson(1, "TCP data transfer", 160, found, 17.0, 0)

    def test_junit_gives_each_test_its_outcome_and_message(self):
        tests_ = self.lesson().tests
        self.assertEqual([t.status for t in tests_], ["passed", "failed", "timeout", "not run"])
        self.assertEqual(tests_[1].message, "sent 3 bytes, expected 3 back")
        self.assertEqual(tests_[2].message, "step 1: started the server")
        self.assertEqual(tests_[1].duration, 1.25)

    def test_a_failure_keeps_its_wire_view_but_not_the_backtrace(self):
        stderr = "\n".join([
            "step 1: the test's connection: sent 10 bytes: \"0123456789\"",
            "thread 'x' (1) panicked at tests/lesson01.rs:1:1:",
            "expected 10 bytes back, got 7",
            "stack backtrace:",
            "   0: __rustc::rust_begin_unwind",
            "--- on the wire, from the test's side (ms since its first connect; `wire` diagram) ---",
            "     0.028  s1 send 10 B \"0123456789\"  → B",
        ])
        message = tests.why_failed(stderr)
        self.assertIn("expected 10 bytes back, got 7", message)
        self.assertNotIn("rust_begin_unwind", message)
        self.assertTrue(message.endswith("s1 send 10 B \"0123456789\"  → B"), message)

    def test_gradescope_file_is_valid_and_adds_up(self):
        lesson = self.lesson()
        data = report.gradescope([lesson], 17.2, {"tcp-echo": "python3 x.py"}, 160)
        self.assertEqual(data["score"], 2.5)  # 40 units: 16ths
        self.assertEqual([t["number"] for t in data["tests"]], ["1.1", "1.2", "1.3", "1.4"])
        self.assertEqual(sum(t["max_score"] for t in data["tests"]), 10)
        self.assertEqual([t["status"] for t in data["tests"]], ["passed", "failed", "failed", "failed"])
        self.assertIn("```text\nsent 3 bytes", data["tests"][1]["output"])
        try:
            import jsonschema
        except ImportError:
            self.skipTest("jsonschema is not installed")
        with open(os.path.join(os.path.dirname(__file__), "results.schema.json"), encoding="utf-8") as f:
            jsonschema.validate(data, json.load(f))

    def test_the_schema_rejects_what_gradescope_would_not_read(self):
        try:
            import jsonschema
        except ImportError:
            self.skipTest("jsonschema is not installed")
        with open(os.path.join(os.path.dirname(__file__), "results.schema.json"), encoding="utf-8") as f:
            validator = jsonschema.Draft202012Validator(json.load(f))
        good = report.gradescope([self.lesson()], 17.2, {}, 160)
        self.assertTrue(validator.is_valid(good))
        for spoil in (lambda d: d["tests"][0].update(status="ok"),
                      lambda d: d["tests"][0].pop("number"),
                      lambda d: d["tests"][0].update(number="1"),
                      lambda d: d.update(visibility="students"),
                      lambda d: d.pop("score"),
                      lambda d: d.update(leaderboard=[{"name": "req/s", "value": 1, "order": "up"}])):
            bad = json.loads(json.dumps(good))
            spoil(bad)
            self.assertFalse(validator.is_valid(bad), bad)
        good["leaderboard"] = [{"name": "requests per second", "value": 1.25, "order": "desc"}]
        self.assertTrue(validator.is_valid(good))

    def test_classroom_result_has_the_reporters_fields(self):
        lesson = self.lesson()
        result = report.classroom([lesson], 160)
        self.assertEqual((result["version"], result["status"], result["max_score"]), (1, "fail", 10))
        self.assertEqual([t["status"] for t in result["tests"]], ["pass", "fail", "fail", "fail"])
        self.assertEqual(result["tests"][0]["score"], 2.5)
        self.assertEqual(result["tests"][1]["duration"], 1250)
        out = io.StringIO()
        with mock.patch.dict(os.environ, {"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""}):
            report.write_classroom(result, [lesson], out)
        line = out.getvalue()
        self.assertTrue(line.startswith("result=") and line.endswith("\n"))
        self.assertEqual(json.loads(base64.b64decode(line[7:])), result)

    def test_a_grading_error_is_an_error_result_worth_nothing(self):
        result = report.classroom([], 160, "error: grading.toml: impl: must be a table")
        self.assertEqual((result["status"], result["max_score"]), ("error", 10))
        self.assertEqual(sum(t["score"] for t in result["tests"]), 0)
        data = report.gradescope([], 1.0, {}, 160, "error: grading.toml: impl: must be a table")
        self.assertEqual((data["score"], data["tests"]), (0, []))
        self.assertIn("impl: must be a table", data["output"])


class BoundsTest(unittest.TestCase):
    def failing_lesson(self, count, message):
        found = []
        for index in range(1, count + 1):
            test = tests.Test(8, index, "mini-http::lesson08", f"test_number_{index:02d}")
            test.status, test.message = "failed", message(index)
            test.env_prefix = "IMPL_MINI_HTTP='python3 my/mini-http/mini_http.py' "
            found.append(test)
        for test, units in zip(found, points.share(400, count)):
            test.units, test.earned = units, 0
        return report.Lesson(8, "HTTP over TCP", 400, found, 40.0, 0)

    def test_a_cut_keeps_both_ends_and_says_how_much_went(self):
        text = "\n".join(f"line {i}" for i in range(1000))
        short = report.cut(text, 500, "see the log")
        self.assertLessEqual(len(short), 500)
        self.assertTrue(short.startswith("line 0\n"))
        self.assertTrue(short.endswith("line 999"))
        self.assertRegex(short, r"… \d+ characters cut here \(see the log\) …")
        self.assertEqual(report.cut("short", 500, "x"), "short")

    def test_fit_keeps_the_first_failure_whole_and_cuts_the_rest_in_proportion(self):
        messages = ["a" * 4000, "b" * 20000, "c" * 2000, "d" * 40000]
        fitted = report.fit(messages, 12000, first=0, where="log")
        self.assertEqual(fitted[0], messages[0])
        self.assertLessEqual(sum(report.size(m) for m in fitted), 12000)
        # b was ten times c, and stays about ten times as long (the markers aside).
        self.assertGreater(len(fitted[3]), len(fitted[1]) * 1.5)
        self.assertGreater(len(fitted[1]), len(fitted[2]))
        self.assertEqual(report.fit(["x", "y"], 100, first=0), ["x", "y"])

    def test_a_classroom_result_stays_under_64_kib_whatever_the_program_printed(self):
        garbage = "".join(chr(0x20 + (i * 7) % 90) + ("\n" if i % 80 == 0 else "") for i in range(6000))
        lesson = self.failing_lesson(66, lambda i: f"expected a response; got {i}:\n" + garbage + '"\\')
        result = report.classroom([lesson], 400)
        line = report.encode_classroom(result)
        self.assertLess(len(line), report.CLASSROOM_LIMIT)
        self.assertEqual(json.loads(base64.b64decode(line[7:])), result)
        self.assertEqual(len(result["tests"]), 66)
        # The first failure whole, the others cut and saying so.
        self.assertEqual(result["tests"][0]["message"], "FAILED: " + lesson.tests[0].message)
        self.assertIn("characters cut here", result["tests"][1]["message"])
        data = report.gradescope([lesson], 40.0, {}, 400)
        self.assertLess(len(json.dumps(data, ensure_ascii=False, indent=2).encode()), report.RESULTS_LIMIT)
        self.assertTrue(all(len(t["output"].encode()) < report.TEST_OUTPUT_LIMIT for t in data["tests"]))

    def test_the_step_summary_and_printed_failures_are_bounded(self):
        lesson = self.failing_lesson(66, lambda i: "x" * 200_000)
        text = report.failures_text([lesson])
        self.assertLess(len(text.encode()), report.LOG_LIMIT + 66 * 400)
        with tempfile.TemporaryDirectory() as tmp:
            summary = os.path.join(tmp, "summary.md")
            with mock.patch.dict(os.environ, {"GITHUB_OUTPUT": os.path.join(tmp, "out"),
                                              "GITHUB_STEP_SUMMARY": summary}):
                report.write_classroom(report.classroom([lesson], 400), [lesson], io.StringIO())
            self.assertLess(os.path.getsize(summary), report.SUMMARY_LIMIT)

    def test_the_first_failure_is_the_first_in_the_lessons_list(self):
        lesson = self.failing_lesson(3, lambda i: f"m{i}")
        lesson.tests[0].status = "passed"
        self.assertEqual(report.first_failure(lesson.tests), 1)
        lesson.tests[2].order = 1
        lesson.tests[1].order = 2
        self.assertEqual(report.first_failure(lesson.tests), 2)


class FillResultsTest(unittest.TestCase):
    def run_fill(self, env):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "fill_results.py"), "lesson1", "lesson8"],
                           env=dict(os.environ, GITHUB_OUTPUT=out, **env), check=True,
                           stdout=subprocess.PIPE, timeout=30)
            with open(out, encoding="utf-8") as f:
                return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)

    def test_a_missing_or_broken_result_becomes_an_error_worth_0_of_the_lesson(self):
        good = base64.b64encode(json.dumps({"version": 1, "status": "pass", "max_score": 10,
                                            "tests": [{"score": 10}]}).encode()).decode()
        filled = self.run_fill({"LESSON1_RESULTS": good, "LESSON8_RESULTS": "",
                                "LESSON8_OUTCOME": "cancelled"})
        self.assertEqual(list(filled), ["lesson8"])
        result = json.loads(base64.b64decode(filled["lesson8"]))
        self.assertEqual((result["status"], result["max_score"]), ("error", 25))
        self.assertEqual([t["score"] for t in result["tests"]], [0])
        self.assertIn("cancelled", result["tests"][0]["message"])
        filled = self.run_fill({"LESSON1_RESULTS": "bm90IGpzb24=", "LESSON8_RESULTS": good})
        self.assertEqual(list(filled), ["lesson1"])


class StoppedTest(unittest.TestCase):
    def test_a_grading_stopped_by_sigterm_still_writes_its_lessons_error_result(self):
        # The grader stopped before any lesson ran: its result names the
        # lesson's full points, 0 earned, and why.
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            env = dict(os.environ, GITHUB_OUTPUT=out, GITHUB_STEP_SUMMARY="", PATH="/nonexistent")
            script = ("import os, signal, sys; sys.path.insert(0, sys.argv[1]);"
                      "from grading import cli, tests;"
                      "tests.nextest_available = lambda *a: os.kill(os.getpid(), signal.SIGTERM);"
                      "sys.exit(cli.main(['--lesson', '3', '--classroom']))")
            proc = subprocess.run([sys.executable, "-c", script, os.path.dirname(
                os.path.dirname(os.path.abspath(__file__)))], env=env, capture_output=True,
                text=True, timeout=60)
            self.assertEqual(proc.returncode, 128 + 15, proc.stderr)
            self.assertIn("stopped by SIGTERM", proc.stderr)
            with open(out, encoding="utf-8") as f:
                result = json.loads(base64.b64decode(f.read().strip()[len("result="):]))
        self.assertEqual((result["status"], result["max_score"]), ("error", 10))
        self.assertEqual(sum(t["score"] for t in result["tests"]), 0)
        self.assertIn("lesson 3", result["tests"][-1]["message"])


COMPILER = """   Compiling my-tcp-echo v0.1.0 (/x/my/tcp-echo)
warning: unused variable: `peer`
 --> my/tcp-echo/src/server.rs:33:36
error: expected one of `!`, `.`, `::`, `;`, `?`, `{`, `}`, or an operator, found `is`
  --> my/tcp-echo/src/server.rs:37:10
   |
37 |     this is not rust at all
   |          ^^ expected one of 8 possible tokens

error[E0425]: cannot find value `x` in this scope
  --> my/tcp-echo/src/client.rs:5:5

warning: `my-tcp-echo` (bin "my-tcp-echo") generated 1 warning
error: could not compile `my-tcp-echo` (bin "my-tcp-echo") due to 2 previous errors
"""


class GradeWhatWasWrittenTest(unittest.TestCase):
    def choice(self, command, folder=ROOT):
        return programs.Choice("tcp-echo", command, "grading.toml", "grading.toml: impl.tcp-echo", folder)

    def test_a_binary_of_the_workspace_is_built_from_its_package(self):
        target = os.path.join(ROOT, "target")
        with mock.patch.object(programs, "workspace_bins", return_value={"my-tcp-echo": "my-tcp-echo"}):
            self.assertEqual(programs.build_command(self.choice("target/debug/my-tcp-echo --x"), ROOT, target),
                             ["cargo", "build", "-p", "my-tcp-echo", "--bin", "my-tcp-echo"])
            self.assertEqual(programs.build_command(self.choice("./target/release/my-tcp-echo"), ROOT, target),
                             ["cargo", "build", "-p", "my-tcp-echo", "--bin", "my-tcp-echo", "--release"])
            # Under $CARGO_TARGET_DIR, named by its absolute path.
            elsewhere = "/tmp/shared-target"
            self.assertEqual(programs.build_command(self.choice(f"{elsewhere}/debug/my-tcp-echo"), ROOT,
                                                    elsewhere)[:3], ["cargo", "build", "-p"])
            self.assertIsNone(programs.build_command(self.choice("target/debug/not-a-crate"), ROOT, target))
            self.assertIsNone(programs.build_command(self.choice("python3 my/x.py"), ROOT, target))
            self.assertIsNone(programs.build_command(self.choice("my/bin/echo"), ROOT, target))
        self.assertEqual(programs.build_command(self.choice("cargo run -q -p my-tcp-echo --"), ROOT, target),
                         ["cargo", "build", "-q", "-p", "my-tcp-echo"])

    def test_the_compilers_first_errors_without_warnings_or_progress(self):
        shown = programs.first_errors(COMPILER)
        self.assertTrue(shown.startswith("error: expected one of"), shown)
        self.assertIn("this is not rust at all", shown)
        self.assertIn("error[E0425]: cannot find value `x`", shown)
        self.assertNotIn("warning", shown)
        self.assertNotIn("could not compile", shown)
        self.assertNotIn("Compiling", shown)
        self.assertIn("1 more error", programs.first_errors(COMPILER, errors=1))

    def test_a_crate_that_does_not_compile_is_the_lessons_result_not_an_old_binary(self):
        args = cli.parse_args(["--lesson", "1"])
        grading = cli.Grading(args)
        grading.choices = {"tcp-echo": self.choice("target/debug/my-tcp-echo")}
        grading.target = os.path.join(ROOT, "target")
        grading.prepared = {}
        failed = subprocess.CompletedProcess([], 101, "", COMPILER)
        with mock.patch.object(programs, "workspace_bins", return_value={"my-tcp-echo": "my-tcp-echo"}), \
                mock.patch.object(tests, "run_with_heartbeat", return_value=failed) as build, \
                mock.patch.object(programs, "check") as check, \
                mock.patch.object(cli, "say"):
            with self.assertRaises(GradingError) as caught:
                grading.prepare("tcp-echo", {})
            # Asked again (another lesson of the same program): the same error, one build.
            with self.assertRaises(GradingError):
                grading.prepare("tcp-echo", {})
        self.assertEqual(build.call_count, 1)
        check.assert_not_called()
        self.assertIn("does not compile", str(caught.exception))
        self.assertTrue(caught.exception.detail.startswith("error: expected one of"))
        # Its result: 0 points, the error first, every test not run.
        lesson = ResultsTest.lesson(ResultsTest())
        for test in lesson.tests:
            test.status, test.earned = "not run", 0
        lesson.error = (f"error: {caught.exception}", caught.exception.detail)
        text = report.failures_text([lesson])
        self.assertTrue(text.strip().startswith("NOT GRADED lesson 1: error: grading.toml"), text[:200])
        self.assertIn("this is not rust at all", text)
        result = report.classroom([lesson], 160)
        self.assertEqual(result["status"], "error")
        self.assertEqual(result["tests"][0]["status"], "error")
        self.assertIn("this is not rust at all", result["tests"][0]["message"])
        self.assertEqual(sum(t["score"] for t in result["tests"]), 0)


class ListOrderTest(unittest.TestCase):
    def test_the_lessons_list_is_read_as_check_lessons_reads_it(self):
        names = tests.readme_order(ROOT, 1)
        with open(os.path.join(ROOT, "lessons", "01-tcp-transfer", "README.md"), encoding="utf-8") as f:
            text = f.read().split("## What the tests check", 1)[1]
        first = text[text.index("- `") + 3:]
        self.assertEqual(names[0], first[:first.index("`")])
        self.assertIn("holds_10000_open_connections_and_still_echoes", names)
        self.assertEqual(tests.readme_order(ROOT, 99), [])

    def test_failures_are_shown_in_the_lessons_order(self):
        lesson = ResultsTest.lesson(ResultsTest())  # a_passes, b_fails, c_hangs, d_never_ran
        tests.put_in_readme_order(lesson.tests, ["d_never_ran", "c_hangs", "a_passes"])
        self.assertEqual([t.order for t in lesson.tests], [3, 5, 2, 1])  # b: unlisted, last
        text = report.failures_text([lesson])
        shown = [line.split(": ", 1)[1].split(" ")[0] for line in text.splitlines()
                 if line.startswith(("FAILED", "TIMED OUT", "NOT RUN"))]
        self.assertEqual(shown, ["d_never_ran", "c_hangs", "b_fails"])
        self.assertEqual(report.first_failure(lesson.tests), 3)

    def test_test_grades_only_the_named_tests_of_a_lesson(self):
        listed = [tests.Test(8, i, "mini-http::lesson08", name)
                  for i, name in enumerate(["a_first", "b_second", "c_third"], 1)]
        with mock.patch.object(cli, "say"):
            chosen = cli.only_named(listed, ["c_third", "a_first"], 8)
        self.assertEqual([(t.name, t.index) for t in chosen], [("a_first", 1), ("c_third", 2)])
        with self.assertRaisesRegex(GradingError, "--test a_frist: lesson 8 has no test"):
            cli.only_named(listed, ["a_frist"], 8)
        with mock.patch("sys.stderr", io.StringIO()), self.assertRaises(SystemExit):
            cli.parse_args(["--test", "a_first"])  # a test is one lesson's: --lesson needed
        self.assertEqual(cli.parse_args(["--lesson", "8", "--test", "a_first"]).test, ["a_first"])

    def test_a_reason_line_is_the_panics_message(self):
        stderr = ("step 1: start `x server`\n\nthread 't' (7) panicked at a.rs:1:1:\n"
                  "expected 3 bytes back, got 0\nmore\n")
        self.assertEqual(tests.reason_line(stderr, "FAIL"), "expected 3 bytes back, got 0")
        self.assertEqual(tests.reason_line("just this\n", "FAIL"), "just this")
        self.assertIn("time limit", tests.reason_line("", "TIMEOUT"))


class RecordTest(unittest.TestCase):
    def test_the_record_has_its_fields_in_list_order_and_stays_under_256_kib(self):
        lesson = ResultsTest.lesson(ResultsTest())
        tests.put_in_readme_order(lesson.tests, ["c_hangs", "b_fails", "a_passes", "d_never_ran"])
        for test in lesson.tests:
            if not test.passed:
                test.message = "x" * 300_000
        facts = [{"program": "tcp-echo", "command": "target/debug/my-tcp-echo", "source": "grading.toml",
                  "binary": "target/debug/my-tcp-echo", "built_at": "2026-12-07T21:15:45Z",
                  "build": "cargo build -p my-tcp-echo --bin my-tcp-echo"}]
        with tempfile.TemporaryDirectory() as target:
            record.write(target, lesson, facts)
            path = os.path.join(target, "grade", "lesson01.json")
            self.assertLess(os.path.getsize(path), record.RECORD_LIMIT)
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            live = record.Progress(target, 1)
            live.finished("a_passes", "passed", "")
            live.finished("b_fails", "failed", "expected 3 bytes back, got 0")
            live.close()
            with open(os.path.join(target, "grade", "lesson01.progress.jsonl"), encoding="utf-8") as f:
                lines = [json.loads(line) for line in f]
        self.assertEqual((data["lesson"], data["passed"], data["total"]), (1, 1, 4))
        self.assertEqual((data["points"], data["max_points"]), (2.5, 10))
        self.assertRegex(data["graded_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(data["programs"], facts)
        self.assertEqual(data["commands"], {"tcp-echo": "target/debug/my-tcp-echo"})
        self.assertEqual([t["name"] for t in data["tests"]], ["c_hangs", "b_fails", "a_passes", "d_never_ran"])
        self.assertEqual([t["status"] for t in data["tests"]], ["timeout", "failed", "passed", "not run"])
        # The first failure in the list keeps the most (up to half the file).
        self.assertLessEqual(len(data["tests"][0]["message"]), record.RECORD_LIMIT // 2)
        self.assertGreater(len(data["tests"][0]["message"]), len(data["tests"][1]["message"]))
        self.assertIn("characters cut here", data["tests"][1]["message"])
        self.assertEqual(lines[1], {"name": "b_fails", "status": "failed",
                                    "reason": "expected 3 bytes back, got 0"})


if __name__ == "__main__":
    sys.exit(unittest.main())
