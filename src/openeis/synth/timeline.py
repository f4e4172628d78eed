"""Days and months of the data window, as integer day numbers (days since 1970-01-01)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400
# Fixed bank holidays treated as premium-rate days (with Saturdays and Sundays).
FIXED_HOLIDAYS = ((1, 1), (12, 25), (12, 26))
KEY_SHIFT = 24  # officer << KEY_SHIFT | (day - base): one sortable int64 per officer-day


def to_day(day: dt.date) -> int:
    return (day - EPOCH).days


def to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def years_to_days(years: np.ndarray | float) -> np.ndarray:
    return np.asarray(years) * 365.25


def year_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(month 1-12, day of month 1-31) of each day number."""
    d = np.asarray(days).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    mday = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return month, mday


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 .. Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def premium_day(days: np.ndarray) -> np.ndarray:
    """Saturdays, Sundays and fixed bank holidays."""
    month, mday = month_day(days)
    out = weekday(days) >= 5
    for m, d in FIXED_HOLIDAYS:
        out |= (month == m) & (mday == d)
    return out


def year_start_day(year: int) -> int:
    return to_day(dt.date(year, 1, 1))


@dataclass(frozen=True)
class Timeline:
    """The data window [start, end) and its calendar months (first one may be partial)."""

    start: int
    end: int  # exclusive: the snapshot date
    month_first: np.ndarray  # first day of each month inside the window
    month_last: np.ndarray  # last day (inclusive) inside the window
    month_length: np.ndarray  # days in the full calendar month
    base: int  # for officer-day keys: every day used is >= base

    @classmethod
    def build(cls, start: dt.date, end: dt.date) -> Timeline:
        s, e = to_day(start), to_day(end)
        first_month = np.datetime64(start, "M")
        last_month = np.datetime64(end - dt.timedelta(days=1), "M")
        months = np.arange(first_month, last_month + 1)
        full_first = months.astype("datetime64[D]").astype(np.int64)
        full_next = (months + 1).astype("datetime64[D]").astype(np.int64)
        return cls(
            start=s,
            end=e,
            month_first=np.maximum(full_first, s).astype(np.int32),
            month_last=np.minimum(full_next - 1, e - 1).astype(np.int32),
            month_length=(full_next - full_first).astype(np.int32),
            base=s - 100 * 366,
        )

    @property
    def n_months(self) -> int:
        return len(self.month_first)

    @property
    def n_days(self) -> int:
        return self.end - self.start

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """Index of the month containing each day (days inside the window)."""
        return (np.searchsorted(self.month_first, days, side="right") - 1).astype(np.int32)

    def key(self, officer: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Sortable officer-day key."""
        return (np.asarray(officer, dtype=np.int64) << KEY_SHIFT) | (
            np.asarray(days, dtype=np.int64) - self.base
        )
