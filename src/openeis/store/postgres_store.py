"""A PostgreSQL server as the store (many users at once), through psycopg 3.

What differs from the embedded DuckDB store, and why:
- SQL is written with `?` placeholders for both engines; they become psycopg's `%s` here.
- Arrow data goes in with COPY ... FROM STDIN (CSV written by pyarrow, streamed) into a
  temporary table, and results come out with COPY ... TO STDOUT read by pyarrow with the
  column types PostgreSQL reports: no row-by-row Python on either side.
- Each session runs in UTC with ISO dates, so timestamps mean the same as in DuckDB.
- `lock(name)` takes a transaction-level advisory lock, so that concurrent writers (the
  access log's hash chain, ingest batches, migrations) queue instead of forking.
- A batch is pseudonymised and validated in an in-memory DuckDB in this process
  (`workspace`): raw identifiers and the key never reach the server, not even in a
  temporary table or a query parameter that the server's log could record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus

from openeis.store.base import Store, StoreError
from openeis.store.duckdb_store import local_workspace

# PostgreSQL type OIDs -> Arrow types for results read through CSV.
ARROW_TYPES = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    26: pa.int64(),  # oid
    700: pa.float32(),
    701: pa.float64(),
    1700: pa.float64(),  # numeric (sums, averages): as DuckDB gives them, a number
    25: pa.string(),
    19: pa.string(),  # name
    1042: pa.string(),
    1043: pa.string(),
    114: pa.string(),  # json
    3802: pa.string(),  # jsonb
    2950: pa.string(),  # uuid
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


def _sql_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow column written with COPY."""
    if pa.types.is_dictionary(arrow_type):
        return _sql_type(arrow_type.value_type)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return "TEXT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return "SMALLINT"
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "INTEGER"
    if pa.types.is_int64(arrow_type) or pa.types.is_uint32(arrow_type):
        return "BIGINT"
    if pa.types.is_uint64(arrow_type) or pa.types.is_decimal(arrow_type):
        return "NUMERIC"
    if pa.types.is_float32(arrow_type):
        return "REAL"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    raise StoreError(f"cannot send Arrow type {arrow_type} to PostgreSQL")


_LITERAL = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


