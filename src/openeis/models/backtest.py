"""Backtests: replay what the force could have done on each test date, and score it.

For each test date T: training dates are the dates whose label has matured by T
(features/splits.py), their labels computed as known on T (findings decided later are still
open); candidates are selected on folds inside those dates only; the cohort on T is scored
and compared with the label as the store knows it now. The baselines (department rules,
prior complaint count, empirical-Bayes complaint rate: models/baselines.py) are scored the
same way, and each date names the strongest of them, against which the model is judged.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from openeis.config import OpenEISConfig
from openeis.features import build_features
from openeis.features.dates import add_months
from openeis.features.labels import label_window_months
from openeis.models import baselines, data
from openeis.models.estimator import grid
from openeis.models.evaluation import calibration_bins, expected_hits, flag_metrics, ranking_metrics, top_k
from openeis.models.rules import rule_flags
from openeis.models.streamed import StreamedTraining, training_rows
from openeis.models.train import LoadedTraining
from openeis.store import Store

CURVE_PERCENTS = [0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10]


@dataclass
class DateResult:
    """What the JSON reports for one test date, plus what the HTML report draws."""

    entry: dict
    curves: dict[str, list[float | None]] = field(default_factory=dict)  # name -> precision at CURVE_PERCENTS
    calibration: list[dict] = field(default_factory=list)
    selected_scores: np.ndarray | None = None  # for the bias audit of the date


def precision_curve(scores: np.ndarray, labels: np.ndarray) -> list[float | None]:
    hits = expected_hits(scores, labels)
    out = []
    for p in CURVE_PERCENTS:
        k = max(1, int(np.ceil(len(labels) * p / 100)))
        out.append(float(hits[k - 1] / k) if len(labels) else None)
    return out


def strongest_baseline(models: dict) -> str | None:
    """The baseline with the highest AUC on the date (then average precision)."""
    scored = [(m.get("auc"), m.get("average_precision") or 0.0, name)
              for name, m in models.items() if name in baselines.NAMES and m.get("auc") is not None]
    return max(scored)[2] if scored else None


def evaluate_date(test_date: date, training: LoadedTraining | StreamedTraining, test: pd.DataFrame, label: str,
                  train_dates: list[date], config: OpenEISConfig, label_closed: bool,
                  records_start: date | None = None) -> DateResult:
    y = test[label].to_numpy()
    capacity = config.flags.capacity(len(test))
    rules = rule_flags(test, config.rules.rules)
    rule_count = int(rules.sum())
    selection = training.select(train_dates)
    entry = {
        "as_of": test_date.isoformat(), "cohort": int(len(test)), "positives": int(y.sum()),
        "capacity": capacity, "train_dates": [d.isoformat() for d in train_dates],
        "train_labels_known_at": _iso(data.training_labels_known_at(config, test_date)),
        "train_rows": training.rows, "train_positives": training.positives, "streamed": training.streamed,
        "label_window_closed": label_closed,
        "rule": flag_metrics(rules, y),
        "models": {}, "selected": selection.selected.name, "selection": selection.summary(),
    }
    result = DateResult(entry)
    candidates = grid(config.models) + ([selection.selected] if selection.fallback else [])
    for candidate in candidates:
        is_selected = candidate.name == selection.selected.name
        model = training.fit(candidate, calibrate=is_selected, selection=selection)
        scores = model.decision_function(test)
        entry["models"][candidate.name] = ranking_metrics(scores, y, rule_count, capacity)
        result.curves[candidate.name] = precision_curve(scores, y)
        if is_selected:
            result.calibration = calibration_bins(model.predict_proba(test)[:, 1], y)
            entry["calibration"] = result.calibration  # deciles: mean predicted vs observed
            result.selected_scores = scores
    for name, scores in baselines.baseline_scores(test, config.rules.rules, records_start).items():
        entry["models"][name] = ranking_metrics(scores, y, rule_count, capacity)
        result.curves[name] = precision_curve(scores, y)
    entry["baselines"] = list(baselines.NAMES)
    entry["strongest_baseline"] = strongest_baseline(entry["models"])
    # the rule as a single point: its precision at its own flag count
    result.curves["rule"] = [entry["rule"]["precision"]]
    return result


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def run_backtest(store: Store, config: OpenEISConfig, test_dates: list[date], label: str,
                 progress=None, features: Path | None = None) -> tuple[dict, list[DateResult]]:
    """`features`: a feature file built earlier holding every training and test date (else
    they are built here, all in one pass)."""
    step = progress or (lambda *_: None)
    window = label_window_months(label, config.labels)
    records_start = data.first_record_date(store, label, config)
    maturity = {t: data.label_maturity(store, label, config, t) for t in sorted(test_dates)}
    plans = {t: data.training_dates(config, t, label, records_start, maturity[t]) for t in sorted(test_dates)}
    skipped = [t for t, d in plans.items() if len(d) < config.splits.min_train_dates]
    plans = {t: d for t, d in plans.items() if t not in skipped}
    if not plans:
        raise ValueError(f"no test date has at least {config.splits.min_train_dates} training dates "
                         f"({data.plan_description(config, label)}, measured "
                         f"{', '.join(f'{m} on {t}' for t, m in maturity.items())}; the label's records "
                         f"start {records_start or 'nowhere'})")
    every_date = sorted(set(plans) | {d for dates in plans.values() for d in dates})
    if features is not None:
        data.check_feature_file(store, features, every_date)
    latest = data.latest_data_date(store)
    outcomes = data.label_frame(store, sorted(plans), label, config, known_at=None)
    # Model code never reads protected characteristics itself: the audit package does.
    from openeis.audit import read_characteristics

    characteristics = read_characteristics(store)
    results = []
    with tempfile.TemporaryDirectory(prefix="openeis-backtest-") as tmp:
        if features is None:
            # Every date's features in one build, to a file: a build's cost is mostly one pass
            # over the events, whatever the number of dates (docs/benchmarks.md, issue 9).
            features = Path(tmp) / "features.parquet"
            build_features(store, every_date, features, config.features, progress=progress)
        for i, (t, train_dates) in enumerate(plans.items()):
            step(f"backtest: {t}", i, len(plans))
            # One test date at a time, its training rows loaded or streamed as `openeis train`
            # would (every date's training rows of a national backtest at once would not fit in 8 GiB).
            known = data.label_frame(store, train_dates, label, config,
                                     known_at=data.training_labels_known_at(config, t))
            test = data.with_labels(data.features_of_dates(features, [t]), outcomes, label)
            with tempfile.TemporaryDirectory(prefix="openeis-training-", dir=tmp) as training_dir:
                training = training_rows(store, train_dates, known, label, config, Path(training_dir),
                                         features=features, records_start=records_start)
                result = evaluate_date(t, training, test, label, train_dates, config,
                                       add_months(t, window) <= latest, records_start)
                del training
            result.entry["label_maturity_months"] = maturity[t]
            result.entry["audit"] = audit_date(characteristics, config, test, label, result.selected_scores)
            results.append(result)
    report = {"label": label, "dates": [r.entry for r in results],
              "skipped_dates": [t.isoformat() for t in skipped],
              "summary": summarise([r.entry for r in results])}
    return report, results


def audit_date(characteristics: pd.DataFrame, config: OpenEISConfig, test: pd.DataFrame, label: str,
               scores: np.ndarray) -> dict:
    """The bias audit of the selected model's flags at capacity on the test date (the same
    audit as `openeis audit`, without the proxy check), summarised for the JSON."""
    from openeis.models.audit_job import audit_scored

    if characteristics.empty:
        return {"skipped": "no protected characteristics in the store"}

    officers = test["officer"].to_numpy()
    flags = top_k(scores, officers, config.flags.capacity(len(test)))
    scored = pd.DataFrame({"officer": officers, "as_of": test["as_of"].to_numpy(), "flag": flags.astype(int),
                           "label": test[label].to_numpy(dtype=int), "score": scores})
    _, result, gate = audit_scored(characteristics, config, scored, None)
    warnings = result.label_bias[result.label_bias["warning"]]
    return {"gate_allowed": bool(gate.allowed), "outside_band": gate.outside_band,
            "insufficient": len(gate.insufficient),
            "label_bias_warnings": [f"{r.attribute} {r.group}" for r in warnings.itertuples(index=False)]}


def summarise(entries: list[dict]) -> dict:
    """Means over the dates: selected model vs rule vs the baselines, at the rule's flag count
    and at capacity; true positives at the rule's flag count pooled over the dates."""
    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None

    selected = [e["models"][e["selected"]] for e in entries]
    prior = [e["models"][baselines.PRIOR_COUNT_NAME] for e in entries]
    strongest = [e["models"].get(e.get("strongest_baseline"), {}) for e in entries]
    rule_tp = sum(e["rule"]["true_positives"] for e in entries)
    selected_tp = sum(m.get("true_positives_at_rule_count") or 0.0 for m in selected)
    return {
        "dates": len(entries),
        "rule_precision": mean([e["rule"]["precision"] for e in entries]),
        "selected_precision_at_rule_count": mean([m.get("precision_at_rule_count") for m in selected]),
        "prior_count_precision_at_rule_count": mean([m.get("precision_at_rule_count") for m in prior]),
        "selected_precision_at_capacity": mean([m.get("precision_at_capacity") for m in selected]),
        "prior_count_precision_at_capacity": mean([m.get("precision_at_capacity") for m in prior]),
        "selected_auc": mean([m["auc"] for m in selected]),
        "prior_count_auc": mean([m["auc"] for m in prior]),
        "strongest_baseline_auc": mean([m.get("auc") for m in strongest]),
        "selected_auc_over_strongest_baseline": [
            None if m.get("auc") is None or b.get("auc") is None else round(m["auc"] - b["auc"], 6)
            for m, b in zip(selected, strongest)],
        "rule_true_positives": rule_tp,
        "selected_true_positives_at_rule_count": selected_tp,
        "selected_to_rule_true_positives": selected_tp / rule_tp if rule_tp else None,
    } | verdicts(entries)


