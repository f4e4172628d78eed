"""Read canonical input files into Arrow tables of strings, with exact line numbers.

Everything is read as text so that validation can say which value in which line is wrong,
rather than failing on the first value a type-guessing reader cannot parse. The fast path is
pyarrow's CSV reader; a file it cannot parse (wrong number of fields, blank lines, bad
UTF-8) is read again with Python's csv module, which knows each record's line number.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openeis.ingest.problems import IngestFailed, Problem
from openeis.schema import TABLES_BY_NAME, Table

SUFFIXES = (".csv.gz", ".csv", ".parquet")
LINE_COLUMN = "_line"


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


@dataclass
class ReadResult:
    """A file's canonical columns as strings, plus a `_line` column."""

    source: SourceFile
    data: pa.Table
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    discarded_columns: list[str] = field(default_factory=list)

    def load(self) -> ReadResult:
        return self


@dataclass
class PendingRead:
    """A file read only when its table's turn comes in the ingest (and dropped after it):
    reading every file first held a whole force's raw text in memory at once."""

    source: SourceFile

    def load(self) -> ReadResult:
        return read_source(self.source)


def table_name_of(path: Path) -> str | None:
    for suffix in SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def discover(directory: Path) -> tuple[list[SourceFile], list[str]]:
    """Canonical files in a directory (one per table) and the names of files ignored."""
    if not directory.is_dir():
        raise IngestFailed(f"{directory} is not a directory")
    sources: dict[str, SourceFile] = {}
    ignored: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            continue
        name = table_name_of(path)
        if name is None or name not in TABLES_BY_NAME:
            ignored.append(path.name)
            continue
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


def read_source(source: SourceFile) -> ReadResult:
    if source.is_parquet:
        raw = _read_parquet(source)
        problems: list[Problem] = []
    else:
        raw, problems = _read_csv(source)
    return _select_canonical(source, raw, problems)


# -- CSV --------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _read_header(source: SourceFile) -> list[str]:
    with _open_text(source.path) as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise IngestFailed(f"{source.name}:1: the file is empty (a header line is required)")
    header = [name.strip().lstrip("\ufeff") for name in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise IngestFailed(f"{source.name}:1: column {name!r} appears twice in the header")
        seen.add(name)
    return header


def _read_csv(source: SourceFile) -> tuple[pa.Table, list[Problem]]:
    header = _read_header(source)
    try:
        data = pacsv.read_csv(
            source.path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _read_csv_slowly(source, header)
    data = data.append_column(LINE_COLUMN, _line_numbers(data))
    return _drop_blank_lines(data), []


def _drop_blank_lines(data: pa.Table) -> pa.Table:
    """A blank line (or one of only empty fields) holds nothing to load or to complain of."""
    if data.num_rows == 0:
        return data
    empty = None
    for name in data.column_names:
        if name == LINE_COLUMN:
            continue
        is_null = pc.is_null(data.column(name))
        empty = is_null if empty is None else pc.and_(empty, is_null)
    return data if empty is None else data.filter(pc.invert(empty))


def _line_numbers(data: pa.Table) -> pa.Array:
    """Physical line of each record: the header is line 1; quoted newlines add lines."""
    count = data.num_rows
    extra = None
    for column in data.columns:
        newlines = pc.fill_null(pc.count_substring(column, "\n"), 0)
        extra = newlines if extra is None else pc.add(extra, newlines)
    base = pa.array(range(2, count + 2), type=pa.int64())
    if extra is None or count == 0 or pc.max(extra).as_py() == 0:
        return base
    # A record starts after every newline inside the records before it.
    before = pc.subtract(pc.cumulative_sum(pc.cast(extra, pa.int64())), pc.cast(extra, pa.int64()))
    return pc.add(base, before)


def _read_csv_slowly(source: SourceFile, header: list[str]) -> tuple[pa.Table, list[Problem]]:
    problems: list[Problem] = []
    rows: list[list[str | None]] = []
    lines: list[int] = []
    with _open_text(source.path) as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        start = reader.line_num + 1
        for record in reader:
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
    columns = {name: pa.array([row[i] for row in rows], type=pa.string()) for i, name in enumerate(header)}
    columns[LINE_COLUMN] = pa.array(lines, type=pa.int64())
    return pa.table(columns), problems


# -- Parquet ----------------------------------------------------------------------------


def _read_parquet(source: SourceFile) -> pa.Table:
    try:
        data = pq.read_table(source.path)
    except (pa.ArrowInvalid, OSError) as error:
        raise IngestFailed(f"{source.name}: not a readable Parquet file: {error}") from None
    columns = {}
    for name in data.column_names:
        column = data.column(name)
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
        elif pa.types.is_boolean(column.type):
            column = pc.if_else(column, "true", "false")
        columns[name] = pc.cast(column, pa.string())
    columns[LINE_COLUMN] = pa.array(range(1, data.num_rows + 1), type=pa.int64())
    return pa.table(columns)


# -- keep the canonical columns only ----------------------------------------------------


def _select_canonical(source: SourceFile, raw: pa.Table, problems: list[Problem]) -> ReadResult:
    table = source.table
    present = [name for name in raw.column_names if name != LINE_COLUMN]
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        raise IngestFailed(
            f"{source.name}:1: required column(s) missing from the header: {', '.join(missing)}",
            [Problem(source.name, 1, name, None, "required column missing from the header") for name in missing],
        )
    discarded = [name for name in present if name in table.discarded]
    unknown = [name for name in present if name not in table.column_names and name not in table.discarded]
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
    # Names, free text and unknown columns are dropped here, before anything is stored.
    return ReadResult(source, pa.table(columns), problems, unknown, discarded)
