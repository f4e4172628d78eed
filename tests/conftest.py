from __future__ import annotations

import os

# pytest-xdist runs the tests in N worker processes: each gets its share of the CPUs, so the
# workers' thread pools (LightGBM, BLAS, DuckDB) do not nest N-fold inside the cores
# (openeis/thread_pools.py). Set before anything imports openeis or the native libraries;
# subprocesses (`openeis ...` in tests) inherit it.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "OPENEIS_THREADS" not in os.environ:
    _cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ["OPENEIS_THREADS"] = str(max(1, _cpus // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))

import functools

import pytest
import typer.testing
from typer.testing import CliRunner

from openeis.cli import app

# Typer builds the click command from the app's functions on every CliRunner.invoke (about
# 70 ms: it evaluates the type hints of all 40-odd commands); the suite invokes the CLI a few
# thousand times, so each test process builds it once. Fails loudly if Typer renames the hook.
assert callable(typer.testing._get_command)
typer.testing._get_command = functools.cache(typer.testing._get_command)

# Fixtures shared by every folder: a throwaway PostgreSQL server, store_url, any_store...
pytest_plugins = ["support.postgres_server"]


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
