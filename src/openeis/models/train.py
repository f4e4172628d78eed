"""Train: choose among the candidate models on temporal folds, fit the winner, calibrated.

Selection never looks at the test date. Within the training dates, each of the latest
`validation_dates` dates v serves in turn as a validation fold: candidates are trained on
the training dates whose label window closed before v and ranked on v by precision at the
review capacity. The winner is the best mean precision (`selection = "mean"`) or, by default,
the most stable among those within one standard error of the best (`"stable"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from openeis.config import OpenEISConfig
from openeis.features.dates import add_months
from openeis.features.labels import label_window_months
from openeis.models.estimator import Candidate, RiskModel, grid
from openeis.models.evaluation import precision_at_capacity


@dataclass
class Selection:
    selected: Candidate
    folds: list[str]  # validation as-of dates
    precision: dict[str, list[float]] = field(default_factory=dict)  # candidate -> per fold

    def summary(self) -> dict:
        out = {}
        for name, values in self.precision.items():
            v = np.array(values, dtype=float)
            out[name] = {"folds": [None if np.isnan(x) else round(float(x), 6) for x in v],
                         "mean": float(np.nanmean(v)) if len(v) and not np.all(np.isnan(v)) else None,
                         "std": float(np.nanstd(v)) if len(v) and not np.all(np.isnan(v)) else None}
        return {"selected": self.selected.name, "validation_dates": self.folds, "candidates": out}


def subsample(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed).sort_index()


def fit_candidate(candidate: Candidate, frame: pd.DataFrame, label: str, config: OpenEISConfig,
                  calibrate: bool = True) -> RiskModel:
    m = config.models
    data = subsample(frame, m.max_train_rows, m.seed)
    model = RiskModel(candidate, seed=m.seed, threads=m.threads, calibration_folds=m.calibration_folds)
    # the label column must never be an input
    return model.fit(data.drop(columns=[label]), data[label].to_numpy(),
                     groups=data["as_of"].astype(str).to_numpy(), calibrate=calibrate)


def validation_folds(dates: list[date], window_months: int, how_many: int) -> list[tuple[date, list[date]]]:
    """(validation date, its training dates) for the latest dates that have earlier closed windows."""
    folds = []
    for v in sorted(dates)[::-1]:
        earlier = [d for d in dates if add_months(d, window_months) <= v]
        if earlier:
            folds.append((v, earlier))
        if len(folds) == how_many:
            break
    return folds[::-1]


def select(frame: pd.DataFrame, label: str, dates: list[date], config: OpenEISConfig,
           candidates: list[Candidate] | None = None) -> Selection:
    candidates = candidates or grid(config.models)
    window = label_window_months(label, config.labels)
    folds = validation_folds(dates, window, config.models.validation_dates)
    selection = Selection(candidates[0], [v.isoformat() for v, _ in folds],
                          {c.name: [] for c in candidates})
    for v, earlier in folds:
        train = frame[frame["as_of"].isin(earlier)]
        test = frame[frame["as_of"] == v]
        capacity = config.flags.capacity(len(test))
        for c in candidates:
            if train[label].nunique() < 2:
                selection.precision[c.name].append(float("nan"))
                continue
            model = fit_candidate(c, train, label, config, calibrate=False)
            scores = model.decision_function(test)
            selection.precision[c.name].append(
                precision_at_capacity(scores, test[label].to_numpy(), capacity))
    selection.selected = choose(candidates, selection.precision, config.models.selection)
    return selection


def choose(candidates: list[Candidate], precision: dict[str, list[float]], how: str) -> Candidate:
    stats = []
    for c in candidates:
        v = np.array(precision.get(c.name, []), dtype=float)
        v = v[~np.isnan(v)]
        if len(v) == 0:
            continue
        stats.append((c, float(v.mean()), float(v.std()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0))
    if not stats:
        return candidates[0]  # no validation fold possible: the first (simplest) candidate
    best = max(stats, key=lambda s: s[1])
    if how == "mean":
        return best[0]
    close = [s for s in stats if s[1] >= best[1] - best[3]]
    return min(close, key=lambda s: (s[2], -s[1]))[0]


@dataclass
class TrainingResult:
    model: RiskModel
    selection: Selection
    label: str
    as_of: date
    train_dates: list[date]
    rows: int
    positives: int
    streamed: bool = False  # the training file streamed into LightGBM (models/streamed.py)

    def metrics(self) -> dict:
        return {"train_rows": self.rows, "train_positives": self.positives, "streamed": self.streamed,
                "selection": self.selection.summary(),
                "calibration": {"slope": self.model.platt_[0], "intercept": self.model.platt_[1]}}


@dataclass
class LoadedTraining:
    """Training rows held in memory as a labelled frame (models/streamed.py has the other
    kind, `StreamedTraining`, with the same methods)."""

    frame: pd.DataFrame
    label: str
    config: OpenEISConfig
    streamed = False

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def positives(self) -> int:
        return int(self.frame[self.label].sum()) if len(self.frame) else 0

    def select(self, dates: list[date]) -> Selection:
        return select(self.frame, self.label, dates, self.config)

    def fit(self, candidate: Candidate, calibrate: bool = True) -> RiskModel:
        return fit_candidate(candidate, self.frame, self.label, self.config, calibrate=calibrate)


def train_with(training, dates: list[date], as_of: date) -> TrainingResult:
    """Select and fit on training rows (`LoadedTraining` or `StreamedTraining`; the dates'
    labels as known on `as_of`)."""
    label = training.label
    if training.rows == 0 or training.positives in (0, training.rows):
        raise ValueError(f"no usable training data for {label} before {as_of}: "
                         f"{training.rows} rows, {training.positives} positives")
    selection = training.select(dates)
    model = training.fit(selection.selected, calibrate=True)
    return TrainingResult(model, selection, label, as_of, dates, training.rows, training.positives,
                          streamed=training.streamed)


def train_on(frame: pd.DataFrame, label: str, dates: list[date], as_of: date,
             config: OpenEISConfig) -> TrainingResult:
    """Select and fit on a labelled training frame."""
    return train_with(LoadedTraining(frame, label, config), dates, as_of)
