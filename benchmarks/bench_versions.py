"""Benchmark: what record versions cost a feature build, with none and with corrections.

    .venv/bin/python benchmarks/bench_versions.py --officers 2000 --years 10 --dates 36 --repeat 5
    # the code before versions, on the same store (a checkout of it in /tmp/openeis-before):
    PYTHONPATH=/tmp/openeis-before/src .venv/bin/python benchmarks/bench_versions.py --officers 2000 --plain-only

The synthetic force is made and loaded as benchmarks/bench_features.py does (cached in --work).
Then `build_features` on the last N monthly as-of dates, `--repeat` times, on:
- `plain`: the store as loaded, no earlier versions (the common case: no history table has a row);
- `corrected`: a copy in which `--share` of the allegations, absences, use-of-force reports and
  postings were corrected half-way through the dates (category, dates, finding, force type, unit),
  written as an ingest writes them (the replaced version in <table>_history until T).
Reported: median wall and CPU seconds of each, the load average, and the ratio corrected / plain.
Run by hand; results go to docs/benchmarks.md. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_features import load, synth  # noqa: E402

from openeis.features import FeaturesConfig, build_features  # noqa: E402
from openeis.features.dates import add_months  # noqa: E402
from openeis.schema import TABLES_BY_NAME  # noqa: E402
from openeis.store import open_store  # noqa: E402

# (table, SET clause of the correction)
CORRECTIONS = (
    ("allegations", "category = CASE WHEN category = 'discourtesy' THEN 'other' ELSE 'discourtesy' END, "
                    "occurred_at = occurred_at - INTERVAL 10 DAY, "
                    "finding = CASE WHEN finding = 'upheld' THEN 'not_upheld' WHEN finding = 'open' THEN 'open' "
                    "ELSE 'upheld' END"),
    ("absences", "occurred_at = occurred_at - INTERVAL 2 DAY"),
    ("use_of_force", "force_type = CASE WHEN force_type = 'baton' THEN 'unarmed' ELSE 'baton' END"),
    ("postings", "role = CASE WHEN role = 'patrol' THEN 'custody' ELSE 'patrol' END"),
)


def correct(store_path: Path, share: float, at: datetime) -> dict[str, int]:
    """Correct `share` of some tables' records at `at`, keeping the replaced versions."""
    store = open_store(str(store_path))
    counts = {}
    try:
        for name, change in CORRECTIONS:
            table = TABLES_BY_NAME[name]
            columns = ", ".join(c.name for c in table.columns)
            chosen = f"hash({table.key}) % 1000 < {int(share * 1000)}"
            store.execute(
                f"INSERT INTO {name}_history ({columns}, _batch_id, _row_hash, _valid_from, _valid_to, _superseded_by) "
                f"SELECT {columns}, _batch_id, _row_hash, NULL, ?, 'bench' FROM {name} WHERE {chosen}", [at])
            store.execute(f"UPDATE {name} SET {change} WHERE {chosen}")
            counts[name] = store.scalar(f"SELECT count(*) FROM {name}_history")
        store.checkpoint()
    finally:
        store.close()
    return counts


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(store_path: Path, dates: list[date], out: Path) -> tuple[float, float]:
    store = open_store(str(store_path))
    try:
        started, cpu = time.perf_counter(), _cpu()
        build_features(store, dates, out, FeaturesConfig())
        return time.perf_counter() - started, _cpu() - cpu
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--dates", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--share", type=float, default=0.02, help="share of records corrected")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench"))
    parser.add_argument("--plain-only", action="store_true", help="only the store without versions")
    args = parser.parse_args()

    data = args.work / f"synth-{args.officers}x{args.years}-s{args.seed}"
    synth(args.officers, args.years, args.seed, data)
    plain = args.work / f"versions-plain-{args.officers}x{args.years}.duckdb"
    corrected = args.work / f"versions-corrected-{args.officers}x{args.years}.duckdb"
    if not plain.exists():
        load(plain, data)
    store = open_store(str(plain))
    store.migrate()  # a store loaded by the code before versions: their (empty) tables
    last = store.scalar("SELECT max(recorded_at) FROM duty_periods").date()
    store.close()
    end = date(last.year, last.month, 1)
    dates = [add_months(end, -k) for k in range(args.dates)][::-1]
    counts = {}
    if not args.plain_only and not corrected.exists():
        shutil.copyfile(plain, corrected)
        middle = dates[len(dates) // 2]
        counts = correct(corrected, args.share, datetime(middle.year, middle.month, 15, 12))

    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "corrected": []}
    for _ in range(args.repeat):  # alternating, so that both see the same neighbours
        runs["plain"].append(build(plain, dates, args.work / "versions-plain.parquet"))
        if not args.plain_only:
            runs["corrected"].append(build(corrected, dates, args.work / "versions-corrected.parquet"))
    result = {"officers": args.officers, "years": args.years, "as_of_dates": len(dates), "share": args.share,
              "history_rows": counts, "load_average": [round(x, 2) for x in os.getloadavg()]}
    for name, values in runs.items():
        if values:
            result[f"{name}_seconds_median"] = round(statistics.median(v[0] for v in values), 2)
            result[f"{name}_seconds_runs"] = [round(v[0], 2) for v in values]
            result[f"{name}_cpu_seconds_median"] = round(statistics.median(v[1] for v in values), 2)
    if runs["corrected"]:
        result["corrected_over_plain"] = round(result["corrected_seconds_median"] / result["plain_seconds_median"], 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
