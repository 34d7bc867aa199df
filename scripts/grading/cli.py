"""scripts/grade: grade the course's black-box tests, lesson by lesson.

    scripts/grade                              # every lesson, a table of points
    scripts/grade --lesson 2                   # one lesson
    scripts/grade --impl tcp-echo='python3 my_echo.py'   # grade your own program
    scripts/grade --config my/grading.toml     # the commands of a grading file
    scripts/grade --json results.json          # Gradescope results file
    scripts/grade --lesson 1 --classroom       # GitHub Classroom runner result
    scripts/grade --lesson 1 --strict          # exit 1 if any test of lesson 1 fails
    scripts/grade --lesson 8 --test keep_alive_serves_several_requests_on_one_connection
                                               # only that test (repeatable)

Lesson N's tests are the files crates/<program>/tests/lessonNN*.rs. They talk
to a program only through README "Conventions", so they grade any
implementation: a command from --impl, IMPL_<PROGRAM> or grading.toml runs,
from the repository's top folder (a grading.toml's commands: from its own
folder), in place of the program Cargo built. Unit tests and lints are not
part of the score. Tests run with cargo-nextest, each with its own time
limit (.config/nextest.toml, profile `grade`).

Before a lesson's tests, each program it runs is built from its source as
it is now (`cargo run` commands, and binaries of the workspace's crates:
`target/debug/my-tcp-echo`); a crate that does not compile, or a command
that cannot start, is that lesson's result: 0 points, the reason first.
Only the lessons being graded have their programs built and checked.

After each lesson, <target>/grade/lessonNN.json records the result, and
lessonNN.progress.jsonl each test as it ends (record.py says the format).

Exit status: 0 when grading ran, whatever the score; 1 with --strict when a
test failed; 2 when grading itself could not run (bad arguments, a bad
grading.toml, cargo-nextest missing, the tests did not compile) or a
lesson's program could not be graded (did not build, cannot start);
128 + N when stopped by signal N (SIGTERM, SIGINT), its results written.
"""

import argparse
import json
import os
import shlex
import signal
import sys
import time
import traceback

from . import course, points, programs, reaper, record, report, tests
from .programs import GradingError

# Gradings that may run at once in one folder, each with its own nextest store.
STORE_SLOTS = 8

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one grader at a time is up to you
    fcntl = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def say(message):
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    print(message, file=sys.stderr, flush=True)


def load_points():
    """{lesson: {"title", "units", "programs"}} from the catalogue, course.json."""
    try:
        return {n: {"title": lesson.title, "units": points.to_units(lesson.points),
                    "programs": list(lesson.programs)}
                for n, lesson in course.load().lessons.items()}
    except (course.CourseError, ValueError) as err:
        raise GradingError(str(err)) from None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/grade", description="Grade the black-box tests lesson by lesson.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Programs: " + ", ".join(programs.PROGRAMS) +
               ". Precedence: --impl, then IMPL_<PROGRAM>, then grading.toml, then the "
               "workspace's own program.")
    try:
        known = sorted(load_points())
    except GradingError:
        known = None  # course.json's error is the one grading reports
    parser.add_argument("--lesson", type=int, choices=known, metavar="N",
                        help=f"grade only lesson N ({known[0]}-{known[-1]})" if known else "grade only lesson N")
    parser.add_argument("--impl", action="append", default=[], metavar="PROGRAM=COMMAND",
                        help="run COMMAND (from the repository's top folder) in place of "
                             "PROGRAM; repeatable")
    parser.add_argument("--config", metavar="FILE",
                        help="the grading file naming each program's command "
                             "(default: grading.toml at the repository's top, if present)")
    parser.add_argument("--json", metavar="FILE",
                        help="write Gradescope's results.json to FILE")
    parser.add_argument("--classroom", action="store_true",
                        help="write GitHub Classroom's `result=<base64 JSON>` line to "
                             "$GITHUB_OUTPUT (stdout when unset) and the table to "
                             "$GITHUB_STEP_SUMMARY")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any graded test fails")
    parser.add_argument("--test", action="append", default=[], metavar="NAME",
                        help="with --lesson: grade only the test named NAME (its whole "
                             "name; repeatable), the lesson's points shared among those "
                             "graded; the lesson's record (<target>/grade/) is left as it was")
    parser.add_argument("--require-impl", action="store_true",
                        help="grade a student's own work only: a lesson whose programs are "
                             "not all named (grading.toml, --impl or IMPL_<PROGRAM>) scores 0, "
                             "every test failed with the reason, instead of grading the "
                             "workspace's own programs (GitHub Classroom uses this)")
    args = parser.parse_args(argv)
    if args.test and args.lesson is None:
        parser.error("--test needs --lesson: a test is one lesson's")
    return args


