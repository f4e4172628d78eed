"""Memory probes behind issue 9's fixes (docs/benchmarks.md, "Issue 9's pipeline after the fixes").

    # ingest a canonical directory into a fresh store, printing the resident memory as each
    # table is read and validated; the peak is /usr/bin/time's
    /usr/bin/time -f "%M KB %e s" .venv/bin/python benchmarks/bench_memory_probes.py ingest \
        /tmp/pipeline-data/force-35000x10 /tmp/probe-ingest --memory-limit 2GB

    # one as-of date's features with a given number of officer batches (0: automatic)
    /usr/bin/time -f "%M KB %e s" .venv/bin/python benchmarks/bench_memory_probes.py one-date \
        /tmp/openeis-bench/store-150000x10.duckdb --batches 1

Single runs; run them on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path


def rss_gib() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 2**20
    return 0.0


def probe_ingest(data: Path, work: Path, memory_limit: str | None) -> None:
    from openeis.ingest import ingest_canonical
    from openeis.privacy import Pseudonymiser, new_key
    from openeis.store import open_store

    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("probe.duckdb*"):
        old.unlink()
    key = new_key()  # a throwaway store: its key need not outlive the probe
    store = open_store(str(work / "probe.duckdb"))
    store.migrate()
    started = time.perf_counter()

    def mark(what: str, *_) -> None:
        print(f"{time.perf_counter() - started:7.1f} s  rss {rss_gib():5.2f} GiB  {what}", flush=True)

    try:
        ingest_canonical(store, data, Pseudonymiser(key), progress=mark,
                         before_commit=lambda _: mark("before commit"), memory_limit=memory_limit)
        mark("committed")
    finally:
        store.close()


def probe_one_date(store_path: str, batches: int, memory_limit: str, as_of: date) -> None:
    from openeis.features import FeaturesConfig, build_features
    from openeis.store import open_store

    store = open_store(store_path, read_only=True)
    config = FeaturesConfig(officer_batches=batches, memory_limit=memory_limit)
    started = time.perf_counter()
    try:
        summary = build_features(store, [as_of], Path("/tmp/probe-one-date.parquet"), config)
    finally:
        store.close()
    print(f"{summary['rows']} rows, {summary['batches']} batch(es), "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="probe", required=True)
    ingest = sub.add_parser("ingest")
    ingest.add_argument("data", type=Path)
    ingest.add_argument("work", type=Path)
    ingest.add_argument("--memory-limit", default=None, help="[ingest] memory_limit (default: none)")
    one = sub.add_parser("one-date")
    one.add_argument("store")
    one.add_argument("--batches", type=int, default=0)
    one.add_argument("--memory-limit", default="6GB")
    one.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 12, 1))
    args = parser.parse_args()
    if args.probe == "ingest":
        probe_ingest(args.data, args.work, args.memory_limit)
    else:
        probe_one_date(args.store, args.batches, args.memory_limit, args.as_of)


if __name__ == "__main__":
    main()
