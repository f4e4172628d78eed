"""How well a ranking finds the officers who went on to have the outcome.

Rankings are cut at k officers. Flags need one definite choice, so `ranking_order` and
`top_k` break ties by officer pseudonym (an HMAC: a fixed random order for one key). The
measures do not: officers tied at the cut count with the expected share of hits a random
choice among them would get (`expected_hits`). A ranking with many ties (prior complaint
counts are small integers) would otherwise score differently under each store's key.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

PERCENTS = (1, 2, 5)


def ranking_order(scores: np.ndarray, officers: np.ndarray) -> np.ndarray:
    """Row indices from the highest score down; ties by officer pseudonym."""
    return np.lexsort((np.asarray(officers, dtype=str), -np.nan_to_num(scores, nan=-np.inf)))


def top_k(scores: np.ndarray, officers: np.ndarray, k: int) -> np.ndarray:
    mask = np.zeros(len(scores), dtype=bool)
    mask[ranking_order(scores, officers)[:k]] = True
    return mask


def expected_hits(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Hits among the top k, for k = 1..n, with ties at the cut shared out evenly: the
    expected count over random orders of the tied officers. Missing scores rank last."""
    labels = np.asarray(labels, dtype=float)
    keys = -np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_labels = keys[order], labels[order]
    if len(sorted_keys) == 0:
        return np.zeros(0)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_keys)])
    group_hits = np.add.reduceat(sorted_labels, starts)
    hits_before = np.r_[0.0, np.cumsum(group_hits)[:-1]]
    group = np.repeat(np.arange(len(starts)), sizes)
    taken = np.arange(len(sorted_keys)) - starts[group] + 1
    return hits_before[group] + taken * group_hits[group] / sizes[group]


def count_for_percent(n: int, percent: float) -> int:
    return max(1, math.ceil(n * percent / 100))


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def ranking_metrics(scores: np.ndarray, labels: np.ndarray, rule_count: int | None = None,
                    capacity: int | None = None) -> dict:
    labels = np.asarray(labels, dtype=int)
    positives = int(labels.sum())
    hits = expected_hits(scores, labels)

    def tp_at(k: int) -> float:
        return float(hits[min(k, len(hits)) - 1]) if k > 0 and len(hits) else 0.0

    both = 0 < positives < len(labels)
    out = {
        "auc": float(roc_auc_score(labels, scores)) if both else None,
        "average_precision": float(average_precision_score(labels, scores)) if both else None,
        "precision_at": {}, "recall_at": {},
    }
    for p in PERCENTS:
        k = count_for_percent(len(labels), p)
        out["precision_at"][f"{p}%"] = _ratio(tp_at(k), k)
        out["recall_at"][f"{p}%"] = _ratio(tp_at(k), positives)
    if rule_count is not None:
        out["true_positives_at_rule_count"] = tp_at(rule_count)
        out["precision_at_rule_count"] = _ratio(tp_at(rule_count), rule_count)
    if capacity is not None:
        out["capacity"] = capacity
        out["true_positives_at_capacity"] = tp_at(capacity)
        out["precision_at_capacity"] = _ratio(tp_at(capacity), capacity)
    return out


def flag_metrics(flags: np.ndarray, labels: np.ndarray) -> dict:
    flags = np.asarray(flags, dtype=bool)
    labels = np.asarray(labels, dtype=int)
    tp = int(labels[flags].sum())
    return {"flags": int(flags.sum()), "true_positives": tp,
            "precision": _ratio(tp, int(flags.sum())), "recall": _ratio(tp, int(labels.sum()))}


def precision_at_capacity(scores: np.ndarray, labels: np.ndarray, capacity: int) -> float:
    if not capacity or len(labels) == 0:
        return float("nan")
    k = min(capacity, len(labels))
    return float(expected_hits(scores, labels)[k - 1] / k)


def calibration_bins(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict]:
    """Mean predicted vs observed rate in quantile bins of the predicted probability."""
    order = np.argsort(probabilities, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"predicted": float(np.mean(probabilities[part])),
                        "observed": float(np.mean(np.asarray(labels)[part])), "n": int(len(part))})
    return out
