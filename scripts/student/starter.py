"""Starter code made from the reference programs: the lessons' exercise regions.

The reference programs are the solutions. In their sources, comment markers
name the regions a lesson's student writes:

    // region: recv-send-loop — read until read returns 0 …     (Rust)
    …the reference code…
    // endregion: recv-send-loop

    # region: recv-send-loop — recv until recv returns empty …  (Python)
    …
    # endregion: recv-send-loop

A region with a hint (the text after ` — `) is an exercise: the starter keeps
its two marker lines and puts one line in place of the code between them,
`todo!("NAME: HINT")` in Rust or `raise NotImplementedError("NAME: HINT")` in
Python. So an exercise region is always a whole function body, or a block
whose value `todo!()` can stand for: the starter still compiles. A region
without a hint is only an anchor: the lessons quote it (scripts/checks/check-snippets)
and the starter leaves it as it is. Regions do not nest.

Everything else is given: argument parsing, the `listening on` line, `error:`
lines, logging. Putting each region's code back between its markers gives the
reference file again, byte for byte (scripts/checks/check-starters proves it).

This module is the generator; scripts/exercise is what a student runs.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from grading import course  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MARKER = re.compile(r"^(?P<indent>[ \t]*)(?P<comment>//|#) region: (?P<name>[a-z0-9][a-z0-9-]*)"
                    r"(?: — (?P<hint>\S.*))?$")
END = re.compile(r"^[ \t]*(?://|#) endregion: (?P<name>[a-z0-9][a-z0-9-]*)$")


class Program:
    """One program a lesson grades: its Rust crate and its Python version."""

    def __init__(self, name, python=None, crate=None):
        self.name = name                    # tcp-echo: the crate, IMPL_TCP_ECHO, my/tcp-echo
        self.crate = crate or f"crates/{name}"
        self.python = python                # lessons/…/tcp_echo.py, or None

    def rust_files(self):
        """The crate's sources, relative to the crate: src/main.rs, …"""
        found = []
        for folder, _, files in os.walk(os.path.join(ROOT, self.crate, "src")):
            for file in files:
                found.append(os.path.relpath(os.path.join(folder, file), os.path.join(ROOT, self.crate)))
        return sorted(found)


class Lesson:
    def __init__(self, number, folder, programs, rust, python):
        self.number = number
        self.folder = folder                # lessons/01-tcp-transfer
        self.programs = programs
        self.regions = {"rust": rust, "python": python}   # [(program, region)] in the order to write them

    @property
    def readme(self):
        return f"{self.folder}/README.md"


def _lessons():
    """Each lesson of the catalogue (course.json): the programs its tests grade
    (with the Python version that stands for each in that lesson), and the
    exercise regions that are its own, in the order a student writes them, per
    language. A lesson whose tests grade a program of earlier lessons lists
    their regions again."""
    catalogue = course.load()
    lessons = {}
    for n, entry in catalogue.lessons.items():
        programs = [Program(name, catalogue.python_of(entry, name), catalogue.programs[name].crate)
                    for name in entry.programs]
        lessons[n] = Lesson(n, entry.folder, programs, rust=list(entry.regions["rust"]),
                            python=list(entry.regions["python"]))
    return lessons


LESSONS = _lessons()


def lesson_of(number):
    return LESSONS.get(number)


# ------------------------------------------------------------------ regions

class Region:
    def __init__(self, name, hint, indent, comment, start, end, lines):
        self.name = name
        self.hint = hint            # None: an anchor the lessons quote, not an exercise
        self.indent = indent
        self.comment = comment
        self.start = start          # index of the `region:` line
        self.end = end              # index of the `endregion:` line
        self.body = lines[start + 1:end]

    @property
    def line(self):
        return self.start + 1       # 1-based, for `file:line`

    def dedented(self):
        """The region's code without its common indentation, as a lesson shows it."""
        width = min((len(line) - len(line.lstrip()) for line in self.body if line.strip()), default=0)
        return "\n".join(line[width:] for line in self.body) + "\n"


class RegionError(Exception):
    pass


def regions(text, where="?"):
    """Every region of a source file's text, in order. Raises RegionError."""
    lines = text.split("\n")
    found, open_region = [], None
    for i, line in enumerate(lines):
        start, end = MARKER.match(line), END.match(line)
        if start:
            if open_region:
                raise RegionError(f"{where}:{i + 1}: region {start['name']} starts inside region {open_region['name']}")
            open_region, open_at = start, i
        elif end:
            if not open_region or end["name"] != open_region["name"]:
                raise RegionError(f"{where}:{i + 1}: endregion {end['name']} closes no open region of that name")
            found.append(Region(open_region["name"], open_region["hint"], open_region["indent"],
                                open_region["comment"], open_at, i, lines))
            open_region = None
    if open_region:
        raise RegionError(f"{where}:{open_at + 1}: region {open_region['name']} has no endregion")
    names = [r.name for r in found]
    for name in names:
        if names.count(name) > 1:
            raise RegionError(f"{where}: region {name} appears twice")
    return found


def placeholder(region):
    """The one line a starter has in place of an exercise region's code."""
    message = f"{region.name}: {region.hint}".replace("\\", "\\\\").replace('"', '\\"')
    if region.comment == "//":
        # A statement (`;`): code may follow the region, and a block that
        # ends in `todo!(…);` still type-checks, since todo! never returns.
        return f'{region.indent}todo!("{message.replace("{", "{{").replace("}", "}}")}");'
    return f'{region.indent}raise NotImplementedError("{message}")'


