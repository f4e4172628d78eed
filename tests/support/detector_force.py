"""A synthetic force with planted anomalies, ingested with a fixed key, for measuring the
detectors against the ground truth (tests/detectors, benchmarks/bench_detector_recall.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser
from openeis.store import Store, open_store
from openeis.synth import SynthOptions, generate_force

KEY = bytes(range(32))  # a fixed test key: pseudonyms are reproducible here, never in production


def synthetic_store(directory: Path, officers: int, years: int, seed: int, anomaly_rate: float,
                    start: str = "2015-01-01") -> tuple[Store, Path, date]:
    """A migrated DuckDB store holding a synthetic force ingested with the fixed key; returns
    the store, the ground-truth directory and the snapshot date."""
    inputs = directory / "input"
    options = SynthOptions(officers=officers, years=years, seed=seed, start=start,
                           anomaly_rate=anomaly_rate, file_format="parquet")
    generate_force(options, inputs)
    store = open_store(str(directory / "openeis.duckdb"))
    store.migrate()
    ingest_canonical(store, inputs, Pseudonymiser(KEY))
    return store, inputs / "ground_truth", options.end
