"""Complaints, allegations and complainants.

Complaint cases arrive per officer-month at rate shifts worked x unit complaint rate x
rank exposure x propensity (x activity^0.5, x any complaints bias). Each case names 1-3
accused officers (co-accused drawn from the same unit and month), each with 1-2
allegations. Findings depend on propensity (and on any upheld bias) and take months to
decide; anything that would be decided after the snapshot is still `open`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.bias import rate_multiplier
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.names import CATEGORY_PHRASES, addresses, first_names, full_names, last_names
from openeis.synth.profiles import (
    AGE_BAND_SHARES,
    ALLEGATIONS_PER_ACCUSED_SHARES,
    BEATS_PER_COMMAND,
    CATEGORY_SHARES,
    COMPLAINANT_ETHNICITY_SHARES,
    COMPLAINANT_GENDER_SHARES,
    COMPLAINANTS_TWO_SHARE,
    COMPLAINT_ACCUSED_SHARES,
    COMPLAINT_ACTIVITY_POWER,
    COMPLAINT_SOURCE_SHARES,
    DECISION_GAMMA,
    DECISION_JITTER_DAYS,
    DISMISSAL_WINDOW_DAYS,
    INFORMAL_OUTCOME_SHARES,
    NOT_UPHELD_FINDING_SHARES,
    RECORD_DELAY_MEAN_DAYS,
    RECORD_EARLY_SHARE,
    RECORD_LATE_DAYS,
    RECORD_LATE_SHARE,
    REPEAT_COMPLAINANT_SHARE,
    SERIOUS_CATEGORIES,
    SERIOUS_SHIFT_PER_PROPENSITY,
    UPHELD_BASE,
    UPHELD_CAP,
    UPHELD_OUTCOME_SHARES,
    UPHELD_PROPENSITY_SLOPE,
    WITHDRAWN_DELAY_FACTOR,
    function_array,
    rank_exposure_array,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, categorical_by_group, expand, integers
from openeis.synth.timeline import year_of
from openeis.synth.units import Units

FINDING = {f: i for i, f in enumerate(schema.FINDINGS)}
OUTCOME = {o: i for i, o in enumerate(schema.ALLEGATION_OUTCOMES)}
SOURCE = {s: i for i, s in enumerate(schema.COMPLAINT_SOURCES)}
CATEGORY = {c: i for i, c in enumerate(schema.ALLEGATION_CATEGORIES)}
COMPLAINT_SEQ_DIGITS = 6
MAX_SERIOUS_SHARE = 0.4


def upheld_probability(propensity: np.ndarray) -> np.ndarray:
    """Upheld probability without any bias: logistic in log propensity."""
    logit = np.log(UPHELD_BASE / (1 - UPHELD_BASE)) + UPHELD_PROPENSITY_SLOPE * np.log(propensity)
    return 1.0 / (1.0 + np.exp(-logit))


@dataclass
class Complaints:
    # Complaints, in final (id) order.
    ids: pa.Array
    source: np.ndarray
    area: np.ndarray
    occurred: np.ndarray
    recorded: np.ndarray
    decided: np.ndarray  # -1 while any allegation is open
    first_category: np.ndarray
    # Allegations, sorted by complaint.
    a_complaint: np.ndarray
    a_officer: np.ndarray
    a_category: np.ndarray
    a_finding: np.ndarray
    a_outcome: np.ndarray  # -1: none recorded (open)
    a_decided: np.ndarray  # -1 while open
    a_p_upheld: np.ndarray  # upheld probability without bias (for effect sizes)

    @property
    def n(self) -> int:
        return len(self.source)


def build_complaints(
    ctx: Context, roster: Roster, units: Units, grid: ServiceGrid, worked: np.ndarray
) -> Complaints:
    rng = ctx.rng("complaints")
    tl = ctx.timeline
    officer_rate = roster.propensity * roster.activity**COMPLAINT_ACTIVITY_POWER
    bias = rate_multiplier(ctx.options.biases, "complaints", roster.attributes())
    if bias is not None:
        officer_rate = officer_rate * bias
    lam = (
        worked
        * function_array("complaints")[grid.function]
        * rank_exposure_array()[grid.rank]
        * officer_rate[grid.officer]
    )
    rows, _ = expand(rng.poisson(lam))
    occurred = grid.random_days(rng, rows).astype(np.int64)
    n = len(rows)

    delay = np.ceil(rng.exponential(RECORD_DELAY_MEAN_DAYS, n)).astype(np.int64)
    late = rng.random(n) < RECORD_LATE_SHARE
    delay = np.where(late, integers(rng, *RECORD_LATE_DAYS, n), delay)
    early = rng.random(n) < RECORD_EARLY_SHARE
    delay = np.where(early, -integers(rng, 1, 5, n), delay)
    recorded = occurred + delay
    recorded = np.where(recorded < tl.start, occurred, recorded)
    keep = recorded < tl.end
    rows, occurred, recorded = rows[keep], occurred[keep], recorded[keep]
    n = len(rows)

    # Final complaint order: by recording date, then occurrence, then officer.
    order = np.lexsort((grid.officer[rows], occurred, recorded))
    rows, occurred, recorded = rows[order], occurred[order], recorded[order]
    source = categorical(rng, shares(COMPLAINT_SOURCE_SHARES, schema.COMPLAINT_SOURCES), n)
    command = units.command[grid.unit[rows]]
    area = command * BEATS_PER_COMMAND + rng.integers(0, BEATS_PER_COMMAND, n)

    # Accused: the officer whose month it was, plus 0-2 colleagues of the same unit-month.
    n_accused = categorical(rng, COMPLAINT_ACCUSED_SHARES, n) + 1
    peers = grid.peers(rng, rows, 2)
    accused_rows = np.concatenate([rows[:, None], peers], axis=1)
    wanted = np.arange(3)[None, :] < n_accused[:, None]
    present = wanted & (accused_rows >= 0)
    c_idx, slot = np.nonzero(present)  # row-major: complaint order, primary first
    acc_row = accused_rows[c_idx, slot]
    acc_officer = grid.officer[acc_row].astype(np.int64)
    primary_function = grid.function[rows][c_idx]

    # Allegations: 1-2 per accused officer.
    per = categorical(rng, ALLEGATIONS_PER_ACCUSED_SHARES, len(c_idx)) + 1
    parent, _ = expand(per)
    a_complaint = c_idx[parent]
    a_officer = acc_officer[parent]
    a_function = primary_function[parent]
    m = len(parent)
    table = np.array(
        [shares(CATEGORY_SHARES[f], schema.ALLEGATION_CATEGORIES) for f in schema.UNIT_FUNCTIONS]
    )
    category = categorical_by_group(rng, a_function, table)
    propensity = roster.propensity[a_officer]
    p_serious = np.minimum(SERIOUS_SHIFT_PER_PROPENSITY * propensity, MAX_SERIOUS_SHARE)
    serious = rng.random(m) < p_serious
    serious_codes = np.array([CATEGORY[c] for c in SERIOUS_CATEGORIES])
    category = np.where(serious, serious_codes[rng.integers(0, len(serious_codes), m)], category)

    # Findings.
    p0 = upheld_probability(propensity)
    p = p0.copy()
    bias = rate_multiplier(ctx.options.biases, "upheld", roster.attributes())
    if bias is not None:
        p = np.minimum(p * bias[a_officer], UPHELD_CAP)
    upheld = rng.random(m) < p
    other_codes = np.array([FINDING[f] for f in NOT_UPHELD_FINDING_SHARES])
    other = other_codes[categorical(rng, list(NOT_UPHELD_FINDING_SHARES.values()), m)]
    finding = np.where(upheld, FINDING["upheld"], other).astype(np.int16)

    shape, scale = DECISION_GAMMA
    case_delay = rng.gamma(shape, scale, n)
    a_delay = case_delay[a_complaint] + rng.integers(0, DECISION_JITTER_DAYS + 1, m)
    a_delay = np.where(finding == FINDING["withdrawn"], a_delay * WITHDRAWN_DELAY_FACTOR, a_delay)
    decided = recorded[a_complaint] + np.maximum(np.ceil(a_delay).astype(np.int64), 1)
    is_open = decided >= tl.end
    finding = np.where(is_open, FINDING["open"], finding).astype(np.int16)
    decided = np.where(is_open, -1, decided)

    upheld_outcomes = np.array([OUTCOME[o] for o in UPHELD_OUTCOME_SHARES])
    informal_outcomes = np.array([OUTCOME[o] for o in INFORMAL_OUTCOME_SHARES])
    outcome = np.full(m, OUTCOME["none"], dtype=np.int64)
    outcome = np.where(
        finding == FINDING["upheld"],
        upheld_outcomes[categorical(rng, list(UPHELD_OUTCOME_SHARES.values()), m)],
        outcome,
    )
    outcome = np.where(
        finding == FINDING["informal_resolution"],
        informal_outcomes[categorical(rng, list(INFORMAL_OUTCOME_SHARES.values()), m)],
        outcome,
    )
    # A dismissal needs the officer to have gone soon after; otherwise a final warning.
    gone = roster.left[a_officer] <= decided + DISMISSAL_WINDOW_DAYS
    outcome = np.where(
        (outcome == OUTCOME["dismissal"]) & ~gone, OUTCOME["final_written_warning"], outcome
    )
    outcome = np.where(is_open, -1, outcome)

    # A case is closed when its last allegation is decided.
    starts = np.flatnonzero(np.r_[True, a_complaint[1:] != a_complaint[:-1]]) if m else c_idx[:0]
    if m:
        any_open = np.maximum.reduceat(is_open.astype(np.int8), starts) > 0
        last_decided = np.maximum.reduceat(decided, starts)
        c_decided = np.where(any_open, -1, last_decided)
    else:
        c_decided = np.zeros(0, dtype=np.int64)

    # Ids "C2016-000123": sequence within the year the complaint was recorded.
    year = year_of(recorded)
    first_of_year = np.searchsorted(year, year)
    seq = np.arange(n) - first_of_year + 1
    digits = max(COMPLAINT_SEQ_DIGITS, len(str(int(seq.max()) if n else 1)))
    ids = C.fixed_width(["C", (year, 4), "-", (seq, digits)], n)

    return Complaints(
        ids=ids,
        source=source,
        area=area,
        occurred=occurred,
        recorded=recorded,
        decided=c_decided,
        first_category=category[starts] if m else np.zeros(0, np.int16),
        a_complaint=a_complaint,
        a_officer=a_officer,
        a_category=category,
        a_finding=finding,
        a_outcome=outcome,
        a_decided=decided,
        a_p_upheld=p0,
    )


def complaint_tables(
    ctx: Context, roster: Roster, units: Units, c: Complaints
) -> tuple[pa.Table, pa.Table, pa.Table]:
    rng = ctx.rng("complainants")
    n = c.n

    # Complainants: one (sometimes two) per public or other complaint.
    has_person = np.isin(c.source, [SOURCE["public"], SOURCE["other"]])
    count = np.where(has_person, 1 + (rng.random(n) < COMPLAINANTS_TWO_SHARE), 0)
    cp_complaint, cp_rank = expand(count)
    k = len(cp_complaint)
    repeat = rng.random(k) < REPEAT_COMPLAINANT_SHARE
    pool = max(5, k // 40)
    fresh_number = np.cumsum(~repeat)
    person = np.where(repeat, (~repeat).sum() + rng.integers(1, pool + 1, k), fresh_number)
    person_digits = C.digits_for(int(person.max()) if k else 1, 8)
    first = first_names(rng, k)
    last = last_names(rng, k)
    complainants = C.build_table(
        "complainants",
        {
            "complainant_id": C.sequence_ids("CP", k),
            "complaint_id": C.lookup(c.ids, cp_complaint),
            "person_id": C.fixed_width(["PE", (person, person_digits)], k),
            "gender": _code_shares(rng, COMPLAINANT_GENDER_SHARES, k),
            "ethnicity": _code_shares(rng, COMPLAINANT_ETHNICITY_SHARES, k),
            "age_band": _code_shares(rng, AGE_BAND_SHARES, k),
            "recorded_at": C.dates(c.recorded[cp_complaint]),
            "first_name": first,
            "last_name": last,
            "address": addresses(rng, k),
        },
        extras=("first_name", "last_name", "address"),
    )

    # Complaint narrative names the (first) complainant: fake, for the privacy test.
    name_of = np.full(n, -1)
    firsts = np.flatnonzero(cp_rank == 0)
    name_of[cp_complaint[firsts]] = firsts
    names = full_names(first, last)
    complainant_name = names.take(pa.array(np.maximum(name_of, 0))) if k else C.nulls(n)
    complainant_name = pc.if_else(pa.array(name_of >= 0), complainant_name, C.nulls(n))
    phrases = pa.array([CATEGORY_PHRASES[x] for x in schema.ALLEGATION_CATEGORIES])
    phrase = C.lookup(phrases, c.first_category)
    lead = pc.if_else(
        pa.array(name_of >= 0),
        C.join(complainant_name, "reports that an officer", separator=" ") if n else C.nulls(0),
        pc.if_else(
            pa.array(c.source == SOURCE["internal"]),
            "Internal referral: an officer",
            "Conduct matter: an officer",
        ),
    )
    narrative = C.join(lead, phrase, separator=" ")
    decided = c.decided
    complaints = C.build_table(
        "complaints",
        {
            "complaint_id": c.ids,
            "source": C.schema_codes("complaints", "source", c.source),
            "area": C.lookup(area_codes(units), c.area),
            "occurred_at": C.dates(c.occurred),
            "recorded_at": C.dates(c.recorded),
            "decided_at": C.dates(np.maximum(decided, 0), decided >= 0),
            "narrative": narrative,
            "complainant_name": complainant_name,
        },
        extras=("narrative", "complainant_name"),
    )

    m = len(c.a_complaint)
    a_decided = c.a_decided
    allegations = C.build_table(
        "allegations",
        {
            "allegation_id": C.sequence_ids("AL", m),
            "complaint_id": C.lookup(c.ids, c.a_complaint),
            "officer_id": C.lookup(roster.ids, c.a_officer),
            "category": C.schema_codes("allegations", "category", c.a_category),
            "finding": C.schema_codes("allegations", "finding", c.a_finding),
            "outcome": C.schema_codes("allegations", "outcome", c.a_outcome, c.a_outcome >= 0),
            "occurred_at": C.dates(c.occurred[c.a_complaint]),
            "recorded_at": C.dates(c.recorded[c.a_complaint]),
            "decided_at": C.dates(np.maximum(a_decided, 0), a_decided >= 0),
        },
    )
    return complaints, complainants, allegations


def area_codes(units: Units) -> pa.Array:
    """"A03-07": command 3, beat 7 (index = command * BEATS_PER_COMMAND + beat)."""
    n = units.n_commands * BEATS_PER_COMMAND
    idx = np.arange(n)
    command = (idx // BEATS_PER_COMMAND + 1, C.digits_for(units.n_commands, 2))
    return C.fixed_width(["A", command, "-", (idx % BEATS_PER_COMMAND + 1, 2)], n)


def _code_shares(rng: np.random.Generator, mapping: dict[str, float], n: int) -> pa.Array:
    values = tuple(mapping)
    return C.codes(values, categorical(rng, list(mapping.values()), n))
