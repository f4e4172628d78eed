"""Postings: which unit, role and rank each officer held when.

Each officer's career inside the window is cut into postings of 2-5 years. The first one
of an officer serving at the start began before it. At each change the officer may be
promoted and usually moves to another function (a posting bias changes the odds of the
target functions for the officers it names).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.bias import BiasSpec
from openeis.synth.context import Context
from openeis.synth.profiles import (
    BACK_OFFICE_TRAINING_ROLE,
    FUNCTION_PROFILES,
    POSTING_STAY_IN_FUNCTION,
    POSTING_YEARS,
    PROMOTION_PROBABILITY,
    RANK_MIN_SERVICE_YEARS,
    SENIOR_FUNCTION_SHARES,
    STAFF_FUNCTION_SHARES,
    SUPERVISOR_ROLE,
    SWORN_RANK_SHARES,
    SWORN_RANKS,
    shares,
)
from openeis.synth.roster import DAYS_PER_YEAR, Roster
from openeis.synth.sampling import categorical, categorical_by_group
from openeis.synth.units import Units

FUNCTIONS = schema.UNIT_FUNCTIONS
RANK_INDEX = {r: i for i, r in enumerate(schema.RANKS)}
ROLE_INDEX = {r: i for i, r in enumerate(schema.ROLES)}
SWORN_RANK_CODES = np.array([RANK_INDEX[r] for r in SWORN_RANKS])
STAFF_RANK = RANK_INDEX["staff"]
OPEN_END = np.iinfo(np.int32).max  # internal "still current" end day
# Rank classes for the function distribution: 0 constable-inspector, 1 senior, 2 staff.
SENIOR_LEVEL = SWORN_RANKS.index("chief_inspector")


@dataclass
class Postings:
    officer: np.ndarray  # sorted by officer, then start
    unit: np.ndarray
    function: np.ndarray
    role: np.ndarray
    rank: np.ndarray
    start: np.ndarray
    end: np.ndarray  # inclusive last day; OPEN_END while current at the snapshot
    keys: np.ndarray  # timeline.key(officer, start), sorted
    last: np.ndarray  # per officer: index of the current (or last) posting

    @property
    def n(self) -> int:
        return len(self.officer)

    def at(self, ctx: Context, officer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index of the posting each officer held on each day (the day must be served)."""
        found = np.searchsorted(self.keys, ctx.timeline.key(officer, day), side="right") - 1
        return found.astype(np.int64)

    def table(self, ctx: Context, roster: Roster, units: Units) -> pa.Table:
        order = np.lexsort((self.officer, self.start))
        known_end = self.end[order] != OPEN_END
        return C.build_table(
            "postings",
            {
                "posting_id": C.sequence_ids("PS", self.n),
                "officer_id": C.lookup(roster.ids, self.officer[order]),
                "unit_id": C.lookup(units.ids, self.unit[order]),
                "role": C.schema_codes("postings", "role", self.role[order]),
                "rank": C.schema_codes("postings", "rank", self.rank[order]),
                "occurred_at": C.dates(self.start[order]),
                "ends_at": C.dates(np.where(known_end, self.end[order], 0), known_end),
                "recorded_at": C.dates(self.start[order]),
            },
        )


def _adjust_odds(p: np.ndarray, target: np.ndarray, factor: float) -> np.ndarray:
    """Multiply the odds of landing in `target` functions by `factor`."""
    p_t = p[target].sum()
    if p_t <= 0 or p_t >= 1:
        return p
    odds = factor * p_t / (1 - p_t)
    new_t = odds / (1 + odds)
    out = p.copy()
    out[target] *= new_t / p_t
    out[~target] *= (1 - new_t) / (1 - p_t)
    return out


def function_tables(specs: list[BiasSpec]) -> np.ndarray:
    """Function distributions, one row per (rank class, posting-bias mask) group."""
    base = [
        np.array([FUNCTION_PROFILES[f].share for f in FUNCTIONS]),
        shares(SENIOR_FUNCTION_SHARES, FUNCTIONS),
        shares(STAFF_FUNCTION_SHARES, FUNCTIONS),
    ]
    n_masks = 2 ** len(specs)
    rows = []
    for p in base:
        p = p / p.sum()
        for mask in range(n_masks):
            q = p
            for bit, spec in enumerate(specs):
                if mask >> bit & 1:
                    target = np.isin(np.array(FUNCTIONS), spec.target_functions)
                    q = _adjust_odds(q, target, spec.factor)
            rows.append(q)
    return np.array(rows)


def posting_bias_mask(specs: list[BiasSpec], roster: Roster) -> np.ndarray:
    attrs = roster.attributes()
    mask = np.zeros(roster.n, dtype=np.int64)
    for bit, spec in enumerate(specs):
        mask |= (attrs[spec.attribute] == spec.value).astype(np.int64) << bit
    return mask


def _choose_units(rng: np.random.Generator, units: Units, function: np.ndarray) -> np.ndarray:
    out = np.zeros(len(function), dtype=np.int32)
    u = rng.random(len(function))
    for f in np.unique(function):
        candidates = units.of_function(int(f))
        cdf = np.cumsum(units.weight[candidates])
        cdf /= cdf[-1]
        m = function == f
        out[m] = candidates[np.minimum(np.searchsorted(cdf, u[m], side="right"), len(cdf) - 1)]
    return out


