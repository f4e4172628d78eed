"""The store: where OpenEIS keeps everything, behind one small interface.

`open_store(url)` picks the engine from the URL: a file path means an embedded DuckDB file,
`postgresql://user@host:port/db` a PostgreSQL database, `spark://local[2]?warehouse=DIR` or
`spark://host:7077?warehouse=...` Apache Spark over a Parquet warehouse (features and labels
only; see docs/scale.md).
"""

from openeis.store.base import Store, StoreError
from openeis.store.open import open_store, store_location

__all__ = ["Store", "StoreError", "open_store", "store_location"]
