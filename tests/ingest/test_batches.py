"""A file is read in batches (a national overtime file does not fit in memory whole): the
result, the line numbers and the messages must be those of reading it at once.

The batch size is made tiny here (`READ_BLOCK_BYTES`, a setting of the reader, not a stand-in
for it), so a few thousand rows span many batches."""

from __future__ import annotations

import json

import pytest
from support.handmade import force, write_force

from openeis.ingest import reader
from openeis.schema import TABLES_BY_NAME
from openeis.store import open_store

ROWS = 3000


def many_training_rows() -> dict[str, list[dict]]:
    tables = force()
    officers = ["WX100001", "WX100002", "WX100003"]
    tables["training"] = [
        {"training_id": f"TRX-{n}", "officer_id": officers[n % 3], "category": "mandatory",
         "course": f"PST-{2000 + n % 20}", "result": "passed", "occurred_at": "2020-05-05",
         "recorded_at": "2020-05-06"}
        for n in range(1, ROWS + 1)
    ]
    return tables


def training_rows(store_url: str) -> list[tuple]:
    store = open_store(store_url)
    try:
        columns = ", ".join(c.name for c in TABLES_BY_NAME["training"].columns)
        return [tuple(row) for row in store.query(f"SELECT {columns}, _row_hash FROM training ORDER BY training_id")]
    finally:
        store.close()


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(reader, "READ_BLOCK_BYTES", 8 << 10)
    monkeypatch.setattr(reader, "SLOW_BATCH_ROWS", 500)


def test_batches_load_what_one_read_loads(cli, tmp_path, monkeypatch, store_url, small_batches):
    write_force(tmp_path / "in", many_training_rows())
    path = tmp_path / "in" / "training.csv"
    assert len(list(reader.CanonicalFile(reader.SourceFile(TABLES_BY_NAME["training"], path)).batches())) > 5
    monkeypatch.setenv("OPENEIS_STORE", store_url)
    cli("init")
    cli("ingest", tmp_path / "in")
    batched = training_rows(store_url)
    assert len(batched) == ROWS

    monkeypatch.setattr(reader, "READ_BLOCK_BYTES", 64 << 20)
    other = str(tmp_path / "one-read.duckdb")
    monkeypatch.setenv("OPENEIS_STORE", other)
    cli("init", "--key-file", tmp_path / "openeis.key")  # the same key: the same pseudonyms
    cli("ingest", tmp_path / "in", "--key-file", tmp_path / "openeis.key")
    assert training_rows(other) == batched


def test_line_numbers_stay_exact_across_batches(cli, tmp_path, small_batches):
    tables = many_training_rows()
    for row in tables["training"]:
        row["notes"] = ""  # free text: dropped, but its quoted newlines count as lines of the file
    tables["training"][10]["notes"] = "PST\nrefresher\nday"  # two extra lines in an early batch
    tables["training"][2500]["result"] = "excellent"  # a bad value in a late batch
    write_force(tmp_path / "in", tables)
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = json.loads((tmp_path / "p.json").read_text())["errors"]
    # record 2501 is on line 2502 (after the header), plus the two quoted newlines
    assert [(e["file"], e["line"], e["column"]) for e in errors] == [("training.csv", 2504, "result")]


def test_a_broken_line_in_a_late_batch_reads_the_file_again(cli, tmp_path, any_store, small_batches):
    write_force(tmp_path / "in", many_training_rows())
    path = tmp_path / "in" / "training.csv"
    lines = path.read_text().splitlines()
    lines[2800] += ",surplus"  # line 2801: a field too many, far past the first batch
    path.write_text("\n".join(lines) + "\n")
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = json.loads((tmp_path / "p.json").read_text())["errors"]
    assert [(e["file"], e["line"]) for e in errors] == [("training.csv", 2801)]
    assert "expected 7 fields" in errors[0]["reason"]
    assert training_rows(any_store) == []  # atomic: nothing written
    cli("ingest", tmp_path / "in", "--quarantine")
    assert len(training_rows(any_store)) == ROWS - 1  # the first batches are not loaded twice


def test_an_unknown_officer_in_a_late_batch_is_shown_as_written(cli, tmp_path, small_batches):
    tables = many_training_rows()
    tables["training"][2900]["officer_id"] = "WX777777"
    write_force(tmp_path / "in", tables)
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = json.loads((tmp_path / "p.json").read_text())["errors"]
    assert [(e["line"], e["column"], e["value"]) for e in errors] == [(2902, "officer_id", "WX777777")]
