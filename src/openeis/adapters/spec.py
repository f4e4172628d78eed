"""The declarative mapping language: load a mapping file and check it before any data is read.

A mapping says, per canonical table, which source file feeds it and how each canonical column
is made from the source's columns (a column, the first non-empty of several, a constant, a
template, a date from parts, a code table, a date format...). docs/adapters.md describes the
language; this module only parses and validates it, so that a wrong mapping fails with the
mapping file and the key that is wrong, never with a stack trace half-way through a load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from openeis.schema import TABLES_BY_NAME, ColumnType

MAPPING_VERSION = 1

BASES = ("column", "first_of", "value", "template", "difference", "date", "rollup")
MODIFIERS = (
    "transform",
    "missing_values",
    "date_format",
    "valid",
    "codes",
    "patterns",
    "default",
    "missing",
    "aggregate",
    "strict",
)
TRANSFORMS = ("integer_id", "upper", "lower", "year", "age_band", "strip_leading_zeros")
PARAMETRIC_TRANSFORMS = ("pad", "replace")
AGGREGATES = ("first", "last", "min", "max", "median")
TABLE_KEYS = (
    "from",
    "join",
    "rollup",
    "columns",
    "where",
    "distinct",
    "number_duplicates",
    "require",
    "orphans",
    "decisions",
    "bad_spans",
    "duplicates",
    "notes",
)
WHERE_TESTS = ("is", "in", "not_in", "matches")


class MappingError(Exception):
    """The mapping file itself is wrong: names the file and the key."""


@dataclass
class SourceSpec:
    alias: str
    file: str
    integer_ids: list[str] = field(default_factory=list)
    optional: bool = False


@dataclass
class ColumnSpec:
    """One canonical column (or a nested operand): a base plus modifiers, as parsed."""

    where: str  # key path, for error messages
    base: str
    argument: Any
    transform: list[Any] = field(default_factory=list)
    missing_values: list[str] = field(default_factory=list)
    date_format: list[str] = field(default_factory=list)
    valid: str | None = None
    codes: dict[str, str | None] = field(default_factory=dict)
    patterns: list[tuple[str, str | None]] = field(default_factory=list)
    default: str | None = None
    has_default: bool = False
    missing: str | None = None
    aggregate: str = "first"
    strict: bool = False

    @property
    def coded(self) -> bool:
        return bool(self.codes or self.patterns or self.has_default)

    @property
    def modified(self) -> bool:
        return bool(self.transform or self.missing_values or self.date_format or self.valid or self.coded)


@dataclass
class JoinSpec:
    source: str
    on: list[tuple[str, str]]  # (local reference, column of the joined source)


@dataclass
class RollupSpec:
    name: str
    source: str
    on: list[tuple[str, str]]
    value: ColumnSpec
    order: list[str]


@dataclass
class WhereSpec:
    column: list[str]
    test: str
    argument: Any
    reason: str


@dataclass
class TableSpec:
    name: str
    source: str
    columns: dict[str, ColumnSpec]
    joins: list[JoinSpec] = field(default_factory=list)
    rollups: list[RollupSpec] = field(default_factory=list)
    where: list[WhereSpec] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)
    number_duplicates: bool = False
    require: list[str] = field(default_factory=list)
    orphans: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    bad_spans: str = "keep"
    duplicates: str = "keep"
    notes: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    path: Path
    name: str
    sources: dict[str, SourceSpec]
    tables: dict[str, TableSpec]
    notes: list[str] = field(default_factory=list)

    def error(self, where: str, message: str) -> MappingError:
        return MappingError(f"{self.path}: {where}: {message}")


def load_mapping(path: Path) -> Mapping:
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: mapping file not found")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingError(f"{path}: not valid YAML: {error}") from None
    return parse_mapping(document, path)


def parse_mapping(document: Any, path: Path) -> Mapping:
    def fail(where: str, message: str) -> MappingError:
        return MappingError(f"{path}: {where}: {message}")

    if not isinstance(document, dict):
        raise fail("(top level)", "expected a mapping with keys openeis_mapping, sources, tables")
    _only(document, ("openeis_mapping", "name", "description", "notes", "sources", "tables"), "(top level)", fail)
    version = document.get("openeis_mapping")
    if version != MAPPING_VERSION:
        raise fail("openeis_mapping", f"expected {MAPPING_VERSION} (the mapping language version), found {version!r}")
    notes = _strings(document.get("notes", []), "notes", fail)
    sources = _parse_sources(document.get("sources"), fail)
    raw_tables = document.get("tables")
    if not isinstance(raw_tables, dict) or not raw_tables:
        raise fail("tables", "expected at least one canonical table (for example officers:)")
    tables: dict[str, TableSpec] = {}
    for name, body in raw_tables.items():
        where = f"tables.{name}"
        if name not in TABLES_BY_NAME:
            raise fail(where, f"unknown canonical table; known: {', '.join(TABLES_BY_NAME)}")
        tables[name] = _parse_table(name, body, where, sources, fail)
    return Mapping(path, str(document.get("name") or path.stem), sources, tables, notes)


def _only(body: dict, allowed: tuple[str, ...], where: str, fail) -> None:
    for key in body:
        if key not in allowed:
            raise fail(f"{where}.{key}", f"unknown key; expected one of: {', '.join(allowed)}")


def _strings(value: Any, where: str, fail) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise fail(where, "expected a list of strings")
    return [str(v) for v in value]


def _parse_sources(raw: Any, fail) -> dict[str, SourceSpec]:
    if not isinstance(raw, dict) or not raw:
        raise fail("sources", "expected at least one source: alias: {file: NAME.csv}")
    sources = {}
    for alias, body in raw.items():
        where = f"sources.{alias}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(alias)):
            raise fail(where, "a source alias is letters, digits and underscores, not starting with a digit")
        if isinstance(body, str):
            body = {"file": body}
        if not isinstance(body, dict) or "file" not in body:
            raise fail(where, "expected {file: NAME.csv} (a name or glob, .csv or .csv.gz)")
        _only(body, ("file", "integer_ids", "optional"), where, fail)
        sources[alias] = SourceSpec(
            alias=str(alias),
            file=str(body["file"]),
            integer_ids=_strings(body.get("integer_ids", []), f"{where}.integer_ids", fail),
            optional=bool(body.get("optional", False)),
        )
    return sources


def _parse_on(raw: Any, where: str, fail) -> list[tuple[str, str]]:
    if not isinstance(raw, dict) or not raw:
        raise fail(where, "expected {local_column: joined_column, ...}")
    return [(str(k), str(v)) for k, v in raw.items()]


def _parse_table(name: str, body: Any, where: str, sources: dict[str, SourceSpec], fail) -> TableSpec:
    table = TABLES_BY_NAME[name]
    if not isinstance(body, dict):
        raise fail(where, "expected from:, columns: and optional settings")
    _only(body, TABLE_KEYS, where, fail)
    source = body.get("from")
    if source not in sources:
        raise fail(f"{where}.from", f"expected one of the sources ({', '.join(sources)}), found {source!r}")
    joins = []
    for number, join in enumerate(body.get("join", []) or []):
        join_where = f"{where}.join[{number}]"
        if not isinstance(join, dict):
            raise fail(join_where, "expected {source: ALIAS, on: {local: theirs}}")
        join = _yaml_on(join)
        _only(join, ("source", "on"), join_where, fail)
        if join.get("source") not in sources:
            raise fail(f"{join_where}.source", f"expected one of the sources ({', '.join(sources)})")
        joins.append(JoinSpec(join["source"], _parse_on(join.get("on"), f"{join_where}.on", fail)))
    rollups = []
    for number, rollup in enumerate(body.get("rollup", []) or []):
        rollup_where = f"{where}.rollup[{number}]"
        if not isinstance(rollup, dict):
            raise fail(rollup_where, "expected {name:, source:, on:, value:, order: [...]}")
        rollup = _yaml_on(rollup)
        _only(rollup, ("name", "source", "on", "value", "order"), rollup_where, fail)
        if rollup.get("source") not in sources:
            raise fail(f"{rollup_where}.source", f"expected one of the sources ({', '.join(sources)})")
        if not rollup.get("name") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(rollup["name"])):
            raise fail(f"{rollup_where}.name", "expected a name (letters, digits, underscores)")
        order = _strings(rollup.get("order", []), f"{rollup_where}.order", fail)
        if not order:
            raise fail(f"{rollup_where}.order", "expected the values in order of precedence (first wins)")
        rollups.append(
            RollupSpec(
                str(rollup["name"]),
                rollup["source"],
                _parse_on(rollup.get("on"), f"{rollup_where}.on", fail),
                parse_column(rollup.get("value"), f"{rollup_where}.value", fail),
                order,
            )
        )
    raw_columns = body.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise fail(f"{where}.columns", "expected canonical_column: spec, ...")
    columns = {}
    for column, spec in raw_columns.items():
        column_where = f"{where}.columns.{column}"
        if not table.has(column):
            raise fail(column_where, f"{name} has no column {column!r}; its columns: {', '.join(table.column_names)}")
        columns[column] = parse_column(spec, column_where, fail)
        if table.column(column).type is ColumnType.TIMESTAMP and columns[column].codes:
            raise fail(column_where, "a date column cannot have a code table")
    missing = [c.name for c in table.columns if c.required and c.name not in columns]
    if missing:
        raise fail(f"{where}.columns", f"required column(s) of {name} not mapped: {', '.join(missing)}")
    wheres = []
    for number, rule in enumerate(body.get("where", []) or []):
        rule_where = f"{where}.where[{number}]"
        if not isinstance(rule, dict) or "column" not in rule:
            raise fail(rule_where, "expected {column: SOURCE_COLUMN, is: not_empty|empty | in: [...] | "
                       "not_in: [...] | matches: REGEX, reason: TEXT}")
        _only(rule, ("column",) + WHERE_TESTS + ("reason",), rule_where, fail)
        tests = [t for t in WHERE_TESTS if t in rule]
        if len(tests) != 1:
            raise fail(rule_where, f"expected exactly one of: {', '.join(WHERE_TESTS)}")
        test = tests[0]
        argument = rule[test]
        if test == "is" and argument not in ("empty", "not_empty"):
            raise fail(f"{rule_where}.is", "expected empty or not_empty")
        if test in ("in", "not_in"):
            argument = _strings(argument, f"{rule_where}.{test}", fail)
        if test == "matches":
            _regex(argument, f"{rule_where}.matches", fail)
        reason = rule.get("reason") or f"{rule['column']} {test} {argument}"
        tested = rule["column"] if isinstance(rule["column"], list) else [rule["column"]]
        if not tested or not all(isinstance(c, str) for c in tested):
            raise fail(f"{rule_where}.column", "expected a source column (or a list: the first non-empty is tested)")
        wheres.append(WhereSpec([str(c) for c in tested], test, argument, str(reason)))
    distinct = _strings(body.get("distinct", []), f"{where}.distinct", fail)
    require = _strings(body.get("require", []), f"{where}.require", fail)
    for listed, key in ((distinct, "distinct"), (require, "require")):
        for column in listed:
            if column not in columns:
                raise fail(f"{where}.{key}", f"{column!r} is not one of the mapped columns")
    orphans = body.get("orphans", {}) or {}
    if not isinstance(orphans, dict):
        raise fail(f"{where}.orphans", "expected {column: drop|blank}")
    for column, policy in orphans.items():
        if not table.has(column) or not table.column(column).references:
            raise fail(f"{where}.orphans.{column}", "not a column that refers to another table")
        if policy not in ("drop", "blank"):
            raise fail(f"{where}.orphans.{column}", "expected drop or blank")
        if policy == "blank" and table.column(column).required:
            raise fail(f"{where}.orphans.{column}", "a required column cannot be blanked; use drop")
    decisions = body.get("decisions", {}) or {}
    if decisions:
        if not table.decision:
            raise fail(f"{where}.decisions", f"{name} has no decision column")
        if not isinstance(decisions, dict):
            raise fail(f"{where}.decisions", "expected {undated: open|drop, open_with_date: blank|drop}")
        _only(decisions, ("undated", "open_with_date"), f"{where}.decisions", fail)
        if decisions.get("undated", "open") not in ("open", "drop", "keep"):
            raise fail(f"{where}.decisions.undated", "expected open, drop or keep")
        if decisions.get("open_with_date", "blank") not in ("blank", "drop", "keep"):
            raise fail(f"{where}.decisions.open_with_date", "expected blank, drop or keep")
    bad_spans = body.get("bad_spans", "keep")
    if bad_spans not in ("keep", "blank_end", "drop"):
        raise fail(f"{where}.bad_spans", "expected keep, blank_end or drop")
    duplicates = body.get("duplicates", "keep")
    if duplicates not in ("keep", "first"):
        raise fail(f"{where}.duplicates", "expected keep (report them) or first (keep the first line, count the rest)")
    return TableSpec(
        name=name,
        source=source,
        columns=columns,
        joins=joins,
        rollups=rollups,
        where=wheres,
        distinct=distinct,
        number_duplicates=bool(body.get("number_duplicates", False)),
        require=require,
        orphans={str(k): str(v) for k, v in orphans.items()},
        decisions={str(k): str(v) for k, v in decisions.items()},
        bad_spans=bad_spans,
        duplicates=duplicates,
        notes=_strings(body.get("notes", []), f"{where}.notes", fail),
    )


def _yaml_on(body: dict) -> dict:
    """YAML 1.1 reads a bare `on:` key as true; the mapping language means the word."""
    return {("on" if key is True else key): value for key, value in body.items()}


def _regex(pattern: Any, where: str, fail) -> str:
    if not isinstance(pattern, str):
        raise fail(where, "expected a regular expression")
    try:
        re.compile(pattern)
    except re.error as error:
        raise fail(where, f"not a valid regular expression: {error}") from None
    return pattern


def _code_value(value: Any, where: str, fail) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise fail(where, "expected a code (text) or null")


def parse_column(spec: Any, where: str, fail) -> ColumnSpec:
    if isinstance(spec, str):
        return ColumnSpec(where, "column", spec)
    if not isinstance(spec, dict):
        raise fail(where, "expected a source column name or {column|first_of|value|template|difference|date|rollup: ...}")
    _only(spec, BASES + MODIFIERS, where, fail)
    bases = [b for b in BASES if b in spec]
    if len(bases) != 1:
        raise fail(where, f"expected exactly one of: {', '.join(BASES)} (found {', '.join(bases) or 'none'})")
    base = bases[0]
    argument = spec[base]
    if base == "column" or base == "rollup":
        if not isinstance(argument, str) or not argument:
            raise fail(f"{where}.{base}", "expected a name")
    elif base == "value":
        argument = _code_value(argument, f"{where}.value", fail)
    elif base == "first_of":
        if not isinstance(argument, list) or len(argument) < 2:
            raise fail(f"{where}.first_of", "expected a list of two or more columns or specs")
        argument = [parse_column(item, f"{where}.first_of[{i}]", fail) for i, item in enumerate(argument)]
    elif base == "difference":
        if not isinstance(argument, list) or len(argument) != 2:
            raise fail(f"{where}.difference", "expected [minuend, subtrahend]")
        argument = [parse_column(item, f"{where}.difference[{i}]", fail) for i, item in enumerate(argument)]
    elif base == "template":
        if not isinstance(argument, str) or "{" not in argument:
            raise fail(f"{where}.template", "expected text with {column} placeholders")
    elif base == "date":
        if not isinstance(argument, dict) or "year" not in argument:
            raise fail(f"{where}.date", "expected {year: COLUMN, month: COLUMN, day: COLUMN} (month, day optional: 1)")
        _only(argument, ("year", "month", "day"), f"{where}.date", fail)
        argument = {k: parse_column(v, f"{where}.date.{k}", fail) for k, v in argument.items()}
    column = ColumnSpec(where, base, argument)
    transforms = spec.get("transform", [])
    if not isinstance(transforms, list):
        transforms = [transforms]
    for number, transform in enumerate(transforms):
        t_where = f"{where}.transform[{number}]"
        if isinstance(transform, str):
            if transform not in TRANSFORMS:
                raise fail(t_where, f"unknown transform {transform!r}; known: {', '.join(TRANSFORMS + PARAMETRIC_TRANSFORMS)}")
        elif isinstance(transform, dict) and len(transform) == 1:
            (kind, value), = transform.items()
            if kind == "pad" and not (isinstance(value, int) and 0 < value < 40):
                raise fail(t_where, "pad: expected a width (a whole number)")
            if kind == "replace" and not (isinstance(value, list) and len(value) == 2):
                raise fail(t_where, "replace: expected [REGEX, REPLACEMENT]")
            if kind == "replace":
                _regex(value[0], t_where, fail)
            if kind not in PARAMETRIC_TRANSFORMS:
                raise fail(t_where, f"unknown transform {kind!r}; known: {', '.join(TRANSFORMS + PARAMETRIC_TRANSFORMS)}")
        else:
            raise fail(t_where, "expected a transform name or {pad: N} / {replace: [REGEX, TEXT]}")
        column.transform.append(transform)
    if "missing_values" in spec:
        column.missing_values = _strings(spec["missing_values"], f"{where}.missing_values", fail)
    if "date_format" in spec:
        column.date_format = _strings(spec["date_format"], f"{where}.date_format", fail)
        for fmt in column.date_format:
            if "%" not in fmt:
                raise fail(f"{where}.date_format", f"{fmt!r} is not a strftime format (for example %d/%m/%Y)")
    if "valid" in spec:
        column.valid = _regex(spec["valid"], f"{where}.valid", fail)
    if "codes" in spec:
        codes = spec["codes"]
        if not isinstance(codes, dict) or not codes:
            raise fail(f"{where}.codes", "expected {source value: canonical code, ...}")
        column.codes = {
            str(k).strip().lower(): _code_value(v, f"{where}.codes.{k}", fail) for k, v in codes.items()
        }
    if "patterns" in spec:
        patterns = spec["patterns"]
        if not isinstance(patterns, list):
            raise fail(f"{where}.patterns", "expected a list of [REGEX, code] pairs, tried in order")
        for number, pair in enumerate(patterns):
            p_where = f"{where}.patterns[{number}]"
            if isinstance(pair, dict) and len(pair) == 1:
                pair = list(pair.items())[0]
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise fail(p_where, "expected [REGEX, code]")
            column.patterns.append((_regex(pair[0], p_where, fail), _code_value(pair[1], p_where, fail)))
    if "default" in spec:
        column.default = _code_value(spec["default"], f"{where}.default", fail)
        column.has_default = True
    if "missing" in spec:
        column.missing = _code_value(spec["missing"], f"{where}.missing", fail)
    if "aggregate" in spec:
        if spec["aggregate"] not in AGGREGATES:
            raise fail(f"{where}.aggregate", f"expected one of: {', '.join(AGGREGATES)}")
        column.aggregate = spec["aggregate"]
    column.strict = bool(spec.get("strict", False))
    return column


PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
