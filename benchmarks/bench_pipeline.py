"""Scale benchmarks for docs/scale.md and docs/benchmarks.md ("Beyond one machine").

    .venv/bin/python benchmarks/bench_pipeline.py training --rows 1000000 [--features 252] [--in-memory]
    .venv/bin/python benchmarks/bench_pipeline.py engines --officers 2000 --years 10 --dates 36 \
        [--postgres postgresql://...] [--spark local[2]]

`engines`: the same synthetic force (openeis synth, seed 1) ingested with `openeis ingest`
into a DuckDB file and, with --postgres, a PostgreSQL database (which must be empty), a
Parquet warehouse written from the DuckDB store for --spark; then the built-in features for
the last N monthly as-of dates on each engine. Prints one JSON line per engine and stage:
seconds and this process's peak memory (the PostgreSQL server's and Spark's JVM's memory are
not included: they are other processes).

`training`: what LightGBM on one machine costs for a feature matrix of N rows (officer x
as-of date) and F features, the matrix streamed from a Parquet file one row group at a time
into LightGBM's binned Dataset (`lightgbm.Sequence`), so the float matrix is never whole in
memory; `--in-memory` loads it whole first (pandas, float64), as a single-force training run
does today. Prints rows, seconds and peak resident memory (ru_maxrss) as one JSON line. The
values imitate feature columns: mostly small counts, many zeros, some continuous.

The other stages of issue 9's pipeline benchmark (ingest, 36-date features, backtest,
score and explain, audit at 2k/35k/150k officers) are not written yet.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 100_000


def write_matrix(path: Path, rows: int, features: int, seed: int = 1) -> None:
    """A feature-like matrix: Poisson counts (most features), a few continuous columns, a label."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(0.5, 0.6, size=features)
    with pq.ParquetWriter(str(path), _schema(features), compression="zstd") as writer:
        for start in range(0, rows, ROW_GROUP):
            n = min(ROW_GROUP, rows - start)
            cols = {f"f{j}": (rng.poisson(rates[j], n).astype(np.float32) if j % 10 else
                              rng.normal(0, 1, n).astype(np.float32)) for j in range(features)}
            risk = cols["f1"] + cols["f2"] + 0.5 * cols["f10"]
            cols["label"] = (rng.random(n) < 1 / (1 + np.exp(3 - 0.3 * risk))).astype(np.int8)
            writer.write_table(pa.table(cols, schema=_schema(features)))


def _schema(features: int) -> pa.Schema:
    return pa.schema([(f"f{j}", pa.float32()) for j in range(features)] + [("label", pa.int8())])


def train_streamed(path: Path, rounds: int) -> float:
    import lightgbm as lgb

    pf = pq.ParquetFile(str(path))
    names = [n for n in pf.schema_arrow.names if n != "label"]

    class RowGroups(lgb.Sequence):
        """The matrix, read one row group at a time when LightGBM asks for rows."""

        batch_size = ROW_GROUP

        def __init__(self):
            self.sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            self.starts = np.cumsum([0, *self.sizes])
            self.cached: tuple[int, np.ndarray | None] = (-1, None)

        def __len__(self):
            return int(self.starts[-1])

        def __getitem__(self, idx):
            if isinstance(idx, slice):
                start, stop, _ = idx.indices(len(self))
                groups = range(int(np.searchsorted(self.starts, start, "right") - 1),
                               int(np.searchsorted(self.starts, stop - 1, "right")))
                table = pf.read_row_groups(list(groups), columns=names)
                offset = start - int(self.starts[groups[0]])
                return _matrix(table)[offset:offset + stop - start]
            # LightGBM samples single rows in increasing order to find bin edges: keep the
            # row group last read
            group = int(np.searchsorted(self.starts, idx, "right") - 1)
            if self.cached[0] != group:
                self.cached = (group, _matrix(pf.read_row_group(group, columns=names)))
            return self.cached[1][idx - int(self.starts[group])]

    label = pq.read_table(str(path), columns=["label"]).column("label").to_numpy()
    start = time.perf_counter()
    data = lgb.Dataset(RowGroups(), label=label, params={"verbose": -1, "max_bin": 63})
    lgb.train({"objective": "binary", "verbose": -1, "num_threads": 2, "max_bin": 63,
               "num_leaves": 31, "learning_rate": 0.1}, data, num_boost_round=rounds)
    return time.perf_counter() - start


