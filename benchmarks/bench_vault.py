"""The identity vault's costs: X25519 with HPKE (new stores) against RSA-3072 with OAEP (stores
made before December 2026), in one run on this machine.

    .venv/bin/python benchmarks/bench_vault.py --seals 3000 --keys 5

Reports the median time to make a key (what `openeis init` pays), to seal one staff number
(what ingest pays per officer) and to open one seal (what a reveal pays), with the machine's
load average before and after: the machine is shared, so quote the load with the numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cryptography.hazmat.primitives.asymmetric import rsa, x25519

from openeis.vault import Sealer, open_seal, public_pem


def _median_seconds(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seals", type=int, default=3000, help="values sealed (and a tenth of them opened)")
    parser.add_argument("--keys", type=int, default=5, help="keys made of each kind")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    makers = {"x25519": x25519.X25519PrivateKey.generate,
              "rsa-3072": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072)}
    rows = [(f"officer{i:06d}", f"PC{i:06d}") for i in range(args.seals)]
    for name, make in makers.items():
        keygen = _median_seconds(make, args.keys)
        private = make()
        sealer = Sealer(public_pem(private))
        started = time.perf_counter()
        sealed = sealer.seal_many(rows, "staff_number")
        seal = (time.perf_counter() - started) / len(rows)
        opened = rows[: max(1, len(rows) // 10)]
        started = time.perf_counter()
        for (officer, _), value in zip(opened, sealed):
            open_seal(private, officer, "staff_number", value)
        open_one = (time.perf_counter() - started) / len(opened)
        print(f"{name:9s} key {keygen * 1000:8.2f} ms (median of {args.keys})   "
              f"seal {seal * 1e6:6.1f} us   open {open_one * 1e6:7.1f} us")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
