"""The roster: who served when, their protected characteristics and latent traits.

`officers` is the headcount at any time. Each of the N posts is held by a chain of
officers: when one leaves, a joiner takes the post the same day. Officers serving at the
start joined over the previous decades (service drawn from the stationary distribution of
the leaving process), so more than N officers appear over the years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.context import Context
from openeis.synth.names import first_names, last_names
from openeis.synth.profiles import (
    ACCESS_INTENSITY_SIGMA,
    ACTIVITY_SIGMA,
    DISABILITY_CODES,
    DISABILITY_SHARE,
    ETHNIC_GROUPS,
    ETHNIC_SHARES,
    FRAILTY_SIGMA,
    GENDER_SHARES,
    GENDERS,
    JOIN_AGE_GAMMA,
    JOIN_AGE_MAX,
    JOIN_AGE_MIN,
    LEAVING_HAZARD,
    LEAVING_REASON_SHARES,
    MIN_TENURE_DAYS,
    ORIENTATION_CODES,
    ORIENTATION_RECORDED,
    OVERTIME_APPETITE_SIGMA,
    PROPENSITY_SIGMA,
    RELIGION_CODES,
    RELIGION_RECORDED,
    RETIREMENT_AGE,
    RETIREMENT_SERVICE_YEARS,
    STAFF_SHARE,
)
from openeis.synth.sampling import categorical, lognormal_mean_one
from openeis.synth.timeline import year_of

DAYS_PER_YEAR = 365.25
REASON_INDEX = {r: i for i, r in enumerate(schema.LEAVING_REASONS)}
OFFICER_NUMBER_BASE = 10_000  # warrant numbers W0010001, W0010002, ... in joining order


@dataclass
class Roster:
    ids: pa.Array  # "W0012345", index = officer
    joined: np.ndarray  # day numbers
    left: np.ndarray  # day the officer left (may be on/after the snapshot: still serving)
    reason: np.ndarray  # index into schema.LEAVING_REASONS
    birth_year: np.ndarray
    staff: np.ndarray  # police staff, not sworn
    ethnicity: np.ndarray  # index into ETHNIC_GROUPS
    gender: np.ndarray  # index into GENDERS
    disability: np.ndarray  # index into DISABILITY_CODES
    religion: np.ndarray  # index into RELIGION_CODES, -1 not recorded
    orientation: np.ndarray  # index into ORIENTATION_CODES, -1 not recorded
    propensity: np.ndarray  # latent misconduct propensity, mean 1 (ground truth only)
    activity: np.ndarray  # proactivity (arrests, some complaints)
    frailty: np.ndarray  # sickness proneness
    overtime_appetite: np.ndarray
    access_intensity: np.ndarray
    serve_from: np.ndarray  # first day served inside the window
    serve_to: np.ndarray  # exclusive end of service inside the window

    @property
    def n(self) -> int:
        return len(self.joined)

    def attributes(self) -> dict[str, np.ndarray]:
        """Protected characteristics as string codes (for bias specs and audits)."""
        return {
            "ethnicity": np.array(ETHNIC_GROUPS)[self.ethnicity],
            "gender": np.array(GENDERS)[self.gender],
            "disability": np.array(DISABILITY_CODES)[self.disability],
        }

    def serving_throughout(self, first: int, last: int) -> np.ndarray:
        """Officers serving on every day of [first, last)."""
        return (self.joined <= first) & (self.left >= last)

    def officers_table(self, ctx: Context, unit: np.ndarray, rank: np.ndarray) -> pa.Table:
        end = ctx.timeline.end
        has_left = self.left < end
        rng = ctx.rng("officer-names")
        return C.build_table(
            "officers",
            {
                "officer_id": self.ids,
                "rank": C.schema_codes("officers", "rank", rank),
                "unit_id": unit,
                "joined_at": C.dates(self.joined),
                "left_at": C.dates(self.left, has_left),
                "leaving_reason": C.schema_codes(
                    "officers", "leaving_reason", self.reason, has_left
                ),
                "recorded_at": C.dates(self.joined),
                "first_name": first_names(rng, self.n),
                "last_name": last_names(rng, self.n),
            },
            extras=("first_name", "last_name"),
        )

    def characteristics_table(self) -> pa.Table:
        return C.build_table(
            "officer_characteristics",
            {
                "officer_id": self.ids,
                "ethnicity": C.codes(ETHNIC_GROUPS, self.ethnicity),
                "gender": C.codes(GENDERS, self.gender),
                "birth_year": C.ints(self.birth_year),
                "disability": C.codes(DISABILITY_CODES, self.disability),
                "religion": C.codes(RELIGION_CODES, self.religion),
                "sexual_orientation": C.codes(ORIENTATION_CODES, self.orientation),
                "recorded_at": C.dates(self.joined),
            },
        )


def _join_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    shape, scale = JOIN_AGE_GAMMA
    ages = JOIN_AGE_MIN + rng.gamma(shape, scale, n)
    return np.clip(np.floor(ages), JOIN_AGE_MIN, JOIN_AGE_MAX).astype(np.int64)


def _retirement_service(rng: np.random.Generator, join_age: np.ndarray) -> np.ndarray:
    lo, hi = RETIREMENT_SERVICE_YEARS
    years = rng.uniform(lo, hi, len(join_age))
    return np.minimum(years, RETIREMENT_AGE - join_age)


def _careers(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(slot, joined, left, retire_day, join_age) of everyone who served in the window."""
    rng = ctx.rng("roster")
    start, end = ctx.timeline.start, ctx.timeline.end
    n = ctx.options.officers
    h = LEAVING_HAZARD

    # Serving at the start: years of service from the leaving process's stationary law,
    # an exponential truncated at the retirement point.
    join_age = _join_ages(rng, n)
    service_max = _retirement_service(rng, join_age)
    u = rng.random(n)
    service = -np.log1p(-u * (1.0 - np.exp(-h * service_max))) / h
    service = np.minimum(service, service_max - 1.0 / DAYS_PER_YEAR)
    joined = start - np.ceil(service * DAYS_PER_YEAR).astype(np.int64)
    retire = joined + np.floor(service_max * DAYS_PER_YEAR).astype(np.int64)
    leave = start + np.ceil(rng.exponential(1.0 / h, n) * DAYS_PER_YEAR).astype(np.int64)
    leave = np.maximum(np.minimum(leave, retire), start + 1)
    slots = [np.arange(n)]
    joins, leaves, retires, ages = [joined], [leave], [retire], [join_age]

    # Joiners take the post of each leaver, generation after generation.
    while True:
        previous = leaves[-1]
        gone = np.flatnonzero(previous < end)
        if len(gone) == 0:
            break
        m = len(gone)
        joined = previous[gone]
        join_age = _join_ages(rng, m)
        retire = joined + np.floor(_retirement_service(rng, join_age) * DAYS_PER_YEAR).astype(
            np.int64
        )
        tenure = np.ceil(rng.exponential(1.0 / h, m) * DAYS_PER_YEAR).astype(np.int64)
        leave = np.minimum(joined + np.maximum(tenure, MIN_TENURE_DAYS), retire)
        slots.append(slots[-1][gone])
        joins.append(joined)
        leaves.append(leave)
        retires.append(retire)
        ages.append(join_age)
    return (
        np.concatenate(slots),
        np.concatenate(joins),
        np.concatenate(leaves),
        np.concatenate(retires),
        np.concatenate(ages),
    )


