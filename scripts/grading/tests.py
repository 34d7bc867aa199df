"""The lessons' black-box tests, run with cargo-nextest.

Lesson N's tests are the test files crates/<package>/tests/lessonNN*.rs.
They are built once and listed (`cargo nextest list`): that list is the
lesson's denominator, whatever later hangs or crashes. Each lesson then runs
with the `grade` profile of .config/nextest.toml, which gives every test its
own time limit; the per-test results (pass, fail, timeout, duration, the
failure message) are read back from nextest's JUnit file.
"""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

from .programs import GradingError

PROFILE = "grade"
# The whole run of one lesson may not take longer than this, whatever the
# per-test limits say (a safety net: nextest itself should never hang).
LESSON_CEILING = 300
PROGRESS_EVERY = 2.0


class Test:
    """One graded test and its outcome."""

    def __init__(self, lesson, index, binary_id, name):
        self.lesson = lesson
        self.index = index            # 1-based, in the lesson's list (by file, then name)
        self.order = None             # 1-based, in the README's "What the tests check"
        self.binary_id = binary_id    # "tcp-echo::lesson01"
        self.name = name              # "echoes_over_ipv6_loopback"
        self.status = "not run"       # "passed", "failed", "timeout", "not run"
        self.duration = 0.0
        self.message = ""
        self.units = 0                # what it is worth, in sixteenths of a point
        self.earned = 0
        self.env_prefix = ""          # "IMPL_TCP_ECHO='python3 x.py' " when replaced

    @property
    def package(self):
        return self.binary_id.split("::", 1)[0]

    @property
    def target(self):
        return self.binary_id.split("::", 1)[1]

    @property
    def passed(self):
        return self.status == "passed"

    def reproduce(self):
        """The command that runs this one test again."""
        return (f"{self.env_prefix}cargo nextest run -p {self.package} --test {self.target} "
                f"-E 'test(={self.name})'")


def nextest_available(root, env):
    try:
        proc = subprocess.run(["cargo", "nextest", "--version"], cwd=root, env=env,
                              capture_output=True, text=True)
    except OSError:
        return False
    return proc.returncode == 0


def lesson_targets(root, lesson):
    """[(package, target)] for lesson N: crates/<package>/tests/lessonNN*.rs."""
    pattern = os.path.join(root, "crates", "*", "tests", f"lesson{lesson:02d}*.rs")
    found = []
    for path in sorted(glob.glob(pattern)):
        package = os.path.basename(os.path.dirname(os.path.dirname(path)))
        found.append((package, os.path.splitext(os.path.basename(path))[0]))
    return found


def package_args(packages):
    return [a for p in packages for a in ("-p", p)]


def run_with_heartbeat(cmd, cwd, env, what, every=5.0):
    """subprocess.run with captured output, saying `what … N s` every few seconds."""
    started = time.monotonic()
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace") as proc:
        out = {}
        readers = [threading.Thread(target=lambda k, f: out.__setitem__(k, f.read()),
                                    args=(k, f), daemon=True)
                   for k, f in (("stdout", proc.stdout), ("stderr", proc.stderr))]
        for reader in readers:
            reader.start()
        try:
            while True:
                try:
                    proc.wait(timeout=every)
                    break
                except subprocess.TimeoutExpired:
                    print(f"{what} … {time.monotonic() - started:.0f} s", file=sys.stderr,
                          flush=True)
        except BaseException:
            # Stopped (SIGTERM, ^C): do not wait for the build to finish.
            proc.kill()
            raise
        for reader in readers:
            reader.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, out.get("stdout", ""),
                                       out.get("stderr", ""))


def build_and_list(root, env, packages):
    """Build the tests once; {binary_id: [test names]} of integration tests."""
    cmd = ["cargo", "nextest", "list", *package_args(packages), "--message-format", "json",
           "-E", "kind(test)"]
    proc = run_with_heartbeat(cmd, root, env, "building the tests")
    if proc.returncode != 0:
        raise GradingError("the tests did not compile (cargo nextest list failed, above); "
                           "nothing was graded", proc.stderr[-8000:])
    try:
        listing = json.loads(proc.stdout)
        suites = listing["rust-suites"]
    except (ValueError, KeyError) as err:
        raise GradingError(f"cargo nextest list: unexpected output: {err}") from None
    found = {}
    for binary_id, suite in suites.items():
        if suite.get("kind") != "test":
            continue
        names = [name for name, case in suite.get("testcases", {}).items()
                 if not case.get("ignored")]
        found[binary_id] = sorted(names)
    return found


