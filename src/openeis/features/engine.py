"""The engine-specific bits of feature building, kept in one place.

Feature SQL is generated once in the DuckDB dialect (see docs/features.md for why) and runs
unchanged on DuckDB. `transpile` gives the same statement for PostgreSQL or Spark; the few
operations below (write a query to Parquet, read Parquet parts, session settings) are the
ones a new engine has to provide.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from openeis.store import Store


def transpile(sql: str, dialect: str) -> str:
    """The DuckDB-dialect feature SQL in another dialect (postgres, spark, ...)."""
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))


def is_duckdb(store: Store) -> bool:
    return type(store).__name__ == "DuckDBStore"


SETTINGS = ("memory_limit", "temp_directory", "preserve_insertion_order", "disabled_optimizers")


def configure(store: Store, memory_limit: str | None, temp_directory: Path | None) -> None:
    """Session settings for a feature build (DuckDB); `restore` undoes them."""
    if not is_duckdb(store):
        return
    if memory_limit:
        store.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_directory:
        store.execute(f"SET temp_directory = '{temp_directory}'")
    store.execute("SET preserve_insertion_order = false")
    # The feature statement is wide (hundreds of columns); this optimizer pass costs more
    # time planning it than it saves running it.
    store.execute("SET disabled_optimizers = 'projection_pullup'")


def restore(store: Store) -> None:
    if not is_duckdb(store):
        return
    for name in SETTINGS:
        store.execute(f"RESET {name}")


def query_to_parquet(store: Store, sql: str, path: Path) -> None:
    """Run a query and write its result to a Parquet file (streamed on DuckDB)."""
    if is_duckdb(store):
        target = str(path).replace("'", "''")
        store.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        return
    pq.write_table(store.query_arrow(sql), path)


def parquet_relation(paths: list[Path]) -> str:
    """A FROM-clause relation over Parquet files."""
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}])"


def query_arrow(store: Store, sql: str) -> pa.Table:
    """A query's result as Arrow."""
    return store.query_arrow(sql)


def register(store: Store, name: str, data: pa.Table) -> None:
    store.register_arrow(name, data)
