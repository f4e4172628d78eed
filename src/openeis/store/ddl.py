"""SQL DDL for the canonical tables, generated from openeis.schema.

Used to write migration files and by the test that checks the migrations still match the
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


def initial_schema_sql() -> str:
    parts = ["CREATE SCHEMA IF NOT EXISTS restricted;"]
    parts.extend(create_table_sql(table) for table in TABLES)
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":  # python -m openeis.store.ddl > migration file
    print(initial_schema_sql(), end="")
