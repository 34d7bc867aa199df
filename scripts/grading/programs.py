"""Which command grades each program.

The tests start a program through crates/blackbox, which runs the binary
Cargo built unless the environment variable IMPL_<PROGRAM> names another
command (README "Testing another implementation"). The grader decides those
variables, first match wins:

1. `--impl PROGRAM=COMMAND` on the command line;
2. IMPL_<PROGRAM> already in the environment;
3. the `[impl]` table of grading.toml (the repository's top folder, or
   `--config FILE`);
4. otherwise the workspace's own program.

A command that cannot be used is an error that stops grading (exit 2), never
a silent fall-back to the workspace's programs, which would give full marks
for somebody else's work.
"""

import json
import os
import re
import shlex
import shutil
import subprocess

from . import course

# The programs, in the catalogue's order (course.json). Unreadable, there
# are none: grading then stops with the catalogue's error (cli.load_points).
try:
    PROGRAMS = list(course.load().programs)
except course.CourseError:
    PROGRAMS = []

# Interpreters whose first argument is a script file that must exist.
INTERPRETERS = {"python", "python3", "node", "ruby", "perl", "bash", "sh", "php"}


class GradingError(Exception):
    """Grading cannot run: one `error:` line, exit status 2.

    `detail` (a compiler's output, say) is printed before that line, and
    goes into the results files, which have no terminal above them.
    """

    def __init__(self, message, detail=""):
        super().__init__(message)
        self.detail = detail


def env_var(program):
    """IMPL_TCP_ECHO for tcp-echo."""
    return "IMPL_" + program.upper().replace("-", "_")


class Choice:
    """The command grading one program, and where it came from."""

    def __init__(self, program, command, source, where, folder):
        self.program = program
        self.command = command    # None: the workspace's own program
        self.source = source      # "--impl", "IMPL_X", "grading.toml", "built"
        self.where = where        # for error lines: "--impl", "IMPL_X", "<file>: impl.<name>"
        self.folder = folder      # the folder the command's paths are relative to

    def describe(self):
        if self.command is None:
            return "the workspace's own program"
        return f"{self.command}   (from {self.source})"


def load_config(path, explicit):
    """{program: command} from grading.toml's [impl] table; {} when absent."""
    if not os.path.exists(path):
        if explicit:
            raise GradingError(f"{path}: cannot read: no such file")
        return {}
    try:
        import tomllib  # Python 3.11 and later
    except ImportError:
        try:
            import tomli as tomllib  # the same parser, from PyPI, for older Pythons
        except ImportError:
            raise GradingError(f"{path}: reading it needs Python 3.11 or later (tomllib), "
                               "or the tomli package: python3 -m pip install tomli") from None
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise GradingError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:
        raise GradingError(f"{path}: cannot read: {err.strerror}") from None
    unknown = sorted(set(data) - {"impl"})
    if unknown:
        raise GradingError(f"{path}: {unknown[0]}: unknown table or key "
                           "(grading.toml holds one table, [impl])")
    table = data.get("impl", {})
    if not isinstance(table, dict):
        raise GradingError(f"{path}: impl: must be a table, [impl]")
    commands = {}
    for name, command in table.items():
        if name not in PROGRAMS:
            raise GradingError(f"{path}: impl.{name}: unknown program "
                               f"(the programs are {', '.join(PROGRAMS)})")
        if not isinstance(command, str):
            raise GradingError(f"{path}: impl.{name}: must be a string, the command "
                               f"line to run (found {type(command).__name__})")
        if not command.strip():
            raise GradingError(f"{path}: impl.{name}: empty command")
        commands[name] = command
    return commands


def choose(root, impl_args, environ, config_path, config_explicit):
    """{program: Choice} for every program, by the precedence above."""
    config_path = os.path.abspath(config_path)
    from_file = load_config(config_path, config_explicit)
    config_folder = os.path.dirname(config_path)
    shown = os.path.relpath(config_path, root) if config_path.startswith(root + os.sep) else config_path
    from_args = {}
    for item in impl_args:
        program, sep, command = item.partition("=")
        if not sep or program not in PROGRAMS:
            raise GradingError(f"--impl {item}: expected PROGRAM=COMMAND, PROGRAM one of "
                               f"{', '.join(PROGRAMS)}")
        if not command.strip():
            raise GradingError(f"--impl {item}: empty command")
        from_args[program] = command
    choices = {}
    for program in PROGRAMS:
        var = env_var(program)
        if program in from_args:
            choice = Choice(program, from_args[program], "--impl", f"--impl {program}", root)
        elif environ.get(var, "").strip():
            choice = Choice(program, environ[var], var, var, root)
        elif program in from_file:
            choice = Choice(program, from_file[program], shown, f"{shown}: impl.{program}",
                            config_folder)
        else:
            choice = Choice(program, None, "built", "", root)
        choices[program] = choice
    return choices


def command_words(choice):
    """The command's words, or a GradingError naming where it came from."""
    try:
        words = shlex.split(choice.command)
    except ValueError as err:
        raise GradingError(f"{choice.where}: cannot read the command `{choice.command}`: "
                           f"{err}") from None
    # Leading VAR=value assignments and `env` only set the environment.
    while words and ("=" in words[0] and not words[0].startswith("=")
                     and words[0].split("=", 1)[0].isidentifier() or words[0] == "env"):
        words = words[1:]
    if not words:
        raise GradingError(f"{choice.where}: the command `{choice.command}` names no program")
    return words


