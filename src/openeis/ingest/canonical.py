"""The ingestion pipeline: read, pseudonymise, validate, then write all or nothing.

Order of work, and why:
1. Every file is read as text, in batches, and reduced to the canonical columns (names, free
   text and unknown columns are dropped in memory, before anything touches the store).
2. Identifier columns are replaced by keyed pseudonyms batch by batch (the raw text is never
   stored: an error message on an identifier reads the line from the file again).
3. Each table is validated in dependency order (units and officers before the tables that
   refer to them), so a reference is checked against the store plus this batch's valid rows.
4. If anything is wrong and the mode is atomic, nothing is written. Otherwise all tables,
   the quarantine and the batch record are written in one transaction: a crash at any point
   leaves the store as it was.
5. Rows are matched on their source key; an identical row is left alone, a changed one is
   replaced and the change (columns and row hashes) is recorded. A *correction* also keeps the
   version it replaces in the table's history, with the interval during which it was the
   store's truth (versions.py); an update the source dates itself (a finding with its
   decided_at, an end) does not need one.
6. A canonical file whose bytes (SHA-256) the store has already loaded, with nothing loaded
   into its table since, is skipped before it is read: re-reading it could change nothing
   (incremental ingest; `reload=True` reads every file again).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis import __version__
from openeis.ingest.problems import IngestFailed, Problem
from openeis.ingest.reader import LINE_COLUMN, CanonicalFile, ReadAgain, ReadResult, discover, suffix_of
from openeis.ingest.validate import (ValueLimits, foreign_key_check, parsed, parsed_timestamp_sql, quote,
                                    typed_value_sql, value_checks)
from openeis.ingest.versions import correction_sql, keep_earlier_versions
from openeis.privacy import Pseudonymiser
from openeis.schema import TABLES_BY_NAME, ColumnType, Privacy, Table, ingest_order
from openeis.store import Store

Progress = Callable[[str, int, int], None]
# Seals the officers input's identities in the write transaction; returns how many were sealed.
Identities = Callable[[Store, "ReadResult | CanonicalFile"], int]


@dataclass
class TableReport:
    table: str
    file: str
    rows_read: int = 0
    sha256: str | None = None  # of the file's bytes (canonical files; adapters map several files)
    size_bytes: int = 0
    inserted: int = 0
    updated: int = 0
    corrected: int = 0  # of the updated: corrections, their earlier versions kept (versions.py)
    unchanged: int = 0
    quarantined: int = 0
    warnings: int = 0


@dataclass
class IngestReport:
    batch_id: str
    mode: str
    source: str
    tables: list[TableReport] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # already loaded, unchanged since
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    discarded_columns: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(t, attribute) for t in self.tables)


class KeyMismatch(IngestFailed):
    pass


def check_key(store: Store, pseudonymiser: Pseudonymiser) -> None:
    """Refuse a key other than the one the store's pseudonyms were made with."""
    stored = store.get_meta("key_fingerprint")
    if stored is None:
        store.set_meta("key_fingerprint", pseudonymiser.fingerprint())
    elif stored != pseudonymiser.fingerprint():
        raise KeyMismatch(
            "this store was pseudonymised with a different key: pass the store's own key "
            "file with --key-file (mixing keys would split one officer into two)"
        )


def ingest_canonical(
    store: Store,
    directory: Path,
    pseudonymiser: Pseudonymiser,
    quarantine: bool = False,
    progress: Progress | None = None,
    before_commit: Callable[[IngestReport], None] | None = None,
    memory_limit: str | None = None,
    limits: ValueLimits | None = None,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
    reload: bool = False,
) -> IngestReport:
    sources, ignored = discover(directory)
    hashes = {source.table.name: file_hash(source.path) for source in sources}
    loaded = set() if reload else already_loaded(store, hashes, {source.table.name: source.name for source in sources})
    report = ingest_tables(
        store, [CanonicalFile(source) for source in sources if source.table.name not in loaded], pseudonymiser,
        quarantine=quarantine, source=str(directory), source_format="canonical", progress=progress,
        before_commit=before_commit, memory_limit=memory_limit, limits=limits, changed_at=changed_at,
        identities=identities, hashes=hashes,
    )
    report.ignored_files = ignored
    report.skipped_files = [source.name for source in sources if source.table.name in loaded]
    return report


