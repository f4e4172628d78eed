"""As-of dates: parsing, month arithmetic and the dates relation."""

from __future__ import annotations

import calendar
from datetime import date

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_range(start: date, end: date, every_months: int = 1) -> list[date]:
    out, k = [], 0
    while (d := add_months(start, k * every_months)) <= end:
        out.append(d)
        k += 1
    return out


def parse_as_of(text: str) -> list[date]:
    """'2020-01-01,2020-06-01' or a range '2020-01-01:2022-12-01:1m' (every month)."""
    dates: list[date] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if ":" in part:
            pieces = part.split(":")
            if len(pieces) not in (2, 3):
                raise ValueError(f"bad date range {part!r}: START:END[:Nm]")
            step = pieces[2] if len(pieces) == 3 else "1m"
            if not (step.endswith("m") and step[:-1].isdigit() and int(step[:-1]) > 0):
                raise ValueError(f"bad step {step!r}: use Nm (every N months)")
            dates.extend(month_range(_date(pieces[0]), _date(pieces[1]), int(step[:-1])))
        else:
            dates.append(_date(part))
    if not dates:
        raise ValueError("no as-of date given")
    return sorted(set(dates))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


def dates_sql(dates: list[date]) -> str:
    """(idx, as_of TIMESTAMP, day) for the sorted as-of dates."""
    rows = ", ".join(
        f"({i}, CAST('{d.isoformat()}' AS TIMESTAMP), {day_number(d)})" for i, d in enumerate(dates)
    )
    return f"SELECT * FROM (VALUES {rows}) AS v(idx, as_of, day)"
