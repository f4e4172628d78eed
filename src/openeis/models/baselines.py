"""Baseline rankings a model must beat, scored in every backtest beside the models.

- `department_rules`: the department threshold rules (models/rules.py) as a ranking, by the
  number of rules an officer triggers: flagging as many officers as the rules do takes exactly
  the rules' flags.
- `prior_complaints_5y`: complaints in the previous 5 years, the simplest thing a force could do.
- `empirical_bayes_rate`: complaints per year of service in the previous 5 years, shrunk
  towards the force's rate by how much service there is to judge by (a gamma-Poisson
  empirical-Bayes estimate, as in Rozema & Schanzenbach, "Good Cop, Bad Cop", AEJ: Economic
  Policy 2019; the estimator of Marshall, Biometrics 1991). Two complaints in one year of
  service rank above two in five; one complaint in a month does not rank above everyone.

Each takes the feature frame of one date's cohort and returns one score per row (higher is
riskier). A backtest names the strongest of them on each date (by AUC) and judges the model
against it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from openeis.config.models import ThresholdRule
from openeis.models.rules import rule_matrix

PRIOR_COUNT_FEATURE = "complaints_count_5y"
PRIOR_COUNT_NAME = "prior_complaints_5y"
EB_RATE_NAME = "empirical_bayes_rate"
RULES_NAME = "department_rules"
NAMES = (RULES_NAME, PRIOR_COUNT_NAME, EB_RATE_NAME)

FIVE_YEARS_DAYS = 1826  # the 5y feature window (config/features.py)


def prior_count_scores(frame: pd.DataFrame) -> np.ndarray:
    """Ranking by the number of complaints in the previous 5 years (more ranks higher)."""
    if PRIOR_COUNT_FEATURE not in frame.columns:
        raise ValueError(f"the prior-count baseline needs the feature {PRIOR_COUNT_FEATURE}")
    return frame[PRIOR_COUNT_FEATURE].fillna(0).to_numpy(dtype=np.float64)


def rule_count_scores(frame: pd.DataFrame, rules: list[ThresholdRule]) -> np.ndarray:
    """Ranking by the number of department rules triggered."""
    return rule_matrix(frame, rules).sum(axis=1).astype(np.float64)


def service_years(frame: pd.DataFrame, records_since: date | None = None) -> np.ndarray:
    """Years of service inside the 5-year window on each row's date (and inside the store's
    records: an officer cannot have complaints recorded before the records begin). At least a
    month, so that a new starter's rate is defined."""
    if "tenure_days" not in frame.columns:
        raise ValueError("the empirical-Bayes baseline needs the feature tenure_days")
    days = frame["tenure_days"].to_numpy(dtype=np.float64, na_value=np.nan)
    days = np.where(np.isnan(days), FIVE_YEARS_DAYS, days)
    limit = np.full(len(frame), float(FIVE_YEARS_DAYS))
    if records_since is not None and len(frame):
        as_of = pd.to_datetime(frame["as_of"]).dt.date
        covered = np.array([(d - records_since).days for d in as_of], dtype=np.float64)
        limit = np.minimum(limit, covered)
    return np.maximum(np.minimum(days, limit), 30.0) / 365.25


def gamma_prior(counts: np.ndarray, exposure: np.ndarray) -> tuple[float, float]:
    """(shape, rate) of the gamma distribution of officers' complaint rates, by the method of
    moments for Poisson counts with unequal exposure (Marshall 1991): the spread of the raw
    rates n/t less what Poisson noise alone would give."""
    total = float(exposure.sum())
    if total <= 0 or counts.sum() <= 0:
        return 1.0, 1e9  # nothing to learn from: every officer at the same (zero) rate
    mean = float(counts.sum()) / total
    raw = counts / exposure
    variance = float(np.sum(exposure * (raw - mean) ** 2)) / total - mean / float(np.mean(exposure))
    variance = max(variance, mean * mean * 1e-6)  # no spread beyond chance: shrink almost fully
    return mean * mean / variance, mean / variance


