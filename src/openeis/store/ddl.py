"""SQL DDL for the canonical tables and their history tables, generated from openeis.schema.

Used to write migration files and by the tests that check the migrations still match the
schema. The SQL types chosen (VARCHAR, BIGINT, DOUBLE PRECISION, BOOLEAN, TIMESTAMP) mean
the same in DuckDB and PostgreSQL.
"""

from __future__ import annotations

from openeis.schema import TABLES, Table

# Columns every canonical table carries besides its own.
SYSTEM_COLUMNS = (
    ("_batch_id", "VARCHAR", "Ingest batch that last wrote the row."),
    ("_row_hash", "VARCHAR", "Hash of the row's content, to see a changed record on re-ingest."),
)

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}


def create_table_sql(table: Table) -> str:
    lines = []
    for column in table.columns:
        null = " NOT NULL" if column.required else ""
        lines.append(f"    {column.name} {SQL_TYPES[column.type.value]}{null}")
    for name, sql_type, _ in SYSTEM_COLUMNS:
        lines.append(f"    {name} {sql_type}")
    body = ",\n".join(lines)
    return f"CREATE TABLE {table.qualified_name} (\n{body}\n);"


# Columns a history table (`<table>_history`) carries besides the table's own and SYSTEM_COLUMNS:
# one row per earlier version of a record that a re-ingest corrected, with the interval during
# which it was the store's truth.
VERSION_COLUMNS = (
    ("_valid_from", "TIMESTAMP", "From when this version was the store's truth; empty for a record's "
     "first version, which holds from its own recorded_at."),
    ("_valid_to", "TIMESTAMP NOT NULL", "When a correction replaced it: the correcting batch's time, or "
     "the time the force made the change (`ingest --changed-at`)."),
    ("_superseded_by", "VARCHAR NOT NULL", "The ingest batch that replaced it."),
)


def history_name(table: Table) -> str:
    """The qualified name of a canonical table's history table."""
    return f"{table.qualified_name}_history"


def create_history_table_sql(table: Table) -> str:
    lines = [f"    {column.name} {SQL_TYPES[column.type.value]}{' NOT NULL' if column.required else ''}"
             for column in table.columns]
    lines += [f"    {name} {sql_type}" for name, sql_type, _ in SYSTEM_COLUMNS + VERSION_COLUMNS]
    body = ",\n".join(lines)
    return f"CREATE TABLE {history_name(table)} (\n{body}\n);"


def history_schema_sql() -> str:
    return "\n\n".join(create_history_table_sql(table) for table in TABLES) + "\n"


def initial_schema_sql() -> str:
    parts = ["CREATE SCHEMA IF NOT EXISTS restricted;"]
    parts.extend(create_table_sql(table) for table in TABLES)
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":  # python -m openeis.store.ddl > migration file
    print(initial_schema_sql(), end="")
