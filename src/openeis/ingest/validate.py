"""Row-level validation of one table's input, as SQL over the registered input.

Each check is one query that returns every row breaking a rule (line, column, value, reason),
so all bad rows are reported, not just the first, and large files are checked at SQL speed.
The checked table holds the text of each canonical column as read, except that identifier
columns already hold their pseudonyms (raw identifiers never enter a table), and, for each
date column, its value parsed once (`parsed_timestamp_sql`, in a column named by `parsed`).

Dates are read strictly: YYYY-MM-DD, optionally a time (THH:MM[:SS[.fraction]], or with a
space), optionally Z or an offset (+01:00, -0500, +05), which is converted to UTC. Nothing
else: no `infinity`, `epoch`, trailing words or offsets silently dropped (what the engine's
own cast accepts), and only dates within the configured span (`ValueLimits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openeis.schema import Column, ColumnType, Table
from openeis.sql_text import literal

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
PLAIN_TIMESTAMP = rf"{_DATE}(?:[T ]{_TIME})?"  # what the engine's cast may read as it stands
OFFSET_TIMESTAMP = rf"({_DATE}[T ]{_TIME})(Z|[+-]\d{{2}}(?::?\d{{2}})?)"  # group 1: local time; 2: offset
DATE_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, optionally with Z or an offset such as +01:00"


@dataclass(frozen=True)
class ValueLimits:
    """The span of plausible dates (`[ingest] earliest_date`, `latest_date`): any date or
    time column, and calendar years such as birth_year."""

    earliest: date = date(1900, 1, 1)
    latest: date = date(2100, 12, 31)


quote = literal  # (the name this module's checks use)


def _check(view: str, column: str | None, value_sql: str, where: str, reason_sql: str, severity: str = "error") -> str:
    column_sql = quote(column) if column else "NULL"
    return (
        f"SELECT _line AS line, {column_sql} AS column_name, CAST({value_sql} AS VARCHAR) AS value, "
        f"{reason_sql} AS reason, {quote(severity)} AS severity FROM {view} WHERE {where}"
    )


def parsed(name: str) -> str:
    """The column holding a date column's parsed value beside its text."""
    return f"_parsed_{name}"


def parsed_timestamp_sql(name: str) -> str:
    """A date column's text -> TIMESTAMP (UTC where an offset was given), NULL where it is not
    a date in one of the accepted forms. Computed once per value, when the input is copied."""
    offset = f"regexp_extract({name}, {quote('^' + OFFSET_TIMESTAMP + '$')}, 2)"
    digits = f"replace(substr({offset}, 2), ':', '')"
    hours = f"TRY_CAST(left({digits}, 2) AS INTEGER)"
    minutes = f"coalesce(TRY_CAST(nullif(substr({digits}, 3), '') AS INTEGER), 0)"
    sign = f"(CASE WHEN left({offset}, 1) = '-' THEN -1 ELSE 1 END)"
    local = f"TRY_CAST(regexp_extract({name}, {quote('^' + OFFSET_TIMESTAMP + '$')}, 1) AS TIMESTAMP)"
    return (
        f"(CASE WHEN regexp_full_match({name}, {quote(PLAIN_TIMESTAMP)}) THEN TRY_CAST({name} AS TIMESTAMP) "
        f"WHEN NOT regexp_full_match({name}, {quote(OFFSET_TIMESTAMP)}) THEN NULL "
        f"WHEN {offset} = 'Z' THEN {local} "
        f"WHEN {hours} <= 14 AND {minutes} < 60 THEN {local} - to_minutes({sign} * ({hours} * 60 + {minutes})) "
        "END)"
    )


def typed_value_sql(column: Column, source: str | None = None) -> str:
    """SQL turning a column's validated text into its stored type (a date column: its parsed
    value, made when the input was copied)."""
    name = source or column.name
    if column.type is ColumnType.TIMESTAMP:
        return parsed(name)
    if column.type is ColumnType.INTEGER:
        return f"TRY_CAST({name} AS BIGINT)"
    if column.type is ColumnType.FLOAT:
        return f"TRY_CAST({name} AS DOUBLE)"
    if column.type is ColumnType.BOOLEAN:
        trues = ", ".join(quote(w) for w in TRUE_WORDS)
        falses = ", ".join(quote(w) for w in FALSE_WORDS)
        return f"(CASE WHEN lower({name}) IN ({trues}) THEN TRUE WHEN lower({name}) IN ({falses}) THEN FALSE END)"
    if column.codes:
        return f"lower({name})"
    return name