def empirical_bayes_scores(frame: pd.DataFrame, records_since: date | None = None) -> np.ndarray:
    """Posterior mean complaint rate per year of service: (shape + n) / (rate + t), with the
    gamma prior fitted on each date's cohort."""
    counts = prior_count_scores(frame)
    exposure = service_years(frame, records_since)
    out = np.empty(len(frame))
    dates = frame["as_of"].to_numpy() if len(frame) else np.array([])
    for day in pd.unique(dates):
        rows = dates == day
        shape, rate = gamma_prior(counts[rows], exposure[rows])
        out[rows] = (shape + counts[rows]) / (rate + exposure[rows])
    return out


def baseline_scores(frame: pd.DataFrame, rules: list[ThresholdRule],
                    records_since: date | None = None) -> dict[str, np.ndarray]:
    """Every baseline's scores for the rows of `frame`, by name."""
    return {RULES_NAME: rule_count_scores(frame, rules),
            PRIOR_COUNT_NAME: prior_count_scores(frame),
            EB_RATE_NAME: empirical_bayes_scores(frame, records_since)}


class BaselineScore:
    """A baseline's ranking as an estimator, for the selection's fallback (models/train.py):
    the margin is the log of the baseline's score, so the fallback model flags exactly whom the
    baseline would (the empirical-Bayes prior fitted once, on the training rows). Its input
    matrix holds the baseline's columns, in `INPUTS` order.

    Explanations are exact Shapley values of the margin against the training means (two
    inputs at most, so both orders are averaged)."""

    INPUTS = {PRIOR_COUNT_NAME: [PRIOR_COUNT_FEATURE], EB_RATE_NAME: [PRIOR_COUNT_FEATURE, "tenure_days"]}

    def __init__(self, baseline: str):
        if baseline not in self.INPUTS:
            raise ValueError(f"no fallback model for the baseline {baseline!r}")
        self.baseline = baseline

    def fit(self, X: np.ndarray, y=None) -> BaselineScore:
        X = np.asarray(X, dtype=float)
        if self.baseline == EB_RATE_NAME:
            counts, exposure = self._parts(X)
            self.prior_ = gamma_prior(counts, exposure)
        self.mean_ = np.nan_to_num(np.nanmean(X, axis=0)) if len(X) else np.zeros(X.shape[1])
        return self

    def _parts(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.nan_to_num(X[:, 0])
        if X.shape[1] < 2:
            return counts, np.ones(len(X))
        days = np.where(np.isnan(X[:, 1]), FIVE_YEARS_DAYS, X[:, 1])
        return counts, np.maximum(np.minimum(days, FIVE_YEARS_DAYS), 30.0) / 365.25

    def predict(self, X: np.ndarray, raw_score: bool = True) -> np.ndarray:
        """The margin: log1p of the count, or the log of the shrunk rate."""
        counts, exposure = self._parts(np.asarray(X, dtype=float))
        if self.baseline == PRIOR_COUNT_NAME:
            return np.log1p(counts)
        shape, rate = self.prior_
        return np.log((shape + counts) / (rate + exposure))

    def shapley(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values rows x inputs, base rows): values + base = the margin, exactly."""
        X = np.asarray(X, dtype=float)
        reference = np.broadcast_to(self.mean_, X.shape)
        base = self.predict(reference[:1])[0]
        if X.shape[1] == 1:
            return (self.predict(X) - base)[:, None], np.full(len(X), base)
        first_only = np.column_stack([X[:, 0], reference[:, 1]])
        second_only = np.column_stack([reference[:, 0], X[:, 1]])
        both = self.predict(X)
        one = 0.5 * ((self.predict(first_only) - base) + (both - self.predict(second_only)))
        return np.column_stack([one, both - base - one]), np.full(len(X), base)