def lesson_tests(lesson, targets, listing):
    """The lesson's full list of tests, in a fixed order: by file, then name."""
    tests = []
    for package, target in targets:
        binary_id = f"{package}::{target}"
        for name in listing.get(binary_id, []):
            tests.append(Test(lesson, len(tests) + 1, binary_id, name))
    return tests


def readme_order(root, lesson):
    """The test names of lesson N's "What the tests check" list, in its order
    (the lesson's README, read as scripts/checks/check-lessons reads it); [] when
    there is no such list."""
    try:
        from importlib.machinery import SourceFileLoader
        from importlib.util import module_from_spec, spec_from_loader
        path = os.path.join(root, "scripts", "checks", "check-lessons")
        loader = SourceFileLoader("check_lessons", path)
        module = module_from_spec(spec_from_loader("check_lessons", loader))
        loader.exec_module(module)
        folder = next((d for d in module.lesson_dirs()
                       if os.path.basename(d).startswith(f"{lesson:02d}-")), None)
        if folder is None:
            return []
        with open(os.path.join(folder, "README.md"), encoding="utf-8") as f:
            section = module.reference_section(f.read()) or []
        return [m.group(1) for m in map(module.REFERENCE_ITEM.match, section) if m]
    except (OSError, ImportError, AttributeError, SyntaxError):
        return []


def put_in_readme_order(tests, names):
    """Set each test's `order` from the README's list; unlisted tests after."""
    position = {name: i for i, name in enumerate(names, 1)}
    for test in tests:
        test.order = position.get(test.name, len(names) + test.index)


def reason_line(stderr, status):
    """The first line of a failed test's reason, from what it printed: the
    panic's message (blackbox's steps come before it), else its first line."""
    if status == "TIMEOUT":
        return "stopped at its time limit: the test was still waiting for the program"
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("thread '") and " panicked at " in line:
            rest = [text for text in lines[i + 1:] if text.strip()]
            if rest:
                return rest[0].strip()
    message = why_failed(stderr)
    return next((text.strip() for text in message.splitlines() if text.strip()), "failed")


# nextest's status lines on stderr: "    PASS [   0.012s] ( 3/15) tcp-echo::lesson01 name"
# (the "( 3/15)" counter only appears on a terminal).
STATUS_LINE = re.compile(r"^\s*([A-Z][A-Z-]*(?: [A-Z]+)?)\s+\[\s*>?\s*([\d.]+)s\]\s+"
                         r"(?:\(\s*[\d─]*/?\d*\)\s+)?(\S+::\S+)\s+(\S+)\s*$")


def target_dir(root, env):
    """Cargo's build folder: $CARGO_TARGET_DIR (or CARGO_BUILD_TARGET_DIR) when
    set, relative to the workspace, else target/. nextest's store is in it."""
    chosen = env.get("CARGO_TARGET_DIR") or env.get("CARGO_BUILD_TARGET_DIR")
    return os.path.join(root, chosen) if chosen else os.path.join(root, "target")


