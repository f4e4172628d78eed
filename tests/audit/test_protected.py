"""Protected characteristics reach the audit and never the model; the proxy check, the
report and the JSON on a small synthetic force run through the real pipeline."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support.audit_synthetic import LABEL, PROTECTED_COLUMNS, fit_and_score, ingested_force
from openeis.audit import (
    AuditConfig,
    audit_json,
    build_audit_rows,
    gate_decision,
    proxy_check,
    report_html,
    run_audit,
    write_json,
)
from openeis.audit.proxy import input_matrix

SRC = Path(__file__).resolve().parents[2] / "src" / "openeis"
TRAIN, TESTS = date(2016, 1, 1), [date(2017, 1, 1)]
CONFIG = AuditConfig(bootstrap_replicates=300, proxy_folds=3)


@pytest.fixture(scope="module")
def force(tmp_path_factory):
    """A small synthetic force: scores, audit rows and the model's input matrix, plus the
    scores again after the restricted schema has been dropped."""
    store = ingested_force(tmp_path_factory.mktemp("force"), seed=5, biases=[], officers=300, years=3)
    try:
        scored, matrix, inputs = fit_and_score(store, TRAIN, TESTS)
        rows = build_audit_rows(store, scored, CONFIG, label=LABEL)
        store.execute("DROP SCHEMA restricted CASCADE")
        scored_without, matrix_without, _ = fit_and_score(store, TRAIN, TESTS)
    finally:
        store.close()
    return {"scored": scored, "matrix": matrix, "inputs": inputs, "rows": rows,
            "scored_without": scored_without, "matrix_without": matrix_without}


def test_model_inputs_hold_no_protected_characteristic(force):
    inputs = force["inputs"]
    assert len(inputs) > 150
    assert not set(inputs) & (PROTECTED_COLUMNS | {"age_band", "age", "birth_year"})
    assert not [c for c in force["matrix"].columns if re.search(r"ethnic|gender|birth|religio|orientation|disab", c)]


def test_scores_are_the_same_without_the_restricted_schema(force):
    """The strongest check: with the protected tables gone, the model's inputs, scores
    and flags are identical, so nothing protected can have reached the model."""
    pd.testing.assert_frame_equal(force["matrix"], force["matrix_without"])
    pd.testing.assert_frame_equal(force["scored"], force["scored_without"])


def test_model_code_never_names_the_restricted_schema():
    model_path = [p for d in ("features", "models", "flags") for p in (SRC / d).rglob("*.py")]
    model_path += [p for p in (SRC / "cli_models.py",) if p.exists()]
    assert len(model_path) > 10
    for path in model_path:
        text = path.read_text()
        assert not re.search(r"\brestricted\s*\.|officer_characteristics", text), path


def test_proxy_check_refuses_protected_inputs(force):
    matrix = force["matrix"]
    for column in ("ethnicity", "birth_year", "age_band"):
        with pytest.raises(ValueError, match="protected"):
            input_matrix(matrix.assign(**{column: 1}))


def test_proxy_check_finds_age_in_tenure_and_nothing_in_ethnicity(force):
    proxy = proxy_check(force["matrix"], force["rows"], CONFIG).set_index("attribute")
    assert list(proxy.index) == ["ethnicity", "gender", "age_band"]
    # Synthetic characteristics are drawn independently of everything: AUC near 0.5 ...
    assert abs(proxy.loc["ethnicity", "auc"] - 0.5) < 0.1
    assert abs(proxy.loc["gender", "auc"] - 0.5) < 0.1
    # ... but length of service stands in for age (0.80 on 2,000 officers; 300 here).
    assert proxy.loc["age_band", "auc"] > 0.6
    assert "tenure_days" in [f["feature"] for f in proxy.loc["age_band", "top_features"][:3]]


def test_proxy_check_time_is_bounded_by_a_sample(force):
    big = pd.concat([force["matrix"].assign(as_of=date(2000 + i, 1, 1)) for i in range(30)], ignore_index=True)
    rows = pd.concat([force["rows"].assign(as_of=date(2000 + i, 1, 1)) for i in range(30)], ignore_index=True)
    proxy = proxy_check(big, rows, CONFIG.model_copy(update={"proxy_max_rows": 500, "attributes": ["gender"]}))
    assert proxy.loc[0, "rows_used"] <= 500


def test_json_report_and_gate_on_the_pipeline(force, tmp_path):
    result = run_audit(force["rows"], CONFIG, features=force["matrix"])
    document = audit_json(result)
    text = json.dumps(document, allow_nan=False)  # NaN and inf are encoded, never bare
    assert document["schema"] == "openeis.audit/1"
    assert [a["attribute"] for a in document["attributes"]] == CONFIG.audited_attributes()
    group = document["attributes"][0]["groups"][0]
    assert set(group["metrics"]) == {"prevalence", "flag_rate", "precision", "fpr", "fnr", "fdr", "for", "tpr"}
    assert set(group["metrics"]["fpr"]) == {"value", "low", "high"}
    assert document["gate"]["allowed"] == gate_decision(result, CONFIG).allowed
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(write_json(result, tmp_path / "audit.json").read_text()) == json.loads(text)

    page = report_html(result)
    assert page.count("<svg") >= 2 * len(CONFIG.audited_attributes())
    assert "How to read this" in page and "Promotion gate" in page
    # self-contained: nothing is fetched (SVG namespace declarations are names, not fetches)
    assert not re.search(r"<script|<link|@import|src=|url\((?!#)", page)  # url(#id): a clip path in the page
    for address in set(re.findall(r"https?://[^\s\"'<>]+", page)):
        assert address.startswith("http://www.w3.org/"), address
    # verdicts are written, not only coloured
    assert "within band" in page or "insufficient data" in page or "OUTSIDE band" in page


def test_json_encodes_nan_as_null_and_inf_as_a_string():
    rows = pd.DataFrame({"officer": [f"{i:020x}" for i in range(400)], "as_of": date(2023, 1, 1),
                         "flag": [0] * 200 + [1] * 20 + [0] * 180, "label": [0] * 195 + [1] * 5 + [0] * 200,
                         "score": np.linspace(0, 1, 400), "ethnicity": ["A"] * 200 + ["B"] * 200})
    config = AuditConfig(attributes=["ethnicity"], intersections=[], bootstrap_replicates=100)
    document = audit_json(run_audit(rows, config))
    b_flag_rate = [d for d in document["attributes"][0]["disparities"]
                   if d["group"] == "B" and d["metric"] == "flag_rate"][0]
    assert b_flag_rate["ratio"] == "inf"  # 0.1 / 0
    a_precision = document["attributes"][0]["groups"][0]["metrics"]["precision"]
    assert a_precision["value"] is None  # no flags in A: 0 / 0


def test_proxy_check_names_the_input_that_carries_a_characteristic():
    rng = np.random.default_rng(3)
    n = 400
    group = np.where(np.arange(n) < 3, "C", np.where(rng.random(n) < 0.5, "A", "B"))
    officers = [f"{i:020x}" for i in range(n)]
    matrix = pd.DataFrame({"officer": officers, "as_of": date(2023, 1, 1),
                           "noise_a": rng.normal(size=n), "noise_b": rng.normal(size=n),
                           "posting_role": rng.choice(["patrol", "custody"], size=n),
                           "carrier": (group == "B") + rng.normal(scale=0.3, size=n)})
    rows = pd.DataFrame({"officer": officers, "as_of": date(2023, 1, 1), "flag": 0, "label": 0, "score": 0.0,
                         "ethnicity": group})
    config = AuditConfig(attributes=["ethnicity"], intersections=[])
    proxy = proxy_check(matrix, rows, config).iloc[0]
    assert proxy["classes"] == ["A", "B"] and "C" in proxy["note"]  # 3 officers < 5 folds
    assert proxy["auc"] > 0.9
    assert proxy["top_features"][0]["feature"] == "carrier" and proxy["top_features"][0]["weight"] > 0
    assert {"posting_role=patrol", "posting_role=custody"} <= {f["feature"] for f in proxy["top_features"]}