def check(choice):
    """The command's first word must be a program that can be started."""
    words = command_words(choice)
    first = words[0]
    if "/" in first:
        path = os.path.join(choice.folder, first)
        if not os.path.exists(path):
            raise GradingError(f"{choice.where}: {first}: no such file "
                               f"(relative to {choice.folder})")
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise GradingError(f"{choice.where}: {first}: not an executable file "
                               f"(chmod +x it, or name its interpreter: python3 {first})")
    elif shutil.which(first) is None:
        raise GradingError(f"{choice.where}: {first}: command not found")
    # `python3 my/echo.py`: the script must exist too.
    name = os.path.basename(first)
    if name in INTERPRETERS or name.startswith("python3."):
        script = next((w for w in words[1:] if not w.startswith("-")), None)
        flags = [w for w in words[1:words.index(script)]] if script else []
        if script and not any(f in ("-m", "-c", "-e") for f in flags) and "." in os.path.basename(script):
            if not os.path.isfile(os.path.join(choice.folder, script)):
                raise GradingError(f"{choice.where}: {script}: no such file "
                                   f"(relative to {choice.folder})")


def cargo_build_command(choice):
    """For `cargo run ARGS -- …`, the `cargo build ARGS` that builds it first."""
    words = command_words(choice)
    if os.path.basename(words[0]) != "cargo":
        return None
    rest = words[1:]
    toolchain = [w for w in rest[:1] if w.startswith("+")]
    rest = rest[len(toolchain):]
    if not rest or rest[0] != "run":
        return None
    args = rest[1:]
    if "--" in args:
        args = args[:args.index("--")]
    return [words[0], *toolchain, "build", *args]


def workspace_bins(root, cache={}):  # noqa: B006 (one answer per grading, on purpose)
    """{binary name: package} of the workspace's members (cargo metadata)."""
    if root not in cache:
        found = {}
        try:
            proc = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"],
                                  cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, timeout=120)
            for package in json.loads(proc.stdout).get("packages", []):
                for target in package.get("targets", []):
                    if "bin" in target.get("kind", []):
                        found[target["name"]] = package["name"]
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        cache[root] = found
    return cache[root]


def binary_in_target(choice, target):
    """(profile, binary name) when the command runs <target>/debug/NAME or
    <target>/release/NAME, Cargo's own output; else None."""
    first = command_words(choice)[0]
    if "/" not in first:
        return None
    path = os.path.normpath(os.path.join(choice.folder, first))
    profile_dir = os.path.dirname(path)
    if os.path.normpath(os.path.dirname(profile_dir)) != os.path.normpath(target):
        return None
    profile = os.path.basename(profile_dir)
    return (profile, os.path.basename(path)) if profile in ("debug", "release") else None


def build_command(choice, root, target):
    """The `cargo build` that makes the command's program from what was
    written, or None: `cargo run ARGS` builds as `cargo build ARGS`; a path
    to <target>/debug/NAME (or release/) builds NAME's workspace package."""
    build = cargo_build_command(choice)
    if build:
        return build
    found = binary_in_target(choice, target)
    if not found:
        return None
    profile, name = found
    package = workspace_bins(root).get(name)
    if package is None:
        return None
    return ["cargo", "build", "-p", package, "--bin", name,
            *(["--release"] if profile == "release" else [])]


def binary_path(choice, root, target):
    """The file the command runs, when it names one that exists (a path, or
    Cargo's binary for `cargo run -p P`); else None."""
    words = command_words(choice)
    if "/" in words[0]:
        path = os.path.normpath(os.path.join(choice.folder, words[0]))
        return path if os.path.isfile(path) else None
    if os.path.basename(words[0]) == "cargo" and "run" in words:
        args = words[words.index("run") + 1:]
        args = args[:args.index("--")] if "--" in args else args
        name = None
        for flag in ("--bin", "-p", "--package"):
            if flag in args[:-1]:
                name = args[args.index(flag) + 1]
                break
        profile = "release" if "--release" in args or "-r" in args else "debug"
        if name:
            path = os.path.join(target, profile, name)
            return path if os.path.isfile(path) else None
    return None


def first_errors(output, errors=3, lines=60):
    """The compiler's first `error` messages from Cargo's output (warnings
    and progress lines left out), at most `lines` lines; else its end."""
    blocks = re.split(r"\n(?=(?:error|warning)(?:\[\w+\])?: |\s*Compiling |\s*Checking )", output)
    found = [b.strip("\n") for b in blocks if re.match(r"error(\[\w+\])?: ", b.strip())
             and not b.strip().startswith("error: could not compile")]
    if not found:
        return "\n".join(output.strip().splitlines()[-lines:])
    text = "\n\n".join(found[:errors])
    more = len(found) - errors
    shown = text.splitlines()[:lines]
    return "\n".join(shown) + (f"\n… and {more} more error{'s' if more != 1 else ''}" if more > 0 else "")


def shell_line(choice, root):
    """The IMPL_* value: runs from the folder its paths are relative to.

    crates/blackbox runs `sh -c 'exec LINE "$@"'` from the workspace's top
    folder. A grading.toml elsewhere (a Gradescope submission) names paths
    relative to its own folder, so such a line first changes to it.
    """
    if os.path.realpath(choice.folder) == os.path.realpath(root):
        return choice.command
    inner = f'cd {shlex.quote(choice.folder)} && exec {choice.command} "$@"'
    return f"sh -c {shlex.quote(inner)} {shlex.quote(choice.program)}"
