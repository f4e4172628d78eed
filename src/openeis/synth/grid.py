"""The service grid: one row per officer per calendar month served.

It is the backbone of every event table: events are drawn per grid row at rates that
depend on the unit's function, the shifts worked and the officer's traits, and
colleagues (co-accused, swap partners) are drawn from the same unit and month. Rows are
ordered by month, then officer, so events drawn per row come out (nearly) in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openeis.synth.context import Context
from openeis.synth.postings import Postings
from openeis.synth.roster import Roster
from openeis.synth.sampling import expand, stable_order


@dataclass
class ServiceGrid:
    officer: np.ndarray  # sorted by month, then officer
    month: np.ndarray
    day_from: np.ndarray  # first day served in the month
    day_to: np.ndarray  # last day served in the month (inclusive)
    posting: np.ndarray
    unit: np.ndarray
    function: np.ndarray
    rank: np.ndarray
    frac: np.ndarray  # share of the calendar month served
    n_months: int
    n_officers: int
    first_month: np.ndarray  # per officer: first month served
    last_month: np.ndarray  # per officer: last month served
    officer_start: np.ndarray  # per officer: position of its first month in officer order
    row_at: np.ndarray  # officer-order position -> grid row
    away_mask: np.ndarray | None = None  # per row: bit d set when away on day_from + d
    _groups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False
    )

    @property
    def n(self) -> int:
        return len(self.officer)

    @property
    def served(self) -> np.ndarray:
        return self.day_to - self.day_from + 1

    def keys(self) -> np.ndarray:
        return self.month.astype(np.int64) * self.n_officers + self.officer

    def row_of(self, officer: np.ndarray, month: np.ndarray) -> np.ndarray:
        """Grid row of each (officer, month); -1 where the officer did not serve."""
        officer = np.asarray(officer)
        month = np.asarray(month, dtype=np.int64)
        first = self.first_month[officer]
        served = (month >= first) & (month <= self.last_month[officer])
        position = self.officer_start[officer] + np.where(served, month - first, 0)
        return np.where(served, self.row_at[position], -1)

    def random_days(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        """A uniformly random served day in each given row."""
        span = self.served[rows]
        return self.day_from[rows] + (rng.random(len(rows)) * span).astype(np.int32)

    def events(
        self, rng: np.random.Generator, rate: np.ndarray, spread: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson(rate) events per row: (row, day), days uniform in the served days.

        spread=True: the k events of a row fall one in each k-th of the month (distinct
        days while k <= days served, ascending within the row).
        """
        counts = rng.poisson(rate)
        rows, rank = expand(counts)
        u = rng.random(len(rows))
        if spread:
            u = (rank + u) / counts[rows]
        days = self.day_from[rows] + (u * self.served[rows]).astype(np.int32)
        return rows, days

    def at_work(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether the officer of each row was at work (not away) on each day."""
        if self.away_mask is None:
            return np.ones(len(rows), dtype=bool)
        shift = (np.asarray(days) - self.day_from[rows]).astype(np.uint32)
        return ((self.away_mask[rows] >> shift) & 1) == 0

    def at_work_officer(self, ctx, officer: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Like at_work, by officer and day; False where the officer did not serve."""
        rows = self.row_of(officer, ctx.timeline.month_index(days))
        served = rows >= 0
        out = np.zeros(len(rows), dtype=bool)
        out[served] = self.at_work(rows[served], np.asarray(days)[served])
        return out

    def _peer_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._groups is None:
            key = self.unit.astype(np.int64) * self.n_months + self.month
            order = stable_order(self.unit)  # rows are month-major: unit, month, officer
            sorted_key = key[order]
            boundary = np.ones(len(order), dtype=bool)
            boundary[1:] = sorted_key[1:] != sorted_key[:-1]
            group_start = np.flatnonzero(boundary)
            group_size = np.diff(np.append(group_start, len(order)))
            group_of_pos = np.cumsum(boundary) - 1
            position = np.empty(len(order), dtype=np.int64)
            position[order] = np.arange(len(order))
            starts = group_start[group_of_pos]
            sizes = group_size[group_of_pos]
            self._groups = (order, position, starts, sizes)
        return self._groups

    def peers(self, rng: np.random.Generator, rows: np.ndarray, count: int) -> np.ndarray:
        """Up to `count` distinct other grid rows of the same unit and month, per row.

        Shape (len(rows), count); -1 where the unit had too few other officers.
        """
        order, position, starts, sizes = self._peer_groups()
        pos = position[rows]
        start = starts[pos]
        size = sizes[pos]
        out = np.full((len(rows), count), -1, dtype=np.int64)
        taken: list[np.ndarray] = []
        for j in range(count):
            room = size - 1 - j  # other officers not yet taken
            offset = 1 + np.floor(rng.random(len(rows)) * np.maximum(room, 1)).astype(np.int64)
            # Skip offsets already used, smallest first, to keep the picks distinct.
            for used in sorted_offsets(taken):
                offset = offset + (offset >= used)
            ok = room >= 1
            taken.append(np.where(ok, offset, np.iinfo(np.int64).max))
            picked = start + (pos - start + offset) % np.maximum(size, 1)
            out[:, j] = np.where(ok, order[np.where(ok, picked, 0)], -1)
        return out


def sorted_offsets(taken: list[np.ndarray]) -> list[np.ndarray]:
    """Element-wise ascending order of the offsets already used."""
    if len(taken) <= 1:
        return taken
    stacked = np.sort(np.stack(taken, axis=1), axis=1)
    return [stacked[:, j] for j in range(stacked.shape[1])]


def build_grid(ctx: Context, roster: Roster, postings: Postings) -> ServiceGrid:
    tl = ctx.timeline
    m0 = tl.month_index(roster.serve_from)
    m1 = tl.month_index(roster.serve_to - 1)
    counts = m1 - m0 + 1
    officer, rank_in = expand(counts)
    month = (m0[officer] + rank_in).astype(np.uint16)
    by_month = np.argsort(month, kind="stable")  # radix sort: month, then officer
    row_at = np.empty(len(by_month), dtype=np.int64)
    row_at[by_month] = np.arange(len(by_month))
    officer = officer[by_month].astype(np.int32)
    month = month[by_month].astype(np.int16)
    day_from = np.maximum(tl.month_first[month], roster.serve_from[officer])
    day_to = np.minimum(tl.month_last[month], roster.serve_to[officer] - 1)
    posting = postings.at(ctx, officer, (day_from.astype(np.int64) + day_to) // 2)
    frac = ((day_to - day_from + 1) / tl.month_length[month]).astype(np.float32)
    return ServiceGrid(
        officer=officer,
        month=month,
        day_from=day_from.astype(np.int32),
        day_to=day_to.astype(np.int32),
        posting=posting.astype(np.int32),
        unit=postings.unit[posting],
        function=postings.function[posting],
        rank=postings.rank[posting],
        frac=frac,
        n_months=tl.n_months,
        n_officers=roster.n,
        first_month=m0.astype(np.int64),
        last_month=m1.astype(np.int64),
        officer_start=np.cumsum(counts) - counts,
        row_at=row_at,
    )