def file_hash(path: Path) -> tuple[str, int]:
    """SHA-256 of a file's bytes, and its size; a file that cannot be read is refused by name."""
    try:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
        return digest.hexdigest(), path.stat().st_size
    except OSError as error:
        raise IngestFailed(f"{path.name}: cannot be read: {describe_error(error)}; nothing was written") from None


def already_loaded(store: Store, hashes: dict[str, tuple[str, int]], names: dict[str, str] | None = None) -> set[str]:
    """Tables whose file here is one the store loaded whole (no row refused), with nothing loaded
    into the table since (by its own or another file, in any format): reading it again could
    change nothing. A file loaded before a later one changed its table is read again, since it
    may put back values the later one replaced; a file with refused rows is read again, so that
    its problems are reported (and refused again in atomic mode). `names`: table -> the file's
    name here; the bytes must have been loaded as the same format (.csv, .csv.gz, .parquet),
    since the name says how they are read (plain CSV bytes named .csv.gz are not that file)."""
    if not store.table_exists("ingest_files"):
        return set()
    skip = set()
    for table, (sha, size) in hashes.items():
        here = (names or {}).get(table)
        fmt = suffix_of(here) if here else None
        last_same = max((loaded_at for name, loaded_at in store.query(
            "SELECT file_name, loaded_at FROM ingest_files WHERE table_name = ? AND sha256 = ? AND size_bytes = ? "
            "AND quarantined_rows = 0", [table, sha, size]) if fmt is None or suffix_of(name or "") == fmt),
            default=None)
        if last_same is None:
            continue
        changed_since = store.scalar(
            "SELECT count(*) FROM ingest_files WHERE table_name = ? AND loaded_at > ? AND changed_rows > 0",
            [table, last_same])
        if not changed_since:
            skip.add(table)
    return skip


def ingest_tables(
    store: Store,
    inputs: list[ReadResult | CanonicalFile],
    pseudonymiser: Pseudonymiser,
    quarantine: bool = False,
    source: str = "",
    source_format: str = "canonical",
    progress: Progress | None = None,
    before_commit: Callable[[IngestReport], None] | None = None,
    memory_limit: str | None = None,
    limits: ValueLimits | None = None,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
    hashes: dict[str, tuple[str, int]] | None = None,
) -> IngestReport:
    """Validate and write already-read inputs (adapters for other formats end here too).

    Pseudonyms and checks are made in the store's workspace (the store itself when it is
    embedded; an in-process DuckDB for a server, so raw identifiers and the key stay in this
    process); only valid, pseudonymised rows are sent to the store.
    `before_commit` runs inside the write transaction (the access log entry goes there, so
    the change and its record commit together or not at all). `identities` (ingest.identities)
    seals the officers file's staff numbers into the identity vault in the same transaction.
    `changed_at`: when the force made the changes in these inputs (an extract's date), from
    which corrections take effect; default: the batch's own time. Not in the future.

    Whatever goes wrong, the batch is refused as a whole with IngestFailed naming the file
    (and, for a bad value, its line and column): an error nobody foresaw too, since the
    write is one transaction and nothing is half-written."""
    check_key(store, pseudonymiser)
    check_changed_at(changed_at)
    where = _Where(source or "the input")
    try:
        with store.workspace() as work, _memory_limited(work, memory_limit):
            return _ingest(store, work, inputs, pseudonymiser, quarantine, source, source_format, progress,
                           before_commit, limits or ValueLimits(), where, changed_at, identities, hashes or {})
    except IngestFailed:
        raise
    except Exception as error:  # noqa: BLE001 (every input is refused clearly, never a traceback)
        raise IngestFailed(f"{where.file}: cannot be loaded: {describe_error(error)}; nothing was written") from error


