"""Rules, ranking metrics, the estimator contract, SHAP additivity and plain sentences, on
small in-memory frames (no store)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from openeis.features.build import plan
from openeis.config.features import FeaturesConfig
from openeis.flags.explain import explain_rows, factor_sentence, peer_medians
from openeis.flags.sentences import Describer
from openeis.config.models import FlagsConfig, ModelsConfig, ThresholdRule, default_rules
from openeis.models.estimator import Candidate, RiskModel, grid
from openeis.models.evaluation import expected_hits, precision_at_capacity, ranking_metrics, top_k
from openeis.models.matrix import MatrixSpec, protected_columns
from openeis.models.rules import rule_flags, rule_hits


def test_default_rules_read_features_the_default_set_builds():
    names = set(plan(FeaturesConfig()).names)
    for rule in default_rules():
        assert set(rule.features) <= names, rule.name


def test_rules_fire_at_their_thresholds():
    frame = pd.DataFrame({
        "use_of_force_count_90d": [2, 3, 0, 1],
        "complaints_count_180d": [0, 0, 3, 1],
        "event_vehicle_accident_count_180d": [0, 0, 0, 1],
        "event_officer_injury_count_180d": [0, 0, 0, 1],
        "event_pursuit_count_180d": [0, 0, 0, 1],
        "use_of_force_count_180d": [2, 3, 0, 1],
        "sickness_days_90d": [2.5, 0, 0, np.nan],
    })
    rules = default_rules()
    hits = rule_hits(frame, rules)
    assert hits[0] == []
    assert hits[1] == ["use_of_force_3_in_90d"]
    assert hits[2] == ["complaints_3_in_180d"]
    assert hits[3] == ["any_5_in_180d"]  # 1 + 1 + 1 + 1 + 1 events in 180 days
    assert rule_flags(frame, rules).tolist() == [False, True, True, True]


def test_rule_on_a_feature_that_is_not_built_is_a_clear_error():
    rule = ThresholdRule(name="x", description="x", features=["nope_1y"], at_least=1)
    with pytest.raises(ValueError, match="nope_1y"):
        rule_flags(pd.DataFrame({"a": [1]}), [rule])


def test_ranking_metrics_by_hand():
    scores = np.array([0.9, 0.8, 0.8, 0.1, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0])
    labels = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    officers = np.array(list("abcdefghij"))
    m = ranking_metrics(scores, labels, rule_count=3, capacity=2)
    assert m["precision_at"]["1%"] == 1.0  # k = 1: officer a
    assert m["precision_at"]["5%"] == 1.0
    # k = 2 at capacity: a, then one of the tied b (negative) and c (positive): half a hit
    assert m["precision_at_capacity"] == 0.75
    assert m["true_positives_at_capacity"] == 1.5
    assert m["true_positives_at_rule_count"] == 2
    assert m["recall_at"]["1%"] == pytest.approx(1 / 3)
    assert top_k(scores, officers, 3).tolist() == [True, True, True] + [False] * 7


def test_ranking_metrics_with_one_class_give_none_not_errors():
    m = ranking_metrics(np.array([0.2, 0.1]), np.array([0, 0]))
    assert m["auc"] is None and m["precision_at"]["1%"] == 0.0 and m["recall_at"]["1%"] is None


def test_capacity():
    assert FlagsConfig().capacity(1000) == 20
    assert FlagsConfig(top_percent=0.1).capacity(50) == 1
    assert FlagsConfig(top_n=30).capacity(10) == 10


def _frame(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    complaints = rng.poisson(1.0, n)
    force = rng.poisson(2.0, n)
    frame = pd.DataFrame({
        "officer": [f"{i:04x}" for i in range(n)],
        "as_of": [date(2020, 1 + i % 4 * 3, 1) for i in range(n)],
        "complaints_count_1y": complaints,
        "use_of_force_count_1y": force,
        "tenure_days": rng.integers(100, 9000, n),
        "complaints_days_since": np.where(complaints > 0, rng.integers(1, 365, n), np.nan),
        "posting_role": rng.choice(["response", "neighbourhood", "custody"], n),
        "unit_function": rng.choice(["uniform", "detective"], n),
        "peer_unit": rng.choice(["u1", "u2"], n),
        "posting_rank": "constable",
    })
    logit = -3 + 0.9 * complaints + 0.3 * force + 0.5 * (frame["posting_role"] == "response")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


def test_matrix_takes_numbers_and_one_hot_roles_never_keys_or_identifiers():
    frame, _ = _frame(50)
    spec = MatrixSpec.from_training(frame)
    assert "officer" not in spec.columns and "peer_unit" not in spec.columns
    assert "posting_role=response" in spec.columns
    assert spec.matrix(frame).shape == (50, len(spec.columns))


def test_protected_characteristics_are_refused_as_inputs():
    frame, y = _frame(200)
    assert {"ethnicity", "gender", "birth_year"} <= protected_columns()
    frame["ethnicity"] = 1.0
    with pytest.raises(ValueError, match="protected"):
        RiskModel(Candidate("logistic", "logistic", {"C": 1.0})).fit(frame, y)


@pytest.mark.parametrize("candidate", grid(ModelsConfig(lightgbm=[{"num_leaves": 7, "n_estimators": 40}]))[::-1],
                         ids=lambda c: c.kind)
def test_shap_contributions_plus_base_equal_the_calibrated_score(candidate):
    frame, y = _frame()
    model = RiskModel(candidate, calibration_folds=3).fit(frame, y, groups=frame["as_of"].astype(str))
    explanation = model.explain(frame.iloc[:200])
    np.testing.assert_allclose(explanation.total, model.decision_function(frame.iloc[:200]), atol=1e-6)
    p = model.predict_proba(frame.iloc[:200])[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-explanation.total)), p, atol=1e-9)
    # one-hot role columns are summed back into one factor named after the feature
    assert "posting_role" in explanation.features
    assert not any("=" in f for f in explanation.features)
    # the strongest true driver is the top factor for most high scorers
    top = np.argmax(explanation.contributions[np.argsort(-p)[:20]], axis=1)
    names = np.array(explanation.features)[top]
    assert (names == "complaints_count_1y").mean() >= 0.5


def test_plain_sentences_with_peer_median():
    describer = Describer(FeaturesConfig())
    assert describer.phrase("complaints_count_1y", 4) == "4 complaints in the last 12 months"
    assert describer.phrase("use_of_force_count_90d", 3) == "3 uses of force in the last 90 days"
    assert describer.phrase("sickness_days_90d", 5) == "5 days of sickness in the last 90 days"
    assert describer.phrase("complaints_days_since", float("nan")) == "no complaints on record"
    assert describer.phrase("tenure_days", 3652.5) == "10 years of service"
    assert describer.phrase("event_pursuit_count_180d", 2) == "2 pursuits in the last 6 months"
    assert describer.phrase("duty_hours_on_duty_sum_1y", 1800) == "1,800 hours on duty in the last 12 months"
    assert "per 100 shifts" in describer.phrase("complaints_per_100_shifts_1y", 1.5)
    assert describer.phrase("my_custom_feature", 2) == "my custom feature: 2"
    sentence = factor_sentence(describer, "complaints_count_1y", 4, 1.0, "unit and role")
    assert sentence == "4 complaints in the last 12 months; peers in the same unit and role: median 1."
    assert factor_sentence(describer, "complaints_count_1y", 4, 1.0, "all officers").endswith(
        "all officers on that date: median 1.")


def test_every_default_feature_gets_a_sentence_that_is_not_just_its_name():
    describer = Describer(FeaturesConfig())
    for name in plan(FeaturesConfig()).names:
        phrase = describer.phrase(name, 2)
        assert "_" not in phrase, (name, phrase)


def test_explanations_name_factors_with_values_and_peer_medians():
    frame, y = _frame()
    model = RiskModel(Candidate("logistic", "logistic", {"C": 1.0})).fit(frame, y, groups=frame["as_of"].astype(str))
    medians, usable = peer_medians(frame, model.input_features_source, 5)
    rows = frame.iloc[:5]
    out = explain_rows(model.explain(rows), rows, medians.iloc[:5], usable[:5], Describer(), 3)
    for i, e in enumerate(out):
        assert e["base"] + sum(f["contribution"] for f in e["factors"]) + e["other_factors"] == pytest.approx(e["log_odds"])
        for f in e["factors"]:
            assert f["contribution"] > 0 and f["sentence"].endswith(".")
            if f["feature"] == "complaints_count_1y":
                assert f["value"] == rows.iloc[i]["complaints_count_1y"]
                group = frame[(frame.as_of == rows.iloc[i].as_of) & (frame.peer_unit == rows.iloc[i].peer_unit)
                              & (frame.posting_role == rows.iloc[i].posting_role)]
                assert f["peer_median"] == group["complaints_count_1y"].median()


def test_expected_hits_share_ties_and_do_not_depend_on_officer_order():
    scores = np.array([3, 1, 1, 1, 1, 0, np.nan])
    labels = np.array([0, 1, 0, 0, 1, 1, 1])
    hits = expected_hits(scores, labels)
    assert hits.tolist() == pytest.approx([0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
    shuffled = np.random.default_rng(0).permutation(len(scores))
    assert expected_hits(scores[shuffled], labels[shuffled]).tolist() == pytest.approx(hits.tolist())
    assert precision_at_capacity(scores, labels, 3) == pytest.approx(1 / 3)


def test_median_imputer_matches_scikit_learns_simple_imputer():
    from sklearn.impute import SimpleImputer

    from openeis.models.estimator import MedianImputer

    X = np.random.default_rng(0).poisson(1.0, (500, 12)).astype(float)
    X[X > 2] = np.nan
    X[:, 3] = np.nan  # a column with no value at all: 0, as keep_empty_features=True
    ours = MedianImputer().fit(X)
    theirs = SimpleImputer(strategy="median", keep_empty_features=True).fit(X)
    assert np.array_equal(ours.transform(X), theirs.transform(X))
    assert np.isnan(X).any()  # the caller's matrix is not filled in place
