"""Re-ingesting the same files changes nothing; a changed record is updated and the change kept.
Each test runs on both engines (DuckDB file, PostgreSQL database): see `any_store`."""

from __future__ import annotations

import copy

from conftest import store_digest
from handmade import force, write_force

from openeis.store import open_store

DATA_TABLES = ("officers", "allegations", "complaints", "system_access", "quarantine", "record_changes")


def test_same_files_twice_change_nothing(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    before = store_digest(any_store)
    result = cli("ingest", tmp_path / "in")
    after = store_digest(any_store)
    for name in before:
        # The log of runs and the access log (its signed head in store_meta) record the
        # second run, by design; the data does not change.
        if name not in ("ingest_batches", "store_meta"):
            assert before[name] == after[name], name
    store = open_store(any_store)
    last = store.query("SELECT rows_inserted, rows_updated, rows_unchanged FROM ingest_batches ORDER BY started_at DESC LIMIT 1")
    store.close()
    assert last[0][0] == 0 and last[0][1] == 0 and last[0][2] > 0
    assert "ingest batch" in result.output


def test_changed_record_is_updated_and_the_change_recorded(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    tables = copy.deepcopy(force())
    tables["allegations"][2].update(finding="upheld", outcome="written_warning", decided_at="2021-09-01")
    write_force(tmp_path / "in2", tables)
    cli("ingest", tmp_path / "in2")
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM allegations") == 3
        assert store.query("SELECT finding, outcome FROM allegations WHERE decided_at = '2021-09-01'") == [
            ("upheld", "written_warning")
        ]
        changes = store.query("SELECT table_name, changed_columns, previous_row_hash <> new_row_hash FROM record_changes")
        assert changes == [("allegations", "finding,outcome,decided_at", True)]
        batch = store.query(
            "SELECT rows_inserted, rows_updated FROM ingest_batches ORDER BY started_at DESC LIMIT 1"
        )
        assert batch == [(0, 1)]
    finally:
        store.close()
    # Ingesting the changed files again changes nothing more.
    before = store_digest(any_store)
    cli("ingest", tmp_path / "in2")
    after = store_digest(any_store)
    bookkeeping = ("ingest_batches", "store_meta")
    assert {k: v for k, v in before.items() if k not in bookkeeping} == {
        k: v for k, v in after.items() if k not in bookkeeping
    }


def test_partial_extract_does_not_delete_other_records(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    only_units = {"units": force()["units"][:1]}
    write_force(tmp_path / "units-only", only_units)
    cli("ingest", tmp_path / "units-only")
    store = open_store(any_store)
    assert store.scalar("SELECT count(*) FROM units") == 2
    store.close()
