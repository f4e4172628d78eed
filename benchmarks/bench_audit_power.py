"""The bias audit's known-answer and power studies: does it find a bias planted in synthetic
forces, and stay quiet when there is none, over 20 seeds each way (docs/audit.md, "Known
answers" and "Power", report what this prints)? Too long for the test suite (about 80
synthetic forces, 15-20 minutes on 2 cores); tests/audit/test_known_answer.py and
test_power.py keep a few seeds of each.

    .venv/bin/python benchmarks/bench_audit_power.py            # all four studies
    .venv/bin/python benchmarks/bench_audit_power.py known-answer
    .venv/bin/python benchmarks/bench_audit_power.py power

Known answer: the whole pipeline (synth -> store -> features and labels -> a logistic
regression trained on 2016-01-01 -> the top 5% flagged on 2017, 2018 and 2019-01-01 ->
the audit pooled over the three dates) on forces of 2,000 officers (about 300 of ethnicity
B). `upheld:group=B:1.5` makes allegations against B upheld 1.5 times as often; what the
audit should flag is the label-rate gap (the label-bias warning for B). A false alarm is any
outside-band verdict on the label rate, the flag rate or the FPR.

Power: the label-bias warning at the group size it needs, forces of 8,000 officers with A and
B in equal shares (about 4,500 of each over the three dates): at least 18 of 20 seeds with
the bias, at most 1 of 20 without.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.audit_studies import known_answer_seed, power_seed  # noqa: E402

SEEDS = range(1, 21)


def study(name: str, run, biases: list[str]) -> list[dict]:
    out = []
    for seed in SEEDS:
        directory = Path(tempfile.mkdtemp(prefix=f"openeis-{name}-{seed}-"))
        started = time.perf_counter()
        try:
            result = run(directory, seed, biases)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        result["seconds"] = round(time.perf_counter() - started, 1)
        print(result, flush=True)
        out.append(result)
    return out


def main(which: str = "all") -> None:
    if which in ("all", "known-answer"):
        quiet = study("known-answer", known_answer_seed, [])
        print(f"known answer, no bias: false alarms in {sum(bool(r['alarms']) for r in quiet)}/20 seeds (target <= 1)")
        biased = study("known-answer", known_answer_seed, ["upheld:group=B:1.5"])
        print(f"known answer, upheld:group=B:1.5: B's label ratio above 1 in {sum(r['b_ratio'] > 1 for r in biased)}/20, "
              f"label-bias warning on B in {sum(r['b_warning'] for r in biased)}/20 seeds")
    if which in ("all", "power"):
        biased = study("power", power_seed, ["upheld:group=B:1.5"])
        print(f"power, upheld:group=B:1.5: warning on B in {sum(r['warning'] for r in biased)}/20 seeds (target >= 18)")
        quiet = study("power", power_seed, [])
        print(f"power, no bias: warning on B in {sum(r['warning'] for r in quiet)}/20 seeds (target <= 1)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
