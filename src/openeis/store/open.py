"""Choose the store engine from the store URL."""

from __future__ import annotations

from openeis.store.base import Store, StoreError


def open_store(url: str, read_only: bool = False) -> Store:
    if url.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            "PostgreSQL stores are not supported yet (planned: the PostgreSQL/Spark issue); "
            "use a DuckDB file path"
        )
    if url.startswith("spark://"):
        raise StoreError("Spark stores are not supported yet; use a DuckDB file path")
    from openeis.store.duckdb_store import DuckDBStore

    return DuckDBStore(url, read_only=read_only)
