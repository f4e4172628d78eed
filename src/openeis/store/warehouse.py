"""A Parquet warehouse: the tables features and labels read, for Spark to run them.

`write_warehouse(store, directory)` copies them from a DuckDB or PostgreSQL store, one
Parquet directory per table (`<directory>/<table>/part-0.parquet`). Only what features and
labels read goes: the canonical event tables and their history (earlier versions of corrected
records), never the protected (`restricted`) ones, the
quarantine, the access log or the store's metadata; pseudonyms as the store holds them.
Timestamps are written without time zone, as the store holds them (UTC wall time).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from openeis.schema import TABLES
from openeis.store.base import Store

# Their history tables (earlier versions of corrected records), so that Spark reads what was
# known on each date as the store does; schema_migrations too: a warehouse says which schema
# version its tables have.
WAREHOUSE_TABLES = (tuple(t.name for t in TABLES if not t.restricted)
                    + tuple(f"{t.name}_history" for t in TABLES if not t.restricted) + ("schema_migrations",))


def write_warehouse(store: Store, directory: str | Path) -> dict[str, int]:
    """Write the warehouse tables of `store` under `directory` (replacing them); rows per table."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in WAREHOUSE_TABLES:
        table = store.query_arrow(f"SELECT * FROM {name}")
        staging = root / f".{name}.writing"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        pq.write_table(table, staging / "part-0.parquet", compression="zstd")
        shutil.rmtree(root / name, ignore_errors=True)
        staging.rename(root / name)  # a reader sees the old table or the new one, never half
        written[name] = table.num_rows
    return written


def table_paths(warehouse: str) -> dict[str, str]:
    """Table name -> its Parquet path. A local warehouse must hold every table; on a
    cluster's storage (hdfs://, s3a://, ...) the paths are taken as written."""
    if "://" in warehouse and not warehouse.startswith("file://"):
        return {name: f"{warehouse.rstrip('/')}/{name}" for name in WAREHOUSE_TABLES}
    root = Path(warehouse.removeprefix("file://"))
    missing = [name for name in WAREHOUSE_TABLES if not (root / name).exists()]
    if missing:
        raise FileNotFoundError(f"missing table(s) {', '.join(missing)} (write_warehouse writes them)")
    return {name: str((root / name).resolve()) for name in WAREHOUSE_TABLES}
