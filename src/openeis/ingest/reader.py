"""Read canonical input files as batches of strings, with exact line numbers.

Everything is read as text so that validation can say which value in which line is wrong,
rather than failing on the first value a type-guessing reader cannot parse. The fast path is
pyarrow's streaming CSV reader; a file it cannot parse (wrong number of fields, bad UTF-8) is
read again with Python's csv module, which knows each record's line number.

A file is read in batches (about `READ_BLOCK_BYTES` of text each) when its table's turn comes
in the ingest, so a national file (22 M overtime claims) never sits in memory whole; the raw
text of a line a problem is reported on is fetched again by reading the file once more.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openeis.ingest.problems import IngestFailed, Problem
from openeis.schema import TABLES_BY_NAME, Table

SUFFIXES = (".csv.gz", ".csv", ".parquet")
LINE_COLUMN = "_line"
READ_BLOCK_BYTES = 64 << 20  # text per batch: big enough that per-batch SQL costs little
SLOW_BATCH_ROWS = 200_000  # records per batch when Python's csv module reads a broken file
FIELD_LIMIT = 1 << 28  # bytes in one CSV field for Python's reader (its default, 131,072, is a crash)


@dataclass
class SourceFile:
    table: Table
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_parquet(self) -> bool:
        return self.path.name.endswith(".parquet")


class ReadAgain(Exception):
    """The fast reader failed part way through a file: the batches given so far must be
    dropped, and the next `batches()` reads the whole file slowly from the start."""


@dataclass
class ReadResult:
    """A table's canonical columns as strings, plus a `_line` column, already in memory
    (what the adapters for other formats produce)."""

    source: SourceFile
    data: pa.Table
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    discarded_columns: list[str] = field(default_factory=list)

    def batches(self) -> Iterator[pa.Table]:
        yield self.data

    def rows_at(self, lines: set[int]) -> pa.Table:
        return _rows_at(self.data, lines)


@dataclass
class CanonicalFile:
    """A canonical file, read batch by batch each time `batches()` is iterated.

    `problems`, `unknown_columns` and `discarded_columns` are those of the last iteration
    (the columns are known as soon as the first batch is given)."""

    source: SourceFile
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    discarded_columns: list[str] = field(default_factory=list)
    read_slowly: bool = False

    def batches(self) -> Iterator[pa.Table]:
        self.problems = []
        try:
            if self.source.is_parquet:
                raw = _parquet_batches(self.source)
            elif self.read_slowly:
                raw = _slow_csv_batches(self.source, _read_header(self.source), self.problems)
            else:
                raw = self._fast_then_slow()
            for number, batch in enumerate(raw):
                if number == 0:
                    self._check_columns(batch)
                yield _select_canonical(self.source.table, batch)
        except (IngestFailed, ReadAgain):
            raise
        except (OSError, EOFError, zlib.error, csv.Error, pa.ArrowException, ValueError) as error:
            raise IngestFailed(f"{self.source.name}: {unreadable(self.source, error)}") from None

    def _fast_then_slow(self) -> Iterator[pa.Table]:
        header = _read_header(self.source)
        given = 0
        try:
            for batch in _fast_csv_batches(self.source, header):
                given += 1
                yield batch
        except (pa.ArrowInvalid, UnicodeDecodeError):
            self.read_slowly = True
            if given:
                raise ReadAgain(self.source.name) from None
            yield from _slow_csv_batches(self.source, header, self.problems)

    def _check_columns(self, batch: pa.Table) -> None:
        table = self.source.table
        present = [name for name in batch.column_names if name != LINE_COLUMN]
        for name in present:
            if not name.isprintable():
                raise IngestFailed(f"{self.source.name}:1: column name {name!r} holds a control character")
        missing = [c.name for c in table.columns if c.required and c.name not in present]
        if missing:
            raise IngestFailed(
                f"{self.source.name}:1: required column(s) missing from the header: {', '.join(missing)}",
                [Problem(self.source.name, 1, name, None, "required column missing from the header")
                 for name in missing],
            )
        self.discarded_columns = [name for name in present if name in table.discarded]
        self.unknown_columns = [
            name for name in present if name not in table.column_names and name not in table.discarded
        ]

    def rows_at(self, lines: set[int]) -> pa.Table:
        """The canonical columns of these lines, read from the file again (only problems ask)."""
        found = [_rows_at(batch, lines) for batch in self.batches()]
        return pa.concat_tables(found)


def table_name_of(path: Path) -> str | None:
    suffix = suffix_of(path.name)
    return path.name[: -len(suffix)] if suffix else None


def suffix_of(file_name: str) -> str | None:
    """The canonical suffix a file is read by (.csv.gz, .csv, .parquet), or None."""
    return next((suffix for suffix in SUFFIXES if file_name.endswith(suffix)), None)


def discover(directory: Path) -> tuple[list[SourceFile], list[str]]:
    """Canonical files in a directory (one per table) and the names of files ignored."""
    if not directory.is_dir():
        raise IngestFailed(f"{directory}: not a directory (give the directory that holds the canonical files)")
    sources: dict[str, SourceFile] = {}
    ignored: list[str] = []
    try:
        paths = sorted(directory.iterdir())
    except OSError as error:
        raise IngestFailed(f"{directory}: cannot be read: {error.strerror or error}") from None
    for path in paths:
        if path.is_dir():
            continue
        name = table_name_of(path)
        if name is None or name not in TABLES_BY_NAME:
            ignored.append(path.name)
            continue
        _check_readable(path)
        if name in sources:
            raise IngestFailed(
                f"{directory}: two files for table {name}: {sources[name].name} and {path.name}"
            )
        sources[name] = SourceFile(TABLES_BY_NAME[name], path)
    if not sources:
        raise IngestFailed(
            f"{directory}: no canonical files found (expected files named after tables, "
            f"e.g. officers.csv, allegations.csv.gz, complaints.parquet)"
        )
    return list(sources.values()), ignored


def _check_readable(path: Path) -> None:
    """A table's file must be a regular file that can be opened: a dangling or looping
    symbolic link, a pipe (which would block the batch for ever) or an unreadable file is
    refused by name before anything is read."""
    try:
        info = path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise IngestFailed(f"{path.name}: a symbolic link that leads back to itself (a loop)") from None
        if error.errno == errno.ENOENT and path.is_symlink():
            raise IngestFailed(f"{path.name}: a symbolic link to {os.readlink(path)}, which does not exist") from None
        raise IngestFailed(f"{path.name}: cannot be read: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise IngestFailed(f"{path.name}: not a regular file (a pipe, socket or device cannot be loaded)")
    if not os.access(path, os.R_OK):
        raise IngestFailed(f"{path.name}: cannot be read: permission denied")


def unreadable(source: SourceFile, error: BaseException) -> str:
    """Why a file could not be read, for a person."""
    if isinstance(error, gzip.BadGzipFile) or (isinstance(error, OSError) and "gzip" in str(error).lower()
                                               and source.path.name.endswith(".gz")):
        return "not a gzip file, though its name ends in .gz"
    if isinstance(error, EOFError):
        return "the compressed file is cut short (it ends before its last block): copy it again"
    if isinstance(error, zlib.error):
        return f"the compressed file is corrupt ({error})"
    if isinstance(error, pa.ArrowException):
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"cannot be read: {detail[:300]}"
    if isinstance(error, OSError):
        return f"cannot be read: {error.strerror or error}"
    return f"cannot be read: {str(error)[:300] or type(error).__name__}"


def _rows_at(data: pa.Table, lines: set[int]) -> pa.Table:
    wanted = pa.array(sorted(lines), type=pa.int64())
    return data.filter(pc.is_in(data.column(LINE_COLUMN), value_set=wanted))


# -- CSV --------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _read_header(source: SourceFile) -> list[str]:
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    with _open_text(source.path) as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise IngestFailed(f"{source.name}:1: the file is empty (a header line is required)") from None
        except csv.Error as error:
            raise IngestFailed(f"{source.name}:1: the header is not readable as CSV: {error}") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise IngestFailed(f"{source.name}:1: column {name!r} appears twice in the header")
        seen.add(name)
    return header


def _read_csv(source: SourceFile) -> tuple[pa.Table, list[Problem]]:
    """A whole CSV file, every column, as strings (the adapters read their sources so)."""
    header = _read_header(source)
    try:
        return pa.concat_tables(list(_fast_csv_batches(source, header))), []
    except (pa.ArrowInvalid, UnicodeDecodeError):
        problems: list[Problem] = []
        return pa.concat_tables(list(_slow_csv_batches(source, header, problems))), problems


def _fast_csv_batches(source: SourceFile, header: list[str]) -> Iterator[pa.Table]:
    """Every column as strings plus `_line`; blank lines dropped. Raises ArrowInvalid (maybe
    after some batches) on a file pyarrow cannot parse."""
    reader = pacsv.open_csv(
        source.path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=READ_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    next_line = 2  # the header is line 1
    given = False
    for batch in reader:
        data = pa.Table.from_batches([batch])
        lines, next_line = _line_numbers(data, next_line)
        given = True
        yield _drop_blank_lines(data.append_column(LINE_COLUMN, lines))
    if not given:
        yield _empty(header)


def _empty(header: list[str]) -> pa.Table:
    schema = pa.schema([(name, pa.string()) for name in header] + [(LINE_COLUMN, pa.int64())])
    return schema.empty_table()


def _drop_blank_lines(data: pa.Table) -> pa.Table:
    """A blank line (or one of only empty fields) holds nothing to load or to complain of."""
    values = [data.column(name) for name in data.column_names if name != LINE_COLUMN]
    if data.num_rows == 0 or not values or any(column.null_count == 0 for column in values):
        return data  # some column is filled in every row: no row is blank
    empty = None
    for column in values:
        is_null = pc.is_null(column)
        empty = is_null if empty is None else pc.and_(empty, is_null)
    return data.filter(pc.invert(empty))


def _line_numbers(data: pa.Table, first_line: int) -> tuple[pa.Array, int]:
    """Physical line of each record, and the line after the batch: quoted newlines add lines."""
    count = data.num_rows
    base = np.arange(first_line, first_line + count, dtype=np.int64)
    extra = np.zeros(count, dtype=np.int64)
    for column in data.columns:
        if _may_hold_newline(column):
            extra += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy()
    if not extra.any():
        return pa.array(base), first_line + count
    # A record starts after every newline inside the records before it.
    before = np.cumsum(extra) - extra
    return pa.array(base + before), first_line + count + int(extra.sum())


def _may_hold_newline(column: pa.ChunkedArray) -> bool:
    """Whether any newline byte is in the column's text (a scan of the raw bytes, much
    cheaper than counting per value; nearly every column of a real file has none)."""
    for chunk in column.chunks:
        text = chunk.buffers()[2]
        if text is not None and text.size and np.any(np.frombuffer(text, dtype=np.uint8) == 10):
            return True
    return False


def _slow_csv_batches(source: SourceFile, header: list[str], problems: list[Problem]) -> Iterator[pa.Table]:
    rows: list[list[str | None]] = []
    lines: list[int] = []
    given = False
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    with _open_text(source.path) as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        start = reader.line_num + 1
        for record in _records(reader, source):
            line = start
            start = reader.line_num + 1
            if not record:
                continue  # blank line: nothing to load, and line numbers stay exact
            if any("\ufffd" in value for value in record):
                problems.append(Problem(source.name, line, None, None, "not valid UTF-8 text"))
                continue
            if len(record) != len(header):
                problems.append(
                    Problem(
                        source.name,
                        line,
                        None,
                        None,
                        f"expected {len(header)} fields as in the header, found {len(record)}",
                    )
                )
                continue
            rows.append([value if value != "" else None for value in record])
            lines.append(line)
            if len(rows) == SLOW_BATCH_ROWS:
                yield _rows_table(header, rows, lines)
                given = True
                rows, lines = [], []
    if rows or not given:
        yield _rows_table(header, rows, lines)


def _records(reader, source: SourceFile) -> Iterator[list[str]]:
    """The reader's records; a record it cannot parse stops the file with its line number."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise IngestFailed(f"{source.name}:{reader.line_num}: not readable as CSV: {error}") from None


