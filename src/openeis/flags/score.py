"""Score the cohort on a date with the live model and write flags limited by review capacity.

Every model flag carries its score, rank, percentile, the threshold rules it also triggers
and its explanation. Officers who trigger a rule but are not among the model's flags get a
rule flag: the department rules stay live as detectors next to the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from openeis.config import OpenEISConfig
from openeis.flags.explain import explain_rows, peer_medians
from openeis.flags.sentences import Describer
from openeis.flags.store import Flag, replace_flags
from openeis.models import data, registry
from openeis.models.evaluation import ranking_order
from openeis.models.rules import fires, rule_sentence, rule_value_matrix
from openeis.store import Store


@dataclass
class ScoreRun:
    as_of: date
    model: registry.RegisteredModel
    warning: str | None
    cohort: int
    capacity: int
    flags: list[Flag]
    written: dict

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "model_id": self.model.model_id,
                "model_status": self.model.status, "label": self.model.label, "warning": self.warning,
                "cohort": self.cohort, "capacity": self.capacity,
                "model_flags": sum(f.source == "model" for f in self.flags),
                "rule_flags": sum(f.source == "rule" for f in self.flags),
                "flags": [f.as_dict() for f in self.flags]}


def rank_scores(scores: np.ndarray, officers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = highest score; percentile = share of the cohort scored strictly lower (0-100)."""
    order = ranking_order(scores, officers)
    ranks = np.empty(len(scores), dtype=int)
    ranks[order] = np.arange(1, len(scores) + 1)
    sorted_scores = np.sort(scores)
    lower = np.searchsorted(sorted_scores, scores, side="left")
    return ranks, 100.0 * lower / max(len(scores), 1)


def _rules_for(values: np.ndarray, fired: np.ndarray, row: int, rules) -> list[dict]:
    out = []
    for j, rule in enumerate(rules):
        if fired[row, j]:
            value = float(values[row, j])
            out.append({"name": rule.name, "description": rule.description, "value": value,
                        "sentence": rule_sentence(rule, value)})
    return out


def score_frame(frame: pd.DataFrame, model, entry: registry.RegisteredModel, as_of: date,
                config: OpenEISConfig) -> tuple[pd.DataFrame, list[Flag], int]:
    """Pure: the cohort's scores and the flags, from a feature frame of one date."""
    officers = frame["officer"].to_numpy()
    probability = model.predict_proba(frame)[:, 1]
    ranks, percentiles = rank_scores(probability, officers)
    scores = pd.DataFrame({"officer": officers, "score": probability, "rank": ranks,
                           "percentile": percentiles})
    capacity = config.flags.capacity(len(frame))
    top = np.where(ranks <= capacity)[0]
    top = top[np.argsort(ranks[top])]
    rules = config.rules.rules
    values = rule_value_matrix(frame, rules)
    fired = fires(values, rules)
    describer = Describer(config.features)
    medians, usable = peer_medians(frame, model.input_features_source, config.flags.peer_min_size)
    flags: list[Flag] = []
    if len(top):
        explanation = model.explain(frame.iloc[top])
        explained = explain_rows(explanation, frame.iloc[top], medians.iloc[top], usable[top],
                                 describer, config.flags.explanation_factors)
        for row, expl in zip(top, explained):
            triggered = _rules_for(values, fired, row, rules)
            expl["sentences"] = [f["sentence"] for f in expl["factors"]] + [r["sentence"] for r in triggered]
            expl["summary"] = (f"Ranked {ranks[row]} of {len(frame)} (score {probability[row]:.1%}, "
                               f"estimated chance of the outcome '{entry.label}'). This is a prompt "
                               "for a supervisor's review, not a finding.")
            flags.append(Flag(as_of, officers[row], "model", expl, triggered, entry.model_id,
                              float(probability[row]), int(ranks[row]), float(percentiles[row])))
    flagged = set(top.tolist())
    for row in np.where(fired.any(axis=1))[0]:
        if row in flagged:
            continue
        triggered = _rules_for(values, fired, row, rules)
        expl = {"summary": "Triggered a department threshold rule. This is a prompt for a "
                "supervisor's review, not a finding.", "sentences": [r["sentence"] for r in triggered]}
        flags.append(Flag(as_of, officers[row], "rule", expl, triggered, None,
                          float(probability[row]), int(ranks[row]), float(percentiles[row])))
    return scores, flags, capacity


def score(store: Store, config: OpenEISConfig, as_of: date | None = None, model_id: str | None = None,
          label: str | None = None, progress=None, features: Path | None = None) -> ScoreRun:
    """`features`: a feature file built earlier for this date (data.feature_frame);
    without it the date's features are built from the store (most of the time at national size)."""
    if model_id:
        entry, warning = registry.get(store, model_id), None
    else:
        entry, warning = registry.scoring_model(store, label)
    model = registry.load(store, entry.model_id)
    as_of = as_of or data.latest_data_date(store)
    frame = data.feature_frame(store, [as_of], config, progress=progress, features=features)
    if frame.empty:
        raise ValueError(f"no officer is in the cohort on {as_of}")
    scores, flags, capacity = score_frame(frame, model, entry, as_of, config)
    with store.transaction():
        store.execute("DELETE FROM scores WHERE model_id = ? AND as_of = ?", [entry.model_id, as_of])
        with store.registered("_openeis_scores", _scores_arrow(scores, entry.model_id, as_of)):
            store.execute("INSERT INTO scores SELECT model_id, as_of, officer, score, score_rank, "
                          "percentile FROM _openeis_scores")
        written = replace_flags(store, as_of, entry.model_id, flags)
    return ScoreRun(as_of, entry, warning, len(frame), capacity, flags, written)


def _scores_arrow(scores: pd.DataFrame, model_id: str, as_of: date):
    import pyarrow as pa

    return pa.table({
        "model_id": pa.array([model_id] * len(scores), pa.string()),
        "as_of": pa.array([as_of] * len(scores), pa.date32()),
        "officer": pa.array(scores["officer"].astype(str), pa.string()),
        "score": pa.array(scores["score"], pa.float64()),
        "score_rank": pa.array(scores["rank"], pa.int32()),
        "percentile": pa.array(scores["percentile"], pa.float64()),
    })
