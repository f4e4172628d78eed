"""Generated documents stay equal to the code; migrations give exactly the modelled tables."""

from __future__ import annotations

from pathlib import Path

from openeis.config import config_markdown, load_config, ConfigFileError
from openeis.schema import TABLES, ingest_order
from openeis.schema_docs import data_model_markdown
from openeis.store import open_store

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_data_model_document_is_current():
    assert (ROOT / "docs" / "data-model.md").read_text() == data_model_markdown(), (
        "docs/data-model.md is stale: run `make docs`"
    )


def test_config_document_is_current():
    assert (ROOT / "docs" / "config.md").read_text() == config_markdown(), "docs/config.md is stale: run `make docs`"


def test_every_table_is_documented_with_the_three_times():
    text = data_model_markdown()
    for table in TABLES:
        assert f"### {table.qualified_name}" in text
    for time_column in ("occurred_at", "recorded_at", "decided_at"):
        assert f"`{time_column}`" in text


def test_migrations_create_exactly_the_modelled_columns(store_url):
    store = open_store(store_url)
    store.migrate()
    for table in TABLES:
        schema = "restricted" if table.restricted else {"duckdb": "main", "postgres": "public"}[store.dialect]
        columns = [
            row[0]
            for row in store.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [schema, table.name],
            )
        ]
        assert columns == list(table.column_names) + ["_batch_id", "_row_hash"], table.name
    store.close()


def test_event_tables_carry_occurred_and_recorded_times():
    for table in TABLES:
        assert table.has("recorded_at"), table.name
        if table.kind == "event" and not table.restricted:
            assert table.has("occurred_at"), table.name
        if table.decision:
            assert table.has("decided_at"), table.name


def test_referenced_tables_come_first():
    seen = set()
    for table in ingest_order():
        for column in table.columns:
            if column.references:
                assert column.references in seen or column.references == table.name
        seen.add(table.name)


def test_bad_config_is_a_clear_error(tmp_path):
    path = tmp_path / "openeis.toml"
    path.write_text('[ingest]\non_error = "sometimes"\nunknown_option = 1\n')
    with pytest.raises(ConfigFileError) as error:
        load_config(str(path))
    assert "ingest.on_error" in str(error.value) and "unknown_option" in str(error.value)


def test_yaml_config(tmp_path):
    path = tmp_path / "openeis.yaml"
    path.write_text("ingest:\n  on_error: quarantine\n")
    assert load_config(str(path)).ingest.on_error == "quarantine"
