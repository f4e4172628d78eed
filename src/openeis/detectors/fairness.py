"""Detector hit rates audited by group, with the same audit as the models (openeis.audit).

Each detector is audited like a model's flags: one row per officer of the cohort, flag = the
detector hit the officer. There is no outcome label until reviews record one, so `label`
is 0 unless the caller gives labels (the tests give the planted ground truth, which adds
false-positive rates by group); the verdicts that matter without labels are on flag_rate.
Alongside, each peer-relative detector reports how many officers its raw counts would have
flagged that exposure (workload) explains: where that is large, the detector says so.
"""

from __future__ import annotations

import pandas as pd

from openeis.audit import audit_json, audit_rows, run_audit
from openeis.config.audit import AuditConfig
from openeis.detectors.runner import DetectorRun


def detector_audit_rows(run: DetectorRun, characteristics: pd.DataFrame, config: AuditConfig,
                        detector: str, labels: pd.Series | None = None) -> pd.DataFrame:
    """Audit rows for one detector (or `any` of them): officer, as_of, flag, label, score, groups."""
    hit = {h.officer for h in run.hits if detector == "any" or h.detector == detector}
    officers = pd.Series(run.officers, dtype=object)
    scored = pd.DataFrame({
        "officer": officers,
        "as_of": run.period.as_of,
        "flag": officers.isin(hit).astype(int),
        "label": 0 if labels is None else officers.map(labels).fillna(0).astype(int),
    })
    return audit_rows(scored, characteristics, config)


def audit_detectors(run: DetectorRun, characteristics: pd.DataFrame, config: AuditConfig,
                    labels: dict[str, pd.Series] | None = None, only: list[str] | None = None) -> dict:
    """{detector: audit JSON (as `openeis audit` writes it) | workload notes}, for every detector
    that hit anyone (or those in `only`), and `any` for all of them together."""
    out = {}
    names = [r.name for r in run.results if r.hits] + (["any"] if run.hits else [])
    names = [n for n in names if only is None or n in only]
    notes = {r.name: r.notes for r in run.results}
    for name in names:
        rows = detector_audit_rows(run, characteristics, config, name, (labels or {}).get(name))
        result = run_audit(rows, config)
        out[name] = audit_json(result) | {"workload": notes.get(name, {})}
    return out


def hit_rates(audit: dict) -> list[dict]:
    """Each detector's hit rate by group (the audit's flag_rate with its interval), flat."""
    flat = []
    for name, result in audit.items():
        for attribute in result["attributes"]:
            verdicts = {d["group"]: d["verdict"] for d in attribute["disparities"] if d["metric"] == "flag_rate"}
            for group in attribute["groups"]:
                rate = group["metrics"]["flag_rate"]
                flat.append({"detector": name, "attribute": attribute["attribute"], "group": group["group"],
                             "officers": group["officers"], "hits": group["flags"], "hit_rate": rate["value"],
                             "low": rate["low"], "high": rate["high"],
                             "verdict": verdicts.get(group["group"], "")})
    return flat
