"""Shift swaps between officers of the same unit and month.

A swap is entered (recorded_at) on the day of the shift taken and approved the same or
the next day. premium_day is true for Saturdays, Sundays and fixed bank holidays, so
about 2/7 of normal swaps are on premium days. Planted: officers whose swaps take
premium days far more often than their peers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openeis.synth import columns as C
from openeis.synth.absences import Absences
from openeis.synth.anomalies import KIND_INDEX, NOT_PLANTED, AnomalyPlan
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import SWAP_UNDECIDED, SWAPS_PER_MONTH
from openeis.synth.roster import Roster
from openeis.synth.sampling import integers, time_order
from openeis.synth.timeline import premium_day

PLANTED_SWAPS = (10, 20)
PLANT_MARGIN_DAYS = 10


def _planted(ctx: Context, grid: ServiceGrid, absences: Absences, plan: AnomalyPlan):
    rng = ctx.rng("swaps-planted")
    lo, _ = plan.window
    last = ctx.timeline.end - PLANT_MARGIN_DAYS
    chosen = plan.choose("premium_day_swaps", plan.eligible_in_window())
    want = integers(rng, PLANTED_SWAPS[0], PLANTED_SWAPS[1], len(chosen))
    tries = 8 * PLANTED_SWAPS[1]
    officer = np.repeat(chosen, tries)
    day = integers(rng, lo, last, len(officer))
    ok = premium_day(day) & grid.at_work_officer(ctx, officer, day)
    officer, day = officer[ok], day[ok]
    key = ctx.timeline.key(officer, day)
    _, first = np.unique(key, return_index=True)  # sorted by officer, then day
    officer, day = officer[first], day[first]
    rank = np.arange(len(officer)) - np.searchsorted(officer, officer)
    lookup = np.zeros(plan.roster.n, dtype=np.int64)
    lookup[chosen] = want
    keep = rank < lookup[officer]
    officer, day = officer[keep], day[keep]
    rows = grid.row_of(officer, ctx.timeline.month_index(day))
    return rows, day


def build_swaps(
    ctx: Context, roster: Roster, grid: ServiceGrid, absences: Absences, plan: AnomalyPlan
) -> pa.Table:
    rng = ctx.rng("shift_swaps")
    tl = ctx.timeline
    rows, day = grid.events(rng, SWAPS_PER_MONTH * grid.frac)
    keep = grid.at_work(rows, day)
    rows, day = rows[keep], day[keep].astype(np.int64)
    p_rows, p_day = _planted(ctx, grid, absences, plan)
    planted = np.concatenate(
        [np.full(len(rows), NOT_PLANTED), np.full(len(p_rows), KIND_INDEX["premium_day_swaps"])]
    ).astype(np.int16)
    rows = np.concatenate([rows, p_rows])
    day = np.concatenate([day, p_day])
    n = len(rows)
    officer = grid.officer[rows]
    other = grid.peers(rng, rows, 1)[:, 0]
    other_officer = np.where(other >= 0, grid.officer[np.maximum(other, 0)], -1)
    decided = day + integers(rng, 0, 1, n)
    decided_ok = (decided < tl.end) & ((rng.random(n) >= SWAP_UNDECIDED) | (planted != NOT_PLANTED))

    order = time_order(day, tl.start)
    ids = C.sequence_ids("SW", n)
    plan.record_planted("shift_swaps", planted[order], officer[order], ids)
    other_officer = other_officer[order]
    return C.build_table(
        "shift_swaps",
        {
            "swap_id": ids,
            "officer_id": C.lookup(roster.ids, officer[order]),
            "other_officer_id": C.lookup(
                roster.ids, np.maximum(other_officer, 0), other_officer >= 0
            ),
            "premium_day": C.bools(premium_day(day[order])),
            "occurred_at": C.dates(day[order]),
            "recorded_at": C.dates(day[order]),
            "decided_at": C.dates(decided[order], decided_ok[order]),
        },
    )
