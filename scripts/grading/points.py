"""Exact points: a lesson's points shared among its tests in sixteenths.

Points are counted in integer sixteenths of a point ("units"). A sixteenth
is a power of two, so every test's worth (0.625, 0.6875, …), and every sum
of them, is a number binary floating point holds exactly: GitHub Classroom's
reporter, which adds the tests' scores as JavaScript numbers in its own
order, gets `Points 100/100` for a perfect submission, never
99.99999999999983, and a short decimal (90.625) for any other. The tests of
a lesson add up to exactly the lesson's points, and the grade table, the
Gradescope results file and Classroom all show the same figure.

A lesson of P points and N tests gives each test floor(16*P / N)
sixteenths; the remainder R = 16*P mod N goes, one sixteenth each, to the
first R tests in the lesson's list (tests sorted by test file, then by
name). The list is the same on every run, so the split is too. A lesson's
points must themselves be a whole number of sixteenths (10, 12.5, 7.25).
"""

UNIT = 16  # units per point: a power of two, so every sum is exact


def to_units(points):
    """Points (an int, or a number that is a whole number of sixteenths) as units."""
    units = round(points * UNIT)
    if abs(units - points * UNIT) > 1e-9:
        raise ValueError(f"{points} is not a whole number of sixteenths of a point")
    return units


def share(total_units, count):
    """[units per test] for `count` tests sharing `total_units`."""
    if count <= 0:
        return []
    each, remainder = divmod(total_units, count)
    return [each + (1 if i < remainder else 0) for i in range(count)]


def show(units):
    """Units as points for people, exactly: 10, 0.625, 2.5, 90.6875."""
    whole, part = divmod(abs(units), UNIT)
    sign = "-" if units < 0 else ""
    if part == 0:
        return f"{sign}{whole}"
    # part/16 = part*625/10000: at most four decimals, all of them exact.
    return f"{sign}{whole}.{part * 10000 // UNIT:04d}".rstrip("0")


def as_number(units):
    """Units as a JSON number: an int when whole, else the exact float
    (which JSON, Python and JavaScript all print as `show` does)."""
    return units // UNIT if units % UNIT == 0 else units / UNIT


def js_number(value):
    """A number as JavaScript's String(number) prints it, for the values the
    reporter adds up (whole or short binary fractions under 10**21): `100`,
    `90.625`; Python's repr gives the same digits for a float that is not
    whole."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
