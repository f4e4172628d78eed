"""run_audit: audit rows (and optionally the model's features) -> AuditResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from openeis.config.audit import AuditConfig
from openeis.audit.metrics import OUTSIDE, REFERENCE, audit_attribute, judge
from openeis.audit.rows import as_of_dates


@dataclass
class AuditResult:
    """Everything the audit found. Tables are plain DataFrames (see docs/audit.md)."""

    config: AuditConfig
    as_of: list[date]
    rows: int  # officer x as-of rows audited
    officers: int
    flags: int
    positives: int
    # one row per (attribute, group): officers, size, tp, fp, fn, tn, flags, positives,
    # negatives, unflagged, each metric and its interval <metric>_low, <metric>_high
    groups: pd.DataFrame
    # one row per (attribute, group, metric): reference, value, reference_value, ratio,
    # ratio_low, ratio_high, verdict_low, verdict_high, verdict, reason
    disparities: pd.DataFrame
    # the prevalence rows of `disparities` (reference rows left out), with `warning`
    label_bias: pd.DataFrame
    proxy: pd.DataFrame | None = None  # see proxy.proxy_check
    notes: list[str] = field(default_factory=list)


def run_audit(rows: pd.DataFrame, config: AuditConfig, features: pd.DataFrame | None = None) -> AuditResult:
    """Audit the flags in `rows` (see rows.audit_rows) for every configured attribute.

    `features`, when given, is the model's input matrix keyed by officer and as_of; the
    proxy check then measures how well it predicts each protected attribute.
    """
    attributes = config.audited_attributes()
    missing = [a for a in attributes if a not in rows.columns]
    if missing:
        raise ValueError(f"audit rows lack attribute column(s): {', '.join(missing)}")
    if rows.empty:
        raise ValueError("no rows to audit")
    audits, replicates = [], {}
    for attribute in attributes:
        audit, draws = audit_attribute(rows, attribute, config)
        audits.append(audit)
        replicates.update(draws)
    judge(audits, replicates, config)

    groups = pd.concat([a.groups.assign(attribute=a.attribute) for a in audits], ignore_index=True)
    groups = groups[["attribute"] + [c for c in groups.columns if c != "attribute"]]
    disparities = pd.concat([a.disparities for a in audits], ignore_index=True)
    label_bias = disparities[(disparities["metric"] == "prevalence") & (disparities["verdict"] != REFERENCE)].copy()
    label_bias["warning"] = label_bias["verdict"] == OUTSIDE
    label_bias = label_bias.drop(columns=["metric"]).reset_index(drop=True)
    notes = [f"{a.attribute}: reference {a.reference_note}" for a in audits]

    proxy = None
    if features is not None:
        from openeis.audit.proxy import proxy_check

        proxy = proxy_check(features, rows, config)
    return AuditResult(
        config=config,
        as_of=as_of_dates(rows),
        rows=len(rows),
        officers=int(rows["officer"].nunique()),
        flags=int(rows["flag"].sum()),
        positives=int(rows["label"].sum()),
        groups=groups,
        disparities=disparities,
        label_bias=label_bias,
        proxy=proxy,
        notes=notes,
    )
