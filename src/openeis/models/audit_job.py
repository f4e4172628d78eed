"""Audit a registered model for bias on an as-of date, and record the result for the gate.

The model scores the cohort on the date, the top officers up to review capacity are its
flags (exactly as `openeis score` would choose them), the outcome is the label as the store
knows it now, and openeis.audit compares groups of each protected characteristic. The
result (JSON, with the gate's decision) is stored in `model_audits`; `models promote --to
live` reads the latest one.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd

from openeis.config import OpenEISConfig
from openeis.features.dates import add_months, month_range
from openeis.features.labels import label_window_months
from openeis.models import data, registry
from openeis.models.evaluation import top_k
from openeis.store import Store


@dataclass
class ModelAudit:
    audit_id: str
    model: registry.RegisteredModel
    as_of: date
    result: object  # openeis.audit.AuditResult
    gate: object  # openeis.audit.GateDecision
    rows: pd.DataFrame  # the pseudonymous rows behind the audit

    def as_json(self) -> dict:
        from openeis.audit import audit_json

        return {"audit_id": self.audit_id, "model_id": self.model.model_id, "label": self.model.label,
                "as_of": self.as_of.isoformat()} | audit_json(self.result)


def default_audit_date(store: Store, config: OpenEISConfig, label: str) -> date:
    """The latest date whose label window has closed in the data (of the configured plan's
    dates, if the config has one)."""
    latest = data.latest_data_date(store)
    window = label_window_months(label, config.labels)
    s = config.splits
    if not (s.start and s.end):
        return add_months(latest, -window)
    plan = month_range(date.fromisoformat(s.start), date.fromisoformat(s.end), s.frequency_months)
    closed = [d for d in plan if add_months(d, window) <= latest]
    if not closed:
        raise ValueError(f"no as-of date of the split plan has a closed {window}-month label window "
                         f"by {latest}: give --as-of")
    return closed[-1]


def flagged_rows(frame: pd.DataFrame, model, label: str, config: OpenEISConfig) -> pd.DataFrame:
    """officer, as_of, flag, label, score: the model's flags at capacity on each date."""
    parts = []
    for as_of, day in frame.groupby("as_of", sort=True):
        score = model.predict_proba(day)[:, 1]
        flag = top_k(score, day["officer"].to_numpy(), config.flags.capacity(len(day)))
        parts.append(pd.DataFrame({"officer": day["officer"].to_numpy(), "as_of": as_of,
                                   "flag": flag.astype(int), "label": day[label].to_numpy(dtype=int),
                                   "score": score}))
    return pd.concat(parts, ignore_index=True)


def audit_scored(characteristics: pd.DataFrame, config: OpenEISConfig, scored: pd.DataFrame,
                 features: pd.DataFrame | None):
    """`characteristics` from openeis.audit.read_characteristics (read once by the caller)."""
    from openeis.audit import audit_rows, gate_decision, run_audit

    rows = audit_rows(scored, characteristics, config.audit)
    result = run_audit(rows, config.audit, features)
    return rows, result, gate_decision(result, config.audit)


def audit_model(store: Store, config: OpenEISConfig, model_id: str | None = None,
                as_of: date | None = None, progress=None, features_file: Path | None = None) -> ModelAudit:
    """`features_file`: a feature file built earlier holding the date (else it is built here)."""
    entry = registry.get(store, model_id) if model_id else _newest(store)
    model = registry.load(store, entry.model_id)
    as_of = as_of or default_audit_date(store, config, entry.label)
    features = data.feature_frame(store, [as_of], config, progress=progress, features=features_file)
    labels = data.label_frame(store, [as_of], entry.label, config, known_at=None)
    frame = data.with_labels(features, labels, entry.label)
    if frame.empty:
        raise ValueError(f"no officer is in the cohort on {as_of}")
    scored = flagged_rows(frame, model, entry.label, config)
    inputs = ["officer", "as_of"] + [c for c in model.input_features_source
                                     if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])]
    from openeis.audit import read_characteristics

    rows, result, gate = audit_scored(read_characteristics(store), config, scored, frame[inputs])
    audit = ModelAudit(f"a-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
                       entry, as_of, result, gate, rows)
    with store.transaction():
        store.execute("INSERT INTO model_audits VALUES (?, ?, ?, ?, ?, ?)",
                      [audit.audit_id, entry.model_id, as_of, datetime.now(timezone.utc).replace(tzinfo=None),
                       bool(gate.allowed), json.dumps(audit.as_json())])
    return audit


def _newest(store: Store) -> registry.RegisteredModel:
    models = registry.list_models(store)
    if not models:
        raise registry.RegistryError("no model in the registry: run `openeis train` first")
    return models[-1]

