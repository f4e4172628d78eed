"""Recall and false-positive rate of every detector on a synthetic force with planted
anomalies, as docs/detectors.md reports them:

    .venv/bin/python benchmarks/bench_detector_recall.py --officers 2000 --years 3 --seed 5 --anomaly-rate 0.01
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.detector_force import KEY, synthetic_store  # noqa: E402

from openeis.config.detectors import DetectorsConfig  # noqa: E402
from openeis.detectors.evaluate import evaluate  # noqa: E402
from openeis.detectors.runner import run_detectors  # noqa: E402
from openeis.privacy import Pseudonymiser  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--anomaly-rate", type=float, default=0.01)
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON here.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store, truth, snapshot = synthetic_store(Path(tmp), args.officers, args.years, args.seed,
                                                 args.anomaly_rate)
        started = time.perf_counter()
        run = run_detectors(store, DetectorsConfig(), snapshot)
        seconds = time.perf_counter() - started
        rows = evaluate(run, truth, Pseudonymiser(KEY))
        store.close()
    print(f"{args.officers} officers x {args.years} years, seed {args.seed}, anomaly rate "
          f"{args.anomaly_rate}, as of {snapshot}: {len(run.officers)} officers examined, detectors "
          f"ran in {seconds:.1f} s")
    print("| detector | method | planted | found | recall | record recall | hits | false positives | FPR on clean officers |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['detector']} | {r['method']} | {r['planted']} | {r['found']} | {_pct(r['recall'])} | "
              f"{_pct(r['record_recall'])} | {r['hits']} | {r['false_positives']} / {r['clean_officers']} | "
              f"{_pct(r['fpr'], 2)} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


def _pct(value, digits: int = 0) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


if __name__ == "__main__":
    main()
