"""Training streamed from the feature file (models/streamed.py), used above
`[models] stream_above_rows`: set low here so a small synthetic force streams.

The real CLI on a real DuckDB store; the streamed model is compared with the in-memory one
trained on the same rows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from openeis.config import load_config
from openeis.models import data
from openeis.models.estimator import grid
from openeis.models.streamed import StreamedTraining, TrainingFile, _sequence, train_on_file
from openeis.models.train import LoadedTraining, train_on
from openeis.store import open_store

from support.models import FAST_MODELS

# the pipeline test's models, with both streaming settings low enough for a small force
STREAMED_MODELS = FAST_MODELS.replace(
    "calibration_folds = 2\n", "calibration_folds = 2\nstream_above_rows = 1000\nstreamed_logistic_rows = 1000\n")


@pytest.fixture
def streamed_store(force_store):
    assert "stream_above_rows" in STREAMED_MODELS
    (force_store / "openeis.toml").write_text(STREAMED_MODELS)
    return force_store


@pytest.mark.slow
def test_train_streams_above_the_setting_and_the_model_scores_and_explains(cli, streamed_store):
    trained = json.loads(cli("train", "--json").stdout)
    metrics = trained["metrics"]
    assert metrics["streamed"] is True
    assert metrics["train_rows"] > 1000
    folds = metrics["selection"]["candidates"]
    assert all(len(c["folds"]) == 2 for c in folds.values())
    # only a live model flags anyone (the gate is overridden here: this test is about streaming)
    cli("models", "promote", trained["model_id"], "--to", "live", "--override-gate", "--rationale",
        "Streaming test: no audit needed to check the flags it writes.")
    run = json.loads(cli("score", "--as-of", "2020-06-01", "--json").stdout)
    model_flags = [f for f in run["flags"] if f["source"] == "model"]
    assert len(model_flags) == run["capacity"] > 0
    assert all(f["explanation"] for f in model_flags)


@pytest.mark.slow
def test_streamed_training_reads_the_same_rows_as_the_loaded_frame(cli, streamed_store):
    # One candidate, so that both routes fit the same kind of model and the comparison of
    # their scores below means something: with two, a near tie between them at this size can
    # be decided one way by each route (precision at capacity differs by a flag or two).
    (streamed_store / "openeis.toml").write_text(STREAMED_MODELS.replace("logistic_c = [0.05]", "logistic_c = []"))
    config = load_config(str(streamed_store / "openeis.toml"))
    label = config.labels.default
    store = open_store(str(streamed_store / "openeis.duckdb"), read_only=True)
    try:
        as_of = data.latest_data_date(store)
        dates = data.training_dates(config, as_of, label)
        labels = data.label_frame(store, dates, label, config, known_at=as_of)
        frame = data.with_labels(data.feature_frame(store, dates, config), labels, label)
        frame = frame.sort_values(["as_of", "officer"]).reset_index(drop=True)
        loaded = train_on(frame, label, dates, as_of, config)
        in_memory = LoadedTraining(frame, label, config)
        with tempfile.TemporaryDirectory() as tmp:
            path = data.training_file(store, dates, labels, label, config, Path(tmp))
            file = TrainingFile(path, label)
            # the matrix LightGBM is given, row for row, and its labels (the file is a second
            # feature build: DuckDB's parallel sums may differ in the last bit)
            assert np.array_equal(file.y, frame[label].to_numpy())
            assert file.spec == in_memory.spec
            rows = _sequence(file)
            np.testing.assert_allclose(rows[0:len(rows)], file.spec.matrix(frame), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(rows[len(rows) - 1], file.spec.matrix(frame.tail(1))[0], rtol=1e-12, atol=1e-9)
            streamed = train_on_file(path, label, dates, as_of, config)
            lightgbm = next(c for c in grid(config.models) if c.kind == "lightgbm")
            streamed_lightgbm = StreamedTraining(path, label, config).fit(lightgbm, calibrate=False)
    finally:
        store.close()
    assert (streamed.rows, streamed.positives) == (loaded.rows, loaded.positives)
    assert streamed.selection.folds == loaded.selection.folds
    assert set(streamed.selection.values) == set(loaded.selection.values)
    # LightGBM bins a Sequence slightly differently (it keeps a few constant columns that
    # it drops from a matrix), so the models are close, not equal
    test = frame[frame["as_of"] == dates[-1]]
    a = in_memory.fit(lightgbm, calibrate=False).decision_function(test)
    b = streamed_lightgbm.decision_function(test)
    assert np.corrcoef(a, b)[0, 1] > 0.85
    explained = streamed_lightgbm.explain(test.head(5))
    assert np.allclose(explained.total, b[:5])
    explained = streamed.model.explain(test.head(5))  # the selected model, calibrated
    assert np.allclose(explained.total, streamed.model.decision_function(test.head(5)))


@pytest.mark.slow
def test_backtest_streams_each_test_dates_training_rows(cli, streamed_store):
    cli("backtest", "--as-of", "2019-07-01,2020-01-01", "--json", "bt.json")
    report = json.loads((streamed_store / "bt.json").read_text())
    dates = report["dates"]
    assert [d["as_of"] for d in dates] == ["2019-07-01", "2020-01-01"]
    assert all(d["streamed"] and d["train_rows"] > 1000 for d in dates)
    for d in dates:
        assert set(d["models"]) >= {"logistic_c0.05", "lightgbm_leaves7_trees40_lr0.1"}
        assert 0 <= d["models"][d["selected"]]["precision_at_capacity"] <= 1


@pytest.mark.slow
def test_backtest_train_and_audit_read_their_dates_from_a_feature_file_built_earlier(cli, streamed_store):
    cli("backtest", "--as-of", "2019-07-01,2020-01-01", "--json", "built.json")
    # the split plan's dates (every 6 months, 2016-2020) hold every training and test date
    cli("features", "--as-of", "2016-01-01:2020-01-01:6m", "--out", "every.parquet")
    cli("backtest", "--as-of", "2019-07-01,2020-01-01", "--json", "read.json", "--features", "every.parquet")
    built = json.loads((streamed_store / "built.json").read_text())["dates"]
    read = json.loads((streamed_store / "read.json").read_text())["dates"]
    for a, b in zip(built, read, strict=True):
        for key in ("as_of", "cohort", "positives", "train_dates", "train_rows", "train_positives", "rule"):
            assert a[key] == b[key], key
        for name, metrics in a["models"].items():
            assert b["models"][name]["auc"] == pytest.approx(metrics["auc"], abs=1e-6), name
    built = json.loads(cli("train", "--json").stdout)
    read = json.loads(cli("train", "--json", "--features", "every.parquet").stdout)
    assert read["metrics"]["streamed"] and read["train_dates"] == built["train_dates"]
    for key in ("train_rows", "train_positives"):
        assert read["metrics"][key] == built["metrics"][key], key
    assert read["metrics"]["selection"]["selected"] == built["metrics"]["selection"]["selected"]
    cli("audit", "--as-of", "2019-07-01", "--json", "audit-built.json")
    cli("audit", "--as-of", "2019-07-01", "--json", "audit-read.json", "--features", "every.parquet")
    built, read = (json.loads((streamed_store / f"audit-{k}.json").read_text()) for k in ("built", "read"))
    assert (read["officers"], read["flags"]) == (built["officers"], built["flags"])

    # a file without the training dates is refused, naming the first missing ones
    cli("features", "--as-of", "2019-07-01,2020-01-01", "--out", "tests-only.parquet")
    refused = cli("backtest", "--as-of", "2019-07-01,2020-01-01", "--json", "no.json",
                  "--features", "tests-only.parquet", expect=1)
    assert "has no rows as of 2016-01-01" in refused.output
    assert not (streamed_store / "no.json").exists()
