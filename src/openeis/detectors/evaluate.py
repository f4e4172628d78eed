"""Recall and false-positive rate of every detector on a synthetic force with planted
anomalies (the synth ground truth), as docs/detectors.md reports them.

    python -m openeis.detectors.evaluate --officers 2000 --years 3 --seed 5 --anomaly-rate 0.01

Recall: planted officers of a kind (serving in the period) that the detector of that name
hits. False-positive rate: officers with no planted anomaly of any kind that it hits, over
all such officers examined. Record recall: planted records listed in the hit's evidence.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from openeis import schema
from openeis.config.detectors import DetectorsConfig
from openeis.detectors.runner import DetectorRun, run_detectors
from openeis.privacy import Pseudonymiser
from openeis.store import Store, open_store

KEY = bytes(range(32))  # a fixed test key: pseudonyms are reproducible here, never in production


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
    return t.column(t.key).namespace


def synthetic_store(directory: Path, officers: int, years: int, seed: int, anomaly_rate: float,
                    start: str = "2015-01-01") -> tuple[Store, Path, date]:
    """A migrated DuckDB store holding a synthetic force ingested with the fixed key; returns
    the store, the ground-truth directory and the snapshot date."""
    from openeis.ingest import ingest_canonical
    from openeis.synth import SynthOptions, generate_force

    inputs = directory / "input"
    options = SynthOptions(officers=officers, years=years, seed=seed, start=start,
                           anomaly_rate=anomaly_rate, file_format="parquet")
    generate_force(options, inputs)
    store = open_store(str(directory / "openeis.duckdb"))
    store.migrate()
    ingest_canonical(store, inputs, Pseudonymiser(KEY))
    return store, inputs / "ground_truth", options.end


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--anomaly-rate", type=float, default=0.01)
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON here.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store, truth, snapshot = synthetic_store(Path(tmp), args.officers, args.years, args.seed,
                                                 args.anomaly_rate)
        started = time.perf_counter()
        run = run_detectors(store, DetectorsConfig(), snapshot)
        seconds = time.perf_counter() - started
        rows = evaluate(run, truth, Pseudonymiser(KEY))
        store.close()
    print(f"{args.officers} officers x {args.years} years, seed {args.seed}, anomaly rate "
          f"{args.anomaly_rate}, as of {snapshot}: {len(run.officers)} officers examined, detectors "
          f"ran in {seconds:.1f} s")
    print("| detector | method | planted | found | recall | record recall | hits | false positives | FPR on clean officers |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['detector']} | {r['method']} | {r['planted']} | {r['found']} | {_pct(r['recall'])} | "
              f"{_pct(r['record_recall'])} | {r['hits']} | {r['false_positives']} / {r['clean_officers']} | "
              f"{_pct(r['fpr'], 2)} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


def _pct(value, digits: int = 0) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


if __name__ == "__main__":
    main()
