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

`pipeline`: issue 9's stages for one force size, each in its own process so that the peak
resident memory (wait4's ru_maxrss) is the stage's own: `openeis init` + `openeis ingest` of
the synthetic force's canonical CSVs (seed 1, as bench_ingest.py); the features for the last
36 monthly as-of dates; a backtest on 3 yearly test dates (12, 24, 36 months before the last
month; split plan quarterly over the 8 years before it); train and register a model on the
dates before the last month; score the whole cohort on the last month with explanations of
the flags (`openeis score`); the bias audit (`openeis audit`, default date). One JSON line
per stage and run: seconds of the work, wall seconds of the process (with imports), peak
memory, the 1-minute load average before and after. A stage whose memory passes
--max-rss-gib is killed and reported as failed with the size it reached. With
--shared-features the features stage builds every date the later stages need (the 36 months,
the backtest's and training's dates, the audit date) and they read it with `--features`, as
a force running a nightly build would.

    .venv/bin/python benchmarks/bench_pipeline.py pipeline --officers 2000 --runs 3
    .venv/bin/python benchmarks/bench_pipeline.py pipeline --officers 150000 \
        --stages train,score --train-dates 4 --store-from /tmp/openeis-bench/store-150000x10.duckdb
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
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


# ---------------------------------------------------------------------------------------------
# `pipeline`: issue 9's stages for one force size, each in its own process (peak memory per stage)

STAGES = ("ingest", "features", "backtest", "train", "score", "audit")
# not in the default run: `score` split at its feature build (`openeis score --features FILE`)
EXTRA_STAGES = ("score-features", "score-prebuilt")


def pipeline_config(last: date, train_dates: int):
    """The benchmark's settings: a quarterly split plan over the 8 years before the last month
    (so each yearly test date has training dates whose 12-month label window has closed),
    at most `train_dates` training dates per model (0: all), otherwise the defaults."""
    from openeis.config import OpenEISConfig
    from openeis.features.dates import add_months

    config = OpenEISConfig()
    config.splits.start = add_months(last, -96).isoformat()
    config.splits.end = last.isoformat()
    config.splits.frequency_months = 3
    config.splits.max_train_dates = train_dates
    return config


def run_stage(name: str, store_url: str, work: Path, dates: int, tests: int, train_dates: int,
              shared: bool = False) -> dict:
    """One stage in this process (called in a child process by `pipeline`): seconds and details.
    `shared`: the features stage also builds every date the later stages need, and they read
    them from its file (`--features`) instead of building their own."""
    from openeis.features import build_features
    from openeis.features.dates import add_months
    from openeis.models import data
    from openeis.store import open_store

    store = open_store(store_url)
    try:
        latest = data.latest_data_date(store)
        last = date(latest.year, latest.month, 1)
        config = pipeline_config(last, train_dates)
        label = config.labels.default
        marks: list[float] = []

        def progress(*_):
            marks.append(time.perf_counter())

        # yearly test dates whose label window has closed: last-12, last-24, ... months
        test_dates = [add_months(last, -12 * k) for k in range(tests, 0, -1)]
        shared_file = work / "features.parquet" if shared else None
        started = time.perf_counter()
        if name == "features":
            as_of = [add_months(last, -k) for k in range(dates)][::-1]
            if shared:
                from openeis.models.audit_job import default_audit_date

                as_of = sorted(set(as_of) | set(test_dates) | set(data.training_dates(config, last, label))
                               | {d for t in test_dates for d in data.training_dates(config, t, label)}
                               | {default_audit_date(store, config, label)})
            summary = build_features(store, as_of, work / "features.parquet", config.features)
            out = {"as_of_dates": len(as_of), "rows": summary["rows"]}
        elif name == "backtest":
            from openeis.models.backtest import run_backtest

            report, _ = run_backtest(store, config, test_dates, label, features=shared_file)
            out = {"test_dates": [d["as_of"] for d in report["dates"]],
                   "train_rows": [d["train_rows"] for d in report["dates"]],
                   "train_dates_per_test": [len(d["train_dates"]) for d in report["dates"]],
                   "selected": [d["selected"] for d in report["dates"]]}
        elif name == "train":
            from openeis.governance.roles import Actor, Role
            from openeis.models.jobs import train_and_register

            entry = train_and_register(store, config, last, label, Actor("cli:bench", Role.ADMINISTRATOR),
                                       features=shared_file)
            out = {"model_id": entry.model_id, "train_dates": len(data.training_dates(config, last, label))}
        elif name == "score-features":  # the score date's features, as a nightly build would
            summary = build_features(store, [last], work / "score-features.parquet", config.features)
            out = {"as_of": last.isoformat(), "rows": summary["rows"]}
        elif name == "score-prebuilt":
            from openeis.flags.score import score

            run = score(store, config, as_of=last, label=label, features=work / "score-features.parquet")
            out = {"as_of": last.isoformat(), "cohort": run.cohort,
                   "model_flags": sum(f.source == "model" for f in run.flags),
                   "rule_flags": sum(f.source == "rule" for f in run.flags)}
        elif name == "score":
            from openeis.flags.score import score

            run = score(store, config, as_of=last, label=label, progress=progress, features=shared_file)
            summary = run.as_dict()
            out = {"as_of": summary["as_of"], "cohort": run.cohort, "model_flags": summary["model_flags"],
                   "rule_flags": summary["rule_flags"],
                   # the last progress step of the feature build: the rest is scoring, explaining, writing
                   "features_part_seconds": round(marks[-1] - started, 1) if marks else None}
        elif name == "audit":
            from openeis.models.audit_job import audit_model

            audit = audit_model(store, config, features_file=shared_file)
            out = {"as_of": audit.as_of.isoformat(), "rows": int(len(audit.rows)),
                   "gate_allowed": bool(audit.gate.allowed)}
        else:
            raise ValueError(f"unknown stage {name!r}")
        return {"seconds": round(time.perf_counter() - started, 1), **out}
    finally:
        store.close()


def watched(command: list[str], max_rss_gib: float) -> dict:
    """Run a child process; its wall time, peak resident memory (wait4's ru_maxrss: the child's
    own) and exit code. Killed if its resident memory passes max_rss_gib (so that a stage that
    would not fit reports the size it reached instead of pushing the shared machine into swap)."""
    import os
    import signal
    import subprocess

    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    limit_kib, killed, rss = max_rss_gib * 2**20, False, 0.0
    out_lines: list[str] = []
    import threading

    # drain the pipes while polling so that a chatty child never blocks on a full pipe
    err_lines: list[str] = []
    readers = [threading.Thread(target=lambda s=s, acc=acc: acc.extend(s), daemon=True)
               for s, acc in ((child.stdout, out_lines), (child.stderr, err_lines))]
    for r in readers:
        r.start()
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        rss = max(rss, _rss_kib(child.pid))
        if rss > limit_kib and not killed:
            os.kill(child.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.2)
    for r in readers:
        r.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall_seconds": round(time.perf_counter() - started, 1),
              "peak_rss_gib": round(max(usage.ru_maxrss, rss) / 2**20, 2),
              "exit_code": child.returncode, "stdout": "".join(out_lines), "stderr": "".join(err_lines)}
    if killed:
        result["killed_above_gib"] = max_rss_gib
    return result


