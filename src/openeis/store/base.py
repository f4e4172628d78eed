"""The interface every store engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pyarrow as pa


class StoreError(Exception):
    """A store that cannot be opened or used as asked."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Migration files NNNN_name.sql shipped in openeis/migrations, in version order."""
    found = []
    for entry in resources.files("openeis.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


class Store(ABC):
    """A connection to one store. Not thread-safe: one per thread or process."""

    url: str

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...

    @abstractmethod
    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    @abstractmethod
    def register_arrow(self, name: str, data: pa.Table) -> None:
        """Make in-memory Arrow data queryable as a temporary view `name` (never stored)."""

    @abstractmethod
    def unregister(self, name: str) -> None: ...

    @contextmanager
    def registered(self, name: str, data: pa.Table) -> Iterator[None]:
        """`data` queryable as `name` for the duration of a with-block."""
        self.register_arrow(name, data)
        try:
            yield
        finally:
            self.unregister(name)

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def table_exists(self, qualified_name: str) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit on success, roll back on any exception."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # -- schema versions ---------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.table_exists("schema_migrations"):
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def migrate(self) -> list[Migration]:
        """Apply every migration newer than the store's version, each in its own transaction."""
        if not self.table_exists("schema_migrations"):
            self.execute(
                "CREATE TABLE schema_migrations ("
                "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        current = self.schema_version()
        applied = []
        for migration in load_migrations():
            if migration.version <= current:
                continue
            with self.transaction():
                for statement in split_sql(migration.sql):
                    self.execute(statement)
                self.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)",
                    [migration.version, migration.name],
                )
            applied.append(migration)
        return applied

    # -- small metadata store ----------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        return self.scalar("SELECT value FROM store_meta WHERE name = ?", [name])

    def set_meta(self, name: str, value: str) -> None:
        self.execute("DELETE FROM store_meta WHERE name = ?", [name])
        self.execute("INSERT INTO store_meta VALUES (?, ?)", [name, value])


def split_sql(script: str) -> list[str]:
    """Statements of a migration script (our scripts keep ';' out of literals and comments)."""
    statements = []
    for chunk in script.split(";"):
        lines = [line for line in chunk.splitlines() if not line.strip().startswith("--")]
        statement = "\n".join(lines).strip()
        if statement:
            statements.append(statement)
    return statements
