"""The course catalogue: course.json at the repository's top.

What the course *is* is written there once: each lesson — its number,
folder, title, points, the programs its tests grade, the exercise regions a
student writes (per language, in the order to write them), its wire
diagrams — and each program — its crate, binary and Python version. Every
tool reads it through this module: scripts/grade and Gradescope's build,
autograder and leaderboard; scripts/exercise and starter.py; check-workflows
(Classroom's steps), check-lessons, scripts/diagrams and the book's SUMMARY.
Adding a lesson is one entry there plus its files.

JSON, not TOML: the grader runs on Python 3.8 and later, which has no TOML
reader before 3.11.
"""

import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(ROOT, "course.json")


class CourseError(Exception):
    """course.json cannot be read, or says something impossible."""


class Program:
    """A program the lessons' tests run: `tcp-echo`, its crate, its binary, its Python version."""

    def __init__(self, name, crate, binary, python):
        self.name = name        # tcp-echo: also IMPL_TCP_ECHO, my/tcp-echo
        self.crate = crate      # crates/tcp-echo
        self.binary = binary    # tcp-echo, in target/debug
        self.python = python    # lessons/01-tcp-transfer/tcp_echo.py, or None


class Lesson:
    """One lesson of the catalogue."""

    def __init__(self, number, folder, title, points, programs, regions, diagrams, python, leaderboard):
        self.number = number            # 1
        self.folder = folder            # lessons/01-tcp-transfer
        self.title = title              # TCP data transfer
        self.points = points            # 10
        self.programs = programs        # ["tcp-echo"]: names, in the catalogue's order of programs
        self.regions = regions          # {"rust": [(program, region)], "python": [...]}
        self.diagrams = diagrams        # ["recv-4-4-2"]: lessons/…/diagrams/NAME.svg
        self.python = python            # {program: path}: a Python version of this lesson's own
        self.leaderboard = leaderboard  # the leaderboard's name for its speed figure, or None

    @property
    def readme(self):
        return f"{self.folder}/README.md"


class Course:
    def __init__(self, programs, lessons):
        self.programs = programs    # {name: Program}, in the catalogue's order
        self.lessons = lessons      # {number: Lesson}, in order

    def python_of(self, lesson, program):
        """The Python version that stands for `program` in `lesson`."""
        return lesson.python.get(program, self.programs[program].python)


def _need(condition, message):
    if not condition:
        raise CourseError(message)


def parse(data):
    """A Course from course.json's parsed JSON. Raises CourseError."""
    try:
        programs = {}
        for p in data["programs"]:
            _need(p["name"] not in programs, f"program {p['name']} is listed twice")
            programs[p["name"]] = Program(p["name"], p["crate"], p["binary"], p.get("python"))
        lessons = {}
        for entry in data["lessons"]:
            n = entry["number"]
            _need(isinstance(n, int) and n > 0 and n not in lessons, f"lesson number {n!r} is not a new positive number")
            _need(not lessons or n > max(lessons), f"lesson {n} comes after a later one: keep them in order")
            folder = entry["folder"]
            _need(re.match(rf"^lessons/{n:02d}-[a-z0-9-]+$", folder) is not None,
                  f"lesson {n}'s folder {folder!r} is not lessons/{n:02d}-NAME")
            points = entry["points"]
            _need(isinstance(points, (int, float)) and points > 0 and (points * 16) == int(points * 16),
                  f"lesson {n}'s points {points!r} are not a positive whole number of sixteenths")
            names = list(entry["programs"])
            regions = {lang: [tuple(pair) for pair in entry.get("regions", {}).get(lang, [])]
                       for lang in ("rust", "python")}
            python = dict(entry.get("python", {}))
            for name in names + [p for pairs in regions.values() for p, _ in pairs] + list(python):
                _need(name in programs, f"lesson {n} names program {name!r}, which the catalogue does not list")
            for pairs in regions.values():
                for pair in pairs:
                    _need(len(pair) == 2 and pair[0] in names,
                          f"lesson {n}'s region {list(pair)!r} is not [PROGRAM, REGION] of a program it grades")
            lessons[n] = Lesson(n, folder, entry["title"], points, names, regions,
                                list(entry.get("diagrams", [])), python, entry.get("leaderboard"))
        return Course(programs, lessons)
    except (KeyError, TypeError, ValueError) as err:
        raise CourseError(f"not the catalogue's shape ({type(err).__name__}: {err})") from None


_cache = {}


def load(path=PATH):
    """The Course in `path` (course.json), read once per process. Raises CourseError."""
    if path not in _cache:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as err:
            raise CourseError(f"{os.path.relpath(path, ROOT)}: {err}") from None
        try:
            _cache[path] = parse(data)
        except CourseError as err:
            raise CourseError(f"{os.path.relpath(path, ROOT)}: {err}") from None
    return _cache[path]
