"""Overtime claims: a few a month for operational officers, on days they were at work.

Planted: claims inside recorded sickness or annual leave, pairs of claims whose hours
overlap, and single claims of more than 16 hours. Normal claims never do any of these:
at most one claim per officer-day, at most OVERTIME_MAX_HOURS, never on an absence day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.absences import LEAVE, SICK, Absences
from openeis.synth.anomalies import KIND_INDEX, NOT_PLANTED, AnomalyPlan
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import (
    OVERTIME_DECIDE_DAYS,
    OVERTIME_HOURS_GAMMA,
    OVERTIME_MAX_HOURS,
    OVERTIME_RATE_SHARES,
    OVERTIME_REASON_SHARES,
    OVERTIME_REJECTED,
    OVERTIME_START_HOURS,
    OVERTIME_SUBMIT_DAYS,
    function_array,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, expand, integers, member, time_order
from openeis.synth.timeline import SECONDS_PER_DAY

STATUS = {s: i for i, s in enumerate(schema.OVERTIME_STATUSES)}
PLANT_MARGIN_DAYS = 30  # planted claims are decided well before the snapshot
HOUR = 3600


@dataclass
class Overtime:
    officer: np.ndarray
    start: np.ndarray  # seconds
    end: np.ndarray
    hours: np.ndarray
    rate: np.ndarray
    reason: np.ndarray
    status: np.ndarray
    recorded: np.ndarray
    decided: np.ndarray
    planted: np.ndarray
    approved_hours: np.ndarray  # per grid row (by month of the claim's start)

    @property
    def n(self) -> int:
        return len(self.officer)

    def table(self, ctx: Context, roster: Roster, plan: AnomalyPlan) -> pa.Table:
        order = time_order(self.start // SECONDS_PER_DAY, ctx.timeline.start, self.start)
        ids = C.sequence_ids("OT", self.n)
        officers = self.officer[order]
        plan.record_planted("overtime_claims", self.planted[order], officers, ids)
        decided = self.decided[order]
        return C.build_table(
            "overtime_claims",
            {
                "claim_id": ids,
                "officer_id": C.lookup(roster.ids, officers),
                "hours": C.floats(self.hours[order]),
                "rate": C.schema_codes("overtime_claims", "rate", self.rate[order]),
                "reason": C.schema_codes("overtime_claims", "reason", self.reason[order]),
                "status": C.schema_codes("overtime_claims", "status", self.status[order]),
                "occurred_at": C.datetimes(self.start[order]),
                "ends_at": C.datetimes(self.end[order]),
                "recorded_at": C.datetimes(self.recorded[order]),
                "decided_at": C.datetimes(np.maximum(decided, 0), decided >= 0),
            },
        )


def _pick_one_per_officer(rng, officers: np.ndarray) -> np.ndarray:
    """Index of one random element per distinct officer."""
    order = np.lexsort((rng.random(len(officers)), officers))
    first = np.ones(len(order), dtype=bool)
    first[1:] = officers[order][1:] != officers[order][:-1]
    return order[first]


def _days_at_work(ctx, rng, grid: ServiceGrid, officers: np.ndarray, per_officer: int,
                  lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to `per_officer` distinct random days in [lo, hi] when each officer was at work."""
    tries = 6 * per_officer
    off = np.repeat(officers, tries)
    day = integers(rng, lo, hi, len(off))
    ok = grid.at_work_officer(ctx, off, day)
    off, day = off[ok], day[ok]
    key = ctx.timeline.key(off, day)
    _, first = np.unique(key, return_index=True)
    off, day = off[first], day[first]
    order = np.lexsort((rng.random(len(off)), off))
    off, day = off[order], day[order]
    starts = np.searchsorted(off, off)
    keep = (np.arange(len(off)) - starts) < per_officer
    return off[keep], day[keep]


