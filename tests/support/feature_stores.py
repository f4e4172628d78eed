"""Helpers for the feature tests: small stores built directly with SQL (no tests here)."""

from __future__ import annotations

from pathlib import Path

from openeis.schema import TABLES_BY_NAME
from openeis.store import open_store


def make_store(path: Path, rows: dict[str, list[dict]]):
    """A migrated DuckDB store holding exactly these canonical rows (missing columns NULL)."""
    store = open_store(str(path))
    store.migrate()
    insert(store, rows)
    return store


def insert(store, rows: dict[str, list[dict]]) -> None:
    for name, records in rows.items():
        table = TABLES_BY_NAME[name]
        for record in records:
            unknown = set(record) - set(table.column_names)
            assert not unknown, f"{name}: unknown columns {unknown}"
            columns = list(record)
            marks = ", ".join("?" for _ in columns)
            store.execute(
                f"INSERT INTO {table.qualified_name} ({', '.join(columns)}) VALUES ({marks})",
                [record[c] for c in columns],
            )
