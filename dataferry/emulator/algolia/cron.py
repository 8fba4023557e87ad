"""Five-field cron expressions for the emulator's scheduled tasks: parsing, and the next time
one fires (the ``nextRun`` of a schedule trigger).

Example:
    >>> from datetime import datetime, timezone
    >>> next_run("30 6 * * *", datetime(2024, 7, 18, 7, 0, tzinfo=timezone.utc))
    datetime.datetime(2024, 7, 19, 6, 30, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import datetime, timedelta

MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
WEEKDAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
"""Allowed values of minute, hour, day of month, month, day of week (0 and 7 are Sunday)."""

SEARCH_DAYS = 5 * 366
"""How far ahead the next firing is looked for (covers 29 February)."""


def _value(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step} < 1")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(span, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ValueError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def parse(expr: str) -> tuple[set[int], set[int], set[int], set[int], set[int], bool, bool]:
    """``(minutes, hours, days, months, weekdays, day restricted, weekday restricted)``.

    Raises:
        ValueError: not five fields, or a field that does not parse.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("a cron expression has 5 fields")
    names: tuple[dict[str, int], ...] = ({}, {}, {}, MONTHS, WEEKDAYS)
    sets = [_field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, BOUNDS, names, strict=False)]
    weekdays = {d % 7 for d in sets[4]}
    return sets[0], sets[1], sets[2], sets[3], weekdays, fields[2] != "*", fields[4] != "*"


def next_run(expr: str, after: datetime) -> datetime | None:
    """The first minute strictly after ``after`` at which ``expr`` fires (``None``: never)."""
    minutes, hours, days, months, weekdays, day_set, weekday_set = parse(expr)
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.replace(hour=0, minute=0)
    for _ in range(SEARCH_DAYS):
        dom_ok = day.day in days
        dow_ok = (day.isoweekday() % 7) in weekdays
        # cron rule: when both day fields are restricted, either one matching is enough
        matches = (dom_ok or dow_ok) if (day_set and weekday_set) else (dom_ok and dow_ok)
        if day.month in months and matches:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    moment = day.replace(hour=hour, minute=minute)
                    if moment >= start:
                        return moment
        day += timedelta(days=1)
    return None
