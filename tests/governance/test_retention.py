"""Retention: what is due is removed from every table and from the file, and logged.
The dry run and the apply run on both engines (see `any_store`)."""

from __future__ import annotations

import json

from support.handmade import write_force
from support.retention import retention_force

from openeis.privacy import Pseudonymiser, read_key_file
from openeis.store import open_store


def test_dry_run_counts_and_deletes_nothing(cli, tmp_path, any_store):
    write_force(tmp_path / "in", retention_force())
    cli("init")
    cli("ingest", tmp_path / "in")
    result = cli("retention", "apply", "--dry-run", "--as-of", "2021-01-01")
    assert "dry run" in result.output
    store = open_store(any_store)
    assert store.scalar("SELECT count(*) FROM allegations") == 4
    store.close()


def test_apply_removes_due_rows_everywhere_and_logs_counts(cli, tmp_path, any_store):
    write_force(tmp_path / "in", retention_force())
    cli("init")
    cli("ingest", tmp_path / "in")
    key = read_key_file(tmp_path / "openeis.key")
    gone = Pseudonymiser(key).pseudonym("allegation", "ALX-OLD-RETAIN-ME-NOT")
    kept_upheld = Pseudonymiser(key).pseudonym("allegation", "ALX-1")
    # A derived table from a later stage, to be invalidated.
    store = open_store(any_store)
    store.execute("CREATE TABLE features_demo (officer VARCHAR, value DOUBLE PRECISION)")
    store.execute("INSERT INTO features_demo VALUES ('x', 1)")
    store.close()

    cli("retention", "apply", "--as-of", "2021-01-01")
    store = open_store(any_store)
    try:
        ids = {row[0] for row in store.query("SELECT allegation_id FROM allegations")}
        assert gone not in ids and kept_upheld in ids
        assert store.scalar("SELECT count(*) FROM features_demo") == 0
        entry = store.query("SELECT records FROM access_log WHERE action = 'delete'")
        counts = json.loads(entry[0][0])["rows_deleted"]
        assert sum(counts.values()) >= 1 and gone not in entry[0][0]
        for table in ("allegations", "record_changes", "quarantine"):
            assert gone not in str(store.query(f"SELECT * FROM {table}"))
    finally:
        store.close()
    if any_store.endswith(".duckdb"):  # the file is rewritten (on PostgreSQL: see compact_postgres)
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("openeis.duckdb*") if p.is_file())
        assert gone.encode() not in raw
    assert "intact" in cli("log", "verify").output


def test_bad_rule_in_config_is_a_clear_error(cli, tmp_path):
    (tmp_path / "openeis.toml").write_text('[[retention.rules]]\ntable = "gossip"\nyears = 1\n')
    result = cli("init", expect=1)
    # One line naming the file, the rule and what is wrong with it; no traceback, no store.
    assert result.output.startswith("error: openeis.toml: retention.rules.0.table: ")
    assert "unknown table 'gossip'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "openeis.duckdb").exists()


def test_why_the_file_is_rewritten(tmp_path):
    """A plain DELETE leaves the row's bytes in the file: the reason for compaction."""
    from pathlib import Path

    from openeis.governance.retention import compact_duckdb_file
    from openeis.ingest import ingest_canonical

    write_force(tmp_path / "in", retention_force())
    store = open_store(str(tmp_path / "s.duckdb"))
    store.migrate()
    pseudonymiser = Pseudonymiser(b"k" * 32)
    ingest_canonical(store, tmp_path / "in", pseudonymiser)
    gone = pseudonymiser.pseudonym("allegation", "ALX-OLD-RETAIN-ME-NOT").encode()
    store.execute("DELETE FROM allegations WHERE allegation_id = ?", [gone.decode()])
    store.checkpoint()
    store.close()
    assert gone in Path(tmp_path / "s.duckdb").read_bytes()
    compact_duckdb_file(tmp_path / "s.duckdb")
    assert gone not in Path(tmp_path / "s.duckdb").read_bytes()
    store = open_store(str(tmp_path / "s.duckdb"))
    from openeis.store.base import load_migrations

    assert store.scalar("SELECT count(*) FROM allegations") == 3
    assert store.schema_version() == load_migrations()[-1].version
    store.close()


def test_an_officer_removed_by_retention_leaves_the_identity_vault_too(cli, tmp_path, any_store):
    """A sealed staff number kept for an officer whose records are gone would outlive the
    data it re-identifies: retention deletes the vault row with the officer."""
    write_force(tmp_path / "in", retention_force())
    (tmp_path / "openeis.toml").write_text(
        '[[retention.rules]]\ntable = "officers"\nafter = "left_at"\nyears = 1\nreason = "test: leavers"\n'
    )
    cli("init")
    cli("ingest", tmp_path / "in")
    key = read_key_file(tmp_path / "openeis.key")
    leaver = Pseudonymiser(key).pseudonym("officer", "WX100003")  # left 2021-02-01
    store = open_store(any_store)
    try:
        assert leaver in {r[0] for r in store.query("SELECT officer_id FROM restricted.identity_vault")}
    finally:
        store.close()
    cli("retention", "apply", "--as-of", "2023-01-01")
    store = open_store(any_store)
    try:
        assert store.scalar("SELECT count(*) FROM officers WHERE officer_id = ?", [leaver]) == 0
        vault = {r[0] for r in store.query("SELECT officer_id FROM restricted.identity_vault")}
        officers = {r[0] for r in store.query("SELECT officer_id FROM officers")}
        assert leaver not in vault and vault == officers  # the others keep their seals
    finally:
        store.close()