def build_roster(ctx: Context) -> Roster:
    slot, joined, left, retire, join_age = _careers(ctx)
    order = np.lexsort((slot, joined))
    joined, left, retire, join_age = joined[order], left[order], retire[order], join_age[order]
    n = len(joined)

    rng = ctx.rng("traits")
    propensity = lognormal_mean_one(rng, PROPENSITY_SIGMA, n)
    activity = lognormal_mean_one(rng, ACTIVITY_SIGMA, n)
    frailty = lognormal_mean_one(rng, FRAILTY_SIGMA, n)
    appetite = lognormal_mean_one(rng, OVERTIME_APPETITE_SIGMA, n)
    access = lognormal_mean_one(rng, ACCESS_INTENSITY_SIGMA, n)

    rng = ctx.rng("characteristics")
    ethnicity = categorical(rng, ctx.options.ethnicity_shares or ETHNIC_SHARES, n)
    gender = categorical(rng, GENDER_SHARES, n)
    disability = np.where(rng.random(n) < DISABILITY_SHARE, 0, 1).astype(np.int16)
    religion = np.where(
        rng.random(n) < RELIGION_RECORDED, rng.integers(0, len(RELIGION_CODES), n), -1
    )
    orientation = np.where(
        rng.random(n) < ORIENTATION_RECORDED, rng.integers(0, len(ORIENTATION_CODES), n), -1
    )
    staff = rng.random(n) < STAFF_SHARE

    rng = ctx.rng("leaving")
    names = list(LEAVING_REASON_SHARES)
    base = np.array([LEAVING_REASON_SHARES[r] for r in names])
    dismissed = names.index("dismissed")
    p_dismiss = np.clip(base[dismissed] * propensity, 0.0, 0.5)
    others = np.delete(np.arange(len(names)), dismissed)
    pick = others[categorical(rng, base[others], n)]
    pick = np.where(rng.random(n) < p_dismiss, dismissed, pick)
    reason = np.array([REASON_INDEX[r] for r in names])[pick]
    reason = np.where(left >= retire, REASON_INDEX["retired"], reason).astype(np.int16)

    start, end = ctx.timeline.start, ctx.timeline.end
    digits = C.digits_for(OFFICER_NUMBER_BASE + n, 7)
    ids = C.fixed_width(["W", (OFFICER_NUMBER_BASE + 1 + np.arange(n), digits)], n)
    return Roster(
        ids=ids,
        joined=joined.astype(np.int32),
        left=left.astype(np.int64),
        reason=reason,
        birth_year=year_of(joined) - join_age,
        staff=staff,
        ethnicity=ethnicity,
        gender=gender,
        disability=disability,
        religion=religion,
        orientation=orientation,
        propensity=propensity,
        activity=activity,
        frailty=frailty,
        overtime_appetite=appetite,
        access_intensity=access,
        serve_from=np.maximum(joined, start).astype(np.int32),
        serve_to=np.minimum(left, end).astype(np.int32),
    )
