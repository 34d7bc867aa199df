"""The course's grader: runs each lesson's black-box tests and scores them.

`scripts/grade` is its command line (see `cli.py`); the modules are

- `course`    the course catalogue, course.json: lessons, points, programs (every tool reads it)
- `programs`  which command grades each program: --impl, IMPL_*, grading.toml
- `tests`     the lessons' tests, run with cargo-nextest, read back from JUnit
- `points`    exact per-test points (sixteenths, exact in binary floating point)
- `reaper`    nothing a test started outlives grading (Linux: a subreaper)
- `report`    the table, the Gradescope results file, GitHub Classroom's result
- `record`    <target>/grade/lessonNN.json and .progress.jsonl: the record of progress
"""
