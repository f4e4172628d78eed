"""Benchmark: features for every officer on 36 monthly as-of dates, against a bare scan.

    .venv/bin/python benchmarks/bench_features.py --officers 35000 --years 10 --dates 36
    .venv/bin/python benchmarks/bench_features.py --officers 150000 --years 10 --dates 36

Steps: the synthetic force (openeis.synth, Parquet, cached in --work) is loaded straight
into a fresh store with DuckDB (INSERT ... SELECT FROM read_parquet: the ingest pipeline's
validation and pseudonymisation are not what is measured here and the features do not care
what the identifiers look like). Then, in this process:
- `build_features` for the last N monthly as-of dates of the data (default feature set);
- a bare `SELECT officer_id, count(*) ... GROUP BY officer_id` over every event table the
  features read (the floor: touching each event row once), run 3 times, median taken.
Reported: wall time, peak resident memory of the process (ru_maxrss: DuckDB runs in-process),
and (features time / dates) / bare scan time, the "x bare scan per as-of date" ratio.
`--reuse-store` keeps a store loaded by an earlier run; `--repeat N` builds N times (median).
Run by hand; results go to docs/benchmarks.md. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from openeis.features import FeaturesConfig, build_features, plan
from openeis.features.dates import add_months
from openeis.schema import TABLES
from openeis.store import open_store
from openeis.store.ddl import SQL_TYPES

EVENT_TABLES = ("allegations", "use_of_force", "absences", "duty_periods", "overtime_claims",
                "shift_swaps", "performance_reviews", "training", "commendations", "system_access",
                "declarations", "other_events", "postings")


def synth(officers: int, years: int, seed: int, out: Path) -> float:
    if (out / "officers.parquet").exists():
        return 0.0
    started = time.perf_counter()
    code = ("from pathlib import Path; from openeis.synth import SynthOptions, generate_force; "
            f"generate_force(SynthOptions(officers={officers}, years={years}, seed={seed}, "
            f"file_format='parquet'), Path({str(out)!r}))")
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def load(store_path: Path, data: Path) -> dict[str, int]:
    store = open_store(str(store_path))
    store.migrate()
    counts = {}
    for table in TABLES:
        file = data / f"{table.name}.parquet"
        if not file.exists():
            continue
        present = set(pq.read_schema(file).names)
        cols = [c for c in table.columns if c.name in present]
        select = ", ".join(f"CAST({c.name} AS {SQL_TYPES[c.type.value]})" for c in cols)
        store.execute(f"INSERT INTO {table.qualified_name} ({', '.join(c.name for c in cols)}) "
                      f"SELECT {select} FROM read_parquet('{file}')")
        counts[table.name] = store.scalar(f"SELECT count(*) FROM {table.qualified_name}")
    store.checkpoint()
    store.close()
    return counts


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table_counts(store_path: Path) -> dict[str, int]:
    store = open_store(str(store_path))
    counts = {t.name: store.scalar(f"SELECT count(*) FROM {t.qualified_name}") for t in TABLES}
    store.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=35000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--dates", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench"))
    parser.add_argument("--batches", type=int, default=0, help="officer batches (0: automatic)")
    parser.add_argument("--reuse-store", action="store_true",
                        help="keep a store loaded by an earlier run (skips the load)")
    parser.add_argument("--repeat", type=int, default=1, help="feature builds to run (median reported)")
    parser.add_argument("--out", type=Path, default=None, help="feature Parquet (default: in --work)")
    args = parser.parse_args()

    data = args.work / f"synth-{args.officers}x{args.years}-s{args.seed}"
    synth_seconds = synth(args.officers, args.years, args.seed, data)
    store_path = args.work / f"store-{args.officers}x{args.years}.duckdb"
    started = time.perf_counter()
    if args.reuse_store and store_path.exists():
        counts = table_counts(store_path)
    else:
        if store_path.exists():
            store_path.unlink()
        counts = load(store_path, data)
    load_seconds = time.perf_counter() - started
    events = sum(counts.get(t, 0) for t in EVENT_TABLES)

    store = open_store(str(store_path))
    last = store.scalar("SELECT max(recorded_at) FROM duty_periods").date()
    end = date(last.year, last.month, 1)
    dates = [add_months(end, -k) for k in range(args.dates)][::-1]
    config = FeaturesConfig(officer_batches=args.batches)
    n_features = len(plan(config).names)
    out = args.out or args.work / f"features-{args.officers}.parquet"

    runs, cpu = [], []
    for _ in range(args.repeat):
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        summary = build_features(store, dates, out, config)
        runs.append(time.perf_counter() - started)
        cpu.append(_cpu_seconds() - cpu_started)
    feature_seconds = statistics.median(runs)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    con: duckdb.DuckDBPyConnection = store.connection  # type: ignore[attr-defined]
    bare = []
    for _ in range(3):
        started = time.perf_counter()
        for t in EVENT_TABLES:
            con.execute(f"SELECT officer_id, count(*) FROM {t} GROUP BY officer_id").fetchall()
        bare.append(time.perf_counter() - started)
    bare_seconds = statistics.median(bare)
    store.close()

    result = {
        "officers_requested": args.officers,
        "officers_on_roster": counts["officers"],
        "years": args.years,
        "event_rows": events,
        "as_of_dates": len(dates),
        "first_date": dates[0].isoformat(),
        "last_date": dates[-1].isoformat(),
        "feature_rows": summary["rows"],
        "features": n_features,
        "officer_batches": summary["batches"],
        "synth_seconds": round(synth_seconds, 1),
        "load_seconds": round(load_seconds, 1),
        "features_seconds": round(feature_seconds, 1),
        "features_seconds_runs": [round(r, 1) for r in runs],
        # CPU time of the process (all threads, DuckDB's included): less sensitive than wall
        # time to other jobs on a shared machine
        "features_cpu_seconds_runs": [round(c, 1) for c in cpu],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_gib": round(peak_gib, 2),
        "bare_scan_seconds_median": round(bare_seconds, 3),
        "ratio_per_as_of_date": round(feature_seconds / len(dates) / bare_seconds, 2),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
