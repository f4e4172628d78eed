"""Re-ingesting the same files changes nothing; a changed record is updated and the change kept.
Each test runs on both engines (DuckDB file, PostgreSQL database): see `any_store`."""

from __future__ import annotations

import copy

from support.commands import store_digest
from support.handmade import force, write_force

from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser, read_key_file
from openeis.store import open_store

DATA_TABLES = ("officers", "allegations", "complaints", "system_access", "quarantine", "record_changes")


BOOKKEEPING = ("ingest_batches", "ingest_files", "store_meta")


def test_same_files_twice_change_nothing(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    before = store_digest(any_store)
    result = cli("ingest", tmp_path / "in", "--reload")  # every file read again
    after = store_digest(any_store)
    for name in before:
        # The log of runs and the access log (its signed head in store_meta) record the
        # second run, by design; the data does not change.
        if name not in BOOKKEEPING:
            assert before[name] == after[name], name
    store = open_store(any_store)
    last = store.query("SELECT rows_inserted, rows_updated, rows_unchanged FROM ingest_batches ORDER BY started_at DESC LIMIT 1")
    store.close()
    assert last[0][0] == 0 and last[0][1] == 0 and last[0][2] > 0
    assert "ingest batch" in result.output


def test_a_file_already_loaded_is_skipped_unless_its_table_changed_since(cli, tmp_path, any_store):
    """Incremental ingest: unchanged files are skipped by their SHA-256 (nothing read, nothing
    changed); a changed file is read; and a file loaded before a later file changed its table
    is read again, since it puts back the values the later one replaced."""
    write_force(tmp_path / "a")
    cli("init")
    cli("ingest", tmp_path / "a")
    before = store_digest(any_store)
    result = cli("ingest", tmp_path / "a")
    assert "files skipped" in result.output and "allegations.csv" in result.output
    after = store_digest(any_store)
    assert {k: v for k, v in before.items() if k not in BOOKKEEPING} == {
        k: v for k, v in after.items() if k not in BOOKKEEPING}
    store = open_store(any_store)
    try:  # the skipping batch read nothing, and its access-log entry says so
        assert store.query("SELECT rows_read FROM ingest_batches ORDER BY started_at DESC LIMIT 1") == [(0,)]
    finally:
        store.close()

    corrected = copy.deepcopy(force())
    corrected["allegations"][2].update(finding="upheld", outcome="written_warning", decided_at="2021-09-01")
    write_force(tmp_path / "b", corrected)
    cli("ingest", tmp_path / "b")  # only allegations.csv differs: the rest is skipped
    store = open_store(any_store)
    try:
        files = store.query("SELECT file_name, changed_rows FROM ingest_files WHERE batch_id = "
                            "(SELECT batch_id FROM ingest_batches ORDER BY started_at DESC LIMIT 1)")
        assert files == [("allegations.csv", 1)]
    finally:
        store.close()
    cli("ingest", tmp_path / "a")  # a's allegations.csv was replaced since: read, and the value put back
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM allegations WHERE finding = 'upheld' AND decided_at = '2021-09-01'") == 0
        files = store.query("SELECT file_name, changed_rows FROM ingest_files WHERE batch_id = "
                            "(SELECT batch_id FROM ingest_batches ORDER BY started_at DESC LIMIT 1)")
        assert files == [("allegations.csv", 1)]
    finally:
        store.close()


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
    assert {k: v for k, v in before.items() if k not in BOOKKEEPING} == {
        k: v for k, v in after.items() if k not in BOOKKEEPING
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


def test_a_small_memory_limit_gives_the_same_store_and_is_lifted_after(cli, tmp_path):
    """`[ingest] memory_limit` makes DuckDB spill staged rows, not change them; the store's
    own limit is back to DuckDB's default afterwards."""
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    (tmp_path / "small.toml").write_text('[ingest]\nmemory_limit = "64MB"\n')
    cli("init", "--store", "small.duckdb", "--key-file", "openeis.key")
    cli("ingest", tmp_path / "in", "--store", "small.duckdb", "--key-file", "openeis.key", "--config", "small.toml")
    for name in ("officers", "allegations", "complaints", "system_access"):
        assert _records(tmp_path / "small.duckdb", name) == _records(tmp_path / "openeis.duckdb", name), name
    store = open_store(str(tmp_path / "small.duckdb"))
    try:  # the limit holds for the batch only
        before = store.scalar("SELECT current_setting('memory_limit')")
        key = read_key_file(tmp_path / "openeis.key")
        ingest_canonical(store, tmp_path / "in", Pseudonymiser(key), memory_limit="64MB")
        assert store.scalar("SELECT current_setting('memory_limit')") == before != "64.0 MiB"
    finally:
        store.close()
    (tmp_path / "bad.toml").write_text('[ingest]\nmemory_limit = "lots"\n')
    assert cli("status", "--config", "bad.toml", expect=None).exit_code != 0


def _records(path, table: str) -> list:
    """A table's rows without the columns that name the batch that wrote them."""
    store = open_store(str(path))
    try:
        columns = [c for c in store.query_arrow(f"SELECT * FROM {table} LIMIT 0").column_names
                   if c not in ("_batch_id", "_ingested_at")]
        return sorted(map(repr, store.query(f"SELECT {', '.join(columns)} FROM {table}")))
    finally:
        store.close()
