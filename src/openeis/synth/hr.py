"""Performance reviews, training and commendations.

Reviews are yearly (the review year ends on 31 March) and weakly worse with propensity;
mandatory training is yearly and missed a little more often with propensity; other
courses follow the unit's function; commendations are rarer with high propensity.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import (
    COMMENDATION_DELAY_DAYS,
    COMMENDATION_KIND_SHARES,
    COURSES_PER_CATEGORY,
    MANDATORY_FAILED,
    MANDATORY_MISSED,
    OTHER_COURSE_RESULTS,
    OTHER_COURSES_PER_YEAR,
    REVIEW_MIN_DAYS_SERVED,
    REVIEW_MISSING,
    REVIEW_MONTH_DAY,
    REVIEW_PROPENSITY_SLOPE,
    REVIEW_RATING_SHARES,
    REVIEW_SIGNOFF_DAYS,
    TRAINING_BY_FUNCTION,
    function_array,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, categorical_by_group, expand, integers, time_order
from openeis.synth.timeline import to_date, to_day

RESULT = {r: i for i, r in enumerate(schema.TRAINING_RESULTS)}
TRAINING_RECORD_DAYS = (0, 14)
MANDATORY_MIN_DAYS_SERVED = 60


def _years(ctx: Context) -> range:
    return range(to_date(ctx.timeline.start).year, to_date(ctx.timeline.end - 1).year + 1)


def build_reviews(ctx: Context, roster: Roster) -> pa.Table:
    rng = ctx.rng("performance_reviews")
    tl = ctx.timeline
    month, mday = REVIEW_MONTH_DAY
    cum = np.cumsum(REVIEW_RATING_SHARES)[:-1]
    thresholds = np.log(cum / (1 - cum))  # ordinal logistic cut points
    officers, days = [], []
    for year in _years(ctx):
        review = to_day(dt.date(year, month, mday))
        if not tl.start <= review < tl.end:
            continue
        eligible = (roster.joined <= review - REVIEW_MIN_DAYS_SERVED) & (roster.left > review)
        who = np.flatnonzero(eligible & (rng.random(roster.n) >= REVIEW_MISSING))
        officers.append(who)
        days.append(np.full(len(who), review))
    officer = np.concatenate(officers) if officers else np.zeros(0, np.int64)
    day = np.concatenate(days) if days else np.zeros(0, np.int64)
    n = len(officer)
    lo, hi = REVIEW_SIGNOFF_DAYS
    recorded = day + integers(rng, lo, hi, n)
    keep = recorded < tl.end
    officer, day, recorded = officer[keep], day[keep], recorded[keep]
    n = len(officer)
    u = np.clip(rng.random(n), 1e-12, 1 - 1e-12)
    latent = np.log(u / (1 - u)) + REVIEW_PROPENSITY_SLOPE * np.log(roster.propensity[officer])
    rating = np.searchsorted(thresholds, latent)  # 0 exceptional .. 4 unsatisfactory
    order = time_order(day, tl.start)
    return C.build_table(
        "performance_reviews",
        {
            "review_id": C.sequence_ids("PR", n),
            "officer_id": C.lookup(roster.ids, officer[order]),
            "rating": C.schema_codes("performance_reviews", "rating", rating[order]),
            "occurred_at": C.dates(day[order]),
            "recorded_at": C.dates(recorded[order]),
        },
    )


def _course_codes() -> tuple[pa.Array, dict[str, int]]:
    prefixes = {c: c[:3].upper() for c in schema.TRAINING_CATEGORIES}
    prefixes["mandatory"] = "MAN"
    codes, first = [], {}
    for category in schema.TRAINING_CATEGORIES:
        first[category] = len(codes)
        codes.extend(f"{prefixes[category]}{k:02d}" for k in range(1, COURSES_PER_CATEGORY + 1))
    return pa.array(codes), first


def build_training(ctx: Context, roster: Roster, grid: ServiceGrid) -> pa.Table:
    rng = ctx.rng("training")
    tl = ctx.timeline
    categories = schema.TRAINING_CATEGORIES
    mandatory = categories.index("mandatory")

    # Mandatory: once a year for everyone serving long enough that year.
    m_off, m_day, m_course = [], [], []
    years = list(_years(ctx))
    for y, year in enumerate(years):
        lo = np.maximum(roster.serve_from, max(tl.start, to_day(dt.date(year, 1, 1))))
        hi = np.minimum(roster.serve_to - 1, min(tl.end - 1, to_day(dt.date(year, 12, 31))))
        who = np.flatnonzero(hi - lo + 1 >= MANDATORY_MIN_DAYS_SERVED)
        m_off.append(who)
        m_day.append(integers(rng, lo[who], hi[who]))
        m_course.append(np.full(len(who), y))
    off1 = np.concatenate(m_off)
    day1 = np.concatenate(m_day)
    course1 = np.concatenate(m_course)
    n1 = len(off1)
    u = rng.random(n1)
    p_missed = MANDATORY_MISSED * np.sqrt(roster.propensity[off1])
    result1 = np.where(
        u < p_missed,
        RESULT["missed"],
        np.where(u < p_missed + MANDATORY_FAILED, RESULT["failed"], RESULT["passed"]),
    )

    # Other courses, by the unit's function.
    rows, _ = expand(rng.poisson(OTHER_COURSES_PER_YEAR / 12.0 * grid.frac))
    off2 = grid.officer[rows]
    day2 = grid.random_days(rng, rows)
    table = np.array(
        [
            shares(TRAINING_BY_FUNCTION.get(f, TRAINING_BY_FUNCTION["default"]), categories)
            for f in schema.UNIT_FUNCTIONS
        ]
    )
    category2 = categorical_by_group(rng, grid.function[rows], table)
    result2 = np.array([RESULT[r] for r in OTHER_COURSE_RESULTS])[
        categorical(rng, list(OTHER_COURSE_RESULTS.values()), len(rows))
    ]
    course_codes, first = _course_codes()
    course2 = np.array([first[c] for c in categories])[category2] + rng.integers(
        0, COURSES_PER_CATEGORY, len(rows)
    )

    mandatory_codes = pa.array([f"MAND-{year}" for year in years])
    all_codes = pa.concat_arrays([course_codes, mandatory_codes])
    officer = np.concatenate([off1, off2])
    day = np.concatenate([day1, day2]).astype(np.int64)
    category = np.concatenate([np.full(n1, mandatory), category2])
    course = np.concatenate([len(course_codes) + course1, course2])
    result = np.concatenate([result1, result2])
    n = len(officer)
    lo, hi = TRAINING_RECORD_DAYS
    recorded = np.minimum(day + integers(rng, lo, hi, n), tl.end - 1)
    order = time_order(day, tl.start)
    return C.build_table(
        "training",
        {
            "training_id": C.sequence_ids("TR", n),
            "officer_id": C.lookup(roster.ids, officer[order]),
            "category": C.schema_codes("training", "category", category[order]),
            "course": C.lookup(all_codes, course[order]),
            "result": C.schema_codes("training", "result", result[order]),
            "occurred_at": C.dates(day[order]),
            "recorded_at": C.dates(recorded[order]),
        },
    )


def build_commendations(ctx: Context, roster: Roster, grid: ServiceGrid) -> pa.Table:
    rng = ctx.rng("commendations")
    tl = ctx.timeline
    rate = function_array("commendations_per_year")[grid.function] / 12.0 * grid.frac
    rate = rate / (0.5 + 0.5 * roster.propensity[grid.officer])
    rows, _ = expand(rng.poisson(rate))
    officer = grid.officer[rows]
    day = grid.random_days(rng, rows).astype(np.int64)
    lo, hi = COMMENDATION_DELAY_DAYS
    recorded = day + integers(rng, lo, hi, len(day))
    keep = recorded < tl.end
    officer, day, recorded = officer[keep], day[keep], recorded[keep]
    n = len(officer)
    kinds = schema.COMMENDATION_KINDS
    kind = categorical(rng, shares(COMMENDATION_KIND_SHARES, kinds), n)
    order = time_order(day, tl.start)
    return C.build_table(
        "commendations",
        {
            "commendation_id": C.sequence_ids("CM", n),
            "officer_id": C.lookup(roster.ids, officer[order]),
            "kind": C.schema_codes("commendations", "kind", kind[order]),
            "occurred_at": C.dates(day[order]),
            "recorded_at": C.dates(recorded[order]),
        },
    )
