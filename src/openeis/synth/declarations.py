"""Declarations register, and the pay-record income it explains.

About DECLARING_OFFICERS of officers declare something. Approved (or noted) secondary
employment shows up as monthly `secondary_income` pay-record events in other_events.
Planted: officers with secondary income in their pay records and no declaration at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.anomalies import KIND_INDEX, NOT_PLANTED, AnomalyPlan
from openeis.synth.context import Context
from openeis.synth.profiles import (
    DECLARATION_DECISION_SHARES,
    DECLARATION_ENDED_SHARE,
    DECLARATION_KIND_SHARES,
    DECLARATION_SECOND_SHARE,
    DECLARING_OFFICERS,
    SECONDARY_INCOME_GBP,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, expand, integers

KIND = {k: i for i, k in enumerate(schema.DECLARATION_KINDS)}
DECISION = {d: i for i, d in enumerate(schema.DECLARATION_DECISIONS)}
DECLARED_BEFORE_START_DAYS = 3 * 365  # declarations may predate the data by three years
DECLARE_DELAY_DAYS = (0, 45)
DECIDE_DELAY_DAYS = (5, 60)
INTEREST_DAYS = (180, 1800)
PAY_DAY = 28  # pay records are dated the 28th (or the month's last day served)
PAY_RECORD_DAYS = (0, 4)
UNDECLARED_MONTHS = (6, 18)


@dataclass
class Income:
    """Monthly secondary-income pay records (for other_events)."""

    officer: np.ndarray
    day: np.ndarray
    value: np.ndarray
    recorded: np.ndarray
    planted: np.ndarray


def _monthly(ctx: Context, officer: np.ndarray, first: np.ndarray, last: np.ndarray):
    """(officer, pay day) for each month of each [first, last] day range in the window."""
    tl = ctx.timeline
    first = np.maximum(first, tl.start)
    last = np.minimum(last, tl.end - 1)
    ok = first <= last
    officer, first, last = officer[ok], first[ok], last[ok]
    m0 = tl.month_index(first)
    m1 = tl.month_index(last)
    parent, k = expand(m1 - m0 + 1)
    month = m0[parent] + k
    day = np.minimum(tl.month_first[month] + PAY_DAY - 1, tl.month_last[month])
    inside = (day >= first[parent]) & (day <= last[parent])
    return officer[parent][inside], day[inside]


def build_declarations(
    ctx: Context, roster: Roster, plan: AnomalyPlan
) -> tuple[pa.Table, Income]:
    rng = ctx.rng("declarations")
    tl = ctx.timeline
    declaring = np.flatnonzero(rng.random(roster.n) < DECLARING_OFFICERS)
    count = 1 + (rng.random(len(declaring)) < DECLARATION_SECOND_SHARE)
    parent, _ = expand(count)
    officer = declaring[parent]
    n = len(officer)
    lo = np.maximum(roster.joined[officer], tl.start - DECLARED_BEFORE_START_DAYS)
    hi = roster.serve_to[officer] - 1
    day = integers(rng, lo, hi)
    kind = categorical(rng, shares(DECLARATION_KIND_SHARES, schema.DECLARATION_KINDS), n)
    ends = day + integers(rng, INTEREST_DAYS[0], INTEREST_DAYS[1], n)
    limit = np.minimum(roster.left[officer], tl.end)
    has_end = (rng.random(n) < DECLARATION_ENDED_SHARE) & (ends < limit)
    recorded = day + integers(rng, DECLARE_DELAY_DAYS[0], DECLARE_DELAY_DAYS[1], n)
    keep = recorded < tl.end
    decisions = shares(DECLARATION_DECISION_SHARES, schema.DECLARATION_DECISIONS)
    decision = categorical(rng, decisions, n)
    decided = recorded + integers(rng, DECIDE_DELAY_DAYS[0], DECIDE_DELAY_DAYS[1], n)
    decision = np.where(decided >= tl.end, DECISION["pending"], decision)
    decided_ok = decision != DECISION["pending"]

    arrays = (officer, day, kind, ends, has_end, recorded, decision, decided, decided_ok)
    officer, day, kind, ends, has_end, recorded, decision, decided, decided_ok = (
        a[keep] for a in arrays
    )
    n = len(officer)
    order = np.lexsort((officer, day))
    table = C.build_table(
        "declarations",
        {
            "declaration_id": C.sequence_ids("DC", n),
            "officer_id": C.lookup(roster.ids, officer[order]),
            "kind": C.schema_codes("declarations", "kind", kind[order]),
            "decision": C.schema_codes("declarations", "decision", decision[order]),
            "occurred_at": C.dates(day[order]),
            "ends_at": C.dates(ends[order], has_end[order]),
            "recorded_at": C.dates(recorded[order]),
            "decided_at": C.dates(decided[order], decided_ok[order]),
        },
    )

    # Declared secondary employment, once allowed, is paid monthly until it ends.
    paid = (kind == KIND["secondary_employment"]) & np.isin(
        decision, [DECISION["approved"], DECISION["noted"]]
    )
    last = np.where(has_end, ends, roster.serve_to[officer] - 1)
    last = np.minimum(last, roster.serve_to[officer] - 1)
    first_pay = np.maximum(day[paid], decided[paid])
    inc_off, inc_day = _monthly(ctx, officer[paid], first_pay, last[paid])

    # Planted: secondary income with no declaration of any kind.
    declared = np.zeros(roster.n, dtype=bool)
    declared[officer] = True
    chosen = plan.choose("undeclared_secondary_income", plan.eligible_in_window() & ~declared)
    w_lo, w_hi = plan.window
    months = integers(rng, UNDECLARED_MONTHS[0], UNDECLARED_MONTHS[1], len(chosen))
    span = np.minimum(months * 30, w_hi - w_lo - 1)
    first = integers(rng, w_lo, w_hi - 1 - span, len(chosen))
    p_off, p_day = _monthly(ctx, chosen, first, first + span)

    inc_officer = np.concatenate([inc_off, p_off])
    inc_day = np.concatenate([inc_day, p_day]).astype(np.int64)
    planted = np.concatenate(
        [
            np.full(len(inc_off), NOT_PLANTED),
            np.full(len(p_off), KIND_INDEX["undeclared_secondary_income"]),
        ]
    ).astype(np.int16)
    m = len(inc_officer)
    mu, sigma = SECONDARY_INCOME_GBP
    value = np.round(rng.lognormal(mu, sigma, m), 2)
    recorded = np.minimum(inc_day + integers(rng, *PAY_RECORD_DAYS, m), tl.end - 1)
    return table, Income(inc_officer, inc_day, value, recorded, planted)
