"""The same backtest on a quiet machine and beside CPU-bound neighbours (issue 19).

    .venv/bin/python benchmarks/bench_busy_machine.py --officers 1500 --years 6 --runs 3 --busy 2
    .venv/bin/python benchmarks/bench_busy_machine.py --lightgbm   # the fit alone, as in the issue

A shared machine is the normal case (a web server, nightly jobs, the database), so what
matters is that a busy neighbour slows OpenEIS in proportion (one of two cores: at most 2x,
give or take), never many times over (spinning OpenMP threads: docs/benchmarks.md,
"Thread pools").

Backtest mode: a synthetic force (openeis synth, seed 1) is ingested once into a DuckDB
store; then `openeis backtest` on two yearly test dates runs --runs times with nothing else
running, and --runs times beside --busy processes that each spin one core in pure Python,
the two taking turns. Each run is its own process (imports included). With --also-active the busy runs are
repeated with OpenMP's active wait policy (OMP_WAIT_POLICY=ACTIVE: the behaviour before
thread_pools.py) to show what the setting buys. Prints one JSON line per run and a summary
line with the medians and their ratio.

LightGBM mode: 20,000 rows x 252 features, 15 leaves, 200 trees, force_col_wise, with 1 and
2 threads, under the passive and the active wait policy, quiet and busy (each fit in a fresh
process, since OpenMP reads its policy once).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPENEIS = [sys.executable, "-m", "openeis"]


def spin() -> None:
    while True:
        pass


class Neighbours:
    """`count` processes each spinning one core, for the length of a with-block."""

    def __init__(self, count: int):
        self.count = count
        self.processes: list[multiprocessing.Process] = []

    def __enter__(self):
        self.processes = [multiprocessing.Process(target=spin, daemon=True) for _ in range(self.count)]
        for process in self.processes:
            process.start()
        time.sleep(1.0)  # let them take the cores
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join()


def run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env={**os.environ, **(env or {})},
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def prepare(directory: Path, officers: int, years: int) -> Path:
    store = directory / "openeis.duckdb"
    if store.exists():
        return store
    run(OPENEIS + ["synth", "--officers", str(officers), "--years", str(years), "--seed", "1",
                   "--out", str(directory / "force")])
    run(OPENEIS + ["init", "--store", str(store)])
    run(OPENEIS + ["ingest", "--store", str(store), str(directory / "force")])
    return store


def backtest_mode(args) -> None:
    directory = Path(args.dir or tempfile.mkdtemp(prefix="openeis-busy-"))
    directory.mkdir(parents=True, exist_ok=True)
    store = prepare(directory, args.officers, args.years)
    first_year = 2015 + args.years - 2
    command = OPENEIS + ["backtest", "--store", str(store), "--as-of",
                         f"{first_year - 1}-01-01,{first_year}-01-01", "--json", str(directory / "backtest.json")]
    plans = [("quiet", 0, {})] + [("busy", args.busy, {})]
    if args.also_active:
        plans.append(("busy, OMP_WAIT_POLICY=ACTIVE", args.busy, {"OMP_WAIT_POLICY": "ACTIVE"}))
    # The modes take turns (quiet, busy, quiet, busy...) so that whatever else the machine
    # does during the benchmark weighs on both alike.
    times: dict[str, list[float]] = {name: [] for name, _, _ in plans}
    for i in range(args.runs):
        for name, busy, env in plans:
            load = os.getloadavg()[0]
            with Neighbours(busy):
                seconds = run(command, env)
            times[name].append(seconds)
            print(json.dumps({"mode": name, "run": i + 1, "seconds": round(seconds, 2),
                              "neighbours": busy, "load_before": round(load, 2)}), flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    summary = {"officers": args.officers, "years": args.years, "runs": args.runs,
               "cpus": len(os.sched_getaffinity(0)),
               "medians": {k: round(v, 2) for k, v in medians.items()},
               "busy_over_quiet": round(medians["busy"] / medians["quiet"], 2)}
    if args.also_active:
        summary["active_busy_over_quiet"] = round(medians["busy, OMP_WAIT_POLICY=ACTIVE"] / medians["quiet"], 2)
    print(json.dumps(summary))


LIGHTGBM_FIT = """
import os, sys, time
import numpy as np
from lightgbm import LGBMClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, 252))
y = (X[:, 0] + rng.normal(size=20000) > 2).astype(int)
start = time.perf_counter()
LGBMClassifier(n_estimators=200, num_leaves=15, n_jobs=int(sys.argv[1]), verbose=-1,
               force_col_wise=True).fit(X, y)
print(time.perf_counter() - start)
"""


def lightgbm_mode(args) -> None:
    for busy in (0, args.busy):
        for policy in ("PASSIVE", "ACTIVE"):
            for threads in (1, 2):
                times = []
                for _ in range(args.runs):
                    with Neighbours(busy):
                        out = subprocess.run([sys.executable, "-c", LIGHTGBM_FIT, str(threads)], check=True,
                                             capture_output=True, text=True,
                                             env={**os.environ, "OMP_WAIT_POLICY": policy})
                    times.append(float(out.stdout.strip()))
                print(json.dumps({"neighbours": busy, "policy": policy, "threads": threads,
                                  "median_seconds": round(statistics.median(times), 2),
                                  "runs": [round(t, 2) for t in times]}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=1500)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--busy", type=int, default=2, help="CPU-bound neighbour processes")
    parser.add_argument("--dir", help="Keep the force and store here (reused when present).")
    parser.add_argument("--also-active", action="store_true", help="Also the busy runs with OMP_WAIT_POLICY=ACTIVE.")
    parser.add_argument("--lightgbm", action="store_true", help="The LightGBM fit alone.")
    args = parser.parse_args()
    lightgbm_mode(args) if args.lightgbm else backtest_mode(args)


if __name__ == "__main__":
    main()
