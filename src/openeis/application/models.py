"""Models and flags: train, backtest, score, monitor, the registry, promotion through the
bias gate, and the bias audit. Training, backtests and scoring read every officer's
features: force-wide actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openeis.application.errors import GateRefused, Invalid, NotFound, refusing
from openeis.application.session import Session, require_feature_engine
from openeis.governance.roles import Action, Resource, Role

Progress = Callable[[str, int, int], None]


def parse_date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{what}: not a date (YYYY-MM-DD): {text[:40]!r}") from None


def _features_note(features: Path | None) -> dict:
    return {"features_file": str(features)} if features else {}


def train(session: Session, as_of: str | None = None, label: str | None = None,
          features: Path | None = None, progress: Progress | None = None):
    """Select among the candidate models on temporal folds, fit the winner (calibrated) and
    register it as a candidate; the registry entry and its log entry commit together."""
    from openeis.models.jobs import train_and_register

    require_feature_engine(session.store)
    day = parse_date(as_of, "--as-of")
    session.allow(Action.CHANGE, Resource.MODELS, purpose="train")
    session.allow(Action.READ, Resource.FEATURES, purpose="train", force_wide=True)
    with session.transaction():
        with refusing(Invalid, ValueError):
            entry = train_and_register(session.store, session.config, day, label or session.config.labels.default,
                                       session.actor, progress, features=features)
        session.log(Action.CHANGE, Resource.MODELS,
                    {"model_id": entry.model_id, "train_rows": entry.metrics["train_rows"],
                     **_features_note(features)}, "train")
    return entry


def backtest(session: Session, as_of: str, label: str | None = None, features: Path | None = None,
             progress: Progress | None = None) -> tuple[dict, Any]:
    """For each test date: train on the earlier dates (only what was known then), score the
    cohort, compare with the rules and the prior-count ranking. Kept in the store for the
    web application's models page. Returns (result, details for the HTML report)."""
    from openeis.models.backtest import run_backtest, save_backtest
    from openeis.application.data import parse_dates

    require_feature_engine(session.store)
    dates = parse_dates(as_of)
    name = label or session.config.labels.default
    session.allow(Action.READ, Resource.FEATURES, purpose="backtest", force_wide=True)
    session.allow(Action.CHANGE, Resource.MODELS, purpose="backtest")
    with refusing(Invalid, ValueError):
        result, details = run_backtest(session.store, session.config, dates, name, progress, features=features)
    with session.transaction():
        save_backtest(session.store, result)
        session.log(Action.READ, Resource.FEATURES,
                    {"as_of": [str(d) for d in dates], "label": name, **_features_note(features)}, "backtest")
    return result, details


def score(session: Session, as_of: str | None = None, model_id: str | None = None, label: str | None = None,
          features: Path | None = None, progress: Progress | None = None):
    """Score the cohort and write flags to the review queue, limited by review capacity, each
    with its reasons; the flags and their log entry commit together."""
    from openeis.flags.score import score as run_score
    from openeis.models import registry

    require_feature_engine(session.store)
    day = parse_date(as_of, "--as-of")
    session.allow(Action.CHANGE, Resource.FLAGS, purpose="score and flag", force_wide=True)
    with session.transaction():
        with refusing(Invalid, ValueError, registry.RegistryError):
            run = run_score(session.store, session.config, day, model_id, label, progress, features)
        session.log(Action.CHANGE, Resource.FLAGS,
                    {"as_of": run.as_of.isoformat(), "model_id": run.model.model_id, "officers_scored": run.cohort,
                     "flags": [f.flag_id for f in run.flags], **_features_note(features)}, "score and flag")
    return run


def monitor(session: Session, model_id: str | None = None) -> dict:
    """Drift between scoring periods and the realised precision of past flags."""
    from openeis.models import registry
    from openeis.models.monitor import run_monitor

    require_feature_engine(session.store)
    session.allow(Action.READ, Resource.FLAGS, purpose="monitor", force_wide=True)
    with refusing(Invalid, ValueError, registry.RegistryError):
        result = run_monitor(session.store, session.config, model_id)
    session.log(Action.READ, Resource.FLAGS, {"model_id": result["model_id"], "periods": len(result["periods"])},
                "monitor")
    return result


