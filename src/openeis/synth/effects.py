"""Realised effect sizes, measured on the generated data (for ground_truth/effects.json).

For each protected attribute and group: upheld rate among decided allegations (raw and
relative to what propensity alone predicts), share and odds of high-exposure postings
(sworn officers' postings: police staff are never posted there),
and complaint and use-of-force rates per 1000 shifts worked, each also as a ratio to the
reference group (the largest: A, M, N). Each bias spec is paired with the measure it
should move, so a reader can compare requested and realised sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openeis import schema
from openeis.synth.bias import ATTRIBUTE_VALUES, REFERENCE_VALUES, BiasSpec
from openeis.synth.complaints import FINDING, Complaints
from openeis.synth.postings import STAFF_RANK, Postings
from openeis.synth.profiles import HIGH_EXPOSURE_FUNCTIONS
from openeis.synth.roster import Roster

MEASURE_OF_KIND = {
    "upheld": "upheld_rate_ratio",
    "posting": "posting_odds_ratio",
    "complaints": "complaints_per_shift_ratio",
    "use_of_force": "use_of_force_per_shift_ratio",
}


@dataclass
class EffectInputs:
    roster: Roster
    postings: Postings
    complaints: Complaints
    worked_per_officer: np.ndarray  # shifts worked in the window
    use_of_force_officers: np.ndarray  # officer index of each report


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _posting_odds(inputs: EffectInputs, values: np.ndarray, group: str, functions) -> tuple:
    """Share and odds of postings to `functions` among the group's sworn postings."""
    p = inputs.postings
    target = np.isin(p.function, [schema.UNIT_FUNCTIONS.index(f) for f in functions])
    mine = (values[p.officer] == group) & (p.rank != STAFF_RANK)
    share = _rate(target[mine].sum(), mine.sum())
    odds = None if share is None or share >= 1 else share / (1 - share)
    return share, odds


def measure(inputs: EffectInputs, biases: list[BiasSpec]) -> dict:
    roster, c = inputs.roster, inputs.complaints
    attrs = roster.attributes()
    decided = c.a_finding != FINDING["open"]
    upheld = c.a_finding == FINDING["upheld"]
    pairs = np.unique(c.a_complaint.astype(np.int64) * roster.n + c.a_officer)
    accused = np.bincount(pairs % roster.n, minlength=roster.n)
    force = np.bincount(inputs.use_of_force_officers, minlength=roster.n)

    groups: dict[str, dict] = {}
    for attribute, values_list in ATTRIBUTE_VALUES.items():
        values = attrs[attribute]
        a_values = values[c.a_officer]
        out: dict[str, dict] = {}
        for value in values_list:
            mine = a_values == value
            n_decided = int((mine & decided).sum())
            n_upheld = int((mine & upheld).sum())
            expected = float(c.a_p_upheld[mine & decided].sum())
            officers = values == value
            shifts = float(inputs.worked_per_officer[officers].sum())
            share, odds = _posting_odds(inputs, values, value, HIGH_EXPOSURE_FUNCTIONS)
            out[value] = {
                "officers": int(officers.sum()),
                "allegations_decided": n_decided,
                "allegations_upheld": n_upheld,
                "upheld_rate": _rate(n_upheld, n_decided),
                "upheld_over_expected": _rate(n_upheld, expected),
                "high_exposure_posting_share": share,
                "high_exposure_posting_odds": odds,
                "complaints_per_1000_shifts": _rate(1000 * accused[officers].sum(), shifts),
                "use_of_force_per_1000_shifts": _rate(1000 * force[officers].sum(), shifts),
            }
        ref = out[REFERENCE_VALUES[attribute]]
        for row in out.values():
            row["upheld_rate_ratio"] = _ratio(row["upheld_rate"], ref["upheld_rate"])
            row["upheld_ratio_propensity_adjusted"] = _ratio(
                row["upheld_over_expected"], ref["upheld_over_expected"]
            )
            row["high_exposure_posting_odds_ratio"] = _ratio(
                row["high_exposure_posting_odds"], ref["high_exposure_posting_odds"]
            )
            row["complaints_per_shift_ratio"] = _ratio(
                row["complaints_per_1000_shifts"], ref["complaints_per_1000_shifts"]
            )
            row["use_of_force_per_shift_ratio"] = _ratio(
                row["use_of_force_per_1000_shifts"], ref["use_of_force_per_1000_shifts"]
            )
        groups[attribute] = {
            "reference": REFERENCE_VALUES[attribute],
            "groups": {v: {k: _round(x) if isinstance(x, float) else x for k, x in row.items()}
                       for v, row in out.items()},
        }

    specs = []
    for spec in biases:
        row = groups[spec.attribute]["groups"][spec.value]
        entry = {
            "spec": str(spec),
            "kind": spec.kind,
            "attribute": spec.attribute,
            "value": spec.value,
            "reference": spec.reference,
            "requested_factor": spec.factor,
            "measure": MEASURE_OF_KIND[spec.kind],
        }
        if spec.kind == "posting":
            values = attrs[spec.attribute]
            _, odds = _posting_odds(inputs, values, spec.value, spec.target_functions)
            _, ref_odds = _posting_odds(inputs, values, spec.reference, spec.target_functions)
            entry["target"] = spec.target
            entry["realised"] = _round(_ratio(odds, ref_odds))
        else:
            entry["realised"] = row[MEASURE_OF_KIND[spec.kind]]
        if spec.kind == "upheld":
            entry["realised_propensity_adjusted"] = row["upheld_ratio_propensity_adjusted"]
        specs.append(entry)
    return {"biases": specs, "by_attribute": groups}
