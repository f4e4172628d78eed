from __future__ import annotations

import os

# pytest-xdist runs the tests in N worker processes: each gets its share of the CPUs, so the
# workers' thread pools (LightGBM, BLAS, DuckDB) do not nest N-fold inside the cores
# (openeis/thread_pools.py). Set before anything imports openeis or the native libraries;
# subprocesses (`openeis ...` in tests) inherit it.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "OPENEIS_THREADS" not in os.environ:
    _cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ["OPENEIS_THREADS"] = str(max(1, _cpus // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openeis.cli import app
from openeis.schema import TABLES
from openeis.store import open_store
from postgres_server import any_store, postgres_server, postgres_url, store_url  # noqa: F401 (fixtures)

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `openeis ...` in-process, in a fresh working directory, with its own store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENEIS_STORE", raising=False)
    monkeypatch.delenv("OPENEIS_CONFIG", raising=False)
    monkeypatch.delenv("OPENEIS_KEY_FILE", raising=False)
    runner = CliRunner()

    def run(*args: str, expect: int | None = 0, input: str | None = None):
        result = runner.invoke(app, [str(a) for a in args], input=input)
        if expect is not None and result.exit_code != expect:
            raise AssertionError(
                f"openeis {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
                f"{result.output}\n{result.exception!r}"
            )
        return result

    return run


def run_openeis(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `openeis` command in a subprocess."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "openeis.cli", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"openeis {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def store_digest(path: Path) -> dict[str, str]:
    """A digest of every table's content (order-independent), to prove a store unchanged."""
    store = open_store(str(path))
    try:
        names = [t.qualified_name for t in TABLES] + [
            "quarantine", "record_changes", "ingest_batches", "store_meta", "schema_migrations"
        ]
        digest = {}
        for name in names:
            rows = sorted(repr(row) for row in store.query(f"SELECT * FROM {name}"))
            digest[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digest
    finally:
        store.close()
