"""System access: look-ups in police IT systems over the last options.access_months.

A full-time officer of an operational unit makes about options.access_rate look-ups a
week (scaled by the unit function and a per-officer intensity), only on days at work,
at hours that fit the unit's shift pattern. Nearly all carry a case reference; a share
repeat the officer's previous subject (case work).

Planted: look-ups without a case reference, repeated look-ups of one subject, bursts in
the small hours by day-shift officers, and a burst of look-ups of one person within days
of a complaint about the officer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.absences import Absences
from openeis.synth.anomalies import KIND_INDEX, NOT_PLANTED, AnomalyPlan
from openeis.synth.complaints import Complaints
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.postings import Postings
from openeis.synth.profiles import (
    ACCESS_KIND_SHARES,
    ACCESS_NO_CASE,
    ACCESS_REPEAT_SHARE,
    ACCESS_SUBJECTS_PER_OFFICER,
    ACCESS_SYSTEMS,
    DAY_SHIFT_HOURS,
    NIGHT_SHARE_AROUND_CLOCK,
    function_array,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, expand, integers, time_order
from openeis.synth.timeline import SECONDS_PER_DAY

KIND = {k: i for i, k in enumerate(schema.ACCESS_RECORD_KINDS)}
SYSTEMS = tuple(dict.fromkeys(s for systems, _ in ACCESS_SYSTEMS.values() for s in systems))
MIN_SUBJECTS = 100_000
CASE_NUMBERS = 10**9
STAFF_ACCESS_FACTOR = 0.5
PLANT_MARGIN_DAYS = 3
NO_CASE_LOOKUPS = (8, 20)
REPEATED_LOOKUPS = (15, 40)
BURSTS = (2, 4)
BURST_SIZE = (6, 12)
AFTER_COMPLAINT_LOOKUPS = (6, 15)
AFTER_COMPLAINT_DAYS = (1, 10)
HOUR = 3600


def access_window(ctx: Context) -> tuple[int, int]:
    """[first day, end) of the system_access data: whole months at the end of the window."""
    tl = ctx.timeline
    months = min(ctx.options.access_months, tl.n_months)
    if months == 0:
        return tl.end, tl.end
    return int(tl.month_first[tl.n_months - months]), tl.end


def _hours(rng, around_the_clock: np.ndarray) -> np.ndarray:
    """Seconds into the day: 24/7 units at any hour (nights less), others in day hours."""
    n = len(around_the_clock)
    day_lo, day_hi = DAY_SHIFT_HOURS
    day_time = integers(rng, day_lo * HOUR, day_hi * HOUR - 1, n)
    night = rng.random(n) < NIGHT_SHARE_AROUND_CLOCK
    night_time = (23 * HOUR + integers(rng, 0, 8 * HOUR - 1, n)) % SECONDS_PER_DAY
    wide_time = integers(rng, 7 * HOUR, 23 * HOUR - 1, n)
    return np.where(around_the_clock, np.where(night, night_time, wide_time), day_time)


def _systems(rng, kind: np.ndarray) -> np.ndarray:
    out = np.zeros(len(kind), dtype=np.int64)
    u = rng.random(len(kind))
    for name, (systems, weights) in ACCESS_SYSTEMS.items():
        m = kind == KIND[name]
        cdf = np.cumsum(weights) / np.sum(weights)
        pick = np.minimum(np.searchsorted(cdf, u[m], side="right"), len(systems) - 1)
        out[m] = np.array([SYSTEMS.index(s) for s in systems])[pick]
    return out


def _days_at_work(ctx, rng, grid, officers, counts, lo, hi):
    """counts[i] random days at work in [lo, hi] for officers[i] (days may repeat)."""
    parent, _ = expand(counts * 4)
    off = officers[parent]
    day = integers(rng, lo, hi, len(off))
    ok = grid.at_work_officer(ctx, off, day)
    parent, off, day = parent[ok], off[ok], day[ok]
    rank = np.arange(len(parent)) - np.searchsorted(parent, parent)
    keep = rank < counts[parent]
    return parent[keep], off[keep], day[keep]


def _plant(ctx, roster, postings, grid, complaints, plan, lo, hi, subject_base):
    rng = ctx.rng("access-planted")
    last = hi - PLANT_MARGIN_DAYS
    eligible = roster.serving_throughout(lo, hi)
    planted = []  # (officer, seconds, kind, subject, has_case, record kind, kind index)
    next_subject = subject_base

    def add(off, secs, subject, has_case, rkind, kind):
        n = len(off)
        planted.append(
            (off, secs, subject, has_case, np.full(n, rkind), np.full(n, KIND_INDEX[kind]))
        )

    # Look-ups with no case reference.
    chosen = plan.choose("lookups_without_case_reference", eligible)
    counts = integers(rng, NO_CASE_LOOKUPS[0], NO_CASE_LOOKUPS[1], len(chosen))
    _, off, day = _days_at_work(ctx, rng, grid, chosen, counts, lo, last)
    secs = day * SECONDS_PER_DAY + integers(rng, 9 * HOUR, 18 * HOUR, len(day))
    subject = rng.integers(0, subject_base, len(day))
    no_case = np.zeros(len(day), bool)
    add(off, secs, subject, no_case, KIND["person"], "lookups_without_case_reference")

    # Many look-ups of one subject.
    chosen = plan.choose("repeated_subject_lookups", eligible)
    counts = integers(rng, REPEATED_LOOKUPS[0], REPEATED_LOOKUPS[1], len(chosen))
    parent, off, day = _days_at_work(ctx, rng, grid, chosen, counts, lo, last)
    secs = day * SECONDS_PER_DAY + integers(rng, 8 * HOUR, 20 * HOUR, len(day))
    subject = next_subject + parent
    next_subject += len(chosen)
    add(off, secs, subject, np.ones(len(day), bool), KIND["person"], "repeated_subject_lookups")

    # Bursts between 01:00 and 05:00 by officers of day-shift units.
    day_units = ~function_array("around_the_clock").astype(bool)
    at_lo = postings.at(ctx, np.arange(roster.n), np.full(roster.n, lo))
    at_hi = postings.at(ctx, np.arange(roster.n), np.full(roster.n, hi - 1))
    day_shift = day_units[postings.function[at_lo]] & day_units[postings.function[at_hi]]
    chosen = plan.choose("out_of_hours_lookups", eligible & day_shift)
    bursts = integers(rng, BURSTS[0], BURSTS[1], len(chosen))
    b_parent, b_off, b_day = _days_at_work(ctx, rng, grid, chosen, bursts, lo, last)
    size = integers(rng, BURST_SIZE[0], BURST_SIZE[1], len(b_day))
    burst, _ = expand(size)
    burst_start = b_day * SECONDS_PER_DAY + HOUR + integers(rng, 0, 3 * HOUR, len(b_day))
    base = burst_start[burst]
    secs = base + integers(rng, 0, 50 * 60, len(burst))
    subject = rng.integers(0, subject_base, len(burst))
    with_case = np.ones(len(burst), bool)
    add(b_off[burst], secs, subject, with_case, KIND["person"], "out_of_hours_lookups")

    # A burst of look-ups of one person within days of a complaint about the officer.
    c_rec = complaints.recorded[complaints.a_complaint]
    a_off = complaints.a_officer
    close = (c_rec >= lo) & (c_rec <= last - AFTER_COMPLAINT_DAYS[1])
    accused = np.zeros(roster.n, dtype=bool)
    accused[a_off[close]] = True
    chosen = plan.choose("lookups_after_complaint", eligible & accused)
    which = np.flatnonzero(close & np.isin(a_off, chosen))
    order = np.lexsort((rng.random(len(which)), a_off[which]))
    which = which[order]
    first = np.r_[True, a_off[which][1:] != a_off[which][:-1]] if len(which) else np.zeros(0, bool)
    which = which[first]  # one complaint per chosen officer
    counts = integers(rng, *AFTER_COMPLAINT_LOOKUPS, len(which))
    parent, _ = expand(counts)
    day = c_rec[which][parent] + integers(rng, *AFTER_COMPLAINT_DAYS, len(parent))
    secs = day * SECONDS_PER_DAY + integers(rng, 7 * HOUR, 23 * HOUR, len(day))
    subject = next_subject + parent
    next_subject += len(which)
    has_case = rng.random(len(day)) < 0.5
    add(a_off[which][parent], secs, subject, has_case, KIND["person"], "lookups_after_complaint")

    return tuple(np.concatenate([p[i] for p in planted]) for i in range(6)), next_subject


def build_access(
    ctx: Context, roster: Roster, postings: Postings, grid: ServiceGrid, absences: Absences,
    complaints: Complaints, plan: AnomalyPlan,
) -> pa.Table:
    rng = ctx.rng("system_access")
    lo, hi = access_window(ctx)
    subjects = max(MIN_SUBJECTS, ACCESS_SUBJECTS_PER_OFFICER * ctx.options.officers)
    first_row = int(np.searchsorted(grid.month, ctx.timeline.month_index(np.array([lo]))[0]))
    window = slice(first_row, grid.n) if hi > lo else slice(grid.n, grid.n)  # month-major grid
    officer_factor = roster.access_intensity * np.where(roster.staff, STAFF_ACCESS_FACTOR, 1.0)
    lam = (
        ctx.options.access_rate
        * grid.served[window]
        / 7.0
        * function_array("access")[grid.function[window]]
        * officer_factor[grid.officer[window]]
    )
    rate = np.zeros(grid.n)
    rate[window] = lam
    rows, day = grid.events(rng, rate)
    del lam, rate
    keep = grid.at_work(rows, day)  # look-ups only on days at work
    rows, day = rows[keep], day[keep].astype(np.int64)
    officer = grid.officer[rows].astype(np.int64)
    around = function_array("around_the_clock").astype(bool)[grid.function[rows]]
    secs = day * SECONDS_PER_DAY + _hours(rng, around)
    del rows, day, around, keep
    n = len(officer)
    subject = rng.integers(0, subjects, n)
    case = rng.integers(0, CASE_NUMBERS, n)
    has_case = rng.random(n) >= ACCESS_NO_CASE
    kind = categorical(rng, shares(ACCESS_KIND_SHARES, schema.ACCESS_RECORD_KINDS), n)
    planted = np.full(n, NOT_PLANTED, dtype=np.int16)

    # Case work: some look-ups repeat the officer's previous subject and case (look-ups
    # of one officer-month are consecutive here).
    repeat = rng.random(n) < ACCESS_REPEAT_SHARE
    repeat[0:1] = False
    repeat[1:] &= officer[1:] == officer[:-1]
    prev = np.flatnonzero(repeat) - 1
    subject[repeat] = subject[prev]
    case[repeat] = case[prev]
    kind[repeat] = kind[prev]
    has_case[repeat] = has_case[prev]
    del repeat, prev

    (p_off, p_secs, p_subject, p_case, p_kind, p_planted), top = _plant(
        ctx, roster, postings, grid, complaints, plan, lo, hi, subjects
    )
    officer = np.concatenate([officer, p_off])
    secs = np.concatenate([secs, p_secs])
    subject = np.concatenate([subject, p_subject])
    case = np.concatenate([case, rng.integers(0, CASE_NUMBERS, len(p_off))])
    has_case = np.concatenate([has_case, p_case])
    kind = np.concatenate([kind, p_kind])
    planted = np.concatenate([planted, p_planted.astype(np.int16)])
    system = _systems(rng, kind)
    n = len(officer)

    order = time_order(secs // SECONDS_PER_DAY, ctx.timeline.start, secs)
    ids = C.sequence_ids("AC", n, 10)
    officer = officer[order]
    plan.record_planted("system_access", planted[order], officer, ids)
    subject_digits = C.digits_for(top, 9)
    secs = secs[order]
    logged = C.datetimes(secs)  # the log entry is written at the time of the look-up
    return C.build_table(
        "system_access",
        {
            "access_id": ids,
            "officer_id": C.lookup(roster.ids, officer),
            "system": C.lookup(pa.array(SYSTEMS), system[order]),
            "record_kind": C.schema_codes("system_access", "record_kind", kind[order]),
            "subject_id": C.fixed_width(["S", (subject[order], subject_digits)], n),
            "case_reference": _case_refs(case[order], has_case[order]),
            "occurred_at": logged,
            "recorded_at": logged,
        },
    )


def _case_refs(case: np.ndarray, has_case: np.ndarray) -> pa.Array:
    refs = C.fixed_width(["CR", (case, 9)], len(case))
    if has_case.all():
        return refs
    return pc.if_else(pa.array(has_case), refs, C.nulls(len(case)))
