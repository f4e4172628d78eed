"""Benchmark the synthetic force generator (run by hand, not by pytest).

    .venv/bin/python benchmarks/bench_synth.py --officers 150000 --years 10 --out /tmp/bench-synth

Prints the wall time of each step, the total wall and CPU time, the peak resident memory
of the process (resource.getrusage: the writer threads included), rows per table and the
bytes written. Step times include waiting for the background writers.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from openeis.synth import SynthOptions, generate_force


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_gib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=150_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--bias", action="append", default=[])
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-synth-"))
    options = SynthOptions(
        officers=args.officers,
        years=args.years,
        seed=args.seed,
        biases=args.bias,
        file_format=args.format,
    )
    started = time.perf_counter()
    last = [started]

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        print(
            f"  [{done:2d}/{total}] {step:<22} {now - last[0]:7.1f} s"
            f"   (peak RSS so far {peak_rss_gib():.2f} GiB)",
            flush=True,
        )
        last[0] = now

    print(f"openeis synth: {args.officers} officers x {args.years} years, {args.format} -> {out}")
    summary = generate_force(options, out, progress=progress)
    wall = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    total_rows = sum(v for k, v in summary.items() if k != "anomalies")
    print()
    print(f"wall time      {wall:8.1f} s")
    print(f"CPU time       {cpu_seconds():8.1f} s   (user + system, all threads)")
    print(f"peak RSS       {peak_rss_gib():8.2f} GiB")
    print(f"rows written   {total_rows:>12,}")
    print(f"bytes written  {size / 2**30:8.2f} GiB")
    print()
    for name, rows in summary.items():
        print(f"  {name:<26}{rows:>14,}")
    if args.out is None and not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
