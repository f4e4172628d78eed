"""SQL text: the one place literals and identifiers are quoted.

Values reach SQL as `?` parameters wherever the engine allows; these are for the few places
it does not (paths in COPY and read_parquet, Spark's OPTIONS, constants inside generated
expressions, column names from a mapping file). Standard SQL quoting, the same on DuckDB,
PostgreSQL and Spark SQL: a quote inside is doubled.
"""

from __future__ import annotations

from collections.abc import Iterable


def literal(value: object) -> str:
    """A string literal: 'it''s'. None becomes NULL."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def literal_list(values: Iterable[object]) -> str:
    """'a', 'b', 'c': for IN (...) and list literals."""
    return ", ".join(literal(value) for value in values)


def identifier(name: str) -> str:
    """A quoted identifier: a double quote inside is doubled. For names that come from
    outside (a mapping file's columns); the data model's own names are plain lower-case words
    and need none."""
    return '"' + name.replace('"', '""') + '"'
