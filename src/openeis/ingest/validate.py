"""Row-level validation of one table's input, as SQL over the registered input.

Each check is one query that returns every row breaking a rule (line, column, value, reason),
so all bad rows are reported, not just the first, and large files are checked at SQL speed.
The checked table holds the text of each canonical column as read, except that identifier
columns already hold their pseudonyms (raw identifiers never enter a table).
"""

from __future__ import annotations

from openeis.schema import Column, ColumnType, Table
from openeis.sql_text import literal

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


quote = literal  # (the name this module's checks use)


def _check(view: str, column: str | None, value_sql: str, where: str, reason_sql: str, severity: str = "error") -> str:
    column_sql = quote(column) if column else "NULL"
    return (
        f"SELECT _line AS line, {column_sql} AS column_name, CAST({value_sql} AS VARCHAR) AS value, "
        f"{reason_sql} AS reason, {quote(severity)} AS severity FROM {view} WHERE {where}"
    )


def typed_value_sql(column: Column, source: str | None = None) -> str:
    """SQL turning a column's validated text into its stored type."""
    name = source or column.name
    if column.type is ColumnType.TIMESTAMP:
        return f"TRY_CAST({name} AS TIMESTAMP)"
    if column.type is ColumnType.INTEGER:
        return f"CAST(TRY_CAST({name} AS DOUBLE) AS BIGINT)"
    if column.type is ColumnType.FLOAT:
        return f"TRY_CAST({name} AS DOUBLE)"
    if column.type is ColumnType.BOOLEAN:
        trues = ", ".join(quote(w) for w in TRUE_WORDS)
        falses = ", ".join(quote(w) for w in FALSE_WORDS)
        return f"(CASE WHEN lower({name}) IN ({trues}) THEN TRUE WHEN lower({name}) IN ({falses}) THEN FALSE END)"
    if column.codes:
        return f"lower({name})"
    return name


def value_checks(table: Table, view: str, include_warnings: bool = True) -> list[str]:
    """Checks on values within one table: required, types, codes, keys, dates in order."""
    checks: list[str] = []
    for column in table.columns:
        name = column.name
        if column.required:
            checks.append(_check(view, name, "NULL", f"{name} IS NULL", quote("required value is missing")))
        if column.type is ColumnType.TIMESTAMP:
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{name} IS NOT NULL AND TRY_CAST({name} AS TIMESTAMP) IS NULL",
                    quote("not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"),
                )
            )
            year = f"year(TRY_CAST({name} AS TIMESTAMP))"
            checks.append(
                _check(
                    view,
                    name,
                    name,
                    f"{year} < {EARLIEST_YEAR} OR {year} > {LATEST_YEAR}",
                    quote(f"implausible date (outside {EARLIEST_YEAR}-{LATEST_YEAR})"),
                )
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
                f"TRY_CAST({end} AS TIMESTAMP) < TRY_CAST({start} AS TIMESTAMP)",
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
                "TRY_CAST(recorded_at AS TIMESTAMP) < TRY_CAST(occurred_at AS TIMESTAMP)",
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
                "TRY_CAST(decided_at AS TIMESTAMP) < TRY_CAST(recorded_at AS TIMESTAMP)",
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
