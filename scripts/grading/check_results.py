#!/usr/bin/env python3
"""Check a results file written by `scripts/grade --json` (run by .ci/run).

    python3 scripts/grading/check_results.py results.json [more.json …]

Each file must be valid against results.schema.json (beside this file; needs
the `jsonschema` package), and its points must add up exactly: `score` is
the sum of the tests' scores (added in binary floating point, exactly: every
score is a whole number of sixteenths), each test's score is 0 or its
max_score, and the tests' max_scores sum to extra_data.max_score. Prints `N passed, N
failed`; exit status 1 when a file fails.
"""

import json
import os
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("error: check_results.py needs the jsonschema package: python3 -m pip install jsonschema")

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.schema.json")


def units(value):
    """A score in sixteenths of a point; None when it is not a whole number of them."""
    scaled = value * 16
    return int(scaled) if scaled == int(scaled) else None


def problems(path, schema):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        return [f"cannot read: {err}"]
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
             for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    if found:
        return found
    tests = data["tests"]
    for test in tests:
        for key in ("score", "max_score"):
            if units(test[key]) is None:
                found.append(f"test {test['number']}: {key} {test[key]} is not a whole number of "
                             "sixteenths of a point (README \"Points are exact\")")
    if found:
        return found
    # Added as a grading engine adds them, in binary floating point, in the
    # file's order: exact, since every score is a whole number of sixteenths.
    added = 0.0
    for test in tests:
        added += test["score"]
    if added != data["score"]:
        found.append(f"score {data['score']} is not the sum of the tests' scores ({added!r})")
    for test in tests:
        if units(test["score"]) not in (0, units(test["max_score"])):
            found.append(f"test {test['number']}: score {test['score']} is neither 0 nor its "
                         f"max_score {test['max_score']}")
        if (test["status"] == "passed") != (units(test["score"]) == units(test["max_score"])):
            found.append(f"test {test['number']}: status {test['status']} does not match its score")
    maximum = data.get("extra_data", {}).get("max_score")
    if maximum is not None and tests and sum(units(t["max_score"]) for t in tests) != units(maximum):
        found.append(f"the tests' max_scores do not add up to extra_data.max_score {maximum}")
    return found


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    failed = 0
    for path in paths:
        found = problems(path, schema)
        for problem in found:
            print(f"{path}: {problem}", file=sys.stderr)
        failed += bool(found)
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
