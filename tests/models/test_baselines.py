"""The baselines every backtest scores beside the models, the strongest of them, and the
selection's fallback to a baseline where no model beats it (small in-memory frames)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from openeis.config import OpenEISConfig
from openeis.models import baselines
from openeis.models.backtest import strongest_baseline
from openeis.config.models import default_rules
from openeis.models.rules import rule_flags
from openeis.models.train import LoadedTraining, train_with


def _cohort(n: int = 4000, seed: int = 0, day: date = date(2020, 1, 1)) -> tuple[pd.DataFrame, np.ndarray]:
    """Officers with a latent complaint rate; complaints in 5 years ~ Poisson(rate x service)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(30, 8000, n)
    rate = rng.gamma(2.0, 0.25, n)  # complaints a year: mean 0.5, shape 2
    years = np.minimum(tenure, 1826) / 365.25
    frame = pd.DataFrame({"officer": [f"{i:05x}" for i in range(n)], "as_of": day,
                          "complaints_count_5y": rng.poisson(rate * years), "tenure_days": tenure})
    for rule in default_rules():
        for feature in rule.features:
            frame[feature] = 0
    y = (rng.random(n) < 1 - np.exp(-0.3 * rate)).astype(int)
    return frame, y


def test_empirical_bayes_ranks_a_rate_not_a_count_and_shrinks_thin_records():
    frame = pd.DataFrame({"as_of": date(2020, 1, 1),
                          "complaints_count_5y": [2, 2, 1, 0, 0, 1] + [1] * 200,
                          "tenure_days": [365, 1826, 30, 30, 1826, 9000] + [1826] * 200})
    score = baselines.empirical_bayes_scores(frame)
    assert score[0] > score[1]  # 2 complaints in 1 year of service above 2 in 5
    assert score[1] == pytest.approx(score[1])
    # one complaint in a month is not 12 a year: it is shrunk towards the force's rate,
    # below two complaints in one year
    assert score[2] < score[0]
    assert score[3] > score[4]  # no complaint in a month says less than none in 5 years
    assert score[5] == pytest.approx(score[6])  # service beyond the 5-year window does not count


def test_empirical_bayes_prior_recovers_the_spread_of_rates():
    rng = np.random.default_rng(3)
    exposure = rng.uniform(0.5, 5, 50_000)
    rates = rng.gamma(2.0, 0.25, 50_000)
    shape, rate = baselines.gamma_prior(rng.poisson(rates * exposure).astype(float), exposure)
    assert shape == pytest.approx(2.0, rel=0.1) and rate == pytest.approx(4.0, rel=0.1)
    # no spread beyond chance: everyone shrunk (almost) to the same rate
    flat = rng.poisson(0.5 * exposure).astype(float)
    shape, rate = baselines.gamma_prior(flat, exposure)
    assert shape / rate == pytest.approx(0.5, rel=0.05) and rate > 100


def test_records_that_start_late_cap_the_service_that_counts():
    frame = pd.DataFrame({"as_of": [date(2020, 1, 1)] * 2, "complaints_count_5y": [1, 1],
                          "tenure_days": [3000, 400]})
    assert baselines.service_years(frame)[0] == pytest.approx(1826 / 365.25)
    # the records began a year ago: both officers have had a year to be complained about
    capped = baselines.service_years(frame, records_since=date(2019, 1, 1))
    assert capped[0] == pytest.approx(365 / 365.25) and capped[1] == pytest.approx(365 / 365.25)


def test_department_rules_as_a_ranking_flag_exactly_the_rule_flags_at_their_count():
    frame, _ = _cohort(500)
    frame.loc[:9, "complaints_count_180d"] = 3
    frame.loc[5:14, "use_of_force_count_90d"] = 4
    scores = baselines.rule_count_scores(frame, default_rules())
    flags = rule_flags(frame, default_rules())
    assert flags.sum() == 15
    top = np.argsort(-scores, kind="stable")[:15]
    assert set(top) == set(np.flatnonzero(flags))
    assert scores[5:10].tolist() == [2.0] * 5  # both rules fire


def test_strongest_baseline_is_the_best_auc_of_the_baselines_only():
    models = {"lightgbm": {"auc": 0.9}, "department_rules": {"auc": 0.51},
              "prior_complaints_5y": {"auc": 0.61, "average_precision": 0.05},
              "empirical_bayes_rate": {"auc": 0.62, "average_precision": 0.04}}
    assert strongest_baseline(models) == "empirical_bayes_rate"
    assert strongest_baseline({"lightgbm": {"auc": 0.9}}) is None


def test_selection_falls_back_to_the_baseline_when_no_candidate_beats_it():
    """A candidate that cannot learn (a LightGBM allowed no split: a constant) ranks worse than the complaint rate on the validation dates: the selected model becomes the
    baseline's fallback, a logistic regression on its inputs, and the selection says why."""
    days = [date(2016, 1, 1), date(2017, 1, 1), date(2018, 1, 1), date(2019, 1, 1)]
    parts = []
    for i, day in enumerate(days):
        frame, y = _cohort(3000, seed=i, day=day)
        frame["sustained_12m"] = y
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True)
    config = OpenEISConfig.model_validate({"models": {"logistic_c": [], "lightgbm": [
        {"n_estimators": 1, "min_child_samples": 1_000_000}]}})
    result = train_with(LoadedTraining(frame, "sustained_12m", config), days, date(2021, 1, 1))
    selection = result.selection.summary()
    assert result.model.candidate.name.startswith("fallback_")
    assert "ranked better than" in selection["fallback"]
    assert selection["baseline_better_in_bootstrap"] >= 0.95
    assert set(selection["baselines"]) == set(baselines.NAMES)
    best = result.model.candidate.params["baseline"]
    assert result.model.input_features == baselines.BaselineScore.INPUTS[best]
    last = frame[frame["as_of"] == days[-1]]
    scores = result.model.decision_function(last)
    # it ranks as the baseline does (its empirical-Bayes prior fitted on the training dates,
    # the baseline's on the date's cohort)
    baseline = baselines.baseline_scores(last, config.rules.rules)[best]
    assert spearmanr(scores, baseline).statistic > 0.99
    explained = result.model.explain(last.head(50))
    assert np.allclose(explained.total, scores[:50])
    assert set(explained.features) == set(baselines.BaselineScore.INPUTS[best])
    # and a candidate that can learn is kept
    learning = OpenEISConfig.model_validate({"models": {"logistic_c": [1.0], "lightgbm": []}})
    kept = train_with(LoadedTraining(frame, "sustained_12m", learning), days, date(2021, 1, 1))
    assert kept.selection.fallback is None and kept.model.candidate.name == "logistic_c1"