def _rows_table(header: list[str], rows: list[list[str | None]], lines: list[int]) -> pa.Table:
    columns = {name: pa.array([row[i] for row in rows], type=pa.string()) for i, name in enumerate(header)}
    columns[LINE_COLUMN] = pa.array(lines, type=pa.int64())
    return pa.table(columns)


# -- Parquet ----------------------------------------------------------------------------


def _parquet_batches(source: SourceFile) -> Iterator[pa.Table]:
    try:
        parquet = pq.ParquetFile(source.path)
        next_line = 1  # a Parquet file has no header line: row 1 is its first record
        for batch in parquet.iter_batches(batch_size=1_000_000):
            data = _parquet_as_text(source, pa.Table.from_batches([batch]), next_line)
            next_line += batch.num_rows
            yield data
        if next_line == 1:
            yield _parquet_as_text(source, parquet.schema_arrow.empty_table(), 1)
    except (pa.ArrowException, OSError) as error:
        raise IngestFailed(f"{source.name}: not a readable Parquet file: {error}") from None


def _parquet_as_text(source: SourceFile, data: pa.Table, first_line: int) -> pa.Table:
    columns = {}
    for name in data.column_names:
        column = data.column(name)
        if pa.types.is_nested(column.type) or pa.types.is_union(column.type):
            if name in source.table.column_names:
                raise IngestFailed(f"{source.name}: column {name} holds {column.type} values; a canonical column "
                                   "holds one plain value per row (text, a number, a date)")
            columns[name] = pa.nulls(data.num_rows, pa.string())  # not stored anyway: named in the report
            continue
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = pc.cast(column, pa.timestamp(column.type.unit))  # the instant in UTC, never the offset dropped
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
        elif pa.types.is_boolean(column.type):
            column = pc.if_else(column, "true", "false")
        try:
            columns[name] = pc.cast(column, pa.string())
        except pa.ArrowException as error:
            raise IngestFailed(f"{source.name}: column {name} ({column.type}) cannot be read as text: "
                               f"{str(error).splitlines()[0][:200]}") from None
    columns[LINE_COLUMN] = pa.array(np.arange(first_line, first_line + data.num_rows, dtype=np.int64))
    return pa.table(columns)


# -- keep the canonical columns only ----------------------------------------------------


def _select_canonical(table: Table, raw: pa.Table) -> pa.Table:
    """The table's columns, trimmed, blanks as missing; names, free text and unknown columns
    are dropped here, before anything is stored."""
    present = set(raw.column_names)
    columns = {}
    for column in table.columns:
        if column.name in present:
            values = raw.column(column.name)
            # Surrounding blanks are never meaningful; a blank value is a missing value.
            values = pc.utf8_trim_whitespace(values)
            values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
            columns[column.name] = values
        else:
            columns[column.name] = pa.nulls(raw.num_rows, type=pa.string())
    columns[LINE_COLUMN] = raw.column(LINE_COLUMN)
    return pa.table(columns)