class Grading:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.lessons = []
        self.commands = {}
        self.max_units = 0
        self.numbers = []
        # The lessons' points, known before anything else can fail, so that
        # an error result still names every lesson's maximum.
        try:
            info = load_points()
            self.numbers = [args.lesson] if args.lesson else sorted(info)
            self.max_units = sum(info[n]["units"] for n in self.numbers if n in info)
        except GradingError:
            pass

    def run(self):
        args = self.args
        info = load_points()
        numbers = [args.lesson] if args.lesson else sorted(info)
        self.numbers = numbers
        self.max_units = sum(info[n]["units"] for n in numbers if n in info)
        env = dict(os.environ, RUST_BACKTRACE="0", CARGO_TERM_COLOR="never",
                   NEXTEST_HIDE_PROGRESS_BAR="1")

        config = args.config or os.path.join(ROOT, "grading.toml")
        self.choices = choices = programs.choose(ROOT, args.impl, os.environ, config,
                                                 bool(args.config))
        # Each command goes into the tests' environment now; it is checked
        # (and its crate built) only before a lesson that runs it, so that a
        # program named for another lesson never blocks this one.
        for choice in choices.values():
            if choice.command is not None:
                env[programs.env_var(choice.program)] = programs.shell_line(choice, ROOT)
        self.target = tests.target_dir(ROOT, env)
        self.prepared = {}

        if not tests.nextest_available(ROOT, env):
            raise GradingError("cargo-nextest is not installed (scripts/grade runs the tests "
                               "with it); install it with `cargo install cargo-nextest --locked` "
                               "or scripts/student/lab-setup.sh")

        targets = {n: tests.lesson_targets(ROOT, n) for n in numbers}
        packages = sorted({p for found in targets.values() for p, _ in found})
        if not packages:
            raise GradingError("no lesson tests found under crates/*/tests/")
        say(f"building the tests of {', '.join(packages)} …")
        listing = tests.build_and_list(ROOT, env, packages)

        store = os.path.join(tests.target_dir(ROOT, env), "nextest")
        os.makedirs(store, exist_ok=True)
        # nextest writes each run's JUnit file and log into a store folder, so
        # gradings side by side (scripts/grading/grade-selftest runs several) each take
        # a slot of their own: slot 1 is nextest's default store, slot N a
        # store of its own (target/nextest/slot-N). All busy: wait for slot 1.
        for slot in range(1, STORE_SLOTS + 1):
            lock = open(os.path.join(store, "grade.lock" if slot == 1 else f"grade-{slot}.lock"),
                        "w", encoding="utf-8")
            try:
                if fcntl:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                lock.close()
        else:
            slot = 1
            lock = open(os.path.join(store, "grade.lock"), "w", encoding="utf-8")
            say("waiting for another scripts/grade run in this folder to finish …")
            fcntl.flock(lock, fcntl.LOCK_EX)
        with lock:
            # Always a store named here: nextest's default (target/nextest under
            # the workspace) is not under $CARGO_TARGET_DIR, where this looks.
            own_store = store if slot == 1 else os.path.join(store, f"slot-{slot}")
            for number in numbers:
                self.grade_lesson(number, info[number], targets[number], listing, env, packages,
                                  own_store)

    def prepare(self, program, env):
        """Build (when it is a Rust crate of the workspace) and check the
        command grading `program`, once per grading: {"program", "command",
        "source", "binary", "built_at", "build"} for the record; raises
        GradingError when it does not build or cannot start."""
        if program in self.prepared:
            found = self.prepared[program]
            if isinstance(found, GradingError):
                raise found
            return found
        choice = self.choices[program]
        facts = {"program": program, "command": choice.command, "source": choice.source,
                 "binary": None, "built_at": None, "build": None}
        try:
            build = programs.build_command(choice, ROOT, self.target) if choice.command else None
            if build:
                facts["build"] = " ".join(build)
                say(f"building {program}'s command first: {facts['build']}")
                # `cargo run` from where its command runs; a binary's package from the top.
                folder = choice.folder if programs.cargo_build_command(choice) else ROOT
                proc = tests.run_with_heartbeat(build, folder, env, f"building {program}")
                if proc.returncode != 0:
                    raise GradingError(
                        f"{choice.where}: `{facts['build']}` failed: the code does not compile, "
                        "so nothing of it was graded (nor an older binary); the "
                        "compiler's first errors come with this line",
                        programs.first_errors(proc.stdout + proc.stderr))
            if choice.command:
                programs.check(choice)
        except GradingError as err:
            self.prepared[program] = err
            raise
        binary = programs.binary_path(choice, ROOT, self.target) if choice.command else None
        if binary:
            facts["binary"] = os.path.relpath(binary, ROOT) if binary.startswith(ROOT + os.sep) \
                else binary
            facts["built_at"] = record.utc(os.path.getmtime(binary))
        described = choice.describe()
        if facts["built_at"]:
            described += f"; {facts['binary']} built {facts['built_at']}"
        say(f"grading {program} as: {described}")
        self.commands[program] = described if choice.command else "the workspace's own program"
        self.prepared[program] = facts
        return facts

    def grade_lesson(self, number, info, targets, listing, env, packages, own_store=None):
        lesson_tests = tests.lesson_tests(number, targets, listing)
        if self.args.test:
            lesson_tests = only_named(lesson_tests, self.args.test, number)
        tests.put_in_readme_order(lesson_tests, tests.readme_order(ROOT, number))
        shares = points.share(info["units"], len(lesson_tests))
        replaced = "".join(f"{programs.env_var(p)}={shlex.quote(env[programs.env_var(p)])} "
                           for p in info["programs"] if env.get(programs.env_var(p)))
        for test, units in zip(lesson_tests, shares):
            test.units = units
            test.env_prefix = replaced
        self.current = (number, info, lesson_tests)
        live = record.Progress(self.target, number)
        error = None
        facts = []
        # A student's repository holds the reference programs too: graded as
        # they are, they would earn every point for nothing.
        unnamed = [p for p in info["programs"] if not env.get(programs.env_var(p))]
        if self.args.require_impl and unnamed:
            reason = (f"{', '.join(unnamed)} {'is' if len(unnamed) == 1 else 'are'} not named in "
                      "grading.toml, so there is nothing of yours to grade for this lesson: add "
                      + ", ".join(f'`{p} = "<your command>"`' for p in unnamed)
                      + f" under [impl] (`scripts/exercise start {number}` does it for you)")
            say(f"lesson {number}: not graded: {reason}")
            for test in lesson_tests:
                test.status, test.message = "not run", reason
        else:
            # Grade what was written: every program of the lesson built now.
            try:
                facts = [self.prepare(p, env) for p in info["programs"]]
            except GradingError as err:
                error = (f"error: {err}", err.detail)
                say(f"lesson {number}: not graded: {err}")
                for test in lesson_tests:
                    test.status = "not run"
                    test.message = f"not run: lesson {number}'s program could not be graded: {err}"
        say(f"lesson {number}: {len(lesson_tests)} tests …")
        seconds = 0.0
        try:
            if lesson_tests and not (self.args.require_impl and unnamed) and not error:
                seconds = tests.run_lesson(ROOT, env, packages, number, lesson_tests, progress,
                                           own_store, finished=live.finished,
                                           only=bool(self.args.test))
        finally:
            live.close()
        killed = reaper.kill_leftovers()
        if killed:
            say(f"lesson {number}: killed {killed} process{'es' if killed != 1 else ''} "
                "the tests left running")
        for test in lesson_tests:
            test.earned = test.units if test.passed else 0
        lesson = report.Lesson(number, info["title"], info["units"] if lesson_tests else 0,
                               lesson_tests, seconds, killed, error)
        self.lessons.append(lesson)
        self.current = None
        if not self.args.test:  # a part of a lesson is no record of the lesson
            record.write(self.target, lesson, facts,
                         {p: self.choices[p].command for p in info["programs"] if p in self.choices})
        say(f"lesson {number}: {lesson.passed}/{len(lesson_tests)} passed, "
            f"{points.show(lesson.earned)}/{points.show(lesson.units)} points, {seconds:.1f} s"
            + (f" (record: {os.path.relpath(record.record_path(self.target, number), ROOT)})"
               if os.path.isabs(self.target) and self.target.startswith(ROOT)
               and not self.args.test else ""))

    def record_stopped(self, problem):
        """The lesson being graded when the grader was stopped: its record."""
        if not getattr(self, "current", None):
            return
        number, info, lesson_tests = self.current
        for test in lesson_tests:
            test.status, test.message, test.earned = "not run", problem, 0
        lesson = report.Lesson(number, info["title"], info["units"], lesson_tests, 0.0, 0,
                               (problem, ""))
        record.write(self.target, lesson, [],
                     {p: self.choices[p].command for p in info["programs"] if p in self.choices})


