"""A risk model: one candidate estimator, Platt-calibrated, with exact additive explanations.

Follows scikit-learn's estimator contract (fit / decision_function / predict_proba) on a
feature *frame*: the model fixes its input columns at fit time (matrix.MatrixSpec).

Calibration is Platt scaling of the estimator's margin (log-odds for both the logistic
regression and LightGBM), fitted on out-of-fold margins with folds by as-of date. Because
Platt scaling is affine in the margin, SHAP values of the margin times the slope, plus the
scaled base value plus the intercept, add up exactly to the calibrated log-odds: the
explanation of a flag sums to its score (tested).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from openeis import thread_pools
from openeis.config.models import ModelsConfig
from openeis.models.matrix import MatrixSpec


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: str  # "logistic" or "lightgbm"
    params: dict = field(default_factory=dict)


def grid(config: ModelsConfig) -> list[Candidate]:
    out = [Candidate(f"logistic_c{c:g}", "logistic", {"C": float(c)}) for c in config.logistic_c]
    for params in config.lightgbm:
        short = {"num_leaves": "leaves", "n_estimators": "trees", "learning_rate": "lr"}
        label = "_".join(f"{short[k]}{params[k]:g}" for k in short if k in params)
        name = f"lightgbm_{label}" if label else "lightgbm"
        while name in {c.name for c in out}:
            name += "_"
        out.append(Candidate(name, "lightgbm", dict(params)))
    return out


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """Counts are heavy-tailed: compress them so one officer's 40 complaints does not set the
    scale for everyone (sign kept for trends, which can be negative)."""
    out = np.abs(x)
    np.log1p(out, out=out)  # in place: the matrix can be gigabytes
    return np.copysign(out, x, out=out)


class MedianImputer(TransformerMixin, BaseEstimator):
    """Missing values -> the column's median in training; a column with no value at all -> 0.

    What SimpleImputer(strategy="median", keep_empty_features=True) does, with numpy's
    nanmedian: SimpleImputer's masked-array median took 143 of 390 s of training on 600,000
    rows x 260 features (6x slower than nanmedian, measured)."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            medians = np.nanmedian(X, axis=0) if len(X) else np.full(X.shape[1], np.nan)
        self.statistics_ = np.where(np.isnan(medians), 0.0, medians)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.array(X, dtype=float)  # a copy: the caller's matrix is left as it was
        np.copyto(X, self.statistics_, where=np.isnan(X))
        return X


class NeverHappenedImputer(MedianImputer):
    """MedianImputer, except in the "days since the last X" columns (`never_columns`, their
    indices), where NULL means X never happened: longer ago than any X on record, so the
    column's largest training value, plus a 0/1 column "never" appended for each (in the order
    of `never_columns`), so the model can weigh "never" apart from "long ago". (The median
    said an officer never complained about had last been complained about a typical while ago.)"""

    def __init__(self, never_columns: tuple[int, ...] = ()):
        self.never_columns = never_columns

    def fit(self, X, y=None):
        super().fit(X, y)
        never = list(self.never_columns)
        if never and len(X):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                longest = np.nanmax(np.asarray(X, dtype=float)[:, never], axis=0)
            self.statistics_[never] = np.where(np.isnan(longest), 0.0, longest)
        return self

    def transform(self, X):
        never = list(self.never_columns)
        missing = np.isnan(np.asarray(X, dtype=float)[:, never]) if never else None
        out = super().transform(X)
        return out if missing is None else np.hstack([out, missing.astype(float)])


def never_columns(columns: list[str]) -> tuple[int, ...]:
    """Indices of the "days since the last X" columns (NULL when X never happened)."""
    return tuple(i for i, c in enumerate(columns) if c.endswith("_days_since"))


def _new_estimator(candidate: Candidate, seed: int, threads: int | None, columns: list[str] | None = None):
    if candidate.kind == "logistic":
        return Pipeline([
            # median for unknowns; "never happened" apart (NeverHappenedImputer)
            ("impute", NeverHappenedImputer(never_columns(columns or []))),
            ("log", FunctionTransformer(signed_log1p)),
            ("scale", StandardScaler(copy=False)),  # its input is the log step's own output
            ("model", LogisticRegression(C=candidate.params.get("C", 0.1), max_iter=2000)),
        ])
    if candidate.kind == "baseline":  # a baseline's own ranking (the selection's fallback)
        from openeis.models.baselines import BaselineScore

        return BaselineScore(candidate.params["baseline"])
    if candidate.kind == "lightgbm":
        from lightgbm import LGBMClassifier

        # deterministic needs a fixed histogram layout; column-wise is 1.4-1.5x faster than
        # row-wise on ~250 features with half of them sampled per tree (docs/benchmarks.md)
        params = {k: v for k, v in candidate.params.items() if k != "columns"}
        return LGBMClassifier(**params, random_state=seed, n_jobs=thread_pools.threads(threads), verbose=-1,
                              deterministic=True, force_col_wise=True)
    raise ValueError(f"unknown model kind {candidate.kind!r}")