def train_in_memory(path: Path, rounds: int) -> float:
    import lightgbm as lgb

    # the real feature file's columns are int64 and float64: 8 bytes a cell in pandas
    frame = pq.read_table(str(path)).to_pandas().astype(np.float64)
    start = time.perf_counter()
    x = frame.drop(columns="label").to_numpy(dtype=np.float64)
    data = lgb.Dataset(x, label=frame["label"].to_numpy(), params={"verbose": -1, "max_bin": 63})
    lgb.train({"objective": "binary", "verbose": -1, "num_threads": 2, "max_bin": 63,
               "num_leaves": 31, "learning_rate": 0.1}, data, num_boost_round=rounds)
    return time.perf_counter() - start


def _matrix(table: pa.Table) -> np.ndarray:
    # LightGBM takes doubles from a Sequence
    return np.column_stack([c.to_numpy() for c in table.columns]).astype(np.float64, copy=False)


def bench_engines(args) -> None:
    import subprocess
    import sys
    from datetime import date

    from openeis.features import FeaturesConfig, build_features
    from openeis.features.dates import add_months
    from openeis.store import open_store
    from openeis.store.warehouse import write_warehouse

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    openeis = [str(Path(sys.executable).parent / "openeis")]
    force = work / f"force-{args.officers}-{args.years}"
    start = date(2015, 1, 1)
    if not force.exists():
        subprocess.run([*openeis, "synth", "--officers", str(args.officers), "--years", str(args.years),
                        "--start", start.isoformat(), "--out", str(force), "--format", "parquet"], check=True)
    last = add_months(start, 12 * args.years - 1)
    dates = [add_months(last, -k) for k in range(args.dates)][::-1]
    key = work / "bench.key"

    def report(engine: str, stage: str, seconds: float, **extra) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"engine": engine, "stage": stage, "officers": args.officers, "dates": len(dates),
                          "seconds": round(seconds, 1), "client_peak_rss_mib": round(peak), **extra}), flush=True)

    def ingest(url: str, engine: str) -> None:
        t = time.perf_counter()
        subprocess.run([*openeis, "init", "--store", url, "--key-file", str(key)], check=True, capture_output=True)
        subprocess.run([*openeis, "ingest", str(force), "--store", url, "--key-file", str(key)], check=True,
                       capture_output=True)
        report(engine, "ingest", time.perf_counter() - t)

    def features(url: str, engine: str) -> None:
        store = open_store(url)
        try:
            t = time.perf_counter()
            summary = build_features(store, dates, work / f"features-{engine}.parquet", FeaturesConfig())
            report(engine, "features", time.perf_counter() - t, rows=summary["rows"])
        finally:
            store.close()

    duck = work / f"store-{args.officers}.duckdb"
    if not duck.exists():
        ingest(str(duck), "duckdb")
    features(str(duck), "duckdb")
    if args.postgres:
        ingest(args.postgres, "postgres")
        features(args.postgres, "postgres")
    if args.spark:
        t = time.perf_counter()
        source = open_store(str(duck), read_only=True)
        write_warehouse(source, work / f"warehouse-{args.officers}")
        source.close()
        report("spark", "write warehouse", time.perf_counter() - t)
        features(f"spark://{args.spark}?warehouse={work / f'warehouse-{args.officers}'}", "spark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stage", required=True)
    training = sub.add_parser("training", help="LightGBM on an N x F feature matrix: time and peak memory")
    training.add_argument("--rows", type=int, default=1_000_000)
    training.add_argument("--features", type=int, default=252)
    training.add_argument("--rounds", type=int, default=50)
    training.add_argument("--in-memory", action="store_true", help="load the whole matrix first (pandas)")
    engines = sub.add_parser("engines", help="ingest and features on DuckDB, PostgreSQL, Spark: time")
    engines.add_argument("--officers", type=int, default=2000)
    engines.add_argument("--years", type=int, default=10)
    engines.add_argument("--dates", type=int, default=36)
    engines.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    engines.add_argument("--spark", help="Spark master, e.g. local[2]")
    engines.add_argument("--work", default="/tmp/openeis-bench-engines")
    args = parser.parse_args()
    if args.stage == "engines":
        bench_engines(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "matrix.parquet"
        write_matrix(path, args.rows, args.features)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = (train_in_memory if args.in_memory else train_streamed)(path, args.rounds)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"stage": "training", "rows": args.rows, "features": args.features, "rounds": args.rounds,
                      "mode": "in-memory" if args.in_memory else "streamed", "seconds": round(seconds, 1),
                      "peak_rss_mib": round(peak / 1024), "rss_before_training_mib": round(before / 1024)}))


if __name__ == "__main__":
    main()