def run_lesson(root, env, packages, lesson, tests, progress, own_store=None, finished=None,
               only=False):
    """Run one lesson's tests; fill in each Test's outcome.

    own_store: a folder for nextest's JUnit file and log instead of its default
    store (target/nextest), for a grading that runs beside another.
    finished(name, status, reason): called as each test ends (its nextest
    status line and the first line of its reason), while the lesson runs.
    only: `tests` are some of the lesson's (scripts/grade --test): run those alone."""
    config, store = nextest_store(root, env, own_store)
    junit = os.path.join(store, "junit.xml")
    binaries = sorted({t.binary_id for t in tests})
    filterset = " | ".join(f"binary_id({b})" for b in binaries)
    if only:  # scripts/grade --test: those tests alone
        filterset = f"({filterset}) & ({' | '.join(f'test(={t.name})' for t in tests)})"
    # Failure output at once, in the log: each failed test's reason is known
    # the moment it ends (the JUnit file comes only at the end).
    cmd = ["cargo", "nextest", "run", *config, "--profile", PROFILE, *package_args(packages),
           "--no-fail-fast", "--failure-output", "immediate", "-E", filterset]
    log_path = os.path.join(store, f"lesson{lesson:02d}.log")
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.PIPE, text=True,
                                errors="replace", start_new_session=True)
        status = StatusReader(proc, log, finished)
        reader = threading.Thread(target=status.read, daemon=True)
        reader.start()
        stopped = wait_with_progress(proc, lambda: len(status.seen), len(tests), lesson,
                                     progress, started)
        reader.join(timeout=5)
    elapsed = time.monotonic() - started
    results = read_junit(junit) if os.path.exists(junit) else {}
    if not results and not status.seen and proc.returncode not in (0, 100):
        with open(log_path, encoding="utf-8", errors="replace") as f:
            detail = f.read()[-6000:]
        raise GradingError(f"lesson {lesson}: cargo nextest run failed (exit {proc.returncode}) "
                           f"before running any test; its output is above and in {log_path}",
                           detail)
    where = ("this test never ran: the grading run of this lesson was stopped "
             f"after {LESSON_CEILING} s" if stopped else
             "this test never ran (the test run ended before it; see "
             f"{os.path.relpath(log_path, root)})")
    for test in tests:
        record_outcome(test, results, status.seen, where)
    return elapsed


def nextest_store(root, env, own_store):
    """([nextest's extra arguments], the folder its JUnit file and our log go
    to): nextest's own store under the target folder, or `own_store` through a
    copy of the workspace's settings with the store moved. The folder exists
    and holds no JUnit file of an earlier run."""
    config = []
    if own_store is None:
        store = os.path.join(target_dir(root, env), "nextest", PROFILE)
    else:
        os.makedirs(own_store, exist_ok=True)
        with open(os.path.join(root, ".config", "nextest.toml"), encoding="utf-8") as f:
            settings = f.read()
        path = os.path.join(own_store, "nextest.toml")
        with open(path, "w", encoding="utf-8") as f:
            # The workspace's settings, with the store moved (a JSON string is a TOML string).
            f.write(f"{settings}\n[store]\ndir = {json.dumps(own_store)}\n")
        config = ["--config-file", path]
        store = os.path.join(own_store, PROFILE)
    os.makedirs(store, exist_ok=True)
    try:
        os.remove(os.path.join(store, "junit.xml"))
    except FileNotFoundError:
        pass
    return config, store


class StatusReader:
    """Reads nextest's stderr while the lesson runs: copies it into the log
    (flushed line by line: the log is read while the lesson runs), keeps each
    test's status line in `seen` ({(binary id, name): (status, seconds)}), and
    tells `finished` of each test as it ends, with the first line of the
    reason nextest printed under it."""

    def __init__(self, proc, log, finished):
        self.proc, self.log, self.finished = proc, log, finished
        self.seen = {}

    def tell(self, pending):
        if self.finished and pending:
            name, status, stderr = pending
            word = {"PASS": "passed", "LEAK": "passed", "TIMEOUT": "timeout"}.get(status, "failed")
            try:
                self.finished(name, word, "" if word == "passed" else reason_line(stderr, status))
            except Exception as err:  # never let a reader of the progress stop grading
                print(f"warning: the progress record: {err}", file=sys.stderr)

    def read(self):
        pending = None      # (name, status, the stderr lines after it)
        section = None
        for line in self.proc.stderr:
            try:
                self.log.write(line)
                self.log.flush()
            except ValueError:  # the log was closed: grading was interrupted
                return
            match = STATUS_LINE.match(line)
            if match and match.group(1) not in ("SLOW", "TERMINATING", "START", "RETRY"):
                self.tell(pending)
                status, seconds, binary_id, name = match.groups()
                self.seen[(binary_id, name)] = (status, float(seconds))
                pending, section = (name, status, ""), None
                if status in ("PASS", "LEAK"):
                    self.tell(pending)
                    pending = None
            elif pending and line.strip() in ("stdout ───", "stderr ───"):
                section = line.strip().split()[0]
            elif pending and section == "stderr" and (line.startswith("    ") or not line.strip()):
                pending = (pending[0], pending[1], pending[2] + line[4:])
            elif pending and line.strip() and not line.startswith("    "):
                self.tell(pending)
                pending, section = None, None
        self.tell(pending)


