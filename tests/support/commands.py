"""The real `openeis` command in a subprocess, and a digest that proves a store unchanged."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from openeis.schema import TABLES
from openeis.store import open_store
from openeis.store.ddl import history_name


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
    """A digest of every table's content (order-independent), to prove a store unchanged:
    the records, their earlier versions, the identity vault and the bookkeeping."""
    names = [t.qualified_name for t in TABLES] + [history_name(t) for t in TABLES] + [
        "restricted.identity_vault", "quarantine", "record_changes", "ingest_batches", "ingest_files",
        "store_meta", "schema_migrations"
    ]
    return table_digests(str(path), names)


def table_digests(url: str, names: list[str]) -> dict[str, str]:
    """Each named table's content as one order-independent SHA-256."""
    store = open_store(url)
    try:
        digest = {}
        for name in names:
            rows = sorted(repr(row) for row in store.query(f"SELECT * FROM {name}"))
            digest[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digest
    finally:
        store.close()
