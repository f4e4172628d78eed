"""Score the cohort on a date with the live model and write flags limited by review capacity.

Only a live model publishes (its promotion passed the bias gate, or an administrator's logged
override): its top officers become model flags. Any other model's scores are shadow scores,
kept in `scores` for administrators and auditors to compare and never flagged. Every model
flag carries its score, rank, percentile, the conduct rules it also triggers and its
explanation (health factors counted, not itemised). Officers who trigger a rule but are not
among the model's flags get a rule flag: the department rules stay live as detectors next to
the model. Rules built on sickness are welfare prompts: their flags go to the welfare queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from openeis.config import OpenEISConfig
from openeis.flags.explain import explain_rows, peer_medians
from openeis.health import is_health_feature
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
    published: bool = True  # False: shadow scores only (the model is not live)

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "model_id": self.model.model_id,
                "model_status": self.model.status, "label": self.model.label, "warning": self.warning,
                "published": self.published, "cohort": self.cohort, "capacity": self.capacity,
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


def _rules_for(values: np.ndarray, fired: np.ndarray, row: int, rules, queue: str) -> list[dict]:
    out = []
    for j, rule in enumerate(rules):
        if fired[row, j] and rule.review_queue == queue:
            value = float(values[row, j])
            out.append({"name": rule.name, "description": rule.description, "value": value,
                        "sentence": rule_sentence(rule, value)})
    return out


def score_frame(frame: pd.DataFrame, model, entry: registry.RegisteredModel, as_of: date,
                config: OpenEISConfig, publish: bool = True) -> tuple[pd.DataFrame, list[Flag], int]:
    """Pure: the cohort's scores and the flags, from a feature frame of one date. `publish`
    False (a model that is not live): no model flags, and rule flags carry no score of it."""
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
    if not publish:
        top = top[:0]
    if len(top):
        explanation = model.explain(frame.iloc[top])
        explained = explain_rows(explanation, frame.iloc[top], medians.iloc[top], usable[top],
                                 describer, config.flags.explanation_factors, withheld=is_health_feature,
                                 cohort=frame, positions=top)
        for row, expl in zip(top, explained):
            triggered = _rules_for(values, fired, row, rules, "conduct")
            expl["sentences"] = [f["sentence"] for f in expl["factors"]] + [r["sentence"] for r in triggered]
            if "sentence" in expl.get("withheld", {}):
                expl["sentences"].append(expl["withheld"]["sentence"])
            expl["summary"] = (f"Ranked {ranks[row]} of {len(frame)} (score {probability[row]:.1%}, "
                               f"estimated chance of the outcome '{entry.label}'). This is a prompt "
                               "for a supervisor's review, not a finding.")
            flags.append(Flag(as_of, officers[row], "model", expl, triggered, entry.model_id,
                              float(probability[row]), int(ranks[row]), float(percentiles[row])))
    flagged = set(top.tolist())
    summaries = {"conduct": "Triggered a department threshold rule. This is a prompt for a supervisor's "
                 "review, not a finding.",
                 "welfare": "Triggered an attendance threshold: a prompt for a supportive welfare "
                 "conversation with the line manager or occupational health, never a misconduct concern."}
    for row in np.where(fired.any(axis=1))[0]:
        for queue, summary in summaries.items():
            if queue == "conduct" and row in flagged:
                continue  # the model flag lists the conduct rules it also triggers
            triggered = _rules_for(values, fired, row, rules, queue)
            if not triggered:
                continue
            expl = {"summary": summary, "sentences": [r["sentence"] for r in triggered]}
            scored = publish
            flags.append(Flag(as_of, officers[row], "rule", expl, triggered, None,
                              float(probability[row]) if scored else None, int(ranks[row]) if scored else None,
                              float(percentiles[row]) if scored else None, queue=queue))
    return scores, flags, capacity


def score(store: Store, config: OpenEISConfig, as_of: date | None = None, model_id: str | None = None,
          label: str | None = None, progress=None, features: Path | None = None) -> ScoreRun:
    """`features`: a feature file built earlier for this date (data.feature_frame);
    without it the date's features are built from the store (most of the time at national size)."""
    if model_id:
        entry, warning = registry.get(store, model_id), None
    else:
        entry, warning = registry.scoring_model(store, label)
    publish = entry.status == "live"
    live_for_label = bool(registry.list_models(store, entry.label, "live"))
    if not publish:
        warning = (f"model {entry.model_id} is {entry.status}, not live: its scores are shadow scores for "
                   "comparison and no model flag reaches a queue"
                   + ("" if live_for_label else "; the threshold rules' flags are written as usual")
                   + ". Promote a model through the bias gate (`openeis models promote`) to publish its flags")
    model = registry.load(store, entry.model_id)
    as_of = as_of or data.latest_data_date(store)
    frame = data.feature_frame(store, [as_of], config, progress=progress, features=features)
    if frame.empty:
        raise ValueError(f"no officer is in the cohort on {as_of}")
    scores, flags, capacity = score_frame(frame, model, entry, as_of, config, publish=publish)
    with store.transaction():
        store.execute("DELETE FROM scores WHERE model_id = ? AND as_of = ?", [entry.model_id, as_of])
        with store.registered("_openeis_scores", _scores_arrow(scores, entry.model_id, as_of)):
            store.execute("INSERT INTO scores SELECT model_id, as_of, officer, score, score_rank, "
                          "percentile FROM _openeis_scores")
        if publish:
            written = replace_flags(store, as_of, entry.model_id, flags)
        elif not live_for_label:  # the rules stay live while no model is
            written = replace_flags(store, as_of, None, flags, sources=("rule",))
        else:  # a shadow beside a live model: the live model's flags stand
            flags, written = [], {"written": 0, "kept_in_review": 0}
    return ScoreRun(as_of, entry, warning, len(frame), capacity, flags, written, publish)


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
