"""Recall and false-positive rate of every detector against a synthetic force's planted
anomalies (the synth ground truth), as docs/detectors.md reports them and the demo shows.
Generating and loading such a force is the benchmark's and the tests' job
(benchmarks/bench_detector_recall.py, tests/support/detector_force.py).

Recall: planted officers of a kind (serving in the period) that the detector of that name
hits. False-positive rate: officers with no planted anomaly of any kind that it hits, over
all such officers examined. Record recall: planted records listed in the hit's evidence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from openeis import schema
from openeis.detectors.runner import DetectorRun
from openeis.privacy import Pseudonymiser


def evaluate(run: DetectorRun, truth_dir: Path, pseudonymiser: Pseudonymiser) -> list[dict]:
    """One row per detector: planted, found, recall, clean, false positives, fpr, record recall."""
    officers = pd.read_csv(truth_dir / "officers.csv", dtype=str, keep_default_na=False)
    officers["officer"] = [pseudonymiser.pseudonym("officer", o) for o in officers["officer_id"]]
    anomalies = pd.read_csv(truth_dir / "anomalies.csv", dtype=str, keep_default_na=False)
    anomalies["officer"] = [pseudonymiser.pseudonym("officer", o) for o in anomalies["officer_id"]]
    anomalies["record"] = [
        pseudonymiser.pseudonym(_key_namespace(t), r) for t, r in zip(anomalies["table"], anomalies["record_id"])]
    examined = set(run.officers)
    clean = set(officers.loc[officers["anomalies"] == "", "officer"]) & examined
    rows = []
    for result in run.results:
        planted = anomalies[(anomalies["kind"] == result.name) & anomalies["officer"].isin(examined)]
        planted_officers = set(planted["officer"])
        hit = {h.officer for h in result.hits}
        listed = {(h.officer, e["record"]) for h in result.hits for e in h.evidence}
        found_records = sum((o, r) in listed for o, r in zip(planted["officer"], planted["record"]))
        false_positives = len(hit & clean)
        rows.append({
            "detector": result.name, "method": result.method,
            "planted": len(planted_officers), "found": len(hit & planted_officers),
            "recall": len(hit & planted_officers) / len(planted_officers) if planted_officers else None,
            "record_recall": found_records / len(planted) if len(planted) else None,
            "hits": len(hit), "clean_officers": len(clean), "false_positives": false_positives,
            "fpr": false_positives / len(clean) if clean else None,
        })
    return rows


def _key_namespace(table: str) -> str:
    t = schema.table(table)
    namespace = t.column(t.key).namespace
    assert namespace is not None, f"{table}.{t.key} is not a pseudonymised key"
    return namespace
