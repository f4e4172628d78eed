"""Train: choose among the candidate models on temporal folds, fit the winner, calibrated.

Selection never looks at the test date. Within the training dates, each of the latest
`validation_dates` dates v is a validation fold: every candidate is trained on the training
dates whose label window closed by v and scores the cohort on v. Candidates are compared on
`selection_measure` (default: average precision), averaged over the folds: a measure of the
whole ranking, stable at a few hundred positives a fold, where precision at 2% of a fold
(20-40 officers) was decided by one or two of them. The baselines (models/baselines.py) are
measured on the same folds: if the best of them clearly beats every candidate
(`fallback_to_baseline`), the selected model falls back to that baseline's own ranking, and
the selection says so and why.

The winner is fitted on every training date and calibrated by Platt scaling of its
out-of-time margins on the validation folds (each fold's model scoring a date it was not
trained on): no refits for calibration, and the calibration is what a later date looks like
to a model, not a random fold of the same dates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from openeis import thread_pools
from openeis.config import OpenEISConfig
from openeis.features.dates import add_months
from openeis.features.labels import label_window_months
from openeis.models import baselines
from openeis.models.estimator import Candidate, RiskModel, grid
from openeis.models.evaluation import expected_hits
from openeis.models.matrix import MatrixSpec

TOP_PERCENTS = (1, 2, 3, 4, 5)


def precision_top(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean precision over the top 1, 2, 3, 4 and 5% of the ranking."""
    hits = expected_hits(scores, labels)
    out = []
    for p in TOP_PERCENTS:
        k = max(1, int(np.ceil(len(labels) * p / 100)))
        out.append(hits[min(k, len(hits)) - 1] / k)
    return float(np.mean(out))


MEASURES = {"average_precision": average_precision_score, "auc": roc_auc_score}  # (labels, scores)