# -- the registry ------------------------------------------------------------------------

def list_models(session: Session, label: str | None = None) -> list:
    from openeis.models import registry

    session.allow(Action.READ, Resource.MODELS, purpose="model registry")
    with session.transaction():
        found = registry.list_models(session.store, label)
        session.log(Action.READ, Resource.MODELS, {"models": len(found)}, "model registry")
    return found


def show_model(session: Session, model_id: str, with_audits: bool = False) -> dict:
    """One model: what it was trained on, its metrics and its history (`history`); with its
    audits too for the web application's model page (`events`, `audits`)."""
    from openeis.models import registry

    session.allow(Action.READ, Resource.MODELS, purpose="model detail")
    with session.transaction():
        with refusing(NotFound, registry.RegistryError):
            model = registry.get(session.store, model_id).as_dict()
        history = registry.events(session.store, model_id)
        if with_audits:
            model["events"] = history
            model["audits"] = stored_audits(session, model_id)
            model["shadow"] = shadow_comparison(session, model_id) if model["status"] != "live" else []
        else:
            model["history"] = history
        session.log(Action.READ, Resource.MODELS, {"model_id": model_id}, "model detail")
    return model


def shadow_comparison(session: Session, model_id: str) -> list[dict]:
    """A model that is not live against the live model, on each date both scored: how many of
    its top officers (at the review capacity) the live model flagged too, and how alike the two
    rankings are (Spearman). Counts only: administrators, analysts and auditors compare models
    without seeing anyone. No log entry of its own: the model page's read of models covers it."""
    store = session.store
    out = []
    for (as_of,) in store.query("SELECT DISTINCT as_of FROM scores WHERE model_id = ? ORDER BY as_of", [model_id]):
        live = store.query("SELECT s.model_id FROM scores s JOIN model_registry m ON m.model_id = s.model_id "
                           "WHERE s.as_of = ? AND m.status = 'live' AND s.model_id <> ? LIMIT 1", [as_of, model_id])
        entry: dict[str, Any] = {"as_of": as_of.isoformat(), "live_model": live[0][0] if live else None}
        rows = store.query("SELECT a.score_rank, b.score_rank FROM scores a JOIN scores b ON b.officer = a.officer "
                           "AND b.as_of = a.as_of AND b.model_id = ? WHERE a.model_id = ? AND a.as_of = ?",
                           [entry["live_model"], model_id, as_of]) if live else []
        scored = int(store.scalar("SELECT count(*) FROM scores WHERE model_id = ? AND as_of = ?", [model_id, as_of]))
        capacity = session.config.flags.capacity(scored)
        entry.update(scored=scored, capacity=capacity)
        if rows:
            import numpy as np

            mine, theirs = np.array([r[0] for r in rows], float), np.array([r[1] for r in rows], float)
            entry["both_top"] = int(((mine <= capacity) & (theirs <= capacity)).sum())
            entry["spearman"] = float(np.corrcoef(mine, theirs)[0, 1]) if len(rows) > 2 else None
        out.append(entry)
    return out


def backtests(session: Session, limit: int = 5) -> list[dict]:
    """The latest backtest results (`openeis backtest` keeps them in the store)."""
    session.allow(Action.READ, Resource.MODELS, purpose="backtests")
    with session.transaction():
        rows = session.store.query("SELECT backtest_id, label, created_at, result FROM backtests "
                                   f"ORDER BY created_at DESC LIMIT {int(limit)}")
        found = [{"backtest_id": r[0], "label": r[1], "created_at": r[2].isoformat(timespec="seconds"),
                  "result": json.loads(r[3])} for r in rows]
        session.log(Action.READ, Resource.MODELS, {"backtests": len(found)}, "backtests")
    return found


