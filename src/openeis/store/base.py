"""The interface every store engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
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


def load_migrations(dialect: str = "duckdb", package: str = "openeis.migrations") -> list[Migration]:
    """Migrations for one engine, in version order.

    `NNNN_name.sql` is portable SQL, run on every engine. Where a statement must differ,
    `NNNN_name.<dialect>.sql` (dialect `duckdb` or `postgres`) replaces the portable file on
    that engine, whole. A version with variants only is empty (recorded, nothing run) on the
    other engines. See DEVELOPERS.md for what portable means."""
    by_version: dict[int, dict[str | None, tuple[str, str]]] = {}
    for entry in resources.files(package).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        number, _, rest = entry.name.removesuffix(".sql").partition("_")
        name, _, variant = rest.partition(".")
        files = by_version.setdefault(int(number), {})
        if (variant or None) in files:  # e.g. two engineers both took the next number
            raise StoreError(f"two migration files for version {number} ({entry.name})")
        files[variant or None] = (name, entry.read_text())
    found = []
    for version, files in sorted(by_version.items()):
        names = {name for name, _ in files.values()}
        if len(names) > 1:
            raise StoreError(f"migration {version:04d} has files with different names: {', '.join(sorted(names))}")
        name, sql = files.get(dialect) or files.get(None) or (names.pop(), "")
        found.append(Migration(version, name, sql))
    return found


class Store(ABC):
    """A connection to one store. Not thread-safe: one per thread or process."""

    url: str
    dialect: str = "duckdb"  # which migration variants apply (see load_migrations)

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

    def lock(self, name: str) -> None:  # noqa: B027 (a no-op unless an engine overrides it)
        """Serialise writers that must not interleave (the access log's chain, ingest
        batches, migrations): wait until no other session holds `name`, then hold it until
        this transaction ends. Call inside a transaction. An embedded store has one writer
        process at a time already, so by default this does nothing."""

    @contextmanager
    def workspace(self) -> Iterator[Store]:
        """Where a batch is pseudonymised and validated before it is written: the only
        place raw identifiers and the key are used. An in-process engine is its own
        workspace; a server engine gives `local_workspace()` instead, so that neither ever
        reaches the server."""
        yield self

    _transaction_depth = 0
    _after_commit: dict[object, Callable[[], None]] | None = None

    @property
    def in_transaction(self) -> bool:
        return self._transaction_depth > 0

    def after_commit(self, then: Callable[[], None], replacing: object = None) -> None:
        """Run `then` once the current transaction has committed (at once outside one); it is
        dropped if the transaction rolls back. For what must follow a commit and may never
        run ahead of one: the access log's anchor outside the store. A later step given the
        same `replacing` key takes the place of an earlier one (the anchor moves once, to the
        transaction's last entry)."""
        if not self._transaction_depth:
            then()
            return
        if self._after_commit is None:
            self._after_commit = {}
        self._after_commit.pop(replacing if replacing is not None else object(), None)
        self._after_commit[replacing if replacing is not None else object()] = then

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit on success, roll back on any exception. A transaction
        opened inside another joins it, so that an action's work and its access-log entry
        commit together (openeis.application): the outermost one commits or rolls back."""
        if self._transaction_depth:
            self._transaction_depth += 1
            try:
                yield
            finally:
                self._transaction_depth -= 1
            return
        self.begin()
        self._transaction_depth = 1
        self._after_commit = None
        try:
            yield
        except BaseException:
            self._transaction_depth = 0
            self._after_commit = None
            self.rollback()
            raise
        self._transaction_depth = 0
        then: list[Callable[[], None]] = list((self._after_commit or {}).values())
        self._after_commit = None
        self.commit()
        for step in then:
            step()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # -- schema versions ---------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.table_exists("schema_migrations"):
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def migrate(self) -> list[Migration]:
        """Apply every migration the store has not recorded, each in its own transaction.
        By version number, not only above the highest: a migration merged after a newer one
        still runs. Under a lock, so that two sessions starting at once apply each once."""
        migrations = load_migrations(self.dialect)
        if self.table_exists("schema_migrations"):  # the usual case, every command: nothing to do
            recorded = {int(row[0]) for row in self.query("SELECT version FROM schema_migrations")}
            if recorded >= {m.version for m in migrations}:
                return []
        with self.transaction():
            self.lock("migrate")
            self.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        applied = []
        for migration in migrations:
            if self._applied(migration.version):
                continue
            with self.transaction():
                self.lock("migrate")
                if self._applied(migration.version):  # another session was first
                    continue
                for statement in split_sql(migration.sql):
                    self.execute(statement)
                self.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)",
                    [migration.version, migration.name],
                )
            applied.append(migration)
        return applied

    def _applied(self, version: int) -> bool:
        return bool(self.scalar("SELECT count(*) FROM schema_migrations WHERE version = ?", [version]))

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
