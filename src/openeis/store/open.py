"""Choose the store engine from the store URL."""

from __future__ import annotations

from openeis.store.base import Store


def open_store(url: str, read_only: bool = False) -> Store:
    if url.startswith(("postgresql://", "postgres://")):
        from openeis.store.postgres_store import PostgresStore

        return PostgresStore(url, read_only=read_only)
    if url.startswith("spark://"):
        from openeis.store.spark_store import SparkStore

        return SparkStore(url, read_only=True)
    from openeis.store.duckdb_store import DuckDBStore

    return DuckDBStore(url, read_only=read_only)
