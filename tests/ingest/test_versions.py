"""Record versions in the store: what a re-ingest keeps and refuses.

Which changes are corrections (ingest/versions.py), that an update the source dates itself is
read from its own date, that a correction is read from when it was made, and that corrections
are taken in date order only. Subject access and retention of the earlier versions:
tests/governance/test_record_versions.py. Store-level tests run on DuckDB and PostgreSQL
(`any_store`).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from openeis.features import FeaturesConfig, features_table
from openeis.ingest.versions import correction_sql
from openeis.privacy import Pseudonymiser, read_key_file
from openeis.schema import TABLES, TABLES_BY_NAME
from openeis.store import open_store
from support.handmade import force, force_with_allegation, write_force


def test_history_tables_hold_the_table_and_the_interval(store_url):
    store = open_store(store_url)
    try:
        store.migrate()
        for table in TABLES:
            schema = "restricted" if table.restricted else {"duckdb": "main", "postgres": "public"}[store.dialect]
            columns = [row[0] for row in store.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, f"{table.name}_history"])]
            assert columns == [*table.column_names, "_batch_id", "_row_hash", "_valid_from", "_valid_to",
                               "_superseded_by"], table.name
    finally:
        store.close()


CASES = [  # (table, old row, new row, is a correction)
    ("allegations", {"finding": "open"}, {"finding": "upheld", "decided_at": "2020-05-01", "outcome": "none"}, False),
    ("allegations", {"finding": "upheld", "decided_at": "2020-05-01"},
     {"finding": "not_upheld", "decided_at": "2020-05-01"}, True),
    ("allegations", {"finding": "upheld", "decided_at": "2020-05-01"},
     {"finding": "upheld", "decided_at": "2020-05-09"}, True),
    ("allegations", {"finding": "upheld", "decided_at": "2020-05-01"},
     {"finding": "upheld", "decided_at": "2020-05-01", "outcome": "reprimand"}, True),  # a sanction, undated
    ("allegations", {"category": "discourtesy"}, {"category": "corruption"}, True),
    ("allegations", {"finding": "upheld", "decided_at": "2020-05-01"}, {"finding": "open"}, True),  # reopened
    ("officers", {}, {"left_at": "2021-01-01", "leaving_reason": "retired"}, False),
    ("officers", {"left_at": "2021-01-01"}, {"left_at": "2021-03-01"}, True),
    ("officers", {}, {"leaving_reason": "retired"}, True),
    ("officers", {"rank": "constable"}, {"rank": "sergeant"}, True),
    ("absences", {}, {"ends_at": "2020-02-05"}, False),
    ("absences", {"ends_at": "2020-02-05"}, {"ends_at": "2020-02-07"}, True),
    ("postings", {}, {"ends_at": "2020-02-05"}, False),
    ("overtime_claims", {"status": "pending"}, {"status": "rejected", "decided_at": "2020-01-02"}, False),
    ("other_events", {}, {"outcome": "blameworthy", "decided_at": "2020-01-02"}, False),
    ("other_events", {}, {"outcome": "blameworthy"}, True),  # an outcome without its date
    ("complaints", {}, {"decided_at": "2020-06-01"}, False),
]


@pytest.mark.parametrize("table,old,new,correction", CASES)
def test_which_changes_are_corrections(table, old, new, correction):
    t = TABLES_BY_NAME[table]
    con = duckdb.connect()
    try:
        for alias, values in (("t", old), ("s", new)):
            select = ", ".join(f"CAST({_literal(values.get(c.name))} AS VARCHAR) AS {c.name}" for c in t.columns)
            con.execute(f"CREATE TABLE {alias}_rows AS SELECT {select}")
        got = con.execute(f"SELECT {correction_sql(t)} FROM t_rows t, s_rows s").fetchone()[0]
    finally:
        con.close()
    assert got is correction


def _literal(value) -> str:
    return "NULL" if value is None else f"'{value}'"


def test_an_update_the_source_dates_is_read_from_its_date(cli, tmp_path, any_store):
    """ALX-1 arrives open; a later batch brings its finding, decided 2020-06-01: no version is
    kept, and features read the finding from its own date, as if the store had it at once."""
    write_force(tmp_path / "open", force_with_allegation(finding="open", outcome="", decided_at=""))
    write_force(tmp_path / "decided", force())
    cli("init")
    cli("ingest", tmp_path / "open")
    output = cli("ingest", tmp_path / "decided", "--changed-at", "2020-09-01").output
    assert "corrections" not in output
    pseudonym = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM allegations_history") == 0
        rows = features_table(store, [date(2020, 6, 1), date(2020, 6, 2)], FeaturesConfig(peer_min_size=2))
    finally:
        store.close()
    upheld = {r["as_of"].date(): r["allegations_upheld_count_all"] for r in rows.to_pylist() if r["officer"] == pseudonym}
    assert upheld == {date(2020, 6, 1): 0, date(2020, 6, 2): 1}


def test_a_correction_is_read_from_when_it_was_made(cli, tmp_path, any_store):
    write_force(tmp_path / "first", force())
    write_force(tmp_path / "corrected", force_with_allegation(category="corruption"))
    cli("init")
    cli("ingest", tmp_path / "first")
    assert "1 of the updated records were corrections" in cli(
        "ingest", tmp_path / "corrected", "--changed-at", "2020-09-01T10:00:00").output
    pseudonym = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    store = open_store(any_store)
    try:
        history = store.query("SELECT category, _valid_from, _valid_to FROM allegations_history")
        rows = features_table(store, [date(2020, 9, 1), date(2020, 9, 2)], FeaturesConfig(peer_min_size=2))
    finally:
        store.close()
    assert [(c, f, t.isoformat()) for c, f, t in history] == [("discourtesy", None, "2020-09-01T10:00:00")]
    mine = {r["as_of"].date(): r for r in rows.to_pylist() if r["officer"] == pseudonym}
    assert mine[date(2020, 9, 1)]["allegations_discourtesy_count_all"] == 1  # made at 10:00 that day
    assert mine[date(2020, 9, 1)]["allegations_corruption_count_all"] == 0
    assert mine[date(2020, 9, 2)]["allegations_discourtesy_count_all"] == 0
    assert mine[date(2020, 9, 2)]["allegations_corruption_count_all"] == 1


def test_corrections_are_taken_in_date_order_only(cli, tmp_path, any_store):
    write_force(tmp_path / "first", force())
    write_force(tmp_path / "second", force_with_allegation(category="corruption"))
    write_force(tmp_path / "third", force_with_allegation(category="dishonesty"))
    cli("init")
    cli("ingest", tmp_path / "first")
    cli("ingest", tmp_path / "second", "--changed-at", "2021-03-01")
    refused = cli("ingest", tmp_path / "third", "--changed-at", "2021-02-01", expect=1)
    assert "date order" in refused.output
    future = cli("ingest", tmp_path / "third", "--changed-at", "2999-01-01", expect=1)
    assert "in the future" in future.output
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT category FROM allegations WHERE category IN ('corruption', 'dishonesty')") == "corruption"
        assert store.scalar("SELECT count(*) FROM allegations_history") == 1
    finally:
        store.close()
    cli("ingest", tmp_path / "third", "--changed-at", "2021-04-01")  # in order: taken
    store = open_store(any_store)
    try:
        versions = store.query("SELECT category, _valid_from, _valid_to FROM allegations_history ORDER BY _valid_to")
    finally:
        store.close()
    assert [(c, f and f.date().isoformat(), t.date().isoformat()) for c, f, t in versions] == [
        ("discourtesy", None, "2021-03-01"), ("corruption", "2021-03-01", "2021-04-01")]
