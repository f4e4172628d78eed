"""Run a mapping: read a force's files, build canonical tables, count every quirk.

Source files are read as text with their line numbers (the canonical reader's CSV code), put
in an in-memory DuckDB and turned into canonical tables by SQL generated from the mapping.
Nothing here touches the store: the result is a list of `ReadResult`s (canonical columns as
text, `_line` = the line of the SOURCE file a row came from, `SourceFile.path` = that file)
that `ingest_tables` then pseudonymises, validates and writes like any canonical input.

Rows are never lost silently: each row a mapping rule leaves out (a filter, a missing required
value, an orphan reference, an undated decision, a duplicate) is counted, with its reason, in
the notes returned beside the tables.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from openeis import thread_pools
from openeis.adapters.spec import PLACEHOLDER, ColumnSpec, Mapping, MappingError, TableSpec
from openeis.ingest.problems import IngestFailed, Problem
from openeis.ingest.reader import LINE_COLUMN, ReadResult, SourceFile, _read_csv
from openeis.schema import TABLES_BY_NAME, ColumnType, ingest_order
from openeis.sql_text import identifier, literal

READ_SUFFIXES = ("", ".gz")
HIDDEN = "__"  # prefix of helper columns that never leave the engine


q = identifier  # (the short names this module's SQL builders use)
lit = literal


def fmt(number: int) -> str:
    return f"{number:,}"


@dataclass
class LoadedSource:
    alias: str
    path: Path
    columns: list[str]
    rows: int
    problems: list[Problem] = field(default_factory=list)


@dataclass
class MappingResult:
    inputs: list[ReadResult]
    notes: list[str]
    rows: dict[str, int]  # canonical table -> rows handed to ingestion
    dropped: dict[str, dict[str, int]]  # canonical table -> reason -> rows
    stats: dict[str, dict[str, int]]  # "table.column" -> formats / rewritten / blanked / defaulted


class Engine:
    def __init__(self, mapping: Mapping, path: Path, progress=None):
        self.mapping = mapping
        self.path = Path(path)
        self.progress = progress
        self.con = duckdb.connect(":memory:", config=thread_pools.duckdb_config())
        self.sources: dict[str, LoadedSource] = {}
        self.notes: list[str] = []
        self.rows: dict[str, int] = {}
        self.dropped: dict[str, dict[str, int]] = {}
        self.built: dict[str, str] = {}  # canonical table -> engine table holding it
        self.stats: dict[str, dict[str, int]] = {}

    # -- sources ---------------------------------------------------------------------------

    def resolve(self) -> dict[str, Path | None]:
        """The file for each source: in the directory given, or the one file given."""
        found: dict[str, Path | None] = {}
        if self.path.is_file():
            needed = [s for s in self.mapping.sources.values() if not s.optional]
            if len(self.mapping.sources) != 1 and len(needed) != 1:
                raise IngestFailed(
                    f"{self.path} is a file, but the mapping {self.mapping.path.name} reads "
                    f"{len(self.mapping.sources)} sources: pass the directory that holds them"
                )
            only = needed[0] if needed else next(iter(self.mapping.sources.values()))
            for alias in self.mapping.sources:
                found[alias] = self.path if alias == only.alias else None
            return found
        if not self.path.is_dir():
            raise IngestFailed(f"{self.path}: no such file or directory")
        names = sorted(p.name for p in self.path.iterdir() if p.is_file())
        for alias, source in self.mapping.sources.items():
            matches = []
            for suffix in READ_SUFFIXES:
                matches = [n for n in names if fnmatch.fnmatchcase(n, source.file + suffix)]
                if matches:
                    break
            if len(matches) > 1:
                raise IngestFailed(
                    f"{self.path}: source {alias} ({source.file}) matches several files: {', '.join(matches)}"
                )
            if not matches:
                if source.optional:
                    found[alias] = None
                    continue
                raise IngestFailed(
                    f"{self.path}: no file for source {alias!r} ({source.file} or {source.file}.gz), "
                    f"required by the mapping {self.mapping.path.name}"
                )
            found[alias] = self.path / matches[0]
        return found

    def load_sources(self) -> None:
        files = self.resolve()
        used = {t.source for t in self.mapping.tables.values()}
        used |= {j.source for t in self.mapping.tables.values() for j in t.joins}
        used |= {r.source for t in self.mapping.tables.values() for r in t.rollups}
        dummy = TABLES_BY_NAME["other_events"]
        for number, (alias, path) in enumerate(files.items()):
            if alias not in used:
                continue
            if self.progress:
                self.progress(f"reading {path.name if path else alias}", number, len(files))
            spec = self.mapping.sources[alias]
            if path is None:
                self.run(f"CREATE TABLE {q('src_' + alias)} ({q(LINE_COLUMN)} BIGINT)")
                self.sources[alias] = LoadedSource(alias, Path(spec.file), [], 0)
                self.notes.append(f"Source {alias} ({spec.file}) is optional and was not found: not used.")
                continue
            data, problems = _read_csv(SourceFile(dummy, path))
            columns = [c for c in data.column_names if c != LINE_COLUMN]
            for column in spec.integer_ids:
                if column not in columns:
                    raise self.mapping.error(
                        f"sources.{alias}.integer_ids", f"column {column!r} not in {path.name} (columns: {', '.join(columns)})"
                    )
            self.con.register("arrow_input", data)
            selects = []
            for column in columns:
                value = f"nullif(trim({q(column)}), '')"
                if column in spec.integer_ids:
                    value = f"regexp_replace({value}, '\\.0+$', '')"
                selects.append(f"{value} AS {q(column)}")
            selects.append(q(LINE_COLUMN))
            self.run(f"CREATE TABLE {q('src_' + alias)} AS SELECT {', '.join(selects)} FROM arrow_input")
            self.con.unregister("arrow_input")
            self.sources[alias] = LoadedSource(alias, path, columns, data.num_rows, problems)

    # -- expressions -----------------------------------------------------------------------

    def reference(self, name: str, table: TableSpec | None, where: str, scope: str | None = None) -> str:
        """SQL for a source column: `column` of the table's source, or `alias.column` of a join."""
        if scope is not None:  # inside a rollup: only its own source
            columns = self.sources[scope].columns
            if not columns and self.mapping.sources[scope].optional:
                return "NULL"  # an optional source that is absent: the rollup finds nothing
            if name not in columns:
                raise self.mapping.error(where, f"column {name!r} not in {self.sources[scope].path.name} "
                                         f"(columns: {', '.join(columns)})")
            return f"r.{q(name)}"
        assert table is not None
        main = self.sources[table.source]
        if name in main.columns:
            return f"s.{q(name)}"
        if "." in name:
            alias, column = name.split(".", 1)
            joined = [j.source for j in table.joins]
            if alias in joined:
                if column not in self.sources[alias].columns:
                    raise self.mapping.error(where, f"column {column!r} not in {self.sources[alias].path.name} "
                                             f"(columns: {', '.join(self.sources[alias].columns)})")
                return f"{q('j_' + alias)}.{q(column)}"
            if alias in {r.name for r in table.rollups} and column == "value":
                return f"{q('r_' + alias)}.value"
        if main.columns or not self.mapping.sources[table.source].optional:
            raise self.mapping.error(
                where, f"column {name!r} not in {main.path.name} (columns: {', '.join(main.columns)}); "
                "columns of a joined source are written source_alias.column"
            )
        return "NULL"

    def base_sql(self, spec: ColumnSpec, table: TableSpec | None, scope: str | None = None) -> str:
        if spec.base == "column":
            return self.reference(spec.argument, table, spec.where, scope)
        if spec.base == "value":
            return lit(spec.argument)
        if spec.base == "rollup":
            if table is None or spec.argument not in {r.name for r in table.rollups}:
                raise self.mapping.error(spec.where, f"no rollup named {spec.argument!r} in this table")
            return f"{q('r_' + spec.argument)}.value"
        if spec.base == "first_of":
            return "coalesce(" + ", ".join(self.column_sql(s, table, scope) for s in spec.argument) + ")"
        if spec.base == "difference":
            a, b = (self.column_sql(s, table, scope) for s in spec.argument)
            return f"CAST(CAST(round(TRY_CAST({a} AS DOUBLE) - TRY_CAST({b} AS DOUBLE)) AS BIGINT) AS VARCHAR)"
        if spec.base == "template":
            parts = []
            names = []
            position = 0
            text = spec.argument
            for match in PLACEHOLDER.finditer(text):
                if match.start() > position:
                    parts.append(lit(text[position : match.start()]))
                value = self.reference(match.group(1), table, spec.where + ".template", scope)
                names.append(value)
                parts.append(f"coalesce({value}, '')")
                position = match.end()
            if position < len(text):
                parts.append(lit(text[position:]))
            joined = "concat(" + ", ".join(parts) + ")"
            if spec.strict:
                return f"CASE WHEN {' OR '.join(n + ' IS NULL' for n in names)} THEN NULL ELSE {joined} END"
            return f"CASE WHEN {' AND '.join(n + ' IS NULL' for n in names)} THEN NULL ELSE {joined} END"
        if spec.base == "date":
            part = {k: self.column_sql(v, table, scope) for k, v in spec.argument.items()}
            year = f"TRY_CAST({part['year']} AS INTEGER)"
            month = f"TRY_CAST({part['month']} AS INTEGER)" if "month" in part else "1"
            day = f"TRY_CAST({part['day']} AS INTEGER)" if "day" in part else "1"
            raw = " || '-' || ".join(f"coalesce({p}, '?')" for p in part.values())
            made = f"CAST(TRY_CAST(make_date({year}, {month}, {day}) AS DATE) AS VARCHAR)"
            # Unreadable parts stay visible (as y-m-d text) so validation names the line.
            return (
                f"CASE WHEN {' AND '.join(p + ' IS NULL' for p in part.values())} THEN NULL "
                f"ELSE coalesce(TRY({made}), {raw}) END"
            )
        raise AssertionError(spec.base)

    def transformed_sql(self, spec: ColumnSpec, value: str) -> str:
        for transform in spec.transform:
            if transform == "integer_id":
                value = f"regexp_replace({value}, '\\.0+$', '')"
            elif transform == "upper":
                value = f"upper({value})"
            elif transform == "lower":
                value = f"lower({value})"
            elif transform == "strip_leading_zeros":
                value = f"CASE WHEN regexp_full_match({value}, '0+[0-9]+') THEN ltrim({value}, '0') ELSE {value} END"
            elif transform == "year":
                value = f"nullif(regexp_extract({value}, '^\\s*([0-9]{{4}})', 1), '')"
            elif transform == "age_band":
                age = f"TRY_CAST({value} AS DOUBLE)"
                value = (
                    f"CASE WHEN {age} IS NULL OR {age} < 0 OR {age} > 110 THEN NULL "
                    f"WHEN {age} < 18 THEN 'under 18' WHEN {age} < 25 THEN '18-24' "
                    f"WHEN {age} < 35 THEN '25-34' WHEN {age} < 45 THEN '35-44' "
                    f"WHEN {age} < 55 THEN '45-54' WHEN {age} < 65 THEN '55-64' ELSE '65+' END"
                )
            elif isinstance(transform, dict) and "pad" in transform:
                width = int(transform["pad"])
                value = f"CASE WHEN regexp_full_match({value}, '[0-9]+') THEN lpad({value}, {width}, '0') ELSE {value} END"
            elif isinstance(transform, dict) and "replace" in transform:
                pattern, replacement = transform["replace"]
                value = f"nullif(regexp_replace({value}, {lit(pattern)}, {lit(str(replacement))}, 'g'), '')"
        if spec.missing_values:
            listed = ", ".join(lit(v.lower()) for v in spec.missing_values)
            value = f"CASE WHEN lower({value}) IN ({listed}) THEN NULL ELSE {value} END"
        if spec.date_format:
            formats = "[" + ", ".join(lit(f) for f in spec.date_format) + "]"
            timed = any(x in f for f in spec.date_format for x in ("%H", "%M", "%S", "%I"))
            out = "%Y-%m-%dT%H:%M:%S" if timed else "%Y-%m-%d"
            # An unreadable date is passed on as it was, so validation reports its line.
            value = f"coalesce(strftime(try_strptime({value}, {formats}), {lit(out)}), {value})"
        return value

    def coded_sql(self, spec: ColumnSpec, value: str) -> str:
        if spec.valid:
            value = f"CASE WHEN regexp_full_match({value}, {lit(spec.valid)}) THEN {value} END"
        if not (spec.coded or spec.missing is not None):
            return value
        cases = []
        if spec.missing is not None:
            cases.append(f"WHEN {value} IS NULL THEN {lit(spec.missing)}")
        for source, code in spec.codes.items():
            cases.append(f"WHEN lower({value}) = {lit(source)} THEN {lit(code)}")
        for pattern, code in spec.patterns:
            cases.append(f"WHEN regexp_matches({value}, {lit(pattern)}, 'i') THEN {lit(code)}")
        otherwise = lit(spec.default) if spec.has_default else value
        if spec.has_default:
            cases.append(f"WHEN {value} IS NULL THEN NULL")
        return "CASE " + " ".join(cases) + f" ELSE {otherwise} END"

    def column_sql(self, spec: ColumnSpec, table: TableSpec | None, scope: str | None = None) -> str:
        return self.coded_sql(spec, self.transformed_sql(spec, self.base_sql(spec, table, scope)))

    # -- tables ----------------------------------------------------------------------------

    def build(self) -> MappingResult:
        self.load_sources()
        ordered = [t for t in ingest_order() if t.name in self.mapping.tables]
        results = []
        for number, table in enumerate(ordered):
            if self.progress:
                self.progress(f"mapping {table.name}", number, len(ordered))
            results.append(self.build_table(self.mapping.tables[table.name]))
        self.con.close()
        return MappingResult(results, self.notes, self.rows, self.dropped, self.stats)

    def build_table(self, spec: TableSpec) -> ReadResult:
        table = TABLES_BY_NAME[spec.name]
        out = q("out_" + spec.name)
        source = self.sources[spec.source]
        selects = [f"s.{q(LINE_COLUMN)} AS {q(LINE_COLUMN)}"]
        hidden_raw: dict[str, str] = {}
        for name, column in spec.columns.items():
            selects.append(f"{self.column_sql(column, spec)} AS {q(name)}")
            if column.modified:
                base = self.base_sql(column, spec)
                selects.append(f"{base} AS {q(HIDDEN + 'raw_' + name)}")
                selects.append(f"{self.transformed_sql(column, base)} AS {q(HIDDEN + 'norm_' + name)}")
                hidden_raw[name] = base
            if column.base == "first_of":
                which = " ".join(
                    f"WHEN {self.column_sql(item, spec)} IS NOT NULL THEN {i}" for i, item in enumerate(column.argument)
                )
                selects.append(f"CASE {which} END AS {q(HIDDEN + 'fb_' + name)}")
        for number, rule in enumerate(spec.where):
            refs = [self.reference(c, spec, f"tables.{spec.name}.where[{number}].column") for c in rule.column]
            value = refs[0] if len(refs) == 1 else f"coalesce({', '.join(refs)})"
            if rule.test == "is":
                test = f"{value} IS NULL" if rule.argument == "empty" else f"{value} IS NOT NULL"
            elif rule.test == "in":
                test = f"coalesce(lower({value}) IN ({', '.join(lit(v.lower()) for v in rule.argument)}), FALSE)"
            elif rule.test == "not_in":
                test = f"coalesce(lower({value}) NOT IN ({', '.join(lit(v.lower()) for v in rule.argument)}), TRUE)"
            else:
                test = f"coalesce(regexp_matches({value}, {lit(rule.argument)}), FALSE)"
            selects.append(f"({test}) AS {q(HIDDEN + f'w{number}')}")
        joins = []
        for number, join in enumerate(spec.joins):
            alias = q("j_" + join.source)
            keys = ", ".join(q(theirs) for _, theirs in join.on)
            for _, theirs in join.on:
                if theirs not in self.sources[join.source].columns:
                    raise self.mapping.error(
                        f"tables.{spec.name}.join[{number}].on",
                        f"column {theirs!r} not in {self.sources[join.source].path.name}",
                    )
            condition = " AND ".join(
                f"{alias}.{q(theirs)} = {self.reference(local, spec, f'tables.{spec.name}.join[{number}].on')}"
                for local, theirs in join.on
            )
            duplicates = self.run(
                f"SELECT count(*) - count(DISTINCT ({keys})) FROM {q('src_' + join.source)} "
                f"WHERE {' AND '.join(q(t) + ' IS NOT NULL' for _, t in join.on)}"
            )[0][0]
            if duplicates:
                self.notes.append(
                    f"{spec.name}: {self.sources[join.source].path.name} has {fmt(duplicates)} repeated "
                    f"key(s) ({keys.replace(chr(34), '')}); the first line of each was used."
                )
            joins.append(
                f"LEFT JOIN (SELECT * FROM {q('src_' + join.source)} QUALIFY row_number() OVER "
                f"(PARTITION BY {keys} ORDER BY {q(LINE_COLUMN)}) = 1) AS {alias} ON {condition}"
            )
        for number, rollup in enumerate(spec.rollups):
            alias = q("r_" + rollup.name)
            where = f"tables.{spec.name}.rollup[{number}]"
            value = self.column_sql(rollup.value, None, scope=rollup.source)
            their_keys = [self.reference(theirs, None, f"{where}.on", scope=rollup.source) for _, theirs in rollup.on]
            order = "[" + ", ".join(lit(v) for v in rollup.order) + "]"
            key_select = ", ".join(f"{k} AS k{i}" for i, k in enumerate(their_keys))
            key_names = ", ".join(f"k{i}" for i in range(len(their_keys)))
            condition = " AND ".join(
                f"{alias}.k{i} = {self.reference(local, spec, f'{where}.on')}" for i, (local, _) in enumerate(rollup.on)
            )
            joins.append(
                f"LEFT JOIN (SELECT {key_names}, arg_min(v, p) AS value FROM (SELECT {key_select}, {value} AS v, "
                f"list_position({order}, {value}) AS p FROM {q('src_' + rollup.source)} r) "
                f"WHERE p IS NOT NULL GROUP BY {key_names}) AS {alias} ON {condition}"
            )
        self.run(
            f"CREATE TABLE {out} AS SELECT {', '.join(selects)}, CAST(NULL AS VARCHAR) AS {q(HIDDEN + 'drop')} "
            f"FROM {q('src_' + spec.source)} s {' '.join(joins)}"
        )
        source_rows = self.count(out)
        for number, rule in enumerate(spec.where):
            self.mark(out, f"NOT {q(HIDDEN + f'w{number}')}", rule.reason)
        dropped: dict[str, int] = {}
        self.flush(out, dropped)
        table_notes: list[str] = []
        self.note_normalisation(spec, out, table_notes)
        if spec.distinct:
            self.make_distinct(spec, out)
        if spec.number_duplicates:
            key = q(table.key)
            self.run(
                f"CREATE OR REPLACE TABLE {out} AS SELECT * EXCLUDE (n) REPLACE (CASE WHEN n > 1 THEN {key} || '~' || n "
                f"ELSE {key} END AS {key}) FROM (SELECT *, row_number() OVER (PARTITION BY {key} "
                f"ORDER BY {q(LINE_COLUMN)}) AS n FROM {out})"
            )
        self.apply_decisions(spec, out, table_notes)
        for column in spec.require:
            self.mark(out, f"{q(column)} IS NULL", f"no {column} ({self.describe(spec.columns[column])} empty)")
        self.apply_spans(spec, out, table_notes)
        self.apply_orphans(spec, out, table_notes)
        if spec.duplicates == "first":
            key = q(table.key)
            self.mark(
                out,
                f"{q(LINE_COLUMN)} > (SELECT min(d.{q(LINE_COLUMN)}) FROM {out} d WHERE d.{key} = {out}.{key} "
                f"AND d.{q(HIDDEN + 'drop')} IS NULL)",
                f"repeated {table.key} (the first line was kept)",
            )
        self.flush(out, dropped)
        rows = self.count(out)
        self.rows[spec.name] = rows
        self.dropped[spec.name] = dropped
        self.built[spec.name] = out
        summary = f"{spec.name}: {fmt(rows)} rows from {source.path.name} ({fmt(source_rows)} source rows"
        if spec.distinct:
            summary += f", one row per {', '.join(spec.distinct)}"
        summary += ")"
        if dropped:
            summary += "; not loaded: " + "; ".join(f"{fmt(n)} {reason}" for reason, n in dropped.items())
        self.notes.append(summary + ".")
        self.note_times(spec, out, table_notes)
        self.note_codes(spec, out, table_notes)
        self.notes.extend(table_notes)
        self.notes.extend(spec.notes)
        columns = {}
        data = self.con.sql(
            f"SELECT {', '.join(q(c.name) for c in table.columns if c.name in spec.columns)}, {q(LINE_COLUMN)} "
            f"FROM {out} ORDER BY {q(LINE_COLUMN)}"
        ).to_arrow_table()
        for column in table.columns:
            if column.name in spec.columns:
                columns[column.name] = data.column(column.name).cast(pa.string())
            else:
                columns[column.name] = pa.nulls(data.num_rows, type=pa.string())
        columns[LINE_COLUMN] = data.column(LINE_COLUMN).cast(pa.int64())
        return ReadResult(SourceFile(table, source.path), pa.table(columns), list(source.problems))

    def run(self, sql: str) -> list[tuple]:
        """Execute and fetch everything (DuckDB wants each result finished before the next)."""
        return self.con.execute(sql).fetchall()

    def flush(self, out: str, dropped: dict[str, int]) -> None:
        """Count the rows marked to be left out, by reason, and remove them."""
        for reason, count in self.run(
            f"SELECT {q(HIDDEN + 'drop')}, count(*) FROM {out} WHERE {q(HIDDEN + 'drop')} IS NOT NULL GROUP BY 1"
        ):
            dropped[reason] = dropped.get(reason, 0) + count
        self.run(f"DELETE FROM {out} WHERE {q(HIDDEN + 'drop')} IS NOT NULL")

    def count(self, out: str, where: str = "TRUE") -> int:
        return int(self.run(f"SELECT count(*) FROM {out} WHERE {where}")[0][0])

    def mark(self, out: str, condition: str, reason: str) -> None:
        self.run(
            f"UPDATE {out} SET {q(HIDDEN + 'drop')} = {lit(reason)} WHERE {q(HIDDEN + 'drop')} IS NULL AND ({condition})"
        )

    def describe(self, spec: ColumnSpec) -> str:
        """The source side of a column spec, in words, for notes."""
        if spec.base == "column":
            return spec.argument
        if spec.base == "first_of":
            return "the first of " + ", ".join(self.describe(s) for s in spec.argument)
        if spec.base == "template":
            return "+".join(m.group(1) for m in PLACEHOLDER.finditer(spec.argument))
        if spec.base == "date":
            return "/".join(self.describe(s) for s in spec.argument.values())
        if spec.base == "difference":
            return " - ".join(self.describe(s) for s in spec.argument)
        if spec.base == "rollup":
            return f"the rollup {spec.argument}"
        if spec.base == "value":
            return f"the constant {spec.argument!r}"
        return spec.base

    def make_distinct(self, spec: TableSpec, out: str) -> None:
        table = TABLES_BY_NAME[spec.name]
        keys = [q(c) for c in spec.distinct]
        kept = self.con.sql(f"SELECT * FROM {out} LIMIT 0").columns
        aggregates = [f"min({q(LINE_COLUMN)}) AS {q(LINE_COLUMN)}"]
        for name in kept:
            if name == LINE_COLUMN or q(name) in keys:
                continue
            how = "first"
            if name in spec.columns:
                how = spec.columns[name].aggregate
            if name == HIDDEN + "drop":
                how = "min"
            column = q(name)
            if how == "first":
                aggregates.append(f"arg_min({column}, {q(LINE_COLUMN)}) AS {column}")
            elif how == "last":
                aggregates.append(f"arg_max({column}, {q(LINE_COLUMN)}) AS {column}")
            elif how == "median":
                typed = table.column(name).type if table.has(name) else ColumnType.STRING
                cast = "BIGINT" if typed is ColumnType.INTEGER else "DOUBLE"
                aggregates.append(f"CAST(CAST(round(median(TRY_CAST({column} AS DOUBLE))) AS {cast}) AS VARCHAR) AS {column}")
            else:
                aggregates.append(f"{how}({column}) AS {column}")
        # Rows already left out by a filter do not make a group of their own.
        self.run(
            f"CREATE OR REPLACE TABLE {out} AS SELECT {', '.join(keys)}, {', '.join(aggregates)} FROM {out} "
            f"WHERE {q(HIDDEN + 'drop')} IS NULL GROUP BY {', '.join(keys)}"
        )

    def apply_decisions(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        table = TABLES_BY_NAME[spec.name]
        if not table.decision or not spec.decisions or table.decision[0] not in spec.columns:
            return
        column, undecided = table.decision
        open_code = undecided[0]
        codes = ", ".join(lit(c) for c in undecided)
        c, d, drop = q(column), q("decided_at"), q(HIDDEN + "drop")
        decided_source = self.describe(spec.columns["decided_at"]) if "decided_at" in spec.columns else "decided_at"
        undated = f"{drop} IS NULL AND {c} IS NOT NULL AND lower({c}) NOT IN ({codes}) AND {d} IS NULL"
        policy = spec.decisions.get("undated", "open")
        count = self.count(out, undated)
        if count and policy == "open":
            self.run(f"UPDATE {out} SET {c} = {lit(open_code)} WHERE {undated}")
            notes.append(
                f"{spec.name}: {fmt(count)} decided {column}s with no date ({decided_source} empty) loaded as "
                f"{open_code}: a decision with no date cannot be placed in time, and no date is made up."
            )
        elif count and policy == "drop":
            self.mark(out, undated, f"decided {column} with no date ({decided_source} empty)")
        open_dated = f"{drop} IS NULL AND lower({c}) IN ({codes}) AND {d} IS NOT NULL"
        policy = spec.decisions.get("open_with_date", "blank")
        count = self.count(out, open_dated)
        if count and policy == "blank":
            self.run(f"UPDATE {out} SET {d} = NULL WHERE {open_dated}")
            notes.append(
                f"{spec.name}: {fmt(count)} rows {open_code} (no {column}) although {decided_source} is set: "
                f"kept as {open_code}, decided_at left empty."
            )
        elif count and policy == "drop":
            self.mark(out, open_dated, f"{open_code} {column} but {decided_source} set")

    def apply_spans(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        table = TABLES_BY_NAME[spec.name]
        if spec.bad_spans == "keep":
            return
        for start, end in table.spans:
            if start not in spec.columns or end not in spec.columns:
                continue
            bad = (
                f"{q(HIDDEN + 'drop')} IS NULL AND TRY_CAST({q(end)} AS TIMESTAMP) < TRY_CAST({q(start)} AS TIMESTAMP)"
            )
            count = self.count(out, bad)
            if not count:
                continue
            what = f"{self.describe(spec.columns[end])} before {self.describe(spec.columns[start])}"
            if spec.bad_spans == "blank_end":
                self.run(f"UPDATE {out} SET {q(end)} = NULL WHERE {bad}")
                notes.append(f"{spec.name}: {fmt(count)} rows with {what}: {end} left empty (start kept).")
            else:
                self.mark(out, bad, what)

    def apply_orphans(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        table = TABLES_BY_NAME[spec.name]
        for column, policy in spec.orphans.items():
            if column not in spec.columns:
                continue
            parent = TABLES_BY_NAME[table.column(column).references]
            if parent.name not in self.built:
                raise self.mapping.error(
                    f"tables.{spec.name}.orphans.{column}",
                    f"{parent.name} is not built by this mapping, so orphans cannot be checked here",
                )
            parent_out = self.built[parent.name]
            orphan = (
                f"{q(HIDDEN + 'drop')} IS NULL AND {q(column)} IS NOT NULL AND {q(column)} NOT IN "
                f"(SELECT {q(parent.key)} FROM {parent_out})"
            )
            what = f"{self.describe(spec.columns[column])} not in {parent.name}"
            if policy == "drop":
                self.mark(out, orphan, what)
            else:
                count = self.count(out, orphan)
                if count:
                    self.run(f"UPDATE {out} SET {q(column)} = NULL WHERE {orphan}")
                    notes.append(f"{spec.name}: {fmt(count)} rows with {what}: {column} left empty.")

    def note_normalisation(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        live = f"{q(HIDDEN + 'drop')} IS NULL"
        rows_word = "source rows" if spec.distinct else "rows"
        for name, column in spec.columns.items():
            if column.base == "first_of":
                fallbacks = self.run(
                    f"SELECT {q(HIDDEN + 'fb_' + name)}, count(*) FROM {out} WHERE {live} AND "
                    f"{q(HIDDEN + 'fb_' + name)} > 0 GROUP BY 1 ORDER BY 1"
                )
                for index, count in fallbacks:
                    used = self.describe(column.argument[index])
                    earlier = ", ".join(self.describe(a) for a in column.argument[:index])
                    notes.append(
                        f"{spec.name}.{name}: {fmt(count)} {rows_word} from {used} ({earlier} empty or not mapped)."
                    )
            if not column.modified:
                continue
            raw, norm = q(HIDDEN + "raw_" + name), q(HIDDEN + "norm_" + name)
            stats = self.stats.setdefault(f"{spec.name}.{name}", {})
            stats["formats"] = int(self.run(
                f"SELECT count(DISTINCT regexp_replace(regexp_replace({raw}, '[0-9]', '9', 'g'), '[A-Za-z]', 'a', 'g')) "
                f"FROM {out} WHERE {live}"
            )[0][0])
            if column.transform or column.date_format:
                changed, shapes = self.run(
                    f"SELECT count(*), count(DISTINCT regexp_replace(regexp_replace({raw}, '[0-9]', '9', 'g'), "
                    f"'[A-Za-z]', 'a', 'g')) FROM {out} WHERE {live} AND {raw} IS NOT NULL AND {norm} IS NOT NULL "
                    f"AND {raw} <> {norm}"
                )[0]
                stats["rewritten"] = int(changed)
                if changed and column.transform:
                    examples = self.run(
                        f"SELECT {raw}, {norm} FROM {out} WHERE {live} AND {raw} <> {norm} "
                        f"GROUP BY ALL ORDER BY count(*) DESC LIMIT 2"
                    ) if not self.identifying(spec, name) else []
                    shown = ", ".join(f"{a!r} -> {b!r}" for a, b in examples)
                    steps = ", ".join(t if isinstance(t, str) else next(iter(t)) for t in column.transform)
                    notes.append(
                        f"{spec.name}.{name}: {fmt(changed)} {self.describe(column)} values rewritten ({steps}; "
                        f"{fmt(stats['formats'])} formats seen)" + (f", e.g. {shown}" if shown else "") + "."
                    )
            blanked_sql = f"{norm} IS NOT NULL AND {q(name)} IS NULL"
            blanked_missing = self.count(out, f"{live} AND {raw} IS NOT NULL AND {norm} IS NULL")
            if blanked_missing:
                meaning = f" or meaning unknown ({', '.join(column.missing_values)})" if column.missing_values else ""
                notes.append(
                    f"{spec.name}.{name}: {fmt(blanked_missing)} {self.describe(column)} values unreadable{meaning} "
                    "left empty."
                )
            stats["blanked"] = blanked_missing
            if column.valid:
                blanked = self.count(out, f"{live} AND {blanked_sql}")
                stats["blanked"] += blanked
                if blanked:
                    notes.append(
                        f"{spec.name}.{name}: {fmt(blanked)} {self.describe(column)} values not in the expected "
                        f"form ({column.valid}) left empty."
                    )

    def identifying(self, spec: TableSpec, name: str) -> bool:
        from openeis.schema import Privacy

        return TABLES_BY_NAME[spec.name].column(name).privacy is Privacy.PSEUDONYMISE

    def note_codes(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        """How each coded column was mapped. Source values are shown only where the mapping
        names them (its code table) or empty; values matched by a pattern or falling to the
        default are counted, never shown, as they may be free text."""
        for name, column in spec.columns.items():
            if not column.coded or self.identifying(spec, name):
                continue
            raw = q(HIDDEN + "norm_" + name)
            pairs = self.run(
                f"SELECT {raw}, {q(name)}, count(*) FROM {out} GROUP BY ALL ORDER BY 3 DESC"
            )
            counts: dict[tuple[str, str], int] = {}
            for source, target, n in pairs:
                target = "(empty)" if target is None else target
                if source is None:
                    label = "(empty)"
                elif source.strip().lower() in column.codes:
                    label = source
                else:
                    label = "other values (default)"
                    for pattern, _ in column.patterns:
                        if re.search(pattern, source, re.IGNORECASE):
                            label = f"/{pattern}/"
                            break
                counts[(label, target)] = counts.get((label, target), 0) + n
            if not counts:
                continue
            ranked = sorted(counts.items(), key=lambda item: -item[1])
            if len(ranked) <= 15:
                shown = ", ".join(f"{a} -> {b} {fmt(n)}" for (a, b), n in ranked)
            else:
                totals: dict[str, int] = {}
                for (_, b), n in ranked:
                    totals[b] = totals.get(b, 0) + n
                shown = ", ".join(f"{b} {fmt(n)}" for b, n in sorted(totals.items(), key=lambda item: -item[1]))
            notes.append(f"{spec.name}.{name} mapped from {self.describe(column)}: {shown}.")
            defaulted = sum(n for (a, _), n in counts.items() if a == "other values (default)")
            if defaulted:
                values = sum(
                    1 for source, _, _ in pairs
                    if source is not None and source.strip().lower() not in column.codes
                    and not any(re.search(p, source, re.IGNORECASE) for p, _ in column.patterns)
                )
                notes.append(
                    f"{spec.name}.{name}: {fmt(defaulted)} rows ({fmt(values)} distinct source values) matched no "
                    f"code or pattern and took the default {column.default or '(empty)'}."
                )

    def note_times(self, spec: TableSpec, out: str, notes: list[str]) -> None:
        cols = spec.columns

        def check(later: str, earlier: str, text: str) -> None:
            if later not in cols or earlier not in cols:
                return
            count = self.count(
                out, f"TRY_CAST({q(later)} AS TIMESTAMP) < TRY_CAST({q(earlier)} AS TIMESTAMP)"
            )
            if count:
                notes.append(
                    f"{spec.name}: {fmt(count)} rows with {later} ({self.describe(cols[later])}) before {earlier} "
                    f"({self.describe(cols[earlier])}): {text}"
                )

        check("recorded_at", "occurred_at", "kept as given (validation warns).")
        check("decided_at", "recorded_at", "kept as given (validation warns).")


def run_mapping(mapping: Mapping, path: Path, progress=None) -> MappingResult:
    engine = Engine(mapping, path, progress)
    try:
        return engine.build()
    except duckdb.Error as error:
        raise MappingError(f"{mapping.path}: the mapping could not be applied to {path}: {error}") from None
