"""The promotion gate: may a model go live on the strength of its latest audit?

A pure function of the audit and the config. Overrides (an administrator's written
rationale) and logging are the model registry's business, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openeis.config.audit import AuditConfig
from openeis.audit.metrics import INSUFFICIENT, OUTSIDE, WITHIN


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)  # plain sentences
    outside_band: list[dict] = field(default_factory=list)  # {attribute, group, metric, ratio, ...}
    insufficient: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"allowed": self.allowed, "reasons": list(self.reasons),
                "outside_band": list(self.outside_band), "insufficient": list(self.insufficient)}


def gate_decision(audit_result, config: AuditConfig) -> GateDecision:
    """Allowed only if every group is within band on every gate metric.

    Outside band blocks; so does insufficient data, because a pass must rest on evidence.
    Groups whose characteristic is not recorded are judged like any other group.
    """
    table = audit_result.disparities
    judged = table[table["metric"].isin(config.gate_metrics) & (table["verdict"] != "reference")]
    outside, insufficient = [], []
    for row in judged.itertuples(index=False):
        entry = {"attribute": row.attribute, "group": row.group, "metric": row.metric,
                 "reference": row.reference, "ratio": _plain(row.ratio), "reason": row.reason}
        if row.verdict == OUTSIDE:
            outside.append(entry)
        elif row.verdict == INSUFFICIENT:
            insufficient.append(entry)
        elif row.verdict != WITHIN:
            raise ValueError(f"unknown verdict {row.verdict!r}")
    reasons = []
    for e in outside:
        reasons.append(f"{e['metric']} for {e['attribute']} {e['group']} is {e['ratio']:.2f} times that of "
                       f"{e['reference']}, outside the band {config.band[0]:g} to {config.band[1]:g}.")
    for e in insufficient:
        reasons.append(f"{e['metric']} for {e['attribute']} {e['group']} cannot be judged: {e['reason']}.")
    if judged.empty:
        reasons.append("No group could be compared on the gate metrics: nothing shows the model is within band.")
    allowed = not outside and not insufficient and not judged.empty
    if allowed:
        reasons.append(f"Every group is within the band {config.band[0]:g} to {config.band[1]:g} on "
                       f"{', '.join(config.gate_metrics)}.")
    return GateDecision(allowed, reasons, outside, insufficient)


def _plain(value):
    return None if value != value else float(value)  # NaN -> None
