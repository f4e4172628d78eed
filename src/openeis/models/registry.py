"""The model registry: every trained model with what it was trained on, and its status.

Status moves candidate -> approved -> live -> retired (a live model is retired when another
takes its place for the same label; any model may be retired). Every change is a row in
`model_events` with the actor and rationale. The model itself is a pickle in the store with
its SHA-256, checked before loading (pickles run code: only the store's writers can add one).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import secrets
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Protocol

from openeis import __version__
from openeis.store import Store

STATUSES = ("candidate", "approved", "live", "retired")
ALLOWED = {
    "candidate": {"approved", "retired"},
    "approved": {"live", "retired", "candidate"},
    "live": {"retired"},
    "retired": set(),
}
FIELDS = ("model_id", "created_at", "label", "trained_as_of", "train_dates", "candidate", "kind",
          "params", "config_hash", "data_hash", "code_version", "metrics", "status")


class Changer(Protocol):
    """Who registers or moves a model, as model_events records them: a name and a role
    (governance.roles.Actor is one; the model code does not depend on governance)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Enum: ...


class RegistryError(Exception):
    """A registry operation that is not allowed or names an unknown model."""


@dataclass
class RegisteredModel:
    model_id: str
    created_at: datetime
    label: str
    trained_as_of: date
    train_dates: list[str]
    candidate: str
    kind: str
    params: dict
    config_hash: str
    data_hash: str
    code_version: str
    metrics: dict
    status: str

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["created_at"] = self.created_at.isoformat(timespec="seconds")
        out["trained_as_of"] = self.trained_as_of.isoformat()
        return out


def code_version() -> str:
    """Package version, plus the git commit when running from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=5, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


def config_hash(config) -> str:
    sections = {name: getattr(config, name).model_dump(mode="json")
                for name in ("features", "labels", "splits", "models", "rules")}
    return hashlib.sha256(json.dumps(sections, sort_keys=True).encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _row_to_model(row: tuple) -> RegisteredModel:
    values = dict(zip(FIELDS, row))
    for name in ("train_dates", "params", "metrics"):
        values[name] = json.loads(values[name])
    return RegisteredModel(**values)


def register(store: Store, model, *, label: str, trained_as_of: date, train_dates: list[date],
             config, data_hash: str, metrics: dict, actor: Changer) -> RegisteredModel:
    """Store a trained model as a candidate; returns its registry entry."""
    artifact = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    created = _now()
    model_id = f"m-{created:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    entry = RegisteredModel(model_id, created, label, trained_as_of, [d.isoformat() for d in train_dates],
                            model.candidate.name, model.candidate.kind, model.candidate.params,
                            config_hash(config), data_hash, code_version(), metrics, "candidate")
    with store.transaction():
        store.execute(
            f"INSERT INTO model_registry ({', '.join(FIELDS)}, artifact, artifact_sha256) "
            f"VALUES ({', '.join('?' for _ in FIELDS)}, ?, ?)",
            [entry.model_id, entry.created_at, label, trained_as_of, json.dumps(entry.train_dates),
             entry.candidate, entry.kind, json.dumps(entry.params, sort_keys=True), entry.config_hash,
             data_hash, entry.code_version, json.dumps(metrics, sort_keys=True), "candidate",
             artifact, hashlib.sha256(artifact).hexdigest()],
        )
        _event(store, model_id, actor, None, "candidate", "trained and registered")
    return entry


def _event(store: Store, model_id: str, actor: Changer, old: str | None, new: str, rationale: str | None) -> None:
    store.execute("INSERT INTO model_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [model_id, _now(), actor.name, actor.role.value, old, new, rationale])


def list_models(store: Store, label: str | None = None, status: str | None = None) -> list[RegisteredModel]:
    where, params = [], []
    if label:
        where.append("label = ?")
        params.append(label)
    if status:
        where.append("status = ?")
        params.append(status)
    sql = f"SELECT {', '.join(FIELDS)} FROM model_registry"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_row_to_model(r) for r in store.query(sql + " ORDER BY created_at, model_id", params)]


def get(store: Store, model_id: str) -> RegisteredModel:
    rows = store.query(f"SELECT {', '.join(FIELDS)} FROM model_registry WHERE model_id = ?", [model_id])
    if not rows:
        raise RegistryError(f"no model {model_id} in the registry (see `openeis models list`)")
    return _row_to_model(rows[0])


def events(store: Store, model_id: str) -> list[dict]:
    rows = store.query("SELECT changed_at, actor, role, from_status, to_status, rationale FROM model_events "
                       "WHERE model_id = ? ORDER BY changed_at", [model_id])
    return [{"at": r[0].isoformat(timespec="seconds"), "actor": r[1], "role": r[2], "from": r[3],
             "to": r[4], "rationale": r[5]} for r in rows]


def load(store: Store, model_id: str):
    rows = store.query("SELECT artifact, artifact_sha256 FROM model_registry WHERE model_id = ?", [model_id])
    if not rows:
        raise RegistryError(f"no model {model_id} in the registry")
    artifact, digest = bytes(rows[0][0]), rows[0][1]
    if hashlib.sha256(artifact).hexdigest() != digest:
        raise RegistryError(f"model {model_id}: stored artifact does not match its SHA-256; refusing to load")
    return pickle.loads(artifact)


def set_status(store: Store, model_id: str, new: str, actor: Changer, rationale: str | None = None) -> RegisteredModel:
    """Move a model to a new status (the caller has already applied the bias gate for `live`)."""
    if new not in STATUSES:
        raise RegistryError(f"unknown status {new!r}: one of {', '.join(STATUSES)}")
    entry = get(store, model_id)
    if new not in ALLOWED[entry.status]:
        raise RegistryError(f"model {model_id} is {entry.status}: it cannot become {new} "
                            f"(allowed: {', '.join(sorted(ALLOWED[entry.status])) or 'nothing'})")
    with store.transaction():
        if new == "live":
            for other in list_models(store, entry.label, "live"):
                store.execute("UPDATE model_registry SET status = 'retired' WHERE model_id = ?", [other.model_id])
                _event(store, other.model_id, actor, "live", "retired", f"replaced by {model_id}")
        store.execute("UPDATE model_registry SET status = ? WHERE model_id = ?", [new, model_id])
        _event(store, model_id, actor, entry.status, new, rationale)
    return get(store, model_id)


def scoring_model(store: Store, label: str | None = None) -> tuple[RegisteredModel, str | None]:
    """The live model (for the label, if given); until one is promoted, the newest candidate
    with a warning (openeis.flags.score then keeps its scores as shadow scores: only a live
    model publishes flags)."""
    live = list_models(store, label, "live")
    if live:
        return live[-1], None
    candidates = [m for m in list_models(store, label) if m.status in ("candidate", "approved")]
    if not candidates:
        raise RegistryError("no model to score with: run `openeis train` first")
    newest = candidates[-1]
    return newest, (f"no live model yet: shadow scores from the newest {newest.status} {newest.model_id}; "
                    "promote a model (`openeis models promote`) once it has passed the bias audit")