@dataclass
class _Where:
    """The file a batch is at, for an error nobody foresaw."""

    file: str


def describe_error(error: BaseException) -> str:
    """One line for a person: the error's first line, without the engine's stack."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    kind = type(error).__name__
    shown = f"{kind}: {text}" if text else kind
    return shown if len(shown) <= 300 else shown[:297] + "..."


def check_changed_at(changed_at: datetime | None) -> None:
    if changed_at is None:
        return
    if changed_at.tzinfo is not None:
        raise IngestFailed("--changed-at: give a UTC time without a time zone (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
    if changed_at > datetime.now(timezone.utc).replace(tzinfo=None):
        raise IngestFailed(f"--changed-at {changed_at:%Y-%m-%d %H:%M:%S} is in the future: it says when the force "
                           "made the changes in these files")


def _ingest(
    store: Store,
    work: Store,
    inputs: list[ReadResult | CanonicalFile],
    pseudonymiser: Pseudonymiser,
    quarantine: bool,
    source: str,
    source_format: str,
    progress: Progress | None,
    before_commit: Callable[[IngestReport], None] | None,
    limits: ValueLimits,
    where: _Where,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
    hashes: dict[str, tuple[str, int]] | None = None,
) -> IngestReport:
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    batch_id = f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    mode = "quarantine" if quarantine else "atomic"
    report = IngestReport(batch_id=batch_id, mode=mode, source=source)
    by_table = {item.source.table.name: item for item in inputs}
    officers_input = by_table.get("officers")  # its raw identifiers, for the identity vault
    ordered = [table for table in ingest_order() if table.name in by_table]
    staged: list[tuple[Table, str, TableReport]] = []
    quarantine_rows: list[dict] = []
    temporary: list[str] = []  # temp tables of this batch in the workspace, dropped at the end
    sent: list[str] = []  # staged tables copied to a server store, dropped at the end
    stored_keys = StoredKeys(store, work)
    try:
        for number, table in enumerate(ordered):
            if progress:
                progress(f"reading and validating {table.name}", number, len(ordered))
            item = by_table.pop(table.name)
            where.file = item.source.name
            pseudonymised = f"pseudonymised_{table.name}"
            temporary.append(pseudonymised)  # dropped below, or at the end if a check fails
            rows_read, unreadable = _pseudonymise_input(work, table, item, pseudonymised, pseudonymiser)
            table_report = TableReport(table.name, item.source.name, rows_read=rows_read)
            if hashes and table.name in hashes:
                table_report.sha256, table_report.size_bytes = hashes[table.name]
            report.tables.append(table_report)
            if item.unknown_columns:
                report.unknown_columns[item.source.name] = item.unknown_columns
            if item.discarded_columns:
                report.discarded_columns[item.source.name] = item.discarded_columns
            found = unreadable + _run_checks(work, table, pseudonymised, item.source.name, staged, stored_keys, limits)
            errors = [p for p in found if p.severity == "error"]
            warnings = [p for p in found if p.severity == "warning"]
            table_report.warnings = len(warnings)
            bad_lines = sorted({p.line for p in errors} | {p.line for p in item.problems})
            table_report.quarantined = len(bad_lines)
            stage = f"stage_{table.name}"
            _stage_valid_rows(work, table, pseudonymised, stage, bad_lines)
            temporary.append(stage)
            staged.append((table, stage, table_report))
            if quarantine and (errors or item.problems):
                quarantine_rows.extend(_quarantine_rows(work, table, pseudonymised, item.problems + errors))
            # Shown to the user with the raw identifier they can find in their file.
            report.errors.extend(item.problems + _with_raw_values(table, item, errors))
            report.warnings.extend(_with_raw_values(table, item, warnings))
            # only the staged rows wait for the write: the pseudonymised copy goes now
            work.execute(f"DROP TABLE {pseudonymised}")
            temporary.remove(pseudonymised)
            del item
        if report.errors and not quarantine:
            raise IngestFailed(
                f"{len(report.errors)} problem(s) in {len({(p.file, p.line) for p in report.errors})} "
                f"row(s); nothing was written (use --quarantine to load the good rows)",
                report.errors,
            )
        if progress:
            progress("writing", len(ordered), len(ordered))
        where.file = f"{source or 'the batch'} (writing to the store)"
        if work is not store:
            for _, stage, _ in staged:  # valid, pseudonymised rows only
                sent.append(stage)
                store.register_arrow(stage, work.query_arrow(f"SELECT * FROM {stage}"))
        with store.transaction():
            store.lock("ingest")  # one batch writes at a time: matching on keys needs it
            for table, stage, table_report in staged:
                where.file = f"{table_report.file} (writing to the store)"
                _upsert(store, table, stage, batch_id, table_report, changed_at or started_at)
            _write_quarantine(store, batch_id, quarantine_rows)
            _write_batch(store, report, source_format, started_at)
            if identities is not None and officers_input is not None:
                sealed = identities(store, officers_input)
                if sealed:
                    report.notes.append(f"{sealed} officers' staff numbers sealed in the identity vault")
            if before_commit:
                before_commit(report)
            _hold_for_crash_test()
    finally:
        for name in temporary:
            work.execute(f"DROP TABLE IF EXISTS {name}")
        for name in sent:
            store.unregister(name)
    return report


@contextmanager
def _memory_limited(work: Store, limit: str | None) -> Iterator[None]:
    """A DuckDB memory limit for the batch (`[ingest] memory_limit`): the staged rows of a
    national batch (78M rows) would not fit in memory, and DuckDB's default limit is 80% of it.
    Measured at 35k officers: docs/benchmarks.md, "Ingest at national size"."""
    if not limit or work.dialect != "duckdb":
        yield
        return
    work.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        work.execute("RESET memory_limit")


class StoredKeys:
    """The keys a table already holds in the store, as SQL the workspace can run (fetched
    once per batch and table when the workspace is not the store itself)."""

    def __init__(self, store: Store, work: Store):
        self.store = store
        self.work = work
        self.fetched: dict[str, str] = {}

    def sql(self, parent: Table) -> str:
        if self.work is self.store:
            return f"SELECT {parent.key} FROM {parent.qualified_name}"
        if parent.name not in self.fetched:
            name = f"stored_keys_{parent.name}"
            self.work.register_arrow(name, self.store.query_arrow(f"SELECT {parent.key} FROM {parent.qualified_name}"))
            self.fetched[parent.name] = name
        return f"SELECT {parent.key} FROM {self.fetched[parent.name]}"


# -- pseudonyms -------------------------------------------------------------------------


def _pseudonymise_input(
    work: Store, table: Table, item: ReadResult | CanonicalFile, target: str, pseudonymiser: Pseudonymiser
) -> tuple[int, list[Problem]]:
    """Pseudonymise an input batch by batch into one temporary table; the rows read, and the
    values holding control characters (seen before any value is pseudonymised)."""
    while True:
        rows = 0
        controls: list[Problem] = []
        try:
            for number, batch in enumerate(item.batches()):
                controls += control_characters(batch, item.source.name)
                with work.registered("input_rows", batch):
                    _pseudonymise(work, table, "input_rows", target, pseudonymiser, append=number > 0)
                rows += batch.num_rows
            return rows, controls
        except ReadAgain:  # the file turned out to need the slow reader: start it again
            work.execute(f"DROP TABLE IF EXISTS {target}")


_CONTROL = "[\\x00-\\x1f\\x7f-\\x9f]"  # C0 and C1 control characters, DEL


def control_characters(batch: pa.Table, file_name: str) -> list[Problem]:
    """A NUL byte, a line break, an escape sequence... in a canonical value: none belongs in an
    identifier, a code, a number or a date, and some would break a terminal or a server that
    shows them. A scan of the raw bytes finds the rare columns that have any."""
    problems = []
    for name in batch.column_names:
        if name == LINE_COLUMN or not _may_hold_control(batch.column(name)):
            continue
        hits = pc.fill_null(pc.match_substring_regex(batch.column(name), _CONTROL), False)
        found = batch.filter(hits)
        for line, value in zip(found.column(LINE_COLUMN).to_pylist(), found.column(name).to_pylist()):
            problems.append(Problem(file_name, line, name, value, "holds a control character (a NUL byte, a line "
                                    "break, a tab or an escape): not allowed in a value"))
    return problems


def _may_hold_control(column: pa.ChunkedArray) -> bool:
    for chunk in column.chunks:
        buffers = chunk.buffers()
        data = buffers[2] if len(buffers) > 2 else None
        if data is None or not data.size:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        if np.any((raw < 32) | (raw == 127)) or np.any((raw[:-1] == 0xC2) & (raw[1:] >= 0x80) & (raw[1:] <= 0x9F)):
            return True
    return False


def _pseudonymise(
    store: Store, table: Table, view: str, target: str, pseudonymiser: Pseudonymiser, append: bool = False
) -> None:
    """Copy the input into a temporary table with identifiers already pseudonymised, so raw
    identifiers are never held in any table, and every check runs on a native table
    (`append`: add to the table made from the file's earlier batches).

    A record key is unique per row, so it is hashed row by row; other identifiers (the
    officer, the complaint) repeat, so each distinct value is hashed once and joined back."""
    expressions = [f"i.{LINE_COLUMN}"]
    mappings = []
    params: list = []
    for column in table.columns:
        if column.type is ColumnType.TIMESTAMP:  # parsed once here; checks and the write read it
            expressions.append(f"{parsed_timestamp_sql(f'i.{column.name}')} AS {parsed(column.name)}")
        if column.privacy is not Privacy.PSEUDONYMISE:
            expressions.append(f"i.{column.name}")
            continue
        namespace = column.namespace or column.name
        if column.name == table.key:
            sql, column_params = pseudonymiser.sql_expression(f"i.{column.name}", namespace)
            expressions.append(f"{sql} AS {column.name}")
            params.extend(column_params)
        else:
            alias = f"m_{column.name}"
            sql, column_params = pseudonymiser.sql_expression("raw", namespace)
            mappings.append((alias, column.name, sql, column_params))
            expressions.append(f"{alias}.pseudonym AS {column.name}")
    joins = []
    join_params: list = []
    for alias, name, sql, column_params in mappings:
        joins.append(
            f"LEFT JOIN (SELECT raw, {sql} AS pseudonym FROM (SELECT DISTINCT {name} AS raw FROM {view} "
            f"WHERE {name} IS NOT NULL)) {alias} ON i.{name} = {alias}.raw"
        )
        join_params.extend(column_params)
    write = f"INSERT INTO {target} " if append else f"CREATE TEMP TABLE {target} AS "
    store.execute(
        f"{write}SELECT {', '.join(expressions)} FROM {view} i {' '.join(joins)}",
        params + join_params,
    )


def _with_raw_values(table: Table, item: ReadResult | CanonicalFile, problems: list[Problem]) -> list[Problem]:
    """Problems on pseudonymised columns, with the value as the user wrote it."""
    wanted = {p.line for p in problems if p.column and table.has(p.column)
              and table.column(p.column).privacy is Privacy.PSEUDONYMISE}
    if not wanted:
        return problems
    subset = item.rows_at(wanted)
    by_line = {
        line: index for index, line in enumerate(subset.column(LINE_COLUMN).to_pylist())
    }
    shown = []
    for problem in problems:
        if problem.line in by_line and problem.column and table.column(problem.column).privacy is Privacy.PSEUDONYMISE:
            raw = subset.column(problem.column)[by_line[problem.line]].as_py()
            problem = replace(problem, value=raw)
        shown.append(problem)
    return shown


# -- validation -------------------------------------------------------------------------


def _run_checks(
    store: Store, table: Table, view: str, file_name: str, staged: list[tuple[Table, str, TableReport]],
    stored_keys: StoredKeys, limits: ValueLimits,
) -> list[Problem]:
    checks = value_checks(table, view, limits=limits)
    staged_names = {t.name: stage for t, stage, _ in staged}
    for column in table.columns:
        if not column.references:
            continue
        parent = TABLES_BY_NAME[column.references]
        keys = [stored_keys.sql(parent)]
        if parent.name in staged_names:
            keys.append(f"SELECT {parent.key} FROM {staged_names[parent.name]}")
        checks.append(foreign_key_check(view, column, " UNION ALL ".join(keys), parent.name))
    sql = " UNION ALL ".join(f"({check})" for check in checks) + " ORDER BY line, column_name"
    return [
        Problem(file_name, int(line), column, value, reason, severity)
        for line, column, value, reason, severity in store.query(sql)
    ]


def _stored_value_sql(table: Table) -> list[str]:
    """Typed expressions for each canonical column (identifiers are pseudonyms already)."""
    return [f"{typed_value_sql(column)} AS {column.name}" for column in table.columns]


def row_hash_sql(table: Table) -> str:
    parts = ", ".join(f"coalesce(CAST({c.name} AS VARCHAR), chr(0))" for c in table.columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def _stage_valid_rows(store: Store, table: Table, view: str, stage: str, bad_lines: list[int]) -> None:
    with store.registered("bad_lines", _lines_table(bad_lines)):
        store.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT *, {row_hash_sql(table)} AS _row_hash FROM ("
            f"SELECT {', '.join(_stored_value_sql(table))} FROM {view} "
            f"WHERE {LINE_COLUMN} NOT IN (SELECT line FROM bad_lines))"
        )


def _quarantine_rows(store: Store, table: Table, pseudonymised: str, problems: list[Problem]) -> list[dict]:
    """Bad rows as they will be kept: pseudonyms for identifiers, nothing else personal."""
    fields = ", ".join(f"{quote(c.name)}, {c.name}" for c in table.columns)
    lines = sorted({p.line for p in problems})
    with store.registered("quarantined_lines", _lines_table(lines)):
        rows = dict(
            store.query(
                f"SELECT {LINE_COLUMN}, CAST(json_object({fields}) AS VARCHAR) FROM {pseudonymised} "
                f"WHERE {LINE_COLUMN} IN (SELECT line FROM quarantined_lines)"
            )
        )
    return [
        {
            "table_name": table.name,
            "file_name": problem.file,
            "line": problem.line,
            "column_name": problem.column,
            "value": problem.value,  # from the pseudonymised table: a pseudonym for identifiers
            "reason": problem.reason,
            "row_json": rows.get(problem.line),
        }
        for problem in problems
    ]


# -- writing ----------------------------------------------------------------------------


def _upsert(store: Store, table: Table, stage: str, batch_id: str, report: TableReport,
            changed_at: datetime) -> None:
    target = table.qualified_name
    key = table.key
    columns = ", ".join(c.name for c in table.columns)
    differs = ", ".join(
        f"CASE WHEN s.{c.name} IS DISTINCT FROM t.{c.name} THEN {quote(c.name)} END" for c in table.columns
    )
    store.execute(
        f"CREATE TEMP TABLE changed_rows AS SELECT s.{key} AS record_key, t._row_hash AS previous_row_hash, "
        f"s._row_hash AS new_row_hash, concat_ws(',', {differs}) AS changed_columns, "
        f"{correction_sql(table)} AS correction "
        f"FROM {stage} s JOIN {target} t ON s.{key} = t.{key} WHERE s._row_hash <> t._row_hash"
    )
    try:
        report.updated = int(store.scalar("SELECT count(*) FROM changed_rows"))
        if report.updated:
            report.corrected = keep_earlier_versions(store, table, "changed_rows", batch_id, changed_at)
        store.execute(
            "INSERT INTO record_changes SELECT ?, ?, record_key, changed_columns, previous_row_hash, "
            "new_row_hash, current_timestamp FROM changed_rows",
            [batch_id, table.name],
        )
        store.execute(f"DELETE FROM {target} WHERE {key} IN (SELECT record_key FROM changed_rows)")
    finally:
        store.execute("DROP TABLE changed_rows")
    staged_rows = int(store.scalar(f"SELECT count(*) FROM {stage}"))
    store.execute(
        f"INSERT INTO {target} ({columns}, _batch_id, _row_hash) "
        # NOT EXISTS, not NOT IN: PostgreSQL turns it into a hash anti-join at any size.
        f"SELECT {columns}, ?, _row_hash FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{key} = s.{key})",
        [batch_id],
    )
    written = int(store.scalar(f"SELECT count(*) FROM {target} WHERE _batch_id = ?", [batch_id]))
    report.inserted = written - report.updated
    report.unchanged = staged_rows - written


def _write_quarantine(store: Store, batch_id: str, rows: list[dict]) -> None:
    if not rows:
        return
    data = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("table_name", pa.string()),
                ("file_name", pa.string()),
                ("line", pa.int64()),
                ("column_name", pa.string()),
                ("value", pa.string()),
                ("reason", pa.string()),
                ("row_json", pa.string()),
            ]
        ),
    )
    with store.registered("new_quarantine", data):
        # Re-running the same bad files must not pile up copies of the same problem.
        store.execute(
            "INSERT INTO quarantine SELECT ?, n.table_name, n.file_name, n.line, n.column_name, n.value, "
            "n.reason, n.row_json, md5(coalesce(n.row_json, '')), current_timestamp FROM new_quarantine n "
            "WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.table_name = n.table_name "
            "AND q.file_name = n.file_name AND q.line = n.line AND q.reason = n.reason "
            "AND q.column_name IS NOT DISTINCT FROM n.column_name "
            "AND q.row_hash = md5(coalesce(n.row_json, '')))",
            [batch_id],
        )


def _write_batch(store: Store, report: IngestReport, source_format: str, started_at: datetime) -> None:
    files = ",".join(t.file for t in report.tables)
    store.execute(
        "INSERT INTO ingest_batches VALUES (?, ?, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.batch_id,
            started_at,
            source_format,
            report.source,
            report.mode,
            files,
            report.total("rows_read"),
            report.total("inserted"),
            report.total("updated"),
            report.total("unchanged"),
            report.total("quarantined"),
            len(report.warnings),
            __version__,
        ],
    )
    # Every table the batch read, from a canonical file or not: a later ingest skips a file
    # only when nothing has been loaded into its table since it was (already_loaded).
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    for table in report.tables:
        store.execute(
            "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [report.batch_id, table.table, table.file, table.sha256, table.size_bytes,
             table.inserted + table.updated, table.quarantined, loaded_at],
        )


CRASH_TEST_VARIABLE = "OPENEIS_TEST_HOLD_BEFORE_COMMIT"


def _hold_for_crash_test() -> None:
    """Test hook: with the variable set to a file path, write that file and wait before
    committing, so a test can kill -9 the process at the worst moment. Unset: does nothing."""
    marker = os.environ.get(CRASH_TEST_VARIABLE)
    if marker:
        Path(marker).write_text("holding before commit\n")
        time.sleep(600)


def _lines_table(lines: list[int]) -> pa.Table:
    return pa.table({"line": pa.array(lines, type=pa.int64())})