def build_postings(ctx: Context, roster: Roster, units: Units) -> Postings:
    rng = ctx.rng("postings")
    tl = ctx.timeline
    n = roster.n
    lo, hi = (int(y * DAYS_PER_YEAR) for y in POSTING_YEARS)
    earliest = tl.start - hi
    k_max = int(np.ceil((tl.end - earliest) / lo)) + 1

    # Start days of up to k_max consecutive postings per officer.
    in_progress = np.floor(rng.random(n) * rng.integers(lo, hi + 1, n)).astype(np.int64)
    first = np.where(
        roster.joined >= tl.start, roster.joined, np.maximum(roster.joined, tl.start - in_progress)
    )
    lengths = rng.integers(lo, hi + 1, (n, k_max - 1))
    starts = np.empty((n, k_max), dtype=np.int64)
    starts[:, 0] = first
    starts[:, 1:] = first[:, None] + np.cumsum(lengths, axis=1)
    serve_to = roster.serve_to.astype(np.int64)[:, None]
    valid = starts < serve_to
    next_valid = np.zeros_like(valid)
    next_valid[:, :-1] = valid[:, 1:]
    left_known = (roster.left < tl.end)[:, None]
    next_start = np.zeros_like(starts)
    next_start[:, :-1] = starts[:, 1:]
    ends = np.where(
        next_valid, next_start - 1, np.where(left_known, roster.left[:, None] - 1, OPEN_END)
    )

    # Ranks: a level on the sworn ladder, or staff.
    service = (starts - roster.joined[:, None]) / DAYS_PER_YEAR
    min_service = np.array(RANK_MIN_SERVICE_YEARS)
    allowed = np.searchsorted(min_service, service[:, 0], side="right") - 1
    level0 = np.where(
        roster.joined >= tl.start, 0, np.minimum(categorical(rng, SWORN_RANK_SHARES, n), allowed)
    )
    levels = np.empty((n, k_max), dtype=np.int64)
    levels[:, 0] = level0
    promote_p = np.array(PROMOTION_PROBABILITY)
    top = len(SWORN_RANKS) - 1
    for k in range(1, k_max):
        prev = levels[:, k - 1]
        nxt = np.minimum(prev + 1, top)
        eligible = (prev < top) & (service[:, k] >= min_service[nxt])
        promoted = eligible & (rng.random(n) < promote_p[prev])
        levels[:, k] = prev + promoted
    staff = roster.staff[:, None]
    rank = np.where(staff, STAFF_RANK, SWORN_RANK_CODES[levels])

    # Functions, with posting biases folded into per-group distributions.
    specs = [b for b in ctx.options.biases if b.kind == "posting"]
    tables = function_tables(specs)
    mask = posting_bias_mask(specs, roster)
    rank_class = np.where(staff, 2, np.where(levels >= SENIOR_LEVEL, 1, 0))
    group = rank_class * (2 ** len(specs)) + mask[:, None]
    function = np.empty((n, k_max), dtype=np.int16)
    function[:, 0] = categorical_by_group(rng, group[:, 0], tables)
    for k in range(1, k_max):
        drawn = categorical_by_group(rng, group[:, k], tables)
        stay = rng.random(n) < POSTING_STAY_IN_FUNCTION
        # Staying only makes sense when the function is open to the officer's rank class.
        stay &= tables[group[:, k], function[:, k - 1]] > 0
        function[:, k] = np.where(stay, function[:, k - 1], drawn)

    # Flatten the valid postings: row-major order is officer, then start.
    rows, cols = np.nonzero(valid)
    officer = rows.astype(np.int32)
    function_flat = function[rows, cols]
    rank_flat = rank[rows, cols].astype(np.int16)
    level_flat = levels[rows, cols]
    unit = _choose_units(rng, units, function_flat)

    role_of_function = np.array(
        [ROLE_INDEX[FUNCTION_PROFILES[f].role] for f in FUNCTIONS], dtype=np.int16
    )
    role = role_of_function[function_flat]
    is_staff = rank_flat == STAFF_RANK
    back_office = function_flat == FUNCTIONS.index("back_office")
    u = rng.random(len(role))
    role = np.where(
        back_office & ~is_staff & (u < BACK_OFFICE_TRAINING_ROLE), ROLE_INDEX["training"], role
    )
    role = np.where(
        ~is_staff & (level_flat >= 1) & (u < SUPERVISOR_ROLE), ROLE_INDEX["supervision"], role
    )
    staff_roles = np.full(len(FUNCTIONS), ROLE_INDEX["other"], dtype=np.int16)
    for f, r in (("custody", "custody"), ("investigation", "investigation"),
                 ("back_office", "administration")):
        staff_roles[FUNCTIONS.index(f)] = ROLE_INDEX[r]
    role = np.where(is_staff, staff_roles[function_flat], role).astype(np.int16)

    start = starts[rows, cols].astype(np.int32)
    end = ends[rows, cols]
    counts = valid.sum(axis=1)
    last = np.cumsum(counts) - 1
    return Postings(
        officer=officer,
        unit=unit,
        function=function_flat,
        role=role,
        rank=rank_flat,
        start=start,
        end=end,
        keys=tl.key(officer, start),
        last=last,
    )