def _fit(candidate: Candidate, X: np.ndarray, y: np.ndarray, seed: int, threads: int | None,
         columns: list[str] | None = None):
    estimator = _new_estimator(candidate, seed, threads, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. all-NaN columns in a fold
        estimator.fit(X, y)
    return estimator


def _margin(estimator, X: np.ndarray) -> np.ndarray:
    if isinstance(estimator, Pipeline):
        return estimator.decision_function(X)
    return estimator.predict(X, raw_score=True)


def _folds(y: np.ndarray, groups: np.ndarray | None, n: int, seed: int):
    if groups is not None and len(np.unique(groups)) >= n:
        return GroupKFold(n_splits=n).split(np.zeros(len(y)), y, groups)
    return StratifiedKFold(n_splits=n, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)


@dataclass
class Explanation:
    """Per row: each input feature's contribution to the calibrated log-odds, and the base."""

    features: list[str]
    contributions: np.ndarray  # rows x features
    base: np.ndarray  # rows

    @property
    def total(self) -> np.ndarray:
        return self.base + self.contributions.sum(axis=1)


class RiskModel:
    def __init__(self, candidate: Candidate, seed: int = 1, threads: int | None = None, calibration_folds: int = 3):
        self.candidate = candidate
        self.seed = seed
        self.threads = threads
        self.calibration_folds = calibration_folds

    def fit(self, frame: pd.DataFrame, y, groups=None, calibrate: bool = True) -> RiskModel:
        """Fit on a feature frame; `calibrate`: Platt scaling on out-of-fold margins, folds by
        `groups` (the as-of dates) when there are enough of them."""
        spec = MatrixSpec.from_training(frame)
        X = self._fit_matrix(spec, spec.matrix(frame), y)
        if calibrate:
            self.calibrate_by_refits(X, np.asarray(y, dtype=int), groups)
        return self

    def fit_matrix(self, spec: MatrixSpec, X: np.ndarray, y) -> RiskModel:
        """Fit on the matrix of `spec` (uncalibrated: platt_ = (1, 0)). A candidate with
        `columns` in its parameters reads only those columns."""
        self._fit_matrix(spec, X, y)
        return self

    def _fit_matrix(self, spec: MatrixSpec, X: np.ndarray, y) -> np.ndarray:
        """fit_matrix, returning the matrix the estimator was fitted on."""
        y = np.asarray(y, dtype=int)
        if y.min() == y.max():
            raise ValueError("training labels are all the same: nothing to learn")
        columns = self.candidate.params.get("columns")
        if columns:
            X = X[:, [spec.columns.index(c) for c in columns]]
            spec = spec.restricted(columns)
        self.spec_ = spec
        self.estimator_ = _fit(self.candidate, X, y, self.seed, self.threads, spec.columns)
        self.platt_ = (1.0, 0.0)
        return X

    def calibrate_by_refits(self, X: np.ndarray, y: np.ndarray, groups=None) -> None:
        """Platt scaling on out-of-fold margins of refits (folds by as-of date): for training
        without validation folds; `train` and `backtest` calibrate on their out-of-time folds."""
        out_of_fold = np.empty(len(y))
        for train, test in _folds(y, None if groups is None else np.asarray(groups),
                                  self.calibration_folds, self.seed):
            if y[train].min() == y[train].max():
                out_of_fold[test] = _margin(self.estimator_, X[test])
                continue
            fold = _fit(self.candidate, X[train], y[train], self.seed, self.threads, self.spec_.columns)
            out_of_fold[test] = _margin(fold, X[test])
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(out_of_fold[:, None], y)
        self.platt_ = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))

    @property
    def input_features(self) -> list[str]:
        """Matrix columns (one-hot columns named column=value)."""
        return self.spec_.columns

    @property
    def input_features_source(self) -> list[str]:
        """The feature-table columns the model reads."""
        return list(dict.fromkeys(self.spec_.source_column(c) for c in self.spec_.columns))

    def decision_function(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated log-odds."""
        a, b = self.platt_
        return a * _margin(self.estimator_, self.spec_.matrix(frame)) + b

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(frame)))
        return np.column_stack([1 - p, p])

    def explain(self, frame: pd.DataFrame) -> Explanation:
        """SHAP values of the margin, scaled by the calibration; one-hot columns summed back
        into their categorical feature."""
        import shap

        X = self.spec_.matrix(frame)
        sources = [self.spec_.source_column(c) for c in self.spec_.columns]
        if isinstance(self.estimator_, Pipeline):
            transform = self.estimator_[:-1]
            linear = self.estimator_[-1]
            Z = transform.transform(X)
            # the "never happened" columns the imputer appends count for their feature
            sources += [sources[i] for i in getattr(self.estimator_[0], "never_columns", ())]
            # The scaler centres the training data at 0, so its mean is the background.
            explainer = shap.LinearExplainer((linear.coef_[0], linear.intercept_[0]),
                                             np.zeros((1, Z.shape[1])))
            values = explainer.shap_values(Z)
            base = np.full(len(X), float(np.ravel(explainer.expected_value)[0]))
        elif hasattr(self.estimator_, "shapley"):  # a baseline's ranking (models/baselines.py)
            values, base = self.estimator_.shapley(X)
        else:
            # a LightGBM classifier, or the Booster of a streamed training (models/streamed.py)
            explainer = shap.TreeExplainer(getattr(self.estimator_, "booster_", self.estimator_))
            with warnings.catch_warnings():
                # shap notes that its LightGBM output format changed; handled just below
                warnings.simplefilter("ignore", UserWarning)
                values = explainer.shap_values(X)
            if isinstance(values, list):  # older shap: one array per class
                values = values[-1]
            base = np.full(len(X), float(np.ravel(explainer.expected_value)[-1]))
        a, b = self.platt_
        values = np.asarray(values) * a
        base = base * a + b
        names = list(dict.fromkeys(sources))
        index = {n: i for i, n in enumerate(names)}
        summed = np.zeros((len(X), len(names)))
        np.add.at(summed.T, np.array([index[s] for s in sources]), values.T)
        return Explanation(names, summed, base)
