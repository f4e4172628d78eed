"""Store-level jobs behind the CLI: train and register, promote through the bias gate."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from openeis.config import OpenEISConfig
from openeis.governance import access_log
from openeis.governance.roles import Actor, Role
from openeis.models import data, registry
from openeis.models.streamed import training_rows
from openeis.models.train import train_with
from openeis.store import Store


class GateRefused(Exception):
    """The bias gate keeps a model from going live."""


def train_and_register(store: Store, config: OpenEISConfig, as_of: date | None, label: str,
                       actor: Actor, progress=None, features: Path | None = None) -> registry.RegisteredModel:
    """`features`: a feature file built earlier holding every training date (else they are
    built here)."""
    as_of = as_of or data.latest_data_date(store)
    records_start = data.first_record_date(store, label, config)
    maturity = data.label_maturity(store, label, config, as_of)
    dates = data.training_dates(config, as_of, label, records_start, maturity)
    if len(dates) < config.splits.min_train_dates:
        raise ValueError(f"only {len(dates)} training dates before {as_of} "
                         f"({data.plan_description(config, label)}: {maturity}); "
                         f"{config.splits.min_train_dates} needed (change [splits] in the config or --as-of)")
    if features is not None:
        data.check_feature_file(store, features, dates)
    labels = data.label_frame(store, dates, label, config, known_at=data.training_labels_known_at(config, as_of))
    with tempfile.TemporaryDirectory(prefix="openeis-train-") as tmp:
        training = training_rows(store, dates, labels, label, config, Path(tmp), progress=progress,
                                 features=features, records_start=records_start)
        del labels
        result = train_with(training, dates, as_of)
    return registry.register(store, result.model, label=label, trained_as_of=as_of, train_dates=dates,
                             config=config, data_hash=data.data_snapshot_hash(store),
                             metrics=result.metrics() | {"label_maturity_months": maturity}, actor=actor)


def latest_audit(store: Store, model_id: str) -> tuple[bool, str, list[str]] | None:
    """(passed, as-of date, the gate's reasons) of the model's latest audit."""
    import json

    rows = store.query("SELECT within_band, as_of, result FROM model_audits WHERE model_id = ? "
                       "ORDER BY created_at DESC LIMIT 1", [model_id])
    if not rows:
        return None
    reasons = json.loads(rows[0][2]).get("gate", {}).get("reasons", [])
    return bool(rows[0][0]), rows[0][1].isoformat(), reasons


def promote(store: Store, config: OpenEISConfig, key: bytes, model_id: str, to: str | None, actor: Actor,
            override_gate: bool = False, rationale: str | None = None) -> tuple[registry.RegisteredModel, str | None]:
    """approved: no gate. live: the latest bias audit must be within the band, or an
    administrator overrides with a written rationale; both outcomes are logged."""
    current = registry.get(store, model_id)  # unknown IDs fail first
    if to is None:  # one step along candidate -> approved -> live
        to = {"candidate": "approved", "approved": "live"}.get(current.status, "live")
    gate_note = None
    if to == "live":
        audit = latest_audit(store, model_id)
        passed = audit is not None and audit[0]
        if passed:
            gate_note = f"bias gate passed: audit as of {audit[1]} within the band"
        else:
            why = ("no bias audit yet (run `openeis audit --model " + model_id + "`)" if audit is None
                   else f"its latest bias audit (as of {audit[1]}) did not pass the gate: "
                   + " ".join(audit[2][:3]) + (f" (and {len(audit[2]) - 3} more)" if len(audit[2]) > 3 else ""))
            if not override_gate:
                access_log.append(store, key, actor, "change", "models",
                                  records={"model_id": model_id, "to": "live"}, purpose="promote",
                                  outcome="denied", reason=f"bias gate: {why}")
                raise GateRefused(f"model {model_id} cannot go live: {why}. An administrator may "
                                  "override with --override-gate --rationale '...'")
            if actor.role is not Role.ADMINISTRATOR:
                raise GateRefused("only an administrator may override the bias gate")
            if not rationale or len(rationale.strip()) < 20:
                raise GateRefused("an override of the bias gate needs a written rationale (--rationale, "
                                  "at least 20 characters)")
            gate_note = f"bias gate OVERRIDDEN: {why}"
            rationale = f"{gate_note}. Rationale: {rationale.strip()}"
    if to == "live" and current.status == "candidate":  # approval is implied by going live
        registry.set_status(store, model_id, "approved", actor, "approved on promotion to live")
    entry = registry.set_status(store, model_id, to, actor, rationale or gate_note)
    access_log.append(store, key, actor, "change", "models",
                      records={"model_id": model_id, "to": to, "gate": gate_note}, purpose="promote",
                      reason=rationale)
    return entry, gate_note
