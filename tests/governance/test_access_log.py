"""The access log: every kind of tampering is detected, at the first broken entry (both engines)."""

from __future__ import annotations

import pytest

from openeis.governance import access_log
from openeis.governance.roles import Actor, Role
from openeis.store import open_store

KEY = b"k" * 32
ANALYST = Actor("analyst-1", Role.ANALYST)


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    store.migrate()
    for number in range(1, 11):
        access_log.append(store, KEY, ANALYST, "read", "source_records",
                          records={"officers": [f"pseudonym{number}"]}, purpose="monthly review")
    yield store
    store.close()


def test_intact_log_verifies(store):
    result = access_log.verify(store, KEY)
    assert result.ok and result.entries == 10
    assert "intact" in str(result)


def test_edit_is_detected(store):
    store.execute("UPDATE access_log SET purpose = 'curiosity' WHERE seq = 4")
    result = access_log.verify(store, KEY)
    assert not result.ok and result.first_broken_seq == 4 and "edited" in result.problem


def test_recomputed_hash_after_edit_breaks_the_next_link(store):
    store.execute("UPDATE access_log SET purpose = 'curiosity' WHERE seq = 4")
    fields = store.query(f"SELECT {', '.join(access_log.COLUMNS)}, previous_hash FROM access_log WHERE seq = 4")[0]
    forged = access_log.entry_hash(dict(zip(access_log.COLUMNS, fields[:-1])), fields[-1])
    store.execute("UPDATE access_log SET entry_hash = ? WHERE seq = 4", [forged])
    result = access_log.verify(store, KEY)
    assert not result.ok and result.first_broken_seq == 5 and "link" in result.problem


def test_deletion_is_detected(store):
    store.execute("DELETE FROM access_log WHERE seq = 6")
    result = access_log.verify(store, KEY)
    assert not result.ok and result.first_broken_seq == 6


def test_reordering_is_detected(store):
    store.execute("UPDATE access_log SET seq = CASE seq WHEN 3 THEN 7 WHEN 7 THEN 3 ELSE seq END")
    result = access_log.verify(store, KEY)
    assert not result.ok and result.first_broken_seq == 3


def test_truncation_is_detected(store):
    store.execute("DELETE FROM access_log WHERE seq > 8")
    result = access_log.verify(store, KEY)
    assert not result.ok and result.first_broken_seq == 9 and "cut off the end" in result.problem


def test_truncation_with_forged_head_is_detected(store):
    store.execute("DELETE FROM access_log WHERE seq > 8")
    last_hash = store.scalar("SELECT entry_hash FROM access_log WHERE seq = 8")
    store.set_meta(access_log.HEAD_META, f"8:{last_hash}:{'0' * 64}")
    result = access_log.verify(store, KEY)
    assert not result.ok and "forged" in result.problem


def test_log_holds_no_names_only_pseudonymous_references(store):
    rows = store.query("SELECT records FROM access_log")
    assert all(r[0].startswith('{"officers": ["pseudonym') for r in rows)


def test_ingest_is_logged_and_the_cli_verifies(cli, tmp_path, any_store):
    from support.handmade import write_force

    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    shown = cli("log", "show", "--json").output
    assert '"action": "change"' in shown and '"purpose": "ingest"' in shown
    assert "WX100001" not in shown
    assert "intact" in cli("log", "verify").output
    store = open_store(any_store)
    store.execute("UPDATE access_log SET actor = 'someone-else'")
    store.close()
    result = cli("log", "verify", expect=1)
    assert "BROKEN at entry 1" in result.output