def only_named(lesson_tests, names, number):
    """The tests of `lesson_tests` that `names` name (--test), renumbered; a name
    that is no test of the lesson is a GradingError."""
    known = {t.name for t in lesson_tests}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GradingError(f"--test {unknown[0]}: lesson {number} has no test of that name "
                           f"(its tests: `cargo nextest list -p PACKAGE --test lessonNN…`)")
    chosen = [t for t in lesson_tests if t.name in names]
    for index, test in enumerate(chosen, 1):
        test.index = index
    say(f"lesson {number}: grading {len(chosen)} of its {len(lesson_tests)} tests (--test)")
    return chosen


def progress(lesson, done, total, seconds):
    line = f"lesson {lesson}: {done}/{total} tests done, {seconds:.0f} s"
    if sys.stderr.isatty():
        # On a terminal one line, rewritten in place (cleared by the next `say`).
        sys.stderr.write("\r\033[K" + line)
        sys.stderr.flush()
    else:
        say(line)


def write_json(path, data):
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.write("\n")
    except OSError as err:
        say(f"error: write {path}: {err.strerror}")
        return False
    return True


class Stopped(Exception):
    """The grader got SIGTERM or SIGINT (a step's time limit, a cancelled run, ^C)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def stopped_problem(grading, signum):
    """The error line of a grading stopped by a signal, naming the lesson it was in."""
    name = signal.Signals(signum).name
    seconds = time.monotonic() - grading.started
    done = {lesson.number for lesson in grading.lessons}
    cut = [n for n in grading.numbers if n not in done]
    where = (f" while grading lesson {cut[0]}" if cut else "")
    return (f"error: grading was stopped by {name} after {seconds:.0f} s{where} (a time limit, a "
            f"cancelled run, or ^C): lesson{'s' if len(cut) != 1 else ''} "
            f"{', '.join(map(str, cut)) or '-'} scored 0 this time, not for what the program "
            "does; grade again")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    reaper.become_subreaper()
    grading = Grading(args)

    def stop(signum, _frame):
        # Raised in the main thread, wherever it waits; the results below
        # are still written, so a killed step reports its lesson (0 points).
        raise Stopped(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    problem = detail = None
    status = 2
    try:
        grading.run()
    except GradingError as err:
        problem, detail = f"error: {err}", err.detail
    except Stopped as err:
        problem, status = stopped_problem(grading, err.signum), 128 + err.signum
        grading.record_stopped(problem)
    except Exception:  # the grader's own fault: still an error result, with the trace
        problem = "error: scripts/grade itself failed (not the program's fault); the trace is above"
        detail = traceback.format_exc()
    finally:
        # From here on, results get written whatever arrives.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        reaper.kill_leftovers()
    seconds = time.monotonic() - grading.started

    if problem:
        if detail:
            sys.stderr.write(detail.rstrip("\n") + "\n")
        say(problem)
        if status != 2:
            say("every process the tests started is stopped")
    else:
        failures = report.failures_text(grading.lessons)
        if failures:
            print(failures)
        print()
        print(report.table(grading.lessons))
    ok = True
    if args.json:
        ok = write_json(args.json, report.gradescope(grading.lessons, seconds, grading.commands,
                                                     grading.max_units, problem, detail))
    if args.classroom:
        result = report.classroom(grading.lessons, grading.max_units, problem, detail)
        report.write_classroom(result, grading.lessons, sys.stdout)
    sys.stdout.flush()
    if problem or not ok:
        return status
    if any(lesson.error for lesson in grading.lessons):
        return 2  # a lesson could not be graded (its program did not build, or cannot start)
    failed = any(not t.passed for lesson in grading.lessons for t in lesson.tests)
    return 1 if args.strict and failed else 0
