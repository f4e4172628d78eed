"""All or nothing: a refused batch, or a process killed mid-ingest, leaves the store as it was.
The refused batch and the kill just before commit run on both engines (see `any_store`)."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time

import pytest
from support.commands import run_openeis, store_digest
from support.handmade import force, write_force

from openeis.ingest.canonical import CRASH_TEST_VARIABLE


def bulk_force(extra_lookups: int) -> dict[str, list[dict]]:
    """The hand-made force, changed, plus many look-ups so that ingest takes a while."""
    tables = copy.deepcopy(force())
    tables["allegations"][2].update(finding="upheld", decided_at="2021-06-01")
    tables["system_access"] = [
        {
            "access_id": f"SAX-B{number}",
            "officer_id": ("WX100001", "WX100002")[number % 2],
            "system": "PNC",
            "record_kind": "vehicle",
            "subject_id": f"SUBJX-{number % 5000}",
            "case_reference": f"CASEX-{number % 900}",
            "occurred_at": f"2020-{1 + number % 12:02d}-{1 + number % 28:02d}T10:00:00",
            "recorded_at": f"2020-{1 + number % 12:02d}-{1 + number % 28:02d}T10:00:00",
        }
        for number in range(extra_lookups)
    ]
    return tables


@pytest.fixture
def loaded_store(tmp_path):
    write_force(tmp_path / "first")
    run_openeis("init", cwd=tmp_path)
    run_openeis("ingest", tmp_path / "first", cwd=tmp_path)
    return tmp_path


@pytest.fixture
def loaded_any_store(any_store, tmp_path):
    """The hand-made force loaded into a store of each engine (OPENEIS_STORE names it)."""
    write_force(tmp_path / "first")
    run_openeis("init", cwd=tmp_path)
    run_openeis("ingest", tmp_path / "first", cwd=tmp_path)
    return tmp_path, any_store


def test_refused_batch_changes_nothing(loaded_any_store):
    tmp_path, store = loaded_any_store
    before = store_digest(store)
    tables = bulk_force(1000)
    tables["system_access"][500]["record_kind"] = "telepathy"
    write_force(tmp_path / "second", tables)
    result = run_openeis("ingest", tmp_path / "second", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "system_access.csv:502: column record_kind: value 'telepathy'" in result.stderr
    assert store_digest(store) == before


def _start_ingest(tmp_path, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "openeis.cli", "ingest", str(tmp_path / "second")],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill_9_just_before_commit_leaves_store_as_before(loaded_any_store):
    tmp_path, store = loaded_any_store
    before = store_digest(store)
    # A server rolls back a dead client's transaction whatever its size: a smaller batch
    # keeps the PostgreSQL run cheap.
    write_force(tmp_path / "second", bulk_force(200_000 if store.endswith(".duckdb") else 20_000))
    marker = tmp_path / "holding"
    process = _start_ingest(tmp_path, {CRASH_TEST_VARIABLE: str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, "ingest ended before reaching the commit"
        assert time.monotonic() < deadline, "ingest never reached the commit"
        time.sleep(0.05)
    # Every row is written inside the open transaction now: the worst moment to die.
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert store_digest(store) == before
    # And the store still works: the same batch loads completely afterwards.
    run_openeis("ingest", tmp_path / "second", cwd=tmp_path)
    after = store_digest(store)
    assert after["system_access"] != before["system_access"]


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_kill_9_at_any_moment_leaves_store_as_before_or_fully_loaded(loaded_store, delay):
    tmp_path = loaded_store
    before = store_digest(tmp_path / "openeis.duckdb")
    write_force(tmp_path / "second", bulk_force(100_000))
    process = _start_ingest(tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    now = store_digest(tmp_path / "openeis.duckdb")
    if now != before:
        # Killed after the commit: then the whole batch is there, never part of it.
        run_openeis("ingest", tmp_path / "second", cwd=tmp_path)
        again = store_digest(tmp_path / "openeis.duckdb")
        for table in ("officers", "allegations", "system_access", "record_changes"):
            assert now[table] == again[table]
