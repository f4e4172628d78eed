"""The embedded default: one DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from openeis import thread_pools
from openeis.store.base import Store, StoreError


class DuckDBStore(Store):
    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.url = str(self.path)
        try:
            self.connection = duckdb.connect(str(self.path), read_only=read_only,
                                             config=thread_pools.duckdb_config())
        except duckdb.IOException as error:
            raise StoreError(f"cannot open store {self.path}: {error}") from None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.connection.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.connection.execute(sql, params).fetchall()

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        relation = self.connection.sql(sql, params=params)
        if relation is None:  # a statement that returns nothing
            return pa.table({})
        # DuckDB 2 names it to_arrow_table; 1.x had arrow().
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()

    def register_arrow(self, name: str, data: pa.Table) -> None:
        self.connection.register(name, data)

    def unregister(self, name: str) -> None:
        self.connection.unregister(name)

    def begin(self) -> None:
        self.connection.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        self.connection.execute("ROLLBACK")

    def table_exists(self, qualified_name: str) -> bool:
        schema, _, name = qualified_name.rpartition(".")
        rows = self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema or "main", name],
        )
        return bool(rows)

    def checkpoint(self) -> None:
        """Write the WAL into the main file (so the file alone holds everything)."""
        self.connection.execute("CHECKPOINT")

    def close(self) -> None:
        self.connection.close()


@contextmanager
def local_workspace() -> Iterator[Store]:
    """An in-memory DuckDB in this process: the workspace of engines that are not in-process
    (PostgreSQL, Spark), so that raw identifiers and the key never leave it."""
    work = DuckDBStore(":memory:")
    try:
        yield work
    finally:
        work.close()
