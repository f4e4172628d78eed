"""Ingest benchmark: synthetic force -> canonical CSV -> validated, pseudonymised ingest.

    .venv/bin/python benchmarks/bench_ingest.py --officers 35000 --years 10
    .venv/bin/python benchmarks/bench_ingest.py --store postgresql://user@host:port/emptydb

Prints rows, wall time, rows per second and peak memory (ru_maxrss of this process, which
runs DuckDB in-process) for the first ingest and for the re-ingest of the same files.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser
from openeis.store import open_store
from openeis.synth import SynthOptions, generate_force


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench-ingest"))
    parser.add_argument("--store", help="A postgresql:// URL of an empty database (default: a DuckDB file in --work).")
    args = parser.parse_args()
    inputs = args.work / f"force-{args.officers}x{args.years}"
    if not (inputs / "officers.csv").exists():
        started = time.perf_counter()
        generate_force(SynthOptions(officers=args.officers, years=args.years, seed=1), inputs)
        print(f"synth: {time.perf_counter() - started:.1f} s")
    store_path = args.work / f"store-{args.officers}x{args.years}.duckdb"
    for leftover in args.work.glob(store_path.name + "*"):
        leftover.unlink() if leftover.is_file() else shutil.rmtree(leftover)
    store = open_store(args.store or str(store_path))
    store.migrate()
    pseudonymiser = Pseudonymiser(b"b" * 32)
    for run in ("first ingest", "re-ingest"):
        started = time.perf_counter()
        report = ingest_canonical(store, inputs, pseudonymiser)
        seconds = time.perf_counter() - started
        rows = report.total("rows_read")
        print(f"{run}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
              f"inserted {report.total('inserted'):,}, peak {peak_gib():.1f} GiB")
    store.close()


if __name__ == "__main__":
    main()