def to_pyformat(sql: str) -> str:
    """`?` placeholders (outside quotes) -> `%s`; a literal `%` -> `%%` (psycopg's syntax)."""
    parts = _LITERAL.split(sql)
    for index, part in enumerate(parts):
        escaped = part.replace("%", "%%")
        parts[index] = escaped if index % 2 else escaped.replace("?", "%s")
    return "".join(parts)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class _NumberLoader(Loader):
    """numeric -> int when whole, else float (as DuckDB returns sums and averages)."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)


class _CopyWriter:
    """A file-like sink for pyarrow's CSV writer that streams into a COPY."""

    def __init__(self, copy: psycopg.Copy):
        self.copy = copy
        self.closed = False

    def write(self, data: bytes) -> int:
        self.copy.write(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


class PostgresStore(Store):
    dialect = "postgres"

    def __init__(self, url: str, read_only: bool = False):
        self.url = url
        # Statements outside begin()/commit() commit on their own, as on DuckDB. No automatic
        # server-side prepared statements: temporary tables are dropped and made again under
        # the same names (a cached plan would go stale), and poolers in transaction mode
        # cannot keep them.
        options = {} if "connect_timeout" in url else {"connect_timeout": 15}
        try:
            self.connection = psycopg.connect(url, autocommit=True, prepare_threshold=None, **options)
        except psycopg.Error as error:
            raise StoreError(f"cannot open store {redacted(url)}: {str(error).strip()}") from None
        self.connection.adapters.register_loader("numeric", _NumberLoader)
        # Timestamps are stored as UTC wall time, read and written in ISO form.
        self.connection.execute("SET TimeZone = 'UTC'")
        self.connection.execute("SET DateStyle = 'ISO, YMD'")
        self.connection.execute("SET IntervalStyle = 'postgres'")
        self.connection.execute("SET extra_float_digits = 1")
        if read_only:
            self.connection.execute("SET default_transaction_read_only = on")
        encoding = self.connection.execute("SHOW server_encoding").fetchone()[0]
        if encoding.upper() not in ("UTF8", "UTF-8"):
            self.connection.close()
            raise StoreError(f"database {redacted(url)} uses encoding {encoding}; OpenEIS needs UTF8 "
                             "(CREATE DATABASE ... ENCODING 'UTF8')")

    # -- statements ---------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params).close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        with self._run(sql, params) as cursor:
            return cursor.fetchall() if cursor.description else []

    def _run(self, sql: str, params: Sequence[Any] | None) -> psycopg.Cursor:
        if params is None:  # psycopg reads no placeholders then, and `%` is plain text
            return self.connection.execute(sql)
        return self.connection.execute(to_pyformat(sql), list(params))

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        statement = sql.strip().rstrip(";")
        if not re.match(r"(?is)^\s*(select|with|values|table|\()", statement):
            self.execute(sql, params)  # a statement that returns nothing
            return pa.table({})
        bound = to_pyformat(statement) if params is not None else statement
        values = list(params) if params is not None else None
        with self.connection.cursor() as cursor:
            # The column types, without running the query (planning only).
            cursor.execute(f"SELECT * FROM ({bound}) AS _openeis_q LIMIT 0", values)
            names = [column.name for column in cursor.description]
            types = [ARROW_TYPES.get(column.type_code) for column in cursor.description]
            if None in types or len(set(names)) != len(names):
                cursor.execute(bound, values)
                return self._rows_to_arrow(names, types, cursor.fetchall())
            chunks = []
            with cursor.copy(f"COPY ({bound}) TO STDOUT (FORMAT csv)", values) as copy:
                for block in copy:
                    chunks.append(bytes(block))
        schema = pa.schema(list(zip(names, types)))
        if not chunks:
            return schema.empty_table()
        data = b"".join(chunks)
        options = pacsv.ConvertOptions(
            column_types=dict(zip(names, types)),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, an unquoted empty is NULL
            true_values=["t"],
            false_values=["f"],
        )
        read = pacsv.ReadOptions(column_names=names, block_size=max(1 << 20, min(len(data), 64 << 20)))
        try:
            table = pacsv.read_csv(pa.py_buffer(data), read_options=read,
                                   # one NULL column is an empty line: a row, not nothing
                                   parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                                   convert_options=options)
        except pa.ArrowInvalid:  # a value pyarrow cannot parse (e.g. a date before year 1)
            cursor = self.connection.execute(bound, values)
            return self._rows_to_arrow(names, types, cursor.fetchall())
        return table.cast(schema)

    @staticmethod
    def _rows_to_arrow(names: list[str], types: list, rows: list[tuple]) -> pa.Table:
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        arrays = [pa.array(list(values), type=arrow_type) for values, arrow_type in zip(columns, types)]
        return pa.Table.from_arrays(arrays, names=[f"{n}_{i}" if names.count(n) > 1 else n
                                                   for i, n in enumerate(names)])

    # -- Arrow in -----------------------------------------------------------------------

    def register_arrow(self, name: str, data: pa.Table) -> None:
        """A temporary table filled by COPY (the closest PostgreSQL has to DuckDB's view of
        in-memory data); dropped by `unregister` or at the end of the session."""
        data = _plain_columns(data)
        columns = ", ".join(f'"{field.name}" {_sql_type(field.type)}' for field in data.schema)
        self.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.execute(f"CREATE TEMP TABLE {name} ({columns})")
        if data.num_rows == 0 or data.num_columns == 0:
            return
        for field in data.schema:
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                if pc.any(pc.match_substring(data.column(field.name), "\x00")).as_py():
                    raise StoreError(f"column {field.name} holds a NUL character, which PostgreSQL cannot store")
        names = ", ".join(f'"{field.name}"' for field in data.schema)
        with self.connection.cursor() as cursor:
            with cursor.copy(f"COPY {name} ({names}) FROM STDIN (FORMAT csv)") as copy:
                sink = _CopyWriter(copy)
                with pacsv.CSVWriter(sink, data.schema, write_options=pacsv.WriteOptions(include_header=False)) as writer:
                    for batch in data.to_batches(max_chunksize=50_000):
                        writer.write_batch(batch)
        if data.num_rows > 10_000:
            self.execute(f"ANALYZE {name}")  # temporary tables get no statistics otherwise

    def unregister(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")

    # -- transactions -------------------------------------------------------------------

    def begin(self) -> None:
        # READ COMMITTED whatever the server's default: a writer that waited for a lock
        # must see what the writer before it committed.
        self.connection.execute("BEGIN ISOLATION LEVEL READ COMMITTED")

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self.connection.info.transaction_status != TransactionStatus.IDLE:
            self.connection.execute("ROLLBACK")

    def lock(self, name: str) -> None:
        if self.connection.info.transaction_status == TransactionStatus.IDLE:
            raise StoreError(f"lock({name!r}) outside a transaction would be released at once")
        self.connection.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_key(name)])

    def workspace(self) -> AbstractContextManager[Store]:
        return local_workspace()

    # -- catalogue ----------------------------------------------------------------------

    def table_exists(self, qualified_name: str) -> bool:
        schema, _, name = qualified_name.rpartition(".")
        rows = self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = coalesce(?, current_schema()) "
            "AND table_name = ?",
            [schema or None, name],
        )
        return bool(rows)

    def vacuum_full(self, tables: Sequence[str]) -> None:
        """Rewrite tables into new files, so deleted rows leave the table files (retention).
        Takes an exclusive lock on each table while it runs."""
        for table in tables:
            self.execute(f"VACUUM FULL {table}")

    def close(self) -> None:
        self.connection.close()


def advisory_key(name: str) -> int:
    """A stable 64-bit lock key for a name (PostgreSQL's hashtext is not a stable API)."""
    digest = hashlib.sha256(f"openeis:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _plain_columns(data: pa.Table) -> pa.Table:
    """Dictionary columns as their values (CSV writes values, the table holds them)."""
    for index, field in enumerate(data.schema):
        if pa.types.is_dictionary(field.type):
            data = data.set_column(index, field.name, data.column(index).cast(field.type.value_type))
    return data
