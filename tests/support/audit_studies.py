"""One seed of the audit's known-answer and power studies (benchmarks/bench_audit_power.py
runs 20 seeds each way; tests/audit keeps a few)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openeis.audit import AuditConfig, run_audit
from support.audit_synthetic import label_rows, scored_force

# Known answer: the whole pipeline on 2,000 officers (about 300 of ethnicity B).
OFFICERS, YEARS = 2000, 6
TRAIN = date(2016, 1, 1)
TESTS = [date(2017, 1, 1), date(2018, 1, 1), date(2019, 1, 1)]
CONFIG = AuditConfig(attributes=["ethnicity", "gender"], intersections=[])
ALARM_METRICS = ("prevalence", "flag_rate", "fpr")

# Power: the label and the audit only, 8,000 officers, A and B in equal shares.
POWER_OFFICERS = 8000
POWER_SHARES = (0.5, 0.5, 0.0, 0.0)
# Named reference: with equal shares the largest group could be either.
POWER_CONFIG = AuditConfig(attributes=["ethnicity"], intersections=[], reference="named",
                           reference_groups={"ethnicity": "A"})


def known_answer_seed(directory: Path, seed: int, biases: list[str]) -> dict:
    """B's label ratio and warning, and every outside-band verdict (a false alarm when no
    bias is planted)."""
    force = scored_force(directory, seed, biases, OFFICERS, YEARS, TRAIN, TESTS, CONFIG)
    result = run_audit(force.rows, CONFIG)
    table = result.disparities
    alarms = table[(table["verdict"] == "outside band") & table["metric"].isin(ALARM_METRICS)]
    b = result.label_bias.set_index(["attribute", "group"]).loc[("ethnicity", "B")]
    return {"seed": seed, "biases": biases, "b_ratio": float(b["ratio"]), "b_warning": bool(b["warning"]),
            "alarms": [f"{r.attribute} {r.group} {r.metric} {r.ratio:.2f}" for r in alarms.itertuples()]}


def power_seed(directory: Path, seed: int, biases: list[str]) -> dict:
    rows = label_rows(directory, seed, biases, POWER_OFFICERS, YEARS, TESTS, POWER_CONFIG, POWER_SHARES)
    b = run_audit(rows, POWER_CONFIG).label_bias.set_index(["attribute", "group"]).loc[("ethnicity", "B")]
    return {"seed": seed, "biases": biases, "ratio": round(float(b["ratio"]), 3), "low": round(float(b["ratio_low"]), 3),
            "high": round(float(b["ratio_high"]), 3), "warning": bool(b["warning"])}
