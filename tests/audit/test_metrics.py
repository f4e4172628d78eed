"""Group metrics, intervals, disparities and verdicts on hand-made rows, edge cases first."""

from __future__ import annotations

import math
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from openeis.audit import AuditConfig, gate_decision, run_audit
from openeis.audit.metrics import (
    INSUFFICIENT,
    OUTSIDE,
    REFERENCE,
    WITHIN,
    bootstrap_rates,
    group_table,
    rates_from_counts,
)

CONFIG = AuditConfig(attributes=["ethnicity"], intersections=[], bootstrap_replicates=400)


def rows_from_counts(counts: dict[str, tuple[int, int, int, int]], as_of=date(2023, 1, 1), attribute="ethnicity",
                     start: int = 0) -> pd.DataFrame:
    """Rows with exactly these (tp, fp, fn, tn) per group; invented hex pseudonyms."""
    parts, number = [], start
    for group, (tp, fp, fn, tn) in counts.items():
        for flag, label, n in ((1, 1, tp), (1, 0, fp), (0, 1, fn), (0, 0, tn)):
            parts.append(pd.DataFrame({
                "officer": [f"{i:020x}" for i in range(number, number + n)],
                "as_of": as_of, "flag": flag, "label": label, "score": 0.5, attribute: group}))
            number += n
    return pd.concat(parts, ignore_index=True)


def disparity(result, group: str, metric: str) -> pd.Series:
    table = result.disparities
    return table[(table["group"] == group) & (table["metric"] == metric)].iloc[0]


def test_metricframe_values_equal_the_count_formulas_used_by_the_bootstrap():
    rng = np.random.default_rng(0)
    rows = rows_from_counts({g: tuple(int(x) for x in rng.integers(0, 60, 4)) for g in "ABCDEFG"})
    table = group_table(rows, "ethnicity")
    rates = rates_from_counts(table["tp"], table["fp"], table["fn"], table["tn"])
    for metric, values in rates.items():
        np.testing.assert_allclose(table[metric].to_numpy(dtype=float), values, rtol=0, atol=1e-12, equal_nan=True)
    assert (table["size"] == table[["tp", "fp", "fn", "tn"]].sum(axis=1)).all()