def _rss_kib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def bench_pipeline(args) -> None:
    import os
    import shutil
    import sys

    from openeis.store import open_store
    from openeis.synth import SynthOptions, generate_force

    stages = args.stages.split(",")
    work = Path(args.work or f"/tmp/pipeline-{args.officers}")
    data_dir = Path(args.data or f"/tmp/pipeline-data/force-{args.officers}x{args.years}")
    if "ingest" in stages and not (data_dir / "officers.csv").exists():
        generate_force(SynthOptions(officers=args.officers, years=args.years, seed=1), data_dir)
    openeis = str(Path(sys.executable).parent / "openeis")
    for run in range(1, args.runs + 1):
        store_path = work / "store.duckdb"
        if "ingest" in stages or args.store_from:
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        if args.store_from and "ingest" not in stages:
            # a store loaded earlier (e.g. by bench_features): copied so that the stages' writes
            # (models, scores, flags, audits) leave the original as it was
            shutil.copyfile(args.store_from, store_path)
            store = open_store(str(store_path))
            store.migrate()
            store.close()
        for stage in stages:
            load_before = os.getloadavg()[0]
            if stage == "ingest":
                key = work / "bench.key"
                init = watched([openeis, "init", "--store", str(store_path), "--key-file", str(key)],
                               args.max_rss_gib)
                result = watched([openeis, "ingest", str(data_dir), "--store", str(store_path),
                                  "--key-file", str(key)], args.max_rss_gib)
                result["wall_seconds"] = round(result["wall_seconds"] + init["wall_seconds"], 1)
                detail = {"seconds": result["wall_seconds"]}
            else:
                result = watched([sys.executable, __file__, "stage", stage, "--store", str(store_path),
                                  "--work", str(work), "--dates", str(args.dates), "--tests", str(args.tests),
                                  "--train-dates", str(args.train_dates)]
                               + (["--shared-features"] if args.shared_features else []), args.max_rss_gib)
                lines = result["stdout"].strip().splitlines()
                detail = json.loads(lines[-1]) if result["exit_code"] == 0 and lines else {}
            line = {"officers": args.officers, "run": run, "stage": stage, **detail,
                    "wall_seconds": result["wall_seconds"], "peak_rss_gib": result["peak_rss_gib"],
                    "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
            if result["exit_code"] != 0:
                line["failed"] = {"exit_code": result["exit_code"],
                                  "killed_above_gib": result.get("killed_above_gib"),
                                  "stderr_tail": result["stderr"].strip().splitlines()[-3:]}
            print(json.dumps(line), flush=True)
            if result["exit_code"] != 0 and stage in ("ingest", "train"):
                break  # the later stages need this one


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
    pipeline = sub.add_parser("pipeline", help="issue 9's stages for one force size: time and peak memory each")
    pipeline.add_argument("--officers", type=int, default=2000)
    pipeline.add_argument("--years", type=int, default=10)
    pipeline.add_argument("--dates", type=int, default=36, help="monthly as-of dates of the features stage")
    pipeline.add_argument("--tests", type=int, default=3, help="yearly test dates of the backtest")
    pipeline.add_argument("--train-dates", type=int, default=0,
                          help="at most this many (quarterly) training dates per model (0: all)")
    pipeline.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of {', '.join(STAGES + EXTRA_STAGES)}")
    pipeline.add_argument("--runs", type=int, default=1)
    pipeline.add_argument("--max-rss-gib", type=float, default=8.0, help="kill a stage above this")
    pipeline.add_argument("--work", help="default /tmp/pipeline-OFFICERS")
    pipeline.add_argument("--data", help="canonical CSVs (default /tmp/pipeline-data/force-OFFICERSxYEARS, "
                          "generated with seed 1 if missing)")
    pipeline.add_argument("--store-from", help="without the ingest stage: a loaded DuckDB store to copy")
    pipeline.add_argument("--shared-features", action="store_true",
                          help="the features stage builds every date the later stages need; backtest, "
                          "train, score and audit read it (their --features) instead of building their own")
    stage = sub.add_parser("stage", help="(internal) one pipeline stage in this process")
    stage.add_argument("name", choices=STAGES[1:] + EXTRA_STAGES)
    stage.add_argument("--store", required=True)
    stage.add_argument("--work", required=True)
    stage.add_argument("--dates", type=int, default=36)
    stage.add_argument("--tests", type=int, default=3)
    stage.add_argument("--train-dates", type=int, default=0)
    stage.add_argument("--shared-features", action="store_true")
    args = parser.parse_args()
    if args.stage == "engines":
        bench_engines(args)
        return
    if args.stage == "pipeline":
        bench_pipeline(args)
        return
    if args.stage == "stage":
        print(json.dumps(run_stage(args.name, args.store, Path(args.work), args.dates, args.tests,
                                   args.train_dates, args.shared_features)))
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
