"""The store: where OpenEIS keeps everything, behind one small interface.

`open_store(url)` picks the engine from the URL: a file path means an embedded DuckDB file,
`postgresql://user@host:port/db` a PostgreSQL database; Spark plugs in here later without
touching the stages above.
"""

from openeis.store.base import Store, StoreError
from openeis.store.open import open_store

__all__ = ["Store", "StoreError", "open_store"]