def measure(name: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """Higher is better; NaN when the fold has one class only."""
    labels = np.asarray(labels, dtype=int)
    if len(labels) == 0 or labels.min() == labels.max():
        return float("nan")
    if name == "precision_top_1_5":
        return precision_top(scores, labels)
    return float(MEASURES[name](labels, scores))


def fit_platt(margins: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (slope, intercept) of the log-odds on the margin."""
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(margins)[:, None], np.asarray(labels, dtype=int))
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


@dataclass
class Selection:
    selected: Candidate
    folds: list[str]  # validation as-of dates
    measure: str = "average_precision"
    values: dict[str, list[float]] = field(default_factory=dict)  # candidate -> per fold
    baselines: dict[str, list[float]] = field(default_factory=dict)  # baseline -> per fold
    fallback: str | None = None  # why the selected model is the baseline fallback
    margins: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # out-of-time, per candidate
    fold_labels: np.ndarray | None = field(default=None, repr=False)
    fold_sizes: list[int] = field(default_factory=list, repr=False)
    fold_train_dates: list[int] = field(default_factory=list, repr=False)  # dates behind each fold's model
    baseline_scores: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # on the folds
    fallback_confidence: float | None = None  # share of bootstrap replicates where the baseline won

    @property
    def precision(self) -> dict[str, list[float]]:  # the name before the measure was configurable
        return self.values

    def calibration(self, candidate: Candidate) -> tuple[float, float] | None:
        """Platt scaling from the candidate's out-of-time margins on the folds (None: no folds)."""
        margins = self.margins.get(candidate.name)
        if margins is None or self.fold_labels is None or len(np.unique(self.fold_labels)) < 2:
            return None
        return fit_platt(margins, self.fold_labels)

    def summary(self) -> dict:
        def stats(values: list[float]) -> dict:
            v = np.array(values, dtype=float)
            some = len(v) and not np.all(np.isnan(v))
            return {"folds": [None if np.isnan(x) else round(float(x), 6) for x in v],
                    "mean": float(np.nanmean(v)) if some else None,
                    "std": float(np.nanstd(v)) if some else None}

        return {"selected": self.selected.name, "measure": self.measure, "validation_dates": self.folds,
                "candidates": {name: stats(v) for name, v in self.values.items()},
                "baselines": {name: stats(v) for name, v in self.baselines.items()},
                "fallback": self.fallback, "baseline_better_in_bootstrap": self.fallback_confidence}


def subsample(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed).sort_index()


def fit_candidate(candidate: Candidate, frame: pd.DataFrame, label: str, config: OpenEISConfig,
                  calibrate: bool = True) -> RiskModel:
    """One candidate on a labelled frame, calibrated on random folds by as-of date (for callers
    without validation folds, e.g. the logistic sample of a streamed training)."""
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


def baseline_candidate(name: str, config: OpenEISConfig) -> Candidate:
    """The fallback model for a baseline: the baseline's own ranking as a model
    (baselines.BaselineScore), calibrated and explained like any; for the department rules, a
    logistic regression on the rules' inputs."""
    if name in baselines.BaselineScore.INPUTS:
        return Candidate(f"fallback_{name}", "baseline",
                         {"baseline": name, "columns": baselines.BaselineScore.INPUTS[name]})
    columns = sorted({f for r in config.rules.rules for f in r.features})
    return Candidate(f"fallback_{name}", "logistic", {"C": 1.0, "columns": columns})


def select(training, dates: list[date], config: OpenEISConfig,
           candidates: list[Candidate] | None = None) -> Selection:
    """Selection on the training rows (`LoadedTraining` or `StreamedTraining`)."""
    candidates = candidates or grid(config.models)
    name = config.models.selection_measure
    window = label_window_months(training.label, config.labels)
    folds = validation_folds(dates, window, config.models.validation_dates)
    selection = Selection(candidates[0], [v.isoformat() for v, _ in folds], name,
                          {c.name: [] for c in candidates})
    margins: dict[str, list[np.ndarray]] = {c.name: [] for c in candidates}
    baseline_scores: dict[str, list[np.ndarray]] = {}
    labels = []
    for v, earlier in folds:
        rows = training.rows_of(earlier)
        held_out = training.frame_of(v)
        y = held_out[training.label].to_numpy(dtype=int)
        labels.append(y)
        for b, scores in baselines.baseline_scores(held_out, config.rules.rules, training.records_start).items():
            selection.baselines.setdefault(b, []).append(measure(name, scores, y))
            baseline_scores.setdefault(b, []).append(scores)
        for c in candidates:
            if len(np.unique(training.y[rows])) < 2:
                selection.values[c.name].append(float("nan"))
                margins[c.name].append(np.zeros(len(y)))
                continue
            model = training.fit_rows(c, rows)
            scores = training.margins(model, v, held_out)
            margins[c.name].append(scores)
            selection.values[c.name].append(measure(name, scores, y))
    if folds:
        selection.margins = {c: np.concatenate(m) for c, m in margins.items()}
        selection.fold_labels = np.concatenate(labels)
        selection.fold_sizes = [len(y) for y in labels]
        selection.fold_train_dates = [len(earlier) for _, earlier in folds]
        selection.baseline_scores = {b: np.concatenate(v) for b, v in baseline_scores.items()}
    selection.selected = choose(candidates, selection.values, config.models.selection)
    fallback_to_baseline(training, selection, folds, config)
    return selection


FALLBACK_REPLICATES = 500
FALLBACK_CONFIDENCE = 0.95


def fallback_to_baseline(training, selection: Selection, folds, config: OpenEISConfig) -> None:
    """Where data are thin, a model can rank worse than counting complaints: then the selected
    model falls back to the best baseline's own ranking (baseline_candidate), with the reason.

    The evidence must be clear, because a fold's model is trained on fewer dates than the
    final one, and the baselines need no training: so only folds whose model had at least
    `min_train_dates` dates count, the baseline must beat every candidate on each of them,
    and the selected one in at least 95% of bootstrap replicates (officers resampled within each
    fold): a difference a few officers decide is noise, and the candidate is kept."""
    counted = [i for i, n in enumerate(selection.fold_train_dates) if n >= config.splits.min_train_dates]
    candidates = {c: [v[i] for i in counted] for c, v in selection.values.items() if len(v) == len(folds)}
    if not counted or not candidates or any(np.isnan(x) for v in candidates.values() for x in v):
        return
    best_of_candidates = np.max(np.array(list(candidates.values())), axis=0)  # on each fold
    ours = candidates[selection.selected.name]
    theirs = {b: [v[i] for i in counted] for b, v in selection.baselines.items()}
    theirs = {b: v for b, v in theirs.items() if not any(np.isnan(x) for x in v)}
    better = {b: float(np.mean(v)) for b, v in theirs.items() if all(np.array(v) > best_of_candidates)}
    if not better:
        return
    best = max(better, key=lambda b: better[b])
    selection.fallback_confidence = baseline_wins(selection, selection.selected.name, best, counted, config.models.seed)
    if selection.fallback_confidence < FALLBACK_CONFIDENCE:
        return
    fallback = baseline_candidate(best, config)
    fold_margins = []
    for v, earlier in folds:  # its own out-of-time margins, for its calibration
        rows = training.rows_of(earlier)
        fold_margins.append(training.margins(training.fit_rows(fallback, rows), v, training.frame_of(v)))
    selection.margins[fallback.name] = np.concatenate(fold_margins)
    selection.values[fallback.name] = []
    dates = ", ".join(selection.folds[i] for i in counted)
    selection.fallback = (f"the baseline {best} ranked better than every candidate on every validation "
                          f"date ({dates}; {selection.measure} {better[best]:.4f} against {np.mean(ours):.4f} "
                          f"for {selection.selected.name}, "
                          f"better in {selection.fallback_confidence:.0%} of {FALLBACK_REPLICATES} bootstrap "
                          f"replicates): selected {best}'s own ranking as the model")
    selection.selected = fallback


def baseline_wins(selection: Selection, candidate: str, baseline: str, folds: list[int], seed: int) -> float:
    """Share of bootstrap replicates in which the baseline's mean measure over these folds
    beats the candidate's; officers are resampled within each fold, both rankings on the same
    sample."""
    rng = np.random.default_rng(seed)
    bounds = np.cumsum([0, *selection.fold_sizes])
    ours, theirs, y = selection.margins[candidate], selection.baseline_scores[baseline], selection.fold_labels
    assert y is not None, "the folds' labels are kept with their margins"
    wins = 0
    for _ in range(FALLBACK_REPLICATES):
        differences = []
        for i in folds:
            first, last = bounds[i], bounds[i + 1]
            rows = rng.integers(first, last, size=last - first)
            if y[rows].min() == y[rows].max():
                continue
            differences.append(fast_measure(selection.measure, theirs[rows], y[rows])
                               - fast_measure(selection.measure, ours[rows], y[rows]))
        wins += bool(differences) and float(np.mean(differences)) > 0
    return wins / FALLBACK_REPLICATES


def fast_measure(name: str, scores: np.ndarray, labels: np.ndarray) -> float:
    """`measure` for the bootstrap: average precision computed directly (as scikit-learn
    defines it: precision at each distinct score, weighted by the recall it adds)."""
    if name != "average_precision":
        return measure(name, scores, labels)
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.cumsum(labels[order])
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]  # last row of each distinct score
    tp = hits[last]
    precision, recall = tp / (last + 1), tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def choose(candidates: list[Candidate], values: dict[str, list[float]], how: str) -> Candidate:
    stats = []
    for c in candidates:
        v = np.array(values.get(c.name, []), dtype=float)
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


class BinnedRows:
    """LightGBM's binned Dataset of a training set, built once per `max_bin` (the candidates
    that share it share it); each fit, fold or final, takes a subset of its rows. Binning
    ~250 columns is the first cost of every LightGBM fit: once per training set instead."""

    def __init__(self, rows, y: np.ndarray, config: OpenEISConfig):
        self.rows = rows  # a matrix, or a lightgbm.Sequence (models/streamed.py)
        self.y = y
        self.config = config
        self.datasets: dict[tuple, object] = {}

    def dataset(self, candidate: Candidate):
        import lightgbm as lgb

        key = (candidate.params.get("max_bin", 255),)
        if key not in self.datasets:
            params = {"max_bin": key[0], "verbose": -1, "seed": self.config.models.seed,
                      "num_threads": thread_pools.threads(self.config.models.threads)}
            data = lgb.Dataset(self.rows, label=self.y, params=params, free_raw_data=True)
            self.datasets[key] = data.construct()
        return self.datasets[key]

    def fit(self, candidate: Candidate, rows: np.ndarray):
        """A LightGBM Booster on these rows (at most `max_train_rows`, chosen by the seed)."""
        import lightgbm as lgb

        m = self.config.models
        if len(rows) > m.max_train_rows:
            rows = np.sort(np.random.default_rng(m.seed).choice(rows, size=m.max_train_rows, replace=False))
        whole = self.dataset(candidate)
        subset = whole if len(rows) == whole.num_data() else whole.subset(rows.tolist())
        params = {"objective": "binary", "verbose": -1, "seed": m.seed, "num_threads": thread_pools.threads(m.threads),
                  "deterministic": True, "force_col_wise": True, **candidate.params}  # as estimator.py
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return lgb.train(params, subset)


def as_model(candidate: Candidate, spec: MatrixSpec, estimator, config: OpenEISConfig,
             platt: tuple[float, float] = (1.0, 0.0)) -> RiskModel:
    """A RiskModel around an estimator fitted elsewhere (a LightGBM Booster)."""
    m = config.models
    model = RiskModel(candidate, seed=m.seed, threads=m.threads, calibration_folds=m.calibration_folds)
    model.spec_ = spec
    model.estimator_ = estimator
    model.platt_ = platt
    return model


class LoadedTraining:
    """Training rows held in memory: the labelled frame and its model matrix, built once
    (models/streamed.py has the other kind, `StreamedTraining`, with the same methods)."""

    streamed = False

    def __init__(self, frame: pd.DataFrame, label: str, config: OpenEISConfig, records_start: date | None = None):
        self.frame = frame.reset_index(drop=True)
        self.label = label
        self.config = config
        self.records_start = records_start
        self.y = self.frame[label].to_numpy(dtype=int)
        # the label is never an input; its columns from an empty slice (no copy of the rows)
        self.spec = MatrixSpec.from_columns(self.frame.iloc[:0].drop(columns=[label]), self.frame)
        self._matrix: np.ndarray | None = None
        self._binned: BinnedRows | None = None
        days = self.frame["as_of"].to_numpy()
        self._rows = {d: np.flatnonzero(days == d) for d in pd.unique(days)}

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self.spec.matrix(self.frame)
        return self._matrix

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def positives(self) -> int:
        return int(self.y.sum())

    def rows_of(self, dates: list[date]) -> np.ndarray:
        parts = [self._rows[d] for d in sorted(dates) if d in self._rows]
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)

    def frame_of(self, day: date) -> pd.DataFrame:
        return self.frame.iloc[self._rows.get(day, [])]

    def margins(self, model: RiskModel, day: date, frame: pd.DataFrame | None = None) -> np.ndarray:
        """The model's log-odds on one training date's rows (from the matrix built once)."""
        from openeis.models.estimator import _margin

        X = self.matrix[self._rows[day]]
        if model.spec_ != self.spec:  # a model on some of the columns (a baseline's fallback)
            X = X[:, [self.spec.columns.index(c) for c in model.spec_.columns]]
        a, b = model.platt_
        return a * _margin(model.estimator_, X) + b

    def fit_rows(self, candidate: Candidate, rows: np.ndarray, platt: tuple[float, float] | None = None) -> RiskModel:
        """The candidate fitted on these rows; calibrated with `platt` if given."""
        m = self.config.models
        if candidate.kind == "lightgbm":
            if self._binned is None:
                self._binned = BinnedRows(self.matrix, self.y, self.config)
            return as_model(candidate, self.spec, self._binned.fit(candidate, rows), self.config, platt or (1.0, 0.0))
        if len(rows) > m.max_train_rows:
            rows = np.sort(np.random.default_rng(m.seed).choice(rows, size=m.max_train_rows, replace=False))
        model = RiskModel(candidate, seed=m.seed, threads=m.threads, calibration_folds=m.calibration_folds)
        model.fit_matrix(self.spec, self.matrix[rows], self.y[rows])
        if platt is not None:
            model.platt_ = platt
        return model

    def select(self, dates: list[date]) -> Selection:
        return select(self, dates, self.config)

    def fit(self, candidate: Candidate, calibrate: bool = True, selection: Selection | None = None) -> RiskModel:
        """The candidate on every training row, calibrated on the selection's out-of-time
        margins (or, without validation folds, on refits over folds by as-of date)."""
        platt = selection.calibration(candidate) if (calibrate and selection is not None) else None
        every_row = np.arange(self.rows)
        if calibrate and platt is None:
            return fit_candidate(candidate, self.frame, self.label, self.config, calibrate=True)
        return self.fit_rows(candidate, every_row, platt)


def train_with(training, dates: list[date], as_of: date) -> TrainingResult:
    """Select and fit on training rows (`LoadedTraining` or `StreamedTraining`; the dates'
    labels as known on `as_of`)."""
    label = training.label
    if training.rows == 0 or training.positives in (0, training.rows):
        raise ValueError(f"no usable training data for {label} before {as_of}: "
                         f"{training.rows} rows, {training.positives} positives")
    selection = training.select(dates)
    model = training.fit(selection.selected, calibrate=True, selection=selection)
    return TrainingResult(model, selection, label, as_of, dates, training.rows, training.positives,
                          streamed=training.streamed)


def train_on(frame: pd.DataFrame, label: str, dates: list[date], as_of: date,
             config: OpenEISConfig, records_start: date | None = None) -> TrainingResult:
    """Select and fit on a labelled training frame."""
    return train_with(LoadedTraining(frame, label, config, records_start), dates, as_of)