def verdicts(entries: list[dict]) -> dict:
    """Does the selected model beat the baselines? Judged on the means over the test dates
    (one date's top 2% is a few dozen officers: too few to judge alone); the per-date wins
    are counted beside. At capacity (what a department can review) against the prior-count
    ranking and the rule's precision; at the rule's own flag count against the rule; over the
    whole ranking (AUC) against each date's strongest baseline."""
    def compare(model_value, baseline_value) -> tuple[bool | None, int, int]:
        pairs = [(model_value(e), baseline_value(e)) for e in entries]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        if not pairs:
            return None, 0, 0
        mean_a = float(np.mean([a for a, _ in pairs]))
        mean_b = float(np.mean([b for _, b in pairs]))
        return mean_a > mean_b, sum(a > b for a, b in pairs), len(pairs)

    def selected(e):
        return e["models"][e["selected"]]

    checks = {
        "selected_beats_rule_at_capacity": compare(
            lambda e: selected(e).get("precision_at_capacity"), lambda e: e["rule"]["precision"]),
        "selected_beats_rule_at_rule_count": compare(
            lambda e: selected(e).get("precision_at_rule_count"), lambda e: e["rule"]["precision"]),
        "selected_beats_prior_count_at_capacity": compare(
            lambda e: selected(e).get("precision_at_capacity"),
            lambda e: e["models"][baselines.PRIOR_COUNT_NAME].get("precision_at_capacity")),
        "selected_beats_strongest_baseline_auc": compare(
            lambda e: selected(e).get("auc"),
            lambda e: e["models"].get(e.get("strongest_baseline"), {}).get("auc")),
    }
    out = {}
    for name, (verdict, wins, n) in checks.items():
        out[name] = verdict
        out[name.replace("selected_beats", "dates_selected_beats")] = f"{wins}/{n}"
    return out


def save_backtest(store: Store, result: dict) -> str:
    """Keep a backtest's result in the store (table backtests), where the web application's
    models page charts it. The id is a digest of the result: saving it twice keeps one copy."""
    import hashlib
    import json
    from datetime import datetime, timezone

    from openeis.json_values import json_default

    text = json.dumps(result, default=json_default, sort_keys=True)
    backtest_id = "b-" + hashlib.sha256(text.encode()).hexdigest()[:16]
    with store.transaction():
        store.execute("DELETE FROM backtests WHERE backtest_id = ?", [backtest_id])
        store.execute("INSERT INTO backtests VALUES (?, ?, ?, ?)",
                      [backtest_id, result["label"], datetime.now(timezone.utc).replace(tzinfo=None), text])
    return backtest_id