def _plant(ctx: Context, roster: Roster, grid: ServiceGrid, absences: Absences, plan: AnomalyPlan):
    """Planted claims as (officer, day, start seconds, hours, kind index) arrays."""
    rng = ctx.rng("overtime-planted")
    tl = ctx.timeline
    lo, _ = plan.window
    last = tl.end - PLANT_MARGIN_DAYS
    out: list[tuple[np.ndarray, ...]] = []

    # Inside recorded sickness / annual leave.
    for kind, abs_kind in (("overtime_during_sickness", SICK), ("overtime_during_leave", LEAVE)):
        cand = np.flatnonzero(
            (absences.kind == abs_kind)
            & (absences.planted == NOT_PLANTED)
            & (absences.start >= lo)
            & (absences.end <= last)
        )
        eligible = np.zeros(roster.n, dtype=bool)
        eligible[absences.officer[cand]] = True
        chosen = plan.choose(kind, eligible)
        cand = cand[np.isin(absences.officer[cand], chosen)]
        spans = cand[_pick_one_per_officer(rng, absences.officer[cand])]
        length = absences.end[spans] - absences.start[spans] + 1
        count = np.minimum(integers(rng, 1, 3, len(spans)), length)
        parent, j = expand(count)
        day = absences.start[spans][parent] + np.floor(
            (j + rng.random(len(parent))) * length[parent] / count[parent]
        ).astype(np.int64)
        hour = integers(rng, 8, 14, len(day))
        hours = integers(rng, 12, 32, len(day)) / 4.0
        officer = absences.officer[spans][parent]
        out.append((officer, day, day * SECONDS_PER_DAY + hour * HOUR, hours,
                    np.full(len(day), KIND_INDEX[kind])))

    eligible = plan.eligible_in_window()
    # Two claims whose hours overlap, on one to three days.
    chosen = plan.choose("overlapping_overtime", eligible)
    off, day = _days_at_work(ctx, rng, grid, chosen, 2, lo, last)
    first_start = day * SECONDS_PER_DAY + integers(rng, 8, 11, len(day)) * HOUR
    second_start = first_start + integers(rng, 8, 14, len(day)) * (HOUR // 4)
    kind = np.full(len(day), KIND_INDEX["overlapping_overtime"])
    out.append((off, day, first_start, np.full(len(day), 6.0), kind))
    out.append((off, day, second_start, integers(rng, 16, 24, len(day)) / 4.0, kind))

    # Claims of more than 16 hours.
    chosen = plan.choose("excessive_overtime_hours", eligible)
    off, day = _days_at_work(ctx, rng, grid, chosen, 2, lo, last)
    start = day * SECONDS_PER_DAY + (5 * HOUR) + integers(rng, 0, 6, len(day)) * 900
    hours = integers(rng, 17 * 4 + 1, 21 * 4, len(day)) / 4.0
    out.append((off, day, start, hours, np.full(len(day), KIND_INDEX["excessive_overtime_hours"])))

    return tuple(np.concatenate([o[i] for o in out]) for i in range(5))


def build_overtime(
    ctx: Context, roster: Roster, grid: ServiceGrid, absences: Absences, plan: AnomalyPlan
) -> Overtime:
    rng = ctx.rng("overtime")
    tl = ctx.timeline
    rate = function_array("overtime_per_month")[grid.function]
    lam = rate * grid.frac * roster.overtime_appetite[grid.officer]
    rows, day = grid.events(rng, lam, spread=True)

    p_officer, p_day, p_start, p_hours, p_kind = _plant(ctx, roster, grid, absences, plan)

    # Normal claims: never on an absence day, one per officer-day, none on planted days.
    keep = grid.at_work(rows, day)
    keep[1:] &= (rows[1:] != rows[:-1]) | (day[1:] != day[:-1])  # days ascend within a row
    rows, day = rows[keep], day[keep]
    officer = grid.officer[rows].astype(np.int64)
    day = day.astype(np.int64)
    blocked = np.concatenate([tl.key(p_officer, p_day), tl.key(p_officer, p_day + 1)])
    keep = ~member(tl.key(officer, day), blocked)
    officer, day, rows = officer[keep], day[keep], rows[keep]
    del keep

    n = len(officer)
    h_lo, h_hi = OVERTIME_START_HOURS
    start = day * SECONDS_PER_DAY + integers(rng, h_lo, h_hi, n) * HOUR
    start += integers(rng, 0, 3, n) * 900
    shape, scale = OVERTIME_HOURS_GAMMA
    hours = np.clip(np.round(rng.gamma(shape, scale, n) * 4) / 4, 0.5, OVERTIME_MAX_HOURS)
    planted = np.full(n, NOT_PLANTED, dtype=np.int16)
    p_rows = grid.row_of(p_officer, tl.month_index(p_day))
    rows = np.concatenate([rows, p_rows])
    officer = np.concatenate([officer, p_officer])
    start = np.concatenate([start, p_start])
    hours = np.concatenate([hours, p_hours])
    planted = np.concatenate([planted, p_kind.astype(np.int16)])
    n = len(officer)
    is_planted = planted != NOT_PLANTED

    end = start + np.round(hours * HOUR).astype(np.int64)
    d_lo, d_hi = OVERTIME_SUBMIT_DAYS
    submit = np.where(is_planted, integers(rng, 1, 3, n), integers(rng, d_lo, d_hi, n))
    recorded = end + submit * SECONDS_PER_DAY + integers(rng, 0, 8 * 60, n) * 60
    d_lo, d_hi = OVERTIME_DECIDE_DAYS
    decided = recorded + integers(rng, d_lo, d_hi, n) * SECONDS_PER_DAY
    decided += integers(rng, 0, 8 * 60, n) * 60  # the claims system records minutes
    snapshot = tl.end * SECONDS_PER_DAY
    keep = recorded < snapshot
    status = np.where(
        (rng.random(n) < OVERTIME_REJECTED) & ~is_planted, STATUS["rejected"], STATUS["approved"]
    )
    status = np.where(decided >= snapshot, STATUS["pending"], status)
    decided = np.where(decided >= snapshot, -1, decided)
    rates = categorical(rng, shares(OVERTIME_RATE_SHARES, schema.OVERTIME_RATES), n)
    reasons = categorical(rng, shares(OVERTIME_REASON_SHARES, schema.OVERTIME_REASONS), n)

    arrays = [officer, start, end, hours, rates, reasons, status, recorded, decided, planted, rows]
    officer, start, end, hours, rates, reasons, status, recorded, decided, planted, rows = (
        a[keep] for a in arrays
    )
    approved = (status == STATUS["approved"]) & (rows >= 0)
    approved_hours = np.bincount(rows[approved], weights=hours[approved], minlength=grid.n)
    return Overtime(
        officer=officer.astype(np.int32),
        start=start,
        end=end,
        hours=hours,
        rate=rates,
        reason=reasons,
        status=status.astype(np.int16),
        recorded=recorded,
        decided=decided,
        planted=planted,
        approved_hours=approved_hours,
    )
