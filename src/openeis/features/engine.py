"""The engine-specific bits of feature building, kept in one place.

Feature SQL is generated once in the DuckDB dialect (see docs/features.md for why) and runs
unchanged on DuckDB. `transpile` gives the same statement for PostgreSQL or Spark; the few
operations below (write a query to Parquet, read Parquet parts, session settings) are the
ones a new engine has to provide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from openeis.sql_text import literal, literal_list
from openeis.store import Store


def transpile(sql: str, dialect: str) -> str:
    """The DuckDB-dialect feature SQL in another dialect (postgres, spark, ...)."""
    trees = sqlglot.parse(sql, read="duckdb")
    if dialect == "spark":
        trees = [tree.transform(_spark_epoch) for tree in trees]
    return ";\n".join(tree.sql(dialect=dialect) for tree in trees)


def _spark_epoch(node: exp.Expression) -> exp.Expression:
    """epoch(ts) as DuckDB means it: seconds with their fraction, as a DOUBLE. sqlglot's
    Spark translation (UNIX_TIMESTAMP) drops the fraction, and a day number computed from
    it (ceil_day) would move a record at 00:00:00.5 to the day before. TIMESTAMP here is
    without time zone; as TIMESTAMP_LTZ in the session's UTC it is the same instant."""
    if not isinstance(node, exp.TimeToUnix):
        return node
    micros = exp.Anonymous(this="unix_micros", expressions=[exp.cast(node.this, exp.DataType.build("TIMESTAMPLTZ"))])
    return exp.Paren(this=exp.Div(this=exp.cast(micros, exp.DataType.build("DOUBLE")),
                                  expression=exp.Literal.number("1000000.0")))


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
        store.execute(f"COPY ({sql}) TO {literal(path)} (FORMAT parquet, COMPRESSION zstd)")
        return
    pq.write_table(query_arrow(store, sql), path)


def parquet_relation(paths: list[Path]) -> str:
    """A FROM-clause relation over Parquet files."""
    return f"read_parquet([{literal_list(paths)}])"


def for_store(store: Store, sql: str) -> str:
    """The DuckDB-dialect statement in the store's own dialect (unchanged on DuckDB)."""
    return sql if store.dialect == "duckdb" else transpile(sql, store.dialect)


def query_arrow(store: Store, sql: str) -> pa.Table:
    """A query's result as Arrow, the query run by the store's engine in its dialect."""
    return store.query_arrow(for_store(store, sql))


def local_store() -> Store:
    """An in-memory DuckDB in this process, for SQL over files on this machine."""
    from openeis.store.duckdb_store import DuckDBStore

    return DuckDBStore(":memory:")


def register(store: Store, name: str, data: pa.Table) -> None:
    store.register_arrow(name, data)


def local_query(sql: str, tables: dict[str, pa.Table]) -> pa.Table:
    """A DuckDB-dialect query over Arrow tables on a private in-memory DuckDB, rows in order.

    For SQL on data already on the client (derived features of a batch): it does not wait
    for, or get in the way of, the store's connection, which one thread uses at a time.
    """
    import duckdb

    from openeis import thread_pools

    con = duckdb.connect(config=thread_pools.duckdb_config())
    try:
        for name, table in tables.items():
            con.register(name, table)
        relation = con.sql(sql)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()
    finally:
        con.close()


def write_scratch(table: pa.Table, path: Path, rows_per_batch: int) -> None:
    """A batch kept until peers are known: Arrow IPC with lz4 (features compress ~10x), a
    fraction of the cost of encoding Parquet, in record batches that read back one at a time."""
    options = ipc.IpcWriteOptions(compression="lz4")
    with ipc.new_file(str(path), table.schema, options=options) as writer:
        writer.write_table(table, max_chunksize=rows_per_batch)


def read_scratch(path: Path) -> Iterator[pa.Table]:
    """The record batches of a scratch file, one at a time (only one is decompressed)."""
    with pa.memory_map(str(path)) as source:
        reader = ipc.open_file(source)
        if reader.num_record_batches == 0:  # an empty batch still has its columns
            yield reader.schema.empty_table()
        for i in range(reader.num_record_batches):
            yield pa.Table.from_batches([reader.get_batch(i)])


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """The output file, written once, one batch at a time (zstd, as DuckDB's COPY above)."""
    return pq.ParquetWriter(str(path), schema, compression="zstd")
