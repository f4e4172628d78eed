"""Store connections for the web server's request threads.

DuckDB is embedded: one connection, one request at a time (a single-user demo store).
PostgreSQL takes many users at once: a small pool of connections, one per request in flight.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from openeis.store import Store, open_store


class StoreProvider:
    def __init__(self, url: str, pool_size: int = 8):
        self.url = url
        self.server = url.startswith(("postgresql://", "postgres://"))
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size if self.server else 1)
        self._closed = False

    @contextmanager
    def borrow(self) -> Iterator[Store]:
        """A store for this request; waits while every connection is busy."""
        self._slots.acquire()
        store = None
        try:
            try:
                store = self._idle.get_nowait()
            except queue.Empty:
                store = open_store(self.url)
            yield store
        except BaseException:
            # Transactions roll back on their own; a connection that cannot even do that is
            # broken (server restarted, network) and is not handed out again.
            if store is not None and self.server:
                try:
                    store.rollback()
                except Exception:
                    store.close()
                    store = None
            raise
        finally:
            if store is not None:
                self._idle.put(store)
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