def _latest_audit(session: Session, model_id: str) -> tuple[bool, str, list[str]] | None:
    """(passed, as-of date, the gate's reasons) of the model's latest audit."""
    rows = session.store.query("SELECT within_band, as_of, result FROM model_audits WHERE model_id = ? "
                               "ORDER BY created_at DESC LIMIT 1", [model_id])
    if not rows:
        return None
    reasons = json.loads(rows[0][2]).get("gate", {}).get("reasons", [])
    return bool(rows[0][0]), rows[0][1].isoformat(), reasons


def promote(session: Session, model_id: str, to: str | None = None, override_gate: bool = False,
            rationale: str | None = None):
    """approved: no gate. live: the latest bias audit must be within the band, or an
    administrator overrides with a written rationale. A refusal by the gate is logged as a
    refusal; the status change and its log entry commit together. Returns (entry, gate note)."""
    from openeis.models import registry

    if to not in (None, "approved", "live"):
        raise Invalid("--to must be approved or live")
    session.allow(Action.CHANGE, Resource.MODELS, purpose="promote")
    actor = session.actor
    with refusing(NotFound, registry.RegistryError):
        current = registry.get(session.store, model_id)  # unknown IDs fail first
    if to is None:  # one step along candidate -> approved -> live
        to = {"candidate": "approved", "approved": "live"}.get(current.status, "live")
    gate_note = None
    if to == "live":
        audit = _latest_audit(session, model_id)
        if audit is not None and audit[0]:
            gate_note = f"bias gate passed: audit as of {audit[1]} within the band"
        else:
            why = ("no bias audit yet (run `openeis audit --model " + model_id + "`)" if audit is None
                   else f"its latest bias audit (as of {audit[1]}) did not pass the gate: "
                   + " ".join(audit[2][:3]) + (f" (and {len(audit[2]) - 3} more)" if len(audit[2]) > 3 else ""))
            if not override_gate:
                session.log_refusal(Action.CHANGE, Resource.MODELS, {"model_id": model_id, "to": "live"},
                                    "promote", f"bias gate: {why}")
                raise GateRefused(f"model {model_id} cannot go live: {why}. An administrator may "
                                  "override with --override-gate --rationale '...'")
            if actor.role is not Role.ADMINISTRATOR:
                session.log_refusal(Action.CHANGE, Resource.MODELS, {"model_id": model_id, "to": "live"},
                                    "promote", "only an administrator may override the bias gate")
                raise GateRefused("only an administrator may override the bias gate")
            if not rationale or len(rationale.strip()) < 20:
                raise GateRefused("an override of the bias gate needs a written rationale (--rationale, "
                                  "at least 20 characters)")
            gate_note = f"bias gate OVERRIDDEN: {why}"
            rationale = f"{gate_note}. Rationale: {rationale.strip()}"
    with session.transaction():
        with refusing(GateRefused, registry.RegistryError):
            if to == "live" and current.status == "candidate":  # approval is implied by going live
                registry.set_status(session.store, model_id, "approved", actor, "approved on promotion to live")
            entry = registry.set_status(session.store, model_id, to, actor, rationale or gate_note)
        session.log(Action.CHANGE, Resource.MODELS, {"model_id": model_id, "to": to, "gate": gate_note},
                    "promote", reason=rationale)
    return entry, gate_note


def retire(session: Session, model_id: str, rationale: str):
    """Retire a model: it no longer scores anyone."""
    from openeis.models import registry

    session.allow(Action.CHANGE, Resource.MODELS, purpose=rationale)
    with session.transaction():
        with refusing(GateRefused, registry.RegistryError):
            entry = registry.set_status(session.store, model_id, "retired", session.actor, rationale)
        session.log(Action.CHANGE, Resource.MODELS, {"model_id": model_id, "status": "retired"}, rationale)
    return entry


# -- the bias audit ----------------------------------------------------------------------

@dataclass
class AuditRun:
    audit: Any  # openeis.models.audit_job.ModelAudit
    rows_written: Path | None


