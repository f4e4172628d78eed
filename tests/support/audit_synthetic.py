"""Helpers for the audit tests: a synthetic force through the real pipeline (no tests here).

synth force -> DuckDB store -> pseudonymised ingest -> features and labels -> a plain
logistic regression trained on an earlier date -> the top 5% flagged on each test date ->
audit rows joined to restricted.officer_characteristics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from openeis.audit import AuditConfig, build_audit_rows
from openeis.features import compute_labels, features_table
from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser
from openeis.schema import PROTECTED_TABLES, TABLES_BY_NAME
from openeis.store import open_store
from openeis.synth import SynthOptions, generate_force

LABEL = "sustained_12m"
KEYS = ("officer", "as_of")
PROTECTED_COLUMNS = {c for t in PROTECTED_TABLES for c in TABLES_BY_NAME[t].column_names} - {
    "officer_id", "complaint_id", "recorded_at", "complainant_id", "person_id"}


@dataclass
class ScoredForce:
    rows: pd.DataFrame  # audit rows (officer, as_of, flag, label, score, attributes...)
    matrix: pd.DataFrame  # the model's inputs on the test dates, keyed by officer and as_of
    inputs: list[str]  # the model's input columns


def model_inputs(features: pd.DataFrame) -> list[str]:
    """Every numeric feature; keys and text columns (role, unit, rank names) are left out."""
    return [c for c in features.columns
            if c not in KEYS and pd.api.types.is_numeric_dtype(features[c])]


def top_share(scores: np.ndarray, officers: np.ndarray, share: float) -> np.ndarray:
    """0/1 flags for the highest `share` of scores; ties broken by officer pseudonym."""
    count = max(1, math.ceil(len(scores) * share))
    order = np.lexsort((officers.astype(str), -scores))
    flags = np.zeros(len(scores), dtype=int)
    flags[order[:count]] = 1
    return flags


def ingested_force(directory: Path, seed: int, biases: list[str], officers: int, years: int,
                   ethnicity_shares: tuple[float, ...] | None = None):
    """A migrated DuckDB store holding a synthetic force, ingested like real data."""
    inputs_dir = directory / "input"
    generate_force(SynthOptions(officers=officers, years=years, seed=seed, access_months=0,
                                biases=biases, ethnicity_shares=ethnicity_shares), inputs_dir)
    store = open_store(str(directory / "openeis.duckdb"))
    store.migrate()
    ingest_canonical(store, inputs_dir, Pseudonymiser(bytes(range(32))))
    return store


def fit_and_score(store, train_date: date, test_dates: list[date],
                  flag_share: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(scored rows with officer, as_of, score, flag, label; the model's input matrix on the
    test dates; its input columns) for a model trained on `train_date`."""
    dates = [train_date] + list(test_dates)
    features = features_table(store, dates).to_pandas()
    labels = compute_labels(store, dates, [LABEL]).to_pandas()
    data = features.merge(labels, on=list(KEYS))
    data["as_of"] = pd.to_datetime(data["as_of"]).dt.date
    inputs = model_inputs(features)
    assert not set(inputs) & PROTECTED_COLUMNS
    train = data[data["as_of"] == train_date]
    model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                          StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    with threadpool_limits(limits=1):  # oversubscribed BLAS threads: 10x slower on 2 shared cores
        model.fit(train[inputs].to_numpy(dtype=float, na_value=np.nan), train[LABEL].to_numpy())
    scored = []
    for day in test_dates:
        test = data[data["as_of"] == day]
        with threadpool_limits(limits=1):
            scores = model.predict_proba(test[inputs].to_numpy(dtype=float, na_value=np.nan))[:, 1]
        scored.append(pd.DataFrame({
            "officer": test["officer"].to_numpy(), "as_of": day, "score": scores,
            "flag": top_share(scores, test["officer"].to_numpy(), flag_share),
            LABEL: test[LABEL].to_numpy(),
        }))
    matrix = data[data["as_of"].isin(test_dates)][list(KEYS) + inputs].reset_index(drop=True)
    return pd.concat(scored, ignore_index=True), matrix, inputs


def scored_force(directory: Path, seed: int, biases: list[str], officers: int, years: int,
                 train_date: date, test_dates: list[date], config: AuditConfig,
                 flag_share: float = 0.05, ethnicity_shares: tuple[float, ...] | None = None) -> ScoredForce:
    store = ingested_force(directory, seed, biases, officers, years, ethnicity_shares)
    try:
        scored, matrix, inputs = fit_and_score(store, train_date, test_dates, flag_share)
        rows = build_audit_rows(store, scored, config, label=LABEL)
        return ScoredForce(rows, matrix, inputs)
    finally:
        store.close()


# The tables the label and the audit rows read; the rest of a synthetic force (duty, overtime,
# absences, look-ups...) is generated but not ingested by `label_rows`, which keeps a force of
# thousands of officers to seconds.
LABEL_TABLES = {"officers", "units", "postings", "complaints", "complainants", "allegations",
                "officer_characteristics"}


def label_rows(directory: Path, seed: int, biases: list[str], officers: int, years: int,
               test_dates: list[date], config: AuditConfig, ethnicity_shares: tuple[float, ...] | None = None,
               flag_share: float = 0.05) -> pd.DataFrame:
    """Audit rows for the label-bias check without a model: the label on each test date, and
    flags for the top `flag_share` by allegations known before the date (the prior-count
    baseline), so the rows have the shape a model's would."""
    inputs_dir = directory / "input"
    generate_force(SynthOptions(officers=officers, years=years, seed=seed, access_months=0, biases=biases,
                                ethnicity_shares=ethnicity_shares), inputs_dir)
    for path in inputs_dir.iterdir():
        if path.is_file() and path.name.split(".")[0] not in LABEL_TABLES:
            path.unlink()
    store = open_store(str(directory / "openeis.duckdb"))
    try:
        store.migrate()
        ingest_canonical(store, inputs_dir, Pseudonymiser(bytes(range(32))))
        labels = compute_labels(store, test_dates, [LABEL]).to_pandas()
        labels["as_of"] = pd.to_datetime(labels["as_of"]).dt.date
        scored = []
        for day in test_dates:
            prior = store.query_arrow("SELECT officer_id AS officer, count(*) AS prior FROM allegations "
                                      "WHERE recorded_at < ? GROUP BY 1", [day]).to_pandas()
            part = labels[labels["as_of"] == day].merge(prior, on="officer", how="left").fillna({"prior": 0})
            part["score"] = part["prior"].to_numpy(dtype=float)
            part["flag"] = top_share(part["score"].to_numpy(), part["officer"].to_numpy(), flag_share)
            scored.append(part[["officer", "as_of", "score", "flag", LABEL]])
        return build_audit_rows(store, pd.concat(scored, ignore_index=True), config, label=LABEL)
    finally:
        store.close()
