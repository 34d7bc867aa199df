"""Exact points: a lesson's points shared among its tests in hundredths.

Points are counted in integer hundredths ("cents") so that the tests of a
lesson add up to exactly the lesson's points and the total is exactly the
sum of the tests: no 100.0003. A lesson of P points and N tests gives each
test floor(100*P / N) hundredths; the remainder R = 100*P mod N goes, one
hundredth each, to the first R tests in the lesson's list (tests sorted by
test file, then by name). The list is the same on every run, so the split
is too.
"""


def to_cents(points):
    """Points (an int, or a number with at most two decimals) as hundredths."""
    cents = round(points * 100)
    if abs(cents - points * 100) > 1e-6:
        raise ValueError(f"{points} has more than two decimals")
    return cents


def share(total_cents, count):
    """[hundredths per test] for `count` tests sharing `total_cents`."""
    if count <= 0:
        return []
    each, remainder = divmod(total_cents, count)
    return [each + (1 if i < remainder else 0) for i in range(count)]


def show(cents):
    """Hundredths as points for people: 10, 0.67, 2.5."""
    whole, part = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    if part == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:02d}".rstrip("0")


def as_number(cents):
    """Hundredths as a JSON number: an int when whole, else two decimals."""
    return cents // 100 if cents % 100 == 0 else round(cents / 100, 2)