def audit(session: Session, model_id: str | None = None, as_of: str | None = None, rows: Path | None = None,
          features: Path | None = None, progress: Progress | None = None) -> AuditRun:
    """Bias audit of a model: group metrics with intervals against the fairness band, label
    bias, proxy check; recorded for the promotion gate. Protected characteristics are read
    for aggregates only; `rows` (the auditor's export) writes the pseudonymous rows behind it."""
    from openeis.audit import write_rows_csv
    from openeis.models import registry
    from openeis.models.audit_job import audit_model

    require_feature_engine(session.store)
    day = parse_date(as_of, "--as-of")
    if rows:  # checked first: a refused export must not cost a whole audit
        session.allow(Action.EXPORT, Resource.AUDIT_ROWS, purpose="bias audit rows")
    session.allow(Action.READ, Resource.AUDITS, purpose="bias audit")
    with session.transaction():
        with refusing(Invalid, ValueError, registry.RegistryError):
            result = audit_model(session.store, session.config, model_id, day, progress, features_file=features)
        audited: Any = result.result  # openeis.audit.AuditResult
        session.log(Action.READ, Resource.AUDITS,
                    {"audit_id": result.audit_id, "model_id": result.model.model_id, "as_of": result.as_of.isoformat(),
                     "officers": audited.officers, "protected_characteristics": "aggregates only",
                     **_features_note(features)}, "bias audit (aggregates only)")
        if rows:
            try:
                write_rows_csv(result.rows, rows)
                session.log(Action.EXPORT, Resource.AUDIT_ROWS,
                            {"audit_id": result.audit_id, "rows": len(result.rows), "out": str(rows)},
                            "bias audit rows for external recomputation")
            except BaseException:
                rows.unlink(missing_ok=True)
                raise
    return AuditRun(result, rows)


def stored_audits(session: Session, model_id: str | None = None) -> list[dict]:
    sql = "SELECT audit_id, model_id, as_of, created_at, within_band, result FROM model_audits"
    params = []
    if model_id:
        sql += " WHERE model_id = ?"
        params.append(model_id)
    return [{"audit_id": r[0], "model_id": r[1], "as_of": r[2].isoformat(),
             "created_at": r[3].isoformat(timespec="seconds"), "within_band": bool(r[4]),
             "result": json.loads(r[5])}
            for r in session.store.query(sql + " ORDER BY created_at DESC", params)]


def audits(session: Session, model_id: str | None = None) -> list[dict]:
    """Recorded bias audits, newest first."""
    session.allow(Action.READ, Resource.AUDITS, purpose="bias audits")
    with session.transaction():
        found = stored_audits(session, model_id)
        session.log(Action.READ, Resource.AUDITS, {"audits": len(found), "model_id": model_id}, "bias audits")
    return found


SOURCE_NAMES = {"model": "Model flags", "rule": "Threshold-rule flags", "detector": "Integrity detector hits"}


