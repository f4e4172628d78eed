"""Absences: sickness spells, annual leave, parental leave, suspension, restricted duty.

Spells of all kinds arrive per officer as one Poisson process over the officer's service
(each kind at its own yearly rate), then overlaps are removed (an officer is absent for
one reason at a time). Planted: officers with many short sickness spells in one year (a high
Bradford factor). The spans also tell later steps who was away on which day, so normal
overtime and look-ups avoid absence days and only planted ones fall inside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.anomalies import KIND_INDEX, NOT_PLANTED, AnomalyPlan
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import (
    LEAVE_DURATION_MIX,
    LEAVE_SPANS_PER_YEAR,
    PARENTAL_DAYS,
    PARENTAL_PER_YEAR,
    RESTRICTED_DUTY_DAYS,
    RESTRICTED_DUTY_PER_YEAR,
    SICK_DURATION_MIX,
    SICK_SPELLS_PER_YEAR,
    SICKNESS_PROPENSITY_POWER,
    SICKNESS_REASON_SHARES,
    SUSPENSION_DAYS,
    SUSPENSIONS_PER_YEAR,
    GENDERS,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import (
    categorical,
    durations,
    expand,
    integers,
    sorted_uniforms,
    time_order,
)

KIND = {k: i for i, k in enumerate(schema.ABSENCE_KINDS)}
SICK, LEAVE = KIND["sickness"], KIND["annual_leave"]
# Kinds during which the officer does not work (restricted duty is still work).
AWAY_KINDS = np.array([k != "restricted_duty" for k in schema.ABSENCE_KINDS])
BRADFORD_SPELLS = (15, 20)  # planted short spells (1-2 days) in one year
BRADFORD_PERIOD_DAYS = 365  # ... within one year (less when the data is shorter)
BRADFORD_MIN_PERIOD_DAYS = 90
BRADFORD_MARGIN_DAYS = 30


@dataclass
class Absences:
    officer: np.ndarray  # sorted by officer, then start; no two spans of an officer overlap
    kind: np.ndarray
    reason: np.ndarray  # index into SICKNESS_REASONS, -1 when not sickness
    start: np.ndarray
    end: np.ndarray  # inclusive; > timeline.end - 1 while ongoing at the snapshot
    recorded: np.ndarray
    planted: np.ndarray
    off_days: np.ndarray  # per grid row: days away (sickness, suspension, parental...)
    leave_days: np.ndarray  # per grid row: days of annual leave

    @property
    def n(self) -> int:
        return len(self.officer)

    def table(self, ctx: Context, roster: Roster, plan: AnomalyPlan) -> pa.Table:
        order = time_order(self.start, ctx.timeline.start)
        end = self.end[order]
        known = end < ctx.timeline.end
        ids = C.sequence_ids("AB", self.n)
        officers = self.officer[order]
        plan.record_planted("absences", self.planted[order], officers, ids)
        reason = self.reason[order]
        return C.build_table(
            "absences",
            {
                "absence_id": ids,
                "officer_id": C.lookup(roster.ids, officers),
                "kind": C.schema_codes("absences", "kind", self.kind[order]),
                "reason": C.schema_codes("absences", "reason", reason, reason >= 0),
                "occurred_at": C.dates(self.start[order]),
                "ends_at": C.dates(np.where(known, end, 0), known),
                "recorded_at": C.dates(self.recorded[order]),
            },
        )


def _bradford(ctx: Context, roster: Roster, plan: AnomalyPlan):
    """Planted many-short-spells years: (officer, start, end, chosen, period start, end)."""
    lo, hi = plan.window
    period = min(BRADFORD_PERIOD_DAYS, hi - lo - BRADFORD_MARGIN_DAYS)
    long_enough = period >= BRADFORD_MIN_PERIOD_DAYS
    eligible = plan.eligible_in_window(lo, hi) if long_enough else np.zeros(roster.n, bool)
    chosen = plan.choose("high_bradford_factor", eligible)
    rng = ctx.rng("bradford")
    m = len(chosen)
    period_start = integers(rng, lo, hi - period - BRADFORD_MARGIN_DAYS, m)
    count = integers(rng, BRADFORD_SPELLS[0], BRADFORD_SPELLS[1], m)
    parent, j = expand(count)
    gap = period // count[parent]
    start = period_start[parent] + j * gap + integers(rng, 0, np.maximum(gap - 3, 0))
    end = start + integers(rng, 0, 1, len(start))
    return chosen[parent], start, end, chosen, period_start, period_start + period


def _kind_rates(roster: Roster) -> np.ndarray:
    """Yearly rate of each absence kind per officer: shape (officers, kinds)."""
    rates = np.zeros((roster.n, len(schema.ABSENCE_KINDS)))
    sick = roster.frailty * roster.propensity**SICKNESS_PROPENSITY_POWER
    rates[:, SICK] = SICK_SPELLS_PER_YEAR * sick
    rates[:, LEAVE] = LEAVE_SPANS_PER_YEAR
    rates[:, KIND["parental"]] = np.array([PARENTAL_PER_YEAR[g] for g in GENDERS])[roster.gender]
    rates[:, KIND["suspension"]] = SUSPENSIONS_PER_YEAR * roster.propensity**1.5
    rates[:, KIND["restricted_duty"]] = RESTRICTED_DUTY_PER_YEAR
    return rates


def _lengths(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    length = np.ones(len(kind), dtype=np.int64)
    for k, draw in (
        (SICK, lambda n: durations(rng, SICK_DURATION_MIX, n)),
        (LEAVE, lambda n: durations(rng, LEAVE_DURATION_MIX, n)),
        (KIND["parental"], lambda n: integers(rng, *PARENTAL_DAYS, n)),
        (KIND["suspension"], lambda n: integers(rng, *SUSPENSION_DAYS, n)),
        (KIND["restricted_duty"], lambda n: integers(rng, *RESTRICTED_DUTY_DAYS, n)),
    ):
        m = kind == k
        length[m] = draw(int(m.sum()))
    return length


def build_absences(ctx: Context, roster: Roster, grid: ServiceGrid, plan: AnomalyPlan) -> Absences:
    rng = ctx.rng("absences")
    tl = ctx.timeline
    rates = _kind_rates(roster)
    total = rates.sum(axis=1)
    served_days = (roster.serve_to - roster.serve_from).astype(np.int64)
    counts = rng.poisson(total * served_days / 365.25)
    officer, u = sorted_uniforms(rng, counts)  # sorted by officer, then time
    start = roster.serve_from[officer] + (u * served_days[officer]).astype(np.int64)
    cum = np.cumsum(rates / total[:, None], axis=1)
    pick = rng.random(len(officer))
    kind = np.zeros(len(officer), dtype=np.int16)
    for k in range(rates.shape[1] - 1):
        kind += pick >= cum[officer, k]
    end = start + _lengths(rng, kind) - 1
    planted = np.full(len(officer), NOT_PLANTED, dtype=np.int16)

    # Planted Bradford years replace whatever else the officer had in that year.
    b_off, b_start, b_end, chosen, p_start, p_end = _bradford(ctx, roster, plan)
    if len(chosen):
        which = np.full(roster.n, -1)
        which[chosen] = np.arange(len(chosen))
        w = which[officer]
        safe = np.maximum(w, 0)
        overlap = (w >= 0) & (start <= p_end[safe]) & (end >= p_start[safe])
        officer, kind, start, end, planted = (
            a[~overlap] for a in (officer, kind, start, end, planted)
        )
        # Insert the planted spells in (officer, start) order, before equal keys.
        at = np.searchsorted(tl.key(officer, start), tl.key(b_off, b_start), side="left")
        officer = np.insert(officer, at, b_off)
        kind = np.insert(kind, at, SICK)
        start = np.insert(start, at, b_start)
        end = np.insert(end, at, b_end)
        planted = np.insert(planted, at, KIND_INDEX["high_bradford_factor"])

    # Clip to service: nothing after the officer left; ongoing spans stay open.
    end = np.minimum(end, roster.left[officer] - 1)
    end = np.minimum(end, tl.end + 400)

    # Remove overlaps: drop a span starting on or before the latest end of the officer's
    # earlier spans (spans are in officer, start order).
    end_key = tl.key(officer, end)
    running = np.maximum.accumulate(end_key) if len(end_key) else end_key
    previous = np.concatenate([[-1], running[:-1]])
    keep = tl.key(officer, start) > previous
    officer, kind, start, end, planted = (a[keep] for a in (officer, kind, start, end, planted))

    reasons = schema.SICKNESS_REASONS
    is_sick = kind == SICK
    drawn = categorical(rng, shares(SICKNESS_REASON_SHARES, reasons), len(kind))
    reason = np.where(is_sick, drawn, -1)
    delay = np.where(is_sick, integers(rng, 0, 1, len(kind)), 0)
    delay = np.where(kind == KIND["suspension"], integers(rng, 0, 3, len(kind)), delay)
    recorded = np.minimum(start + delay, tl.end - 1)

    off_days, leave_days, mask = _per_row(ctx, grid, officer, kind, start, end)
    grid.away_mask = mask
    return Absences(
        officer=officer.astype(np.int32),
        kind=kind,
        reason=reason.astype(np.int16),
        start=start.astype(np.int32),
        end=end,
        recorded=recorded.astype(np.int32),
        planted=planted,
        off_days=off_days,
        leave_days=leave_days,
    )


def _per_row(ctx: Context, grid: ServiceGrid, officer, kind, start, end):
    """Per grid row: days away (not leave), days of leave, and a bit mask of away days."""
    tl = ctx.timeline
    s = np.maximum(start, tl.start)
    e = np.minimum(end, tl.end - 1)
    ok = (s <= e) & AWAY_KINDS[kind]
    officer, kind, s, e = officer[ok], kind[ok], s[ok], e[ok]
    m0 = tl.month_index(s)
    m1 = tl.month_index(e)
    span, k = expand(m1 - m0 + 1)
    month = m0[span] + k
    first = np.maximum(s[span], tl.month_first[month])
    last = np.minimum(e[span], tl.month_last[month])
    rows = grid.row_of(officer[span], month)
    valid = rows >= 0
    rows, first, last, kinds = rows[valid], first[valid], last[valid], kind[span][valid]
    days = (last - first + 1).astype(np.float64)
    leave = kinds == LEAVE
    off_days = np.bincount(rows[~leave], weights=days[~leave], minlength=grid.n)
    leave_days = np.bincount(rows[leave], weights=days[leave], minlength=grid.n)
    offset = (first - grid.day_from[rows]).astype(np.int64)
    bits = ((np.int64(1) << (last - first + 1)) - 1) << offset
    mask = np.bincount(rows, weights=bits.astype(np.float64), minlength=grid.n)
    return off_days.astype(np.int32), leave_days.astype(np.int32), mask.astype(np.uint32)
