"""Apache Spark as the engine for features and labels, over a Parquet warehouse.

URL: `spark://local[2]?warehouse=/data/eis` runs Spark in this process (local mode, N
cores); `spark://host:7077?warehouse=hdfs://nn/eis` connects to an existing standalone
cluster (any other master Spark accepts is passed with `master=`, e.g.
`spark://cluster?master=yarn&warehouse=...`). Further `spark.*` query parameters become
Spark settings: `spark://host:7077?warehouse=...&spark.executor.memory=8g`.

The warehouse holds one Parquet directory (or file) per table, written by
`openeis.store.warehouse.write_warehouse` from a DuckDB or PostgreSQL store: ingest,
pseudonymisation, the access log and everything else that writes stays on those engines
(they have transactions and locks; a Parquet warehouse has not). Spark reads the tables as
temporary views and runs the feature and label SQL, transpiled from DuckDB's dialect.

What differs from the other stores, and why:
- Sessions run in UTC with TIMESTAMP meaning timestamp-without-time-zone (as DuckDB and
  PostgreSQL's TIMESTAMP), so day numbers and as-of comparisons mean the same everywhere.
- Each store is its own Spark session (`newSession`) over one shared SparkContext: views
  of two warehouses in one process do not collide, and the JVM starts once.
- No transactions: begin/commit do nothing, and statements that write are refused by Spark
  itself (the views are read-only).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qsl

import pyarrow as pa

from openeis import thread_pools
from openeis.sql_text import literal
from openeis.store.base import Store, StoreError
from openeis.store.duckdb_store import local_workspace

# Settings for every session we start: small shuffles (a force is not big data for one
# machine), no UI, UTC, timestamps without time zone.
DEFAULT_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=error",
}
PER_SESSION = ("spark.sql.session.timeZone", "spark.sql.timestampType", "spark.sql.shuffle.partitions",
               "spark.sql.execution.arrow.pyspark.enabled")

_lock = threading.Lock()


def parse_spark_url(url: str) -> tuple[str, str, dict[str, str]]:
    """(master, warehouse, settings) from a spark:// URL."""
    # not urlsplit: it takes local[2] for an IPv6 address
    host, _, query_text = url.removeprefix("spark://").partition("?")
    host = host.rstrip("/")
    query = dict(parse_qsl(query_text))
    warehouse = query.pop("warehouse", None)
    if not warehouse:
        raise StoreError(f"{url}: say where the tables are, e.g. spark://local[2]?warehouse=/data/eis")
    master = query.pop("master", None) or (host if host.startswith("local") else f"spark://{host}")
    if not host and master.startswith("spark://"):
        raise StoreError(f"{url}: no master (spark://local[2]?... or spark://host:7077?...)")
    unknown = [name for name in query if not name.startswith("spark.")]
    if unknown:
        raise StoreError(f"{url}: unknown parameter(s) {', '.join(unknown)} (warehouse, master, spark.*)")
    return master, warehouse, query


def spark_session(master: str, settings: dict[str, str] | None = None):
    """The process's SparkSession for `master` (started once), as a new session of its own."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StoreError("Spark stores need pyspark: pip install pyspark (and Java 17)") from None
    # local[N]: no more task threads than the CPUs this process may use (thread_pools.py)
    master = thread_pools.spark_local_master(master)
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None and active.sparkContext.master != master:
            raise StoreError(f"this process already runs Spark on {active.sparkContext.master}; "
                             f"one master per process (asked for {master})")
        builder = SparkSession.builder.master(master).appName("openeis")
        for name, value in {**DEFAULT_SETTINGS, **(settings or {})}.items():
            builder = builder.config(name, value)
        root = active or builder.getOrCreate()
        root.sparkContext.setLogLevel("ERROR")
    session = root.newSession()
    for name in PER_SESSION:
        session.conf.set(name, (settings or {}).get(name, DEFAULT_SETTINGS[name]))
    return session


class SparkStore(Store):
    dialect = "spark"

    def __init__(self, url: str, read_only: bool = True):
        self.url = url
        master, warehouse, settings = parse_spark_url(url)
        self.warehouse = warehouse
        self.spark = spark_session(master, settings)
        self._views: set[str] = set()
        self._register_tables()

    def _register_tables(self) -> None:
        """Each warehouse table (warehouse.WAREHOUSE_TABLES) as a temporary view."""
        from openeis.store.warehouse import table_paths

        try:
            tables = table_paths(self.warehouse)
        except FileNotFoundError as error:
            raise StoreError(f"no warehouse at {self.warehouse}: {error}") from None
        for name, path in tables.items():
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} USING parquet OPTIONS (path {literal(path)})")
            self._views.add(name)

    # -- statements ---------------------------------------------------------------------

    def _sql(self, sql: str, params: Sequence[Any] | None):
        try:
            return self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
        except Exception as error:  # Spark's AnalysisException and friends
            if type(error).__module__.startswith("pyspark"):
                raise StoreError(f"Spark: {str(error).strip().splitlines()[0]}") from error
            raise

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._sql(sql, params).collect()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return [tuple(row) for row in self._sql(sql, params).collect()]

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return naive_timestamps(self._sql(sql, params).toArrow())

    def register_arrow(self, name: str, data: pa.Table) -> None:
        self.spark.createDataFrame(data).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    # -- no transactions: a read-only warehouse -----------------------------------------

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def migrate(self) -> list:
        """Nothing: a warehouse has the schema version of the store it was written from
        (its schema_migrations table); write it again to bring it up to date."""
        return []

    def workspace(self) -> AbstractContextManager[Store]:
        return local_workspace()

    def table_exists(self, qualified_name: str) -> bool:
        return qualified_name.rpartition(".")[2] in self._views

    def close(self) -> None:
        # The views go with the session; the SparkContext stays for the next store of this
        # process (starting a JVM costs seconds). stop_spark() ends it.
        for name in list(self._views):
            self.spark.catalog.dropTempView(name)
        self._views.clear()


def stop_spark() -> None:
    """Stop this process's SparkContext, if any."""
    from pyspark.sql import SparkSession

    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()


def naive_timestamps(table: pa.Table) -> pa.Table:
    """UTC timestamp columns as timestamps without time zone (DuckDB's TIMESTAMP)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = table.column(index).cast(pa.timestamp(field.type.unit, tz="UTC")).cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, field.name, naive)
    return table