def value_checks(table: Table, view: str, include_warnings: bool = True,
                 limits: ValueLimits = ValueLimits()) -> list[str]:
    """Checks on values within one table: required, types, ranges, codes, keys, dates in order."""
    checks: list[str] = []
    earliest = f"TIMESTAMP {quote(limits.earliest.isoformat())}"
    latest = f"TIMESTAMP {quote(limits.latest.isoformat() + ' 23:59:59.999999')}"
    span = f"{limits.earliest.isoformat()} to {limits.latest.isoformat()}"
    for column in table.columns:
        name = column.name
        if column.required:
            checks.append(_check(view, name, "NULL", f"{name} IS NULL", quote("required value is missing")))
        if column.type is ColumnType.TIMESTAMP:
            checks.append(
                _check(view, name, name, f"{name} IS NOT NULL AND {parsed(name)} IS NULL",
                       quote(f"not a date (expected {DATE_FORMS})"))
            )
            checks.append(
                _check(view, name, name, f"{parsed(name)} < {earliest} OR {parsed(name)} > {latest}",
                       quote(f"implausible date (outside {span}: [ingest] earliest_date and latest_date)"))
            )
        elif column.type is ColumnType.INTEGER:
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{name} IS NOT NULL AND NOT regexp_full_match({name}, '[+-]?[0-9]+(\\.0+)?')",
                    quote("not a whole number"),
                )
            )
            checks.append(
                _check(view, name, name, f"regexp_full_match({name}, '[+-]?[0-9]+(\\.0+)?') "
                       f"AND TRY_CAST({name} AS BIGINT) IS NULL", quote("whole number out of range"))
            )
        elif column.type is ColumnType.FLOAT:
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{name} IS NOT NULL AND (TRY_CAST({name} AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST({name} AS DOUBLE)))",
                    quote("not a number"),
                )
            )
        elif column.type is ColumnType.BOOLEAN:
            words = ", ".join(quote(w) for w in TRUE_WORDS + FALSE_WORDS)
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{name} IS NOT NULL AND lower({name}) NOT IN ({words})",
                    quote("not true or false (expected true/false, yes/no or 1/0)"),
                )
            )
        if column.minimum is not None:
            number = typed_value_sql(column)
            checks.append(_check(view, name, name, f"{number} < {column.minimum!r}",
                                 quote(f"must be {column.minimum:g} or more")))
        if column.calendar_year:
            number = typed_value_sql(column)
            checks.append(_check(view, name, name,
                                 f"{number} < {limits.earliest.year} OR {number} > {limits.latest.year}",
                                 quote(f"implausible year (outside {limits.earliest.year}-{limits.latest.year}: "
                                       "[ingest] earliest_date and latest_date)")))
        if column.codes:
            codes = ", ".join(quote(code) for code in column.codes)
            shown = ", ".join(column.codes)
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{name} IS NOT NULL AND lower({name}) NOT IN ({codes})",
                    quote(f"unknown code; expected one of: {shown}"),
                )
            )
    checks.append(_duplicate_key_check(table, view))
    for start, end in table.spans:
        checks.append(
            _check(
                view,
                end,
                end,
                f"{parsed(end)} < {parsed(start)}",
                f"'is before ' || {quote(start)} || ' (' || {start} || ')'",
            )
        )
    if table.decision:
        checks.extend(_decision_checks(table, view))
    if include_warnings:
        checks.extend(_warnings(table, view))
    return checks


def _duplicate_key_check(table: Table, view: str) -> str:
    key = table.key
    ranked = (
        f"(SELECT _line, {key}, min(_line) OVER (PARTITION BY {key}) AS first_line "
        f"FROM {view} WHERE {key} IS NOT NULL)"
    )
    return _check(
        ranked,
        key,
        key,
        "_line > first_line",
        "'duplicate key: first seen on line ' || CAST(first_line AS VARCHAR)",
    )


def _decision_checks(table: Table, view: str) -> list[str]:
    column, undecided = table.decision  # type: ignore[misc]
    codes = ", ".join(quote(code) for code in undecided)
    return [
        _check(
            view,
            "decided_at",
            "decided_at",
            f"lower({column}) IN ({codes}) AND decided_at IS NOT NULL",
            f"'must be empty while ' || {quote(column)} || ' is ' || lower({column})",
        ),
        _check(
            view,
            "decided_at",
            "NULL",
            f"{column} IS NOT NULL AND lower({column}) NOT IN ({codes}) AND decided_at IS NULL",
            f"'is required when ' || {quote(column)} || ' is ' || lower({column}) || "
            "' (when it was decided: features must not use a decision before it was made)'",
        ),
    ]


def _warnings(table: Table, view: str) -> list[str]:
    checks = []
    if table.has("occurred_at") and table.has("recorded_at"):
        checks.append(
            _check(
                view,
                "recorded_at",
                "recorded_at",
                f"{parsed('recorded_at')} < {parsed('occurred_at')}",
                "'is before occurred_at (' || occurred_at || '); kept as given'",
                "warning",
            )
        )
    if table.has("decided_at") and table.has("recorded_at"):
        checks.append(
            _check(
                view,
                "decided_at",
                "decided_at",
                f"{parsed('decided_at')} < {parsed('recorded_at')}",
                "'is before recorded_at (' || recorded_at || '); kept as given'",
                "warning",
            )
        )
    return checks


def foreign_key_check(view: str, column: Column, parent_keys_sql: str, parent: str) -> str:
    """Rows whose reference is not among the parent keys (stored or valid in this batch)."""
    return _check(
        view,
        column.name,
        column.name,
        f"{column.name} IS NOT NULL AND {column.name} NOT IN ({parent_keys_sql})",
        quote(f"not found in {parent} (neither in the store nor among this batch's valid rows)"),
    )