def wait_with_progress(proc, done, total, lesson, progress, started):
    """Waits for nextest, telling `progress` every PROGRESS_EVERY seconds how
    many tests are done; past LESSON_CEILING its process group is killed.
    Returns whether it was."""
    stopped = False
    last = started
    while True:
        try:
            proc.wait(timeout=0.25)
            return stopped
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now - started > LESSON_CEILING:
            stopped = True
            _kill_group(proc)
        if now - last >= PROGRESS_EVERY:
            last = now
            progress(lesson, done(), total, now - started)


def record_outcome(test, results, seen, never_ran):
    """One test's outcome: its JUnit entry, else nextest's status line (the run
    was cut short before the JUnit file), else `never_ran`; a timeout says so
    first, then what the test had printed."""
    key = (test.binary_id, test.name)
    if key in results:
        test.status, test.duration, test.message = results[key]
    elif key in seen:
        status, seconds = seen[key]
        test.status = {"PASS": "passed", "TIMEOUT": "timeout"}.get(status, "failed")
        test.duration = seconds
        test.message = "" if test.passed else f"nextest reported {status}"
    else:
        test.status = "not run"
        test.message = never_ran
    if test.status == "timeout":
        so_far = test.message
        test.message = (f"stopped after {test.duration:.0f} s, its time limit: the test was "
                        "still waiting for the program (no answer, or too slow)")
        if so_far:
            test.message += "\n\nwhat the test had printed when it was stopped:\n" + so_far


def _kill_group(proc):
    """nextest and everything in its process group (it was started in its own)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass


def read_junit(path):
    """{(binary_id, name): (status, seconds, message)} from nextest's JUnit file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return {}
    results = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        seconds = float(case.get("time") or 0)
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is None:
            results[key] = ("passed", seconds, "")
            continue
        kind = failure.get("type") or ""
        stderr = (case.findtext("system-err") or "").strip()
        stdout = (case.findtext("system-out") or "").strip()
        if "timeout" in kind:
            # Whatever the test printed before it was stopped (its steps so far).
            printed = [line for line in (stdout + "\n" + stderr).splitlines()
                       if line.strip() and not LIBTEST_HEADER.match(line)]
            results[key] = ("timeout", seconds, why_failed("\n".join(printed)))
            continue
        message = why_failed(stderr) or why_failed(failure.text or "")
        if not message:
            message = f"{kind or 'failed'}; the test printed:\n{stdout}" if stdout else (kind or "failed")
        results[key] = ("failed", seconds, message)
    return results


# libtest's own lines around a test's output.
LIBTEST_HEADER = re.compile(r"^(running \d+ tests?|test \S+ \.\.\. .*)$")


def why_failed(text):
    """A failed test's own message, without Rust's panic framing and backtrace."""
    lines = []
    all_lines = text.strip().splitlines()
    for line in all_lines:
        if line.startswith("thread '") and " panicked at " in line:
            continue
        if (line.startswith("note: run with `RUST_BACKTRACE") or line.startswith("stack backtrace:")
                or line.startswith("note: Some details are omitted")):
            break
        lines.append(line)
    # blackbox's report ends with the test's conversation drawn on the wire
    # (after the backtrace): keep that section, it shows what came back when.
    wire = next((i for i, line in enumerate(all_lines) if line.startswith("--- on the wire")), None)
    if wire is not None and all_lines[wire] not in lines:
        lines += [""] + all_lines[wire:]
    message = "\n".join(lines).strip()
    limit = 6000
    return message[:limit] + ("\n… (cut)" if len(message) > limit else "")
