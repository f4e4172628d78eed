"""How many threads each native library may use, decided in one place.

OpenEIS runs on shared machines (a web server, nightly jobs and a database beside it). Native
libraries bring their own thread pools and, left alone, size them from the whole machine and
spin while they wait: measured on 2 busy cores, a LightGBM fit with OpenMP's default (active)
wait policy and 2 threads took 68 s against 2.3 s with a passive one (docs/benchmarks.md,
"Thread pools"). So, for every pool:

- the number of threads is the CPUs this process may actually use: its CPU affinity and its
  cgroup's CPU quota, not `os.cpu_count()` (a container limited to 2 CPUs on a 64-core host
  must not start 64 threads);
- OpenMP threads (LightGBM, scikit-learn) wait passively (`OMP_WAIT_POLICY=PASSIVE`), so a
  thread with no work gives its core back at once instead of spinning against a neighbour;
- BLAS under numpy and scikit-learn gets the same count, and one thread inside a pool of
  ours (no pool nested inside another: `single_threaded_blas`);
- DuckDB connections (`duckdb_config`) and Spark local mode (`spark_local_master`) likewise.

The environment variables must be set before the libraries load, which is why
`openeis/__init__.py` calls `configure_environment()` first thing. A variable the user set
is kept: `OMP_NUM_THREADS=1 openeis backtest` means one thread. `OPENEIS_THREADS=N` sets the
count for every library at once.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

THREADS_VARIABLE = "OPENEIS_THREADS"

# Variables read by the native libraries when they load.
_COUNT_VARIABLES = (
    "OMP_NUM_THREADS",  # OpenMP: LightGBM, scikit-learn's Cython loops
    "OPENBLAS_NUM_THREADS",  # numpy's bundled OpenBLAS
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
)
_WAIT_VARIABLES = {
    "OMP_WAIT_POLICY": "PASSIVE",  # GNU and LLVM OpenMP: sleep rather than spin when idle
    "KMP_BLOCKTIME": "0",  # Intel's OpenMP runtime: the same, in its own words
}


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (e.g. 1.5), or None if unlimited.
    cgroup v2 keeps it in cpu.max ("max 100000" or "150000 100000"), v1 in
    cpu.cfs_quota_us / cpu.cfs_period_us."""
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        own = []
    candidates: list[Path] = []
    for line in own:
        _, controllers, cgroup = line.split(":", 2)
        relative = cgroup.lstrip("/")
        if controllers == "":  # v2
            candidates.append(root / relative / "cpu.max")
        elif "cpu" in controllers.split(","):
            for name in ("cpu,cpuacct", "cpu"):
                candidates.append(root / name / relative / "cpu.cfs_quota_us")
    candidates += [root / "cpu.max", root / "cpu,cpuacct" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_quota_us"]
    for path in candidates:
        try:
            text = path.read_text().split()
        except OSError:
            continue
        if path.name == "cpu.max":
            if not text or text[0] == "max":
                return None
            return int(text[0]) / int(text[1]) if len(text) > 1 else None
        quota = int(text[0])
        if quota <= 0:
            return None
        try:
            period = int((path.parent / "cpu.cfs_period_us").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None
        return quota / period
    return None


def usable_cpus() -> int:
    """The CPUs this process may use: OPENEIS_THREADS if set, else the smaller of its CPU
    affinity and its cgroup's quota (rounded up), at least 1."""
    configured = os.environ.get(THREADS_VARIABLE, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            pass  # a bad value is reported by the CLI; here it is ignored
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:
        quota = _cgroup_quota()
    except (ValueError, IndexError):
        quota = None
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def configure_environment() -> int:
    """Set the thread variables the native libraries read when they load (keeping any the
    user set). Returns the thread count chosen."""
    count = usable_cpus()
    for name in _COUNT_VARIABLES:
        os.environ.setdefault(name, str(count))
    for name, value in _WAIT_VARIABLES.items():
        os.environ.setdefault(name, value)
    return count


def threads(configured: int | None = None) -> int:
    """Threads for one of our own pools (LightGBM's n_jobs): the configured number, capped at
    the usable CPUs (more threads than cores only fight each other)."""
    available = usable_cpus()
    return available if configured is None else max(1, min(configured, available))


def duckdb_config(**extra) -> dict:
    """The `config` for duckdb.connect: DuckDB sizes its pool from the whole machine otherwise."""
    return {"threads": usable_cpus(), **extra}


def spark_local_master(master: str) -> str:
    """`local`, `local[*]` or `local[N]` with N capped at the usable CPUs."""
    if master == "local":
        return master
    if master.startswith("local[") and master.endswith("]"):
        inner = master[len("local["):-1]
        wanted = usable_cpus() if inner == "*" else int(inner) if inner.isdigit() else None
        if wanted is not None:
            return f"local[{max(1, min(wanted, usable_cpus()))}]"
    return master


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS and OpenMP at one thread inside a block that already runs in parallel (a
    worker of a pool of ours), so pools never nest."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
