"""A flag's explanation: the factors that raised the officer's score, in plain sentences.

Factors are SHAP contributions to the calibrated log-odds (estimator.Explanation: base value
plus contributions equals the score). The top positive contributions become factors, each
with the officer's value and the median of their peers: officers in the same unit and role on
the same date, or the whole cohort when that group is smaller than `peer_min_size`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from openeis.flags.sentences import Describer, number

PEER_KEYS = ["as_of", "peer_unit", "posting_role"]


@dataclass
class Factor:
    feature: str
    value: float | str | None
    peer_median: float | None
    peer_group: str  # "unit and role" or "all officers"
    contribution: float  # to the calibrated log-odds
    sentence: str
    label: str = ""  # what the feature is, in words ("Complaints in the last 12 months")
    peer_percentile: float | None = None  # the officer's place among those peers, 0-100


# Why part of a score is not itemised in a conduct review (openeis.health).
WITHHELD_SENTENCE = ("Part of this score comes from attendance records, which a conduct review does not "
                     "itemise; they are for a welfare conversation, never a misconduct concern.")


def peer_medians(cohort: pd.DataFrame, features: list[str], min_size: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Per cohort row: each numeric feature's median among peers, and whether the peer group
    (unit and role) was big enough (else the whole date's cohort is used)."""
    numeric = [f for f in features if f in cohort.columns and pd.api.types.is_numeric_dtype(cohort[f])]
    keys = cohort[PEER_KEYS].astype("string").fillna("\x00missing")
    grouped = cohort[numeric].groupby([keys[k] for k in PEER_KEYS], sort=False, dropna=False)
    group_median = grouped.transform("median")
    size = grouped[numeric[0]].transform("size").to_numpy() if numeric else np.zeros(len(cohort))
    whole = cohort[numeric].groupby(cohort["as_of"], sort=False).transform("median")
    usable = (size >= min_size) & cohort["peer_unit"].notna().to_numpy() & cohort["posting_role"].notna().to_numpy()
    medians = group_median.where(pd.Series(usable, index=cohort.index), whole, axis=0)
    return medians, usable


def factor_sentence(describer: Describer, feature: str, value, median, group: str) -> str:
    phrase = describer.phrase(feature, value)
    sentence = phrase[0].upper() + phrase[1:]
    if median is not None and not describer.is_relative(feature) and not isinstance(value, str):
        who = "peers in the same unit and role" if group == "unit and role" else "all officers on that date"
        sentence += f"; {who}: median {number(median)}"
    return sentence + "."


def peer_percentile(frame: pd.DataFrame, row: int, feature: str, usable: bool) -> float | None:
    """Share of the officer's peers (same unit and role on the date, or the whole cohort when
    that group is too small) with a lower value, ties counted half: 0-100."""
    if feature not in frame.columns or not pd.api.types.is_numeric_dtype(frame[feature]):
        return None
    value = frame[feature].iat[row]
    if value is None or pd.isna(value):
        return None
    same = frame["as_of"] == frame["as_of"].iat[row]
    if usable:
        for key in ("peer_unit", "posting_role"):
            same &= frame[key] == frame[key].iat[row]
    peers = frame.loc[same, feature].dropna().to_numpy(dtype=float)
    if len(peers) == 0:
        return None
    return float(100.0 * ((peers < value).sum() + 0.5 * (peers == value).sum()) / len(peers))


def _plain(value):
    """A feature value as JSON: numpy scalars to Python, NaN to None, strings kept."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)  # anything else (e.g. pd.NA) as its text


def explain_rows(explanation, rows: pd.DataFrame, medians: pd.DataFrame, usable: np.ndarray,
                 describer: Describer, factors: int, withheld=None, cohort: pd.DataFrame | None = None,
                 positions: np.ndarray | None = None) -> list[dict]:
    """For each row of `rows` (aligned with `explanation`), the explanation as a dict:
    base, score (log-odds), factors (top positive contributions) and the rest summed.

    `withheld(feature)`: features never itemised (health data in a conduct review); their
    positive contribution is reported as `withheld` and stays in `other_factors`, so that the
    sum still gives the score. `cohort` and `positions` (each row's position in it): for each
    factor, the officer's percentile among their peers."""
    out = []
    names = explanation.features
    # columns as arrays, looked up by position: a pandas row lookup per factor was most of
    # the explaining time
    values = {f: rows[f].to_numpy() for f in names if f in rows.columns}
    peer = {f: medians[f].to_numpy() for f in names if f in medians.columns}
    for i in range(len(rows)):
        contrib = explanation.contributions[i]
        positive = [j for j in np.argsort(-contrib, kind="stable") if contrib[j] > 0]
        hidden = [j for j in positive if withheld and withheld(names[j])]
        order = [j for j in positive if j not in hidden][:factors]
        chosen = []
        for j in order:
            feature = names[j]
            value = _plain(values[feature][i]) if feature in values else None
            median = _plain(peer[feature][i]) if feature in peer else None
            group = "unit and role" if usable[i] else "all officers"
            percentile = (peer_percentile(cohort, int(positions[i]), feature, bool(usable[i]))
                          if cohort is not None and positions is not None else None)
            chosen.append(Factor(feature, value, median, group, float(contrib[j]),
                                 factor_sentence(describer, feature, value, median, group),
                                 describer.label(feature), percentile))
        rest = float(contrib.sum() - sum(f.contribution for f in chosen))
        entry: dict[str, Any] = {"base": float(explanation.base[i]), "log_odds": float(explanation.total[i]),
                 "factors": [asdict(f) for f in chosen], "other_factors": rest}
        if hidden:
            entry["withheld"] = {"factors": len(hidden), "contribution": float(sum(contrib[j] for j in hidden))}
            # said in words only when a withheld factor would have been among those shown
            smallest = min((f.contribution for f in chosen), default=0.0)
            if len(chosen) < factors or any(contrib[j] >= smallest for j in hidden):
                entry["withheld"]["sentence"] = WITHHELD_SENTENCE
        out.append(entry)
    return out