def source_audits(session: Session, as_of: date | None = None) -> dict:
    """The flag rate of each source (the live model, the threshold rules, the detectors) by
    protected group on the scored date, each with a one-line verdict: is some group flagged
    more than the band allows? Outcomes are not known yet on the scored date, so only the
    flag rate can be judged there (the model's error rates are in its audit, on a date whose
    outcome window has closed). Protected characteristics are read for aggregates only."""
    import pandas as pd

    from openeis.audit import read_characteristics, run_audit
    from openeis.audit.rows import audit_rows

    session.allow(Action.READ, Resource.AUDITS, purpose="flag sources by group")
    store, config = session.store, session.config
    if as_of is None:
        as_of = store.scalar("SELECT max(as_of) FROM flags")
    if as_of is None:
        return {"as_of": None, "sources": []}
    # The result is kept in store_meta until the date's flags or the audit settings change:
    # the bootstrap takes seconds, the page should not.
    fingerprint = json.dumps([str(r) for r in store.query(
        "SELECT count(*), max(created_at), sum(version) FROM flags WHERE as_of = ?", [as_of])[0]]
        + [config.audit.model_dump_json(), store.scalar("SELECT count(*) FROM model_events")])
    cached = store.get_meta(f"source_audit:{as_of.isoformat()}")
    if cached and json.loads(cached).get("fingerprint") == fingerprint:
        found = json.loads(cached)["result"]
        session.log(Action.READ, Resource.AUDITS, {"as_of": as_of.isoformat(), "sources": [s["source"] for s in found["sources"]],
                                                   "protected_characteristics": "aggregates only"},
                    "flag sources by group (aggregates only)")
        return found
    moment = datetime.combine(as_of, datetime.min.time())
    cohort = [r[0] for r in store.query("SELECT officer_id FROM officers WHERE recorded_at <= ? AND joined_at <= ? "
                                        "AND (left_at IS NULL OR left_at > ?)", [moment, moment, moment])]
    live = {r[0] for r in store.query("SELECT model_id FROM model_registry WHERE status = 'live'")}
    flagged: dict[str, set[str]] = {s: set() for s in SOURCE_NAMES}
    for officer, source, model_id, queue in store.query(
            "SELECT officer, source, model_id, queue FROM flags WHERE as_of = ?", [as_of]):
        if queue == "conduct" and (source != "model" or model_id in live):
            flagged[source].add(officer)
    characteristics = read_characteristics(store)
    sources = []
    for source, officers in flagged.items():
        entry: dict[str, Any] = {"source": source, "name": SOURCE_NAMES[source], "flagged": len(officers),
                                 "cohort": len(cohort)}
        if not officers or not cohort:
            entry.update(verdict="none", line=f"{SOURCE_NAMES[source]}: none on {as_of}.", groups=[])
            sources.append(entry)
            continue
        scored = pd.DataFrame({"officer": cohort, "as_of": as_of, "flag": [int(o in officers) for o in cohort],
                               "label": 0, "score": 0.0})
        audit_config = config.audit.model_copy(update={"bootstrap_replicates": min(1000, config.audit.bootstrap_replicates)})
        result = run_audit(audit_rows(scored, characteristics, audit_config), audit_config)
        rates = result.disparities[result.disparities["metric"] == "flag_rate"]
        judged = rates[rates["verdict"] != "reference"]
        outside = judged[judged["verdict"] == "outside band"]
        within = judged[judged["verdict"] == "within band"]
        thin = judged[judged["verdict"] == "insufficient data"]
        if len(outside):
            worst = ", ".join(f"{r.attribute} {r.group} {r.ratio:.2f}x {r.reference}"
                              for r in outside.itertuples(index=False))
            verdict, line = "outside", (f"{SOURCE_NAMES[source]}: {len(outside)} group(s) flagged outside the band "
                                        f"{config.audit.band[0]:g}-{config.audit.band[1]:g} ({worst}).")
        elif len(thin) == 0 and len(within):
            verdict, line = "within", (f"{SOURCE_NAMES[source]}: every group's flag rate within the band "
                                       f"{config.audit.band[0]:g}-{config.audit.band[1]:g}.")
        else:
            verdict, line = "thin", (f"{SOURCE_NAMES[source]}: no group outside the band; {len(thin)} of {len(judged)} "
                                     f"comparisons too thin to judge ({len(officers)} officer{'s' if len(officers) != 1 else ''} flagged), "
                                     f"{len(within)} within it.")
        groups = []
        for row in rates.itertuples(index=False):
            groups.append({"attribute": row.attribute, "group": row.group, "rate": _finite(row.value),
                           "ratio": _finite(row.ratio), "low": _finite(row.ratio_low), "high": _finite(row.ratio_high),
                           "verdict": row.verdict, "reason": row.reason})
        entry.update(verdict=verdict, line=line, groups=groups)
        sources.append(entry)
    found = {"as_of": as_of.isoformat(), "sources": sources}
    with session.transaction():
        store.set_meta(f"source_audit:{as_of.isoformat()}", json.dumps({"fingerprint": fingerprint, "result": found}))
        session.log(Action.READ, Resource.AUDITS, {"as_of": as_of.isoformat(), "sources": [s["source"] for s in sources],
                                                   "protected_characteristics": "aggregates only"},
                    "flag sources by group (aggregates only)")
    return found


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None
