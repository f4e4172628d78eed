"""Choose the store engine from the store URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

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


def store_location(url: str) -> str:
    """Where a store is, independent of how a command spelt it and of anything inside the
    store: a DuckDB file's resolved path; a server's host, port and database (no user, no
    password). What the access log's anchor is kept under (governance/log_anchor.py)."""
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        host = (parts.hostname or "localhost").lower()
        return f"postgresql://{host}:{parts.port or 5432}/{unquote(parts.path.lstrip('/'))}"
    if "://" in url:
        return url
    return str(Path(url).resolve())
