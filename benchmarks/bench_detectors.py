"""Benchmark: every integrity detector for one as-of date over a year of IT access logs.

    .venv/bin/python benchmarks/bench_detectors.py --officers 35000 --lookups-per-day 40

Steps (cached in --work, default /tmp/openeis-bench-detectors):
1. the synthetic force for the other tables (openeis.synth, 2 years, Parquet, no look-ups)
   loaded straight into a fresh DuckDB store (INSERT ... SELECT FROM read_parquet: ingest's
   validation and pseudonymisation are not what is measured);
2. one year of look-ups generated inside DuckDB, a month per INSERT (never in Python):
   officers x lookups-per-day x 365 rows, officer by row number, time, subject (a pool of
   20 million), record kind and system by hash; 0.2% without a case reference;
3. in a fresh process (so that its peak memory is the detectors' alone): `run_detectors`
   for the snapshot date with the default config, DuckDB on --threads threads.
Reported: rows, generation time, detector wall time and CPU time, peak resident memory
(ru_maxrss of the detector process: DuckDB runs in-process), hits per detector.
Run by hand; results go to docs/benchmarks.md. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from openeis.schema import TABLES
from openeis.store import open_store
from openeis.store.ddl import SQL_TYPES

START = date(2015, 1, 1)
YEARS = 2
SNAPSHOT = date(START.year + YEARS, 1, 1)
SUBJECTS = 20_000_000
KINDS = ("person", "vehicle", "address", "crime", "intelligence", "other")
SYSTEMS = ("PNC", "PND", "LOCAL_INTEL", "CRIME_RECORDS", "COMMAND_CONTROL", "CUSTODY")


def synth(officers: int, seed: int, out: Path) -> float:
    if (out / "officers.parquet").exists():
        return 0.0
    started = time.perf_counter()
    code = ("from pathlib import Path; from openeis.synth import SynthOptions, generate_force; "
            f"generate_force(SynthOptions(officers={officers}, years={YEARS}, seed={seed}, "
            f"start='{START}', access_months=0, file_format='parquet'), Path({str(out)!r}))")
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def load(store_path: Path, data: Path) -> None:
    store = open_store(str(store_path))
    store.migrate()
    for table in TABLES:
        file = data / f"{table.name}.parquet"
        if not file.exists() or table.name == "system_access":
            continue
        present = set(pq.read_schema(file).names)
        cols = [c for c in table.columns if c.name in present]
        select = ", ".join(f"CAST({c.name} AS {SQL_TYPES[c.type.value]})" for c in cols)
        store.execute(f"INSERT INTO {table.qualified_name} ({', '.join(c.name for c in cols)}) "
                      f"SELECT {select} FROM read_parquet('{file}')")
    store.checkpoint()
    store.close()


def generate_access(store_path: Path, per_day: int, threads: int) -> tuple[int, float]:
    """One year of look-ups before the snapshot, a month per INSERT."""
    store = open_store(str(store_path))
    store.execute(f"SET threads = {threads}")
    store.execute("CREATE TEMP TABLE serving AS SELECT row_number() OVER (ORDER BY officer_id) - 1 AS idx, "
                  "officer_id FROM officers WHERE left_at IS NULL")
    officers = store.scalar("SELECT count(*) FROM serving")
    kinds = "[" + ", ".join(f"'{k}'" for k in KINDS) + "]"
    systems = "[" + ", ".join(f"'{s}'" for s in SYSTEMS) + "]"
    started = time.perf_counter()
    first = 0
    for month in range(1, 13):
        lo = date(SNAPSHOT.year - 1, month, 1)
        hi = date(SNAPSHOT.year - 1 + month // 12, month % 12 + 1, 1)
        days = (hi - lo).days
        rows = officers * per_day * days
        store.execute(
            f"""INSERT INTO system_access (access_id, officer_id, system, record_kind, subject_id,
                                           case_reference, occurred_at, recorded_at)
                SELECT 'AC' || lpad(CAST(r.range AS VARCHAR), 12, '0'), s.officer_id,
                       {systems}[1 + CAST(hash(r.range, 3) % 6 AS INTEGER)],
                       {kinds}[1 + CAST(hash(r.range, 4) % 6 AS INTEGER)],
                       'S' || CAST(hash(r.range, 1) % {SUBJECTS} AS VARCHAR),
                       CASE WHEN hash(r.range, 2) % 500 = 0 THEN NULL
                            ELSE 'CR' || CAST(hash(r.range, 5) % 1000000000 AS VARCHAR) END,
                       t.at, t.at
                FROM range({first}, {first + rows}) r
                JOIN serving s ON s.idx = r.range % {officers}
                CROSS JOIN LATERAL (SELECT TIMESTAMP '{lo}' + to_seconds(CAST(hash(r.range, 6) % {days * 86400} AS BIGINT)) AS at) t""")
        first += rows
        print(f"  {lo:%Y-%m}: {first:,} look-ups so far, {time.perf_counter() - started:.0f} s", flush=True)
    store.checkpoint()
    store.close()
    return first, time.perf_counter() - started


def detect(store_path: Path, threads: int) -> dict:
    """Run in a fresh process: the detectors alone, timed, with their peak memory."""
    from openeis.detectors import DetectorsConfig, run_detectors

    store = open_store(str(store_path))
    store.execute(f"SET threads = {threads}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    steps: dict[str, float] = {}
    mark = [started]

    def progress(name: str, done: int, total: int) -> None:
        steps[name] = round(time.perf_counter() - mark[0], 1)
        mark[0] = time.perf_counter()

    run = run_detectors(store, DetectorsConfig(), SNAPSHOT, progress)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    store.close()
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime - cpu0, 1),
            "peak_rss_gib": round(usage.ru_maxrss / 2**20, 2), "officers": len(run.officers),
            "hits": {r.name: len(r.hits) for r in run.results},
            "seconds_before_each_detector": steps}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=35000)
    parser.add_argument("--lookups-per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench-detectors"))
    parser.add_argument("--detect-only", action="store_true", help="(internal) the measured process")
    args = parser.parse_args()
    store_path = args.work / f"detectors-{args.officers}-{args.lookups_per_day}.duckdb"
    if args.detect_only:
        print(json.dumps(detect(store_path, args.threads)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"officers": args.officers, "lookups_per_day": args.lookups_per_day, "threads": args.threads}
    if not store_path.exists():
        force = args.work / f"force-{args.officers}"
        report["synth_seconds"] = round(synth(args.officers, args.seed, force), 1)
        load(store_path, force)
        rows, seconds = generate_access(store_path, args.lookups_per_day, args.threads)
        report["generate_seconds"] = round(seconds, 1)
    store = open_store(str(store_path))
    report["access_rows"] = store.scalar("SELECT count(*) FROM system_access")
    store.close()
    report["store_gib"] = round(store_path.stat().st_size / 2**30, 2)
    child = subprocess.run([sys.executable, __file__, "--detect-only", "--officers", str(args.officers),
                            "--lookups-per-day", str(args.lookups_per_day), "--threads", str(args.threads),
                            "--work", str(args.work)], check=True, capture_output=True, text=True)
    report["detectors"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