def test_edge_groups_give_nan_and_insufficient_not_errors():
    rows = rows_from_counts({
        "A": (20, 80, 30, 870),  # reference: 1000 officers
        "N": (0, 0, 10, 190),  # never flagged
        "P": (0, 20, 0, 180),  # no positives
        "L": (10, 190, 0, 0),  # all flagged
        "Z": (0, 0, 0, 200),  # nothing at all
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from 0/0 either
        result = run_audit(rows, CONFIG)
    groups = result.groups.set_index("group")
    assert math.isnan(groups.loc["N", "precision"]) and groups.loc["N", "flag_rate"] == 0
    assert math.isnan(groups.loc["P", "tpr"]) and math.isnan(groups.loc["P", "fnr"])
    assert groups.loc["L", "flag_rate"] == 1 and math.isnan(groups.loc["L", "fpr"]) is False
    assert math.isnan(groups.loc["L", "for"])  # nobody unflagged
    assert math.isnan(groups.loc["Z", "precision"]) and groups.loc["Z", "prevalence"] == 0
    for group in "NPLZ":
        for metric in ("flag_rate", "fpr", "precision", "tpr", "prevalence"):
            row = disparity(result, group, metric)
            assert row["verdict"] in (INSUFFICIENT, WITHIN, OUTSIDE)
            if group in "NPZ":
                assert row["verdict"] == INSUFFICIENT, (group, metric, row["reason"])
    assert disparity(result, "N", "flag_rate")["ratio"] == 0
    assert "fewer than" in disparity(result, "N", "flag_rate")["reason"]


def test_reference_value_zero_gives_inf_or_nan_never_a_verdict():
    rows = rows_from_counts({"A": (0, 0, 20, 980), "B": (5, 45, 10, 440), "C": (0, 0, 0, 300)})
    result = run_audit(rows, CONFIG)
    b, c = disparity(result, "B", "flag_rate"), disparity(result, "C", "flag_rate")
    assert b["reference"] == "A" and b["reference_value"] == 0
    assert math.isinf(b["ratio"]) and math.isnan(c["ratio"])  # 0.1 / 0 and 0 / 0
    assert b["verdict"] == INSUFFICIENT and c["verdict"] == INSUFFICIENT
    decision = gate_decision(result, CONFIG)
    assert not decision.allowed and decision.insufficient


def test_a_clear_disparity_is_outside_band_and_blocks_the_gate():
    # B flagged three times as often as A, on plenty of officers and flags
    rows = rows_from_counts({"A": (30, 170, 70, 3730), "B": (30, 270, 20, 680)})
    result = run_audit(rows, CONFIG)
    row = disparity(result, "B", "flag_rate")
    assert row["ratio"] == pytest.approx(0.3 / 0.05)
    assert row["verdict"] == OUTSIDE and row["verdict_low"] > 1
    decision = gate_decision(result, CONFIG)
    assert not decision.allowed
    assert any("flag_rate for ethnicity B" in r and "outside the band" in r for r in decision.reasons)


def test_equal_large_groups_are_within_band_and_pass_the_gate():
    counts = (300, 1700, 300, 17700)
    rows = rows_from_counts({"A": counts, "B": counts})
    result = run_audit(rows, CONFIG)
    for metric in ("flag_rate", "fpr"):
        row = disparity(result, "B", metric)
        assert row["ratio"] == pytest.approx(1.0)
        assert row["verdict"] == WITHIN, row["reason"]
    assert gate_decision(result, CONFIG).allowed


def test_a_small_gap_on_thin_data_is_never_a_pass():
    rows = rows_from_counts({"A": (3, 17, 3, 177), "B": (3, 17, 3, 177)})  # identical, but 20 flags
    result = run_audit(rows, CONFIG.model_copy(update={"min_group_officers": 10}))
    row = disparity(result, "B", "flag_rate")
    assert row["ratio"] == pytest.approx(1.0) and row["verdict"] == INSUFFICIENT
    assert "too wide" in row["reason"]
    assert not gate_decision(result, CONFIG).allowed


def test_reference_rules():
    rows = rows_from_counts({"A": (10, 40, 10, 940), "B": (5, 15, 5, 475), "C": (2, 8, 3, 287)})
    largest = run_audit(rows, CONFIG)
    assert set(largest.disparities["reference"]) == {"A"}
    named = run_audit(rows, CONFIG.model_copy(update={"reference": "named", "reference_groups": {"ethnicity": "C"}}))
    assert set(named.disparities["reference"]) == {"C"}
    missing = run_audit(rows, CONFIG.model_copy(update={"reference": "named", "reference_groups": {"ethnicity": "Q"}}))
    assert set(missing.disparities["reference"]) == {"A"} and "absent" in " ".join(missing.notes)
    best = run_audit(rows, CONFIG.model_copy(update={"reference": "best", "min_flags": 1, "min_positives": 1}))
    references = best.disparities.drop_duplicates("metric").set_index("metric")["reference"]
    assert references["flag_rate"] == "C"  # 3.3% against 4% and 5%: lowest is best
    assert references["fpr"] == "C"
    assert references["precision"] == "B"  # 25% against 20%: highest is best


def test_not_recorded_is_audited_but_never_the_reference():
    rows = rows_from_counts({"not_recorded": (20, 80, 30, 2870), "A": (10, 40, 10, 940)})
    result = run_audit(rows, CONFIG)
    assert set(result.disparities["reference"]) == {"A"}
    assert "not_recorded" in set(result.groups["group"])


def test_bootstrap_resamples_officers_with_all_their_dates():
    # 50 officers flagged on both dates, 950 on neither: a resample keeps each officer's
    # two rows together, so the flag rate moves in steps of 2 rows (= 1 officer)
    first = rows_from_counts({"A": (0, 50, 0, 950)}, as_of=date(2022, 1, 1))
    second = first.assign(as_of=date(2023, 1, 1))
    rows = pd.concat([first, second], ignore_index=True)
    rates = bootstrap_rates(rows, "ethnicity", "A", CONFIG)["flag_rate"]
    flagged_rows = np.round(rates * 2000).astype(int)
    assert (flagged_rows % 2 == 0).all()
    assert 0.02 < rates.min() and rates.max() < 0.08
    again = bootstrap_rates(rows, "ethnicity", "A", CONFIG)["flag_rate"]
    assert np.array_equal(rates, again)  # seeded: the same audit twice gives the same intervals


def test_bootstrap_is_vectorised_over_officers():
    """Cost grows with distinct count patterns, not officers: 200,000 officers are quick."""
    rows = rows_from_counts({"A": (2000, 8000, 6000, 184000)})
    rates = bootstrap_rates(rows, "ethnicity", "A", CONFIG.model_copy(update={"bootstrap_replicates": 4000}))
    assert rates["flag_rate"].shape == (4000,)
    assert abs(rates["flag_rate"].mean() - 0.05) < 0.001


def test_label_bias_table_warns_on_a_label_rate_gap():
    rows = rows_from_counts({"A": (40, 160, 160, 3640), "B": (30, 170, 170, 630)})  # 5% vs 20% positive
    result = run_audit(rows, CONFIG)
    bias = result.label_bias.set_index("group")
    assert bias.loc["B", "ratio"] == pytest.approx(4.0)
    assert bool(bias.loc["B", "warning"]) and bias.loc["B", "verdict"] == OUTSIDE
    assert REFERENCE not in set(result.label_bias["verdict"])


def test_family_confidence_widens_only_the_verdict_interval():
    rows = rows_from_counts({"A": (30, 170, 70, 3730), "B": (12, 58, 28, 902), "C": (12, 58, 28, 902)})
    wide = run_audit(rows, CONFIG)
    plain = run_audit(rows, CONFIG.model_copy(update={"family_confidence": False}))
    w, p = disparity(wide, "B", "flag_rate"), disparity(plain, "B", "flag_rate")
    assert (w["ratio_low"], w["ratio_high"]) == (p["ratio_low"], p["ratio_high"])
    assert w["verdict_low"] <= p["verdict_low"] and w["verdict_high"] >= p["verdict_high"]
