"""The Chicago backtest of issue 19: test dates 2006-01-01..2010-01-01 yearly, default config.

    .venv/bin/python benchmarks/bench_chicago_backtest.py --runs 3
    .venv/bin/python benchmarks/bench_chicago_backtest.py --runs 1 --stages        # where the time goes
    .venv/bin/python benchmarks/bench_chicago_backtest.py --costs 2008-01-01       # one date's costs, before/after
    .venv/bin/python benchmarks/bench_chicago_backtest.py --src /tmp/main/src \\
        --config docs/evidence/chicago-sustained.toml                             # another version of the code

The CPDP copy (../shared/data/chicago_cpdp) is ingested once into --store (kept, reused when
it exists); then `openeis backtest --as-of 2006-01-01:2010-01-01:12m --label sustained_12m`
runs --runs times, each in its own process (imports and the feature build included). Prints
one JSON line per run (wall seconds, the 1-minute load average before and after) and a
summary line with the median. `--stages` runs one backtest under cProfile instead and prints
the cumulative seconds of its stages (the profile slows Python-heavy stages a little).
`--src DIR` puts DIR first on PYTHONPATH, to time an earlier version of the code (e.g.
`git archive <commit> src | tar -x -C /tmp/main`) with this environment.

`--costs DATE` times, in this process, the costs issue 19 names on one test date's training
rows (the default plan), each as the way before and the way now, median of --runs:
one LightGBM fit from the labelled frame (model matrix and LightGBM's bins built again for the
fit, as every fit did) against a fit on the matrix and bins built once per test date; the
selected model's calibration by three refits against Platt scaling on the validation folds'
out-of-time scores; and the bias audit of the date's flags with 4,000 bootstrap replicates
against 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OPENEIS = [sys.executable, "-m", "openeis"]

STAGES = [  # (label, function name as cProfile reports it, file fragment); a name that several
    # functions of the file share counts once, at its largest cumulative time (the outermost)
    ("feature build (every date, one pass)", "build_features", "features/build.py"),
    ("training labels and rows", "training_rows", "models/streamed.py"),
    ("selection on the validation folds", "select", "models/train.py"),
    ("evaluate_date (selection, fits, scoring)", "evaluate_date", "models/backtest.py"),
    ("bias audit of each date's flags", "audit_date", "models/backtest.py"),
    ("LightGBM boosting (every fit)", "train", "lightgbm/engine.py"),
    ("logistic regressions (every fit)", "fit", "linear_model/_logistic.py"),
]


def env(src: Path | None) -> dict[str, str]:
    out = dict(os.environ)
    if src:
        out["PYTHONPATH"] = str(src) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def prepare(store: Path, data: Path, src: Path | None) -> None:
    if store.exists():
        return
    subprocess.run(OPENEIS + ["init", "--store", str(store)], check=True, env=env(src), stdout=subprocess.DEVNULL)
    subprocess.run(OPENEIS + ["ingest", "--format", "cpdp", str(data), "--store", str(store)], check=True,
                   env=env(src), stdout=subprocess.DEVNULL)


def backtest_command(args, out: Path) -> list[str]:
    command = ["backtest", "--store", str(args.store), "--as-of", args.as_of, "--label", "sustained_12m",
               "--json", str(out)]
    return command + (["--config", str(args.config)] if args.config else [])


def stages(profile: Path) -> dict[str, float]:
    stats = pstats.Stats(str(profile)).stats
    out = {}
    for label, name, fragment in STAGES:
        out[label] = round(max([v[3] for (file, _, function), v in stats.items()
                                if function == name and fragment in file] or [0.0]), 1)
    out["fits and scoring on the test date"] = round(out["evaluate_date (selection, fits, scoring)"]
                                                     - out["selection on the validation folds"], 1)
    return out


def costs(args) -> None:
    """One test date's costs, before and after (in this process)."""
    from datetime import date

    from openeis.audit import read_characteristics
    from openeis.config import OpenEISConfig
    from openeis.models import data
    from openeis.models.backtest import audit_date
    from openeis.models.estimator import grid
    from openeis.models.train import LoadedTraining, fit_candidate
    from openeis.store import open_store

    day = date.fromisoformat(args.costs)
    label, config = "sustained_12m", OpenEISConfig()
    store = open_store(str(args.store), read_only=True)
    try:
        start = data.first_record_date(store, label, config)
        dates = data.training_dates(config, day, label, start, data.label_maturity(store, label, config, day))
        labels = data.label_frame(store, dates, label, config, known_at=day)
        frame = data.with_labels(data.feature_frame(store, dates, config), labels, label)
        test = data.with_labels(data.feature_frame(store, [day], config),
                                data.label_frame(store, [day], label, config, None), label)
        characteristics = read_characteristics(store)
    finally:
        store.close()
    candidate = grid(config.models)[-1]

    def median_of(work) -> float:
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return round(statistics.median(times), 2)

    training = LoadedTraining(frame, label, config, start)
    selection = training.select(dates)
    model = training.fit(candidate, selection=selection)
    scores = model.decision_function(test)
    load = round(os.getloadavg()[0], 2)
    out = {"date": args.costs, "training_rows": len(frame), "candidate": candidate.name, "load_before": load,
           "fit_rebuilding_matrix_and_bins_s": median_of(lambda: fit_candidate(candidate, frame, label, config, calibrate=False)),
           "fit_on_matrix_and_bins_built_once_s": median_of(lambda: training.fit(candidate, calibrate=False)),
           "fit_calibrated_by_3_refits_s": median_of(lambda: fit_candidate(candidate, frame, label, config, calibrate=True)),
           "fit_calibrated_on_the_folds_s": median_of(lambda: training.fit(candidate, selection=selection)),
           "audit_4000_replicates_s": median_of(lambda: audit_date(characteristics, config, test, label, scores))}
    fewer = config.model_copy(deep=True)
    fewer.audit.bootstrap_replicates = 1000
    out["audit_1000_replicates_s"] = median_of(lambda: audit_date(characteristics, fewer, test, label, scores))
    out["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "chicago_cpdp")
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "openeis-bench-chicago.duckdb")
    parser.add_argument("--as-of", default="2006-01-01:2010-01-01:12m")
    parser.add_argument("--config", type=Path, help="a config file (default: none, the defaults)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="one run under cProfile, by stage")
    parser.add_argument("--src", type=Path, help="time the code in this source directory instead")
    parser.add_argument("--costs", metavar="DATE", help="one test date's costs, before and after")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no Chicago copy at {args.data}")
    prepare(args.store, args.data, args.src)
    if args.costs:
        return costs(args)
    walls = []
    with tempfile.TemporaryDirectory(prefix="openeis-bench-") as tmp:
        out = Path(tmp) / "backtest.json"
        for run in range(1 if args.stages else args.runs):
            before = os.getloadavg()[0]
            profile = Path(tmp) / "backtest.prof"
            prefix = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "openeis"] if args.stages else OPENEIS
            start = time.perf_counter()
            subprocess.run(prefix + backtest_command(args, out), check=True, env=env(args.src),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wall = time.perf_counter() - start
            walls.append(wall)
            result = json.loads(out.read_text())
            line = {"run": run + 1, "wall_s": round(wall, 1), "load_before": round(before, 2),
                    "load_after": round(os.getloadavg()[0], 2), "dates": result["summary"]["dates"],
                    "cpus": len(os.sched_getaffinity(0))}
            if args.stages:
                line["stages_s"] = stages(profile)
            print(json.dumps(line), flush=True)
    print(json.dumps({"summary": "median wall seconds", "median_s": round(statistics.median(walls), 1),
                      "runs": len(walls), "as_of": args.as_of, "config": str(args.config) if args.config else None,
                      "src": str(args.src) if args.src else None}))


if __name__ == "__main__":
    main()