def cut(text, where="?"):
    """The starter for one source file: each exercise region's code replaced."""
    lines = text.split("\n")
    for region in reversed(regions(text, where)):
        if region.hint:
            lines[region.start + 1:region.end] = [placeholder(region)]
    return "\n".join(lines)


def restore(starter, reference, where="?"):
    """Put the reference's exercise regions back into a starter file."""
    code = {r.name: r.body for r in regions(reference, where) if r.hint}
    lines = starter.split("\n")
    for region in reversed(regions(starter, where)):
        if region.hint and region.name in code:
            lines[region.start + 1:region.end] = code[region.name]
    return "\n".join(lines)


def unsolved(region):
    """True while a student's region still holds the starter's placeholder."""
    body = [line.strip() for line in region.body if line.strip()]
    wanted = placeholder(region).strip()
    # Starters written before the placeholder became a statement lack its `;`.
    return region.hint is not None and body in ([wanted], [wanted.rstrip(";")])


# ------------------------------------------------------------------ starters

def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def my_dir(program):
    return f"my/{program.name}"


def rust_manifest(program):
    """Cargo.toml of the student's crate `my-<program>`: the reference's
    dependencies, and quiet about the unused code a starter is full of."""
    reference = read(f"{program.crate}/Cargo.toml")
    kept, keep = [], False
    for line in reference.split("\n"):
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            section = header.group(1)
            keep = section.endswith("dependencies") and "dev-" not in section and "build-" not in section
        if keep:
            kept.append(line)
    deps = "\n".join(kept).strip()
    return f"""# Your {program.name}, made by `scripts/exercise start` from {program.crate}: the
# same sources with the lessons' regions cut out. Build it with
# `cargo build -p my-{program.name}`; `scripts/exercise watch` builds and grades it.
[package]
name = "my-{program.name}"
version.workspace = true
edition.workspace = true
license.workspace = true
publish.workspace = true
rust-version.workspace = true

{deps}

# A starter's todo!() leaves variables, imports and helpers unused until you
# write the regions: no warnings about those.
[lints.rust]
unused = {{ level = "allow", priority = -1 }}
"""


def starter_files(program, lang):
    """{path under the repository: text} of one program's starter."""
    base = my_dir(program)
    if lang == "rust":
        files = {f"{base}/Cargo.toml": rust_manifest(program)}
        for rel in program.rust_files():
            source = f"{program.crate}/{rel}"
            files[f"{base}/{rel}"] = cut(read(source), source)
        return files
    name = os.path.basename(program.python)
    return {f"{base}/{name}": cut(read(program.python), program.python), "my/conventions.py": CONVENTIONS_SHIM}


def reference_of(path, lang):
    """The reference file a starter file was made from (None for generated ones)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "my":
        return None
    for lesson in LESSONS.values():
        for program in lesson.programs:
            if program.name != parts[1]:
                continue
            if lang == "python" and program.python and parts[2] == os.path.basename(program.python):
                return program.python
            if lang == "rust" and parts[2] == "src":
                return f"{program.crate}/{'/'.join(parts[2:])}"
    return None


# The lessons' Python versions import lessons/conventions.py from the folder
# above their own. Under my/, the folder above is my/: this file is found
# there and loads the real one, so a starter is the reference file unchanged.
# It also makes a region not written yet (NotImplementedError) in a server's
# thread stop the whole program, as it would in the main thread: the tests
# then fail at once, with the region's hint on stderr, instead of waiting for
# an answer that cannot come.
CONVENTIONS_SHIM = '''"""Lets the programs under my/ import lessons/conventions.py, as the lessons' own do.

Made by scripts/exercise. A region you have not written yet raises
NotImplementedError; in a thread, that stops the whole program (exit 1), so
the tests fail at once and show the region's hint.
"""

import os as _os
import sys as _sys
import threading as _threading

_path = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "lessons", "conventions.py")
with open(_path, encoding="utf-8") as _file:
    exec(compile(_file.read(), _path, "exec"))


def _stop_at_an_unwritten_region(args):
    _threading.__excepthook__(args)
    if issubclass(args.exc_type, NotImplementedError):
        _sys.stderr.flush()
        _os._exit(1)


_threading.excepthook = _stop_at_an_unwritten_region
'''


def program_regions(program, lang):
    """[(path, Region)] of the reference sources of one program."""
    paths = [f"{program.crate}/{rel}" for rel in program.rust_files()] if lang == "rust" else \
        ([program.python] if program.python else [])
    found = []
    for path in paths:
        for region in regions(read(path), path):
            found.append((path, region))
    return found


def grading_toml():
    path = os.path.join(ROOT, "grading.toml")
    if not os.path.exists(path):
        return {}
    try:
        import tomllib
    except ImportError:  # Python before 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise RuntimeError("reading grading.toml needs Python 3.11 or newer (or `pip install tomli`)") from None
    with open(path, "rb") as f:
        try:
            return tomllib.load(f).get("impl", {})
        except tomllib.TOMLDecodeError as err:
            raise RuntimeError(f"grading.toml: {err} (fix the file: scripts/exercise only adds lines to it)") from None
