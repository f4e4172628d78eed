"""--quarantine: good rows go in, bad rows go to the quarantine table with their reasons.
On both engines (see `any_store`)."""

from __future__ import annotations

import copy
import json

from support.handmade import force, write_force

from openeis.store import open_store


def bad_tables():
    tables = copy.deepcopy(force())
    tables["officers"][2]["rank"] = "marshal"  # WX100003 refused...
    tables["allegations"][0]["category"] = "rudeness"  # ALX-1 refused
    return tables


def test_good_rows_in_bad_rows_quarantined_with_reasons(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_tables())
    cli("init")
    result = cli("ingest", "--quarantine", tmp_path / "in")
    assert "quarantine list" in result.output
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM officers") == 2
        assert store.scalar("SELECT count(*) FROM allegations") == 1  # ALX-1 bad, ALX-2 refers to WX100003
        reasons = store.query("SELECT file_name, line, column_name, reason FROM quarantine ORDER BY file_name, line")
    finally:
        store.close()
    as_text = [f"{f}:{line}:{c}:{r}" for f, line, c, r in reasons]
    assert any(t.startswith("officers.csv:4:rank:unknown code") for t in as_text)
    assert any(t.startswith("allegations.csv:2:category:unknown code") for t in as_text)
    assert any(t.startswith("allegations.csv:3:officer_id:not found in officers") for t in as_text)
    assert any(t.startswith("postings.csv:4:officer_id:not found") for t in as_text)

    listing = cli("quarantine", "list", "--json")
    rows = [json.loads(line) for line in listing.output.splitlines()]
    assert {(r["file"], r["line"], r["column"]) for r in rows} >= {("officers.csv", 4, "rank"), ("allegations.csv", 2, "category")}
    plain = cli("quarantine", "list")
    assert "officers.csv:4: column rank: value 'marshal': unknown code" in plain.output


def test_quarantine_keeps_no_raw_identifiers(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_tables())
    cli("init")
    cli("ingest", "--quarantine", tmp_path / "in")
    store = open_store(any_store)
    everything = " ".join(str(row) for row in store.query("SELECT * FROM quarantine"))
    store.close()
    for raw in ("WX100003", "WX100001", "ALX-1", "Zefkin", "Tavrin"):
        assert raw not in everything


def test_rerunning_a_quarantine_batch_adds_no_duplicates(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_tables())
    cli("init")
    cli("ingest", "--quarantine", tmp_path / "in")
    store = open_store(any_store)
    first = store.scalar("SELECT count(*) FROM quarantine")
    store.close()
    cli("ingest", "--quarantine", tmp_path / "in")
    store = open_store(any_store)
    assert store.scalar("SELECT count(*) FROM quarantine") == first
    store.close()


def test_quarantine_from_config(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_tables())
    (tmp_path / "openeis.toml").write_text('[ingest]\non_error = "quarantine"\n')
    cli("init")
    result = cli("ingest", tmp_path / "in")  # no flag: the config says quarantine
    assert "problem(s) quarantined" in result.output
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM officers") == 2  # the good rows went in ...
        quarantined = store.scalar("SELECT count(*) FROM quarantine")
        assert quarantined >= 2  # ... and the bad ones to the quarantine, as with --quarantine
        assert store.scalar("SELECT count(*) FROM ingest_batches WHERE mode = 'quarantine'") == 1
    finally:
        store.close()
    # --atomic overrides the config for one run: the same files are refused, nothing written.
    cli("ingest", "--atomic", tmp_path / "in", expect=1)
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM quarantine") == quarantined
    finally:
        store.close()
