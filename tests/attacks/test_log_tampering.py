"""The access log under attack (issue 21, item 2): `openeis log verify` reports BROKEN, exit 1,
for every edit, deletion, reordering, truncation, rollback to an older head, whole-table wipe,
forged append and malformed head, on DuckDB and on PostgreSQL. Before the anchor outside the
store, a wiped log was "intact: 0 entries", a rollback to entry 7 "intact: 7 entries", and a
malformed head a traceback.

Each attacker works on the store only (SQL, or the DuckDB file), as someone with the database
but not the key directory would; the last few tamper with the anchor file itself, which
reading it without its key's signature gives away.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest

from openeis.application.session import open_session
from openeis.config import OpenEISConfig
from openeis.governance import access_log
from openeis.governance.roles import Action, Resource
from openeis.store import open_store
from support.attacks import ANALYST, logged_store

ENTRIES = 10


def _sql(url: str, *statements: str) -> None:
    store = open_store(url)
    try:
        for statement in statements:
            store.execute(statement)
    finally:
        store.close()


def _head(url: str) -> str:
    store = open_store(url)
    try:
        return store.get_meta(access_log.HEAD_META)
    finally:
        store.close()


def _set_head(url: str, value: str | None) -> None:
    store = open_store(url)
    try:
        if value is None:
            store.execute("DELETE FROM store_meta WHERE name = ?", [access_log.HEAD_META])
        else:
            store.set_meta(access_log.HEAD_META, value)
    finally:
        store.close()


def _entry_fields(url: str, seq: int) -> tuple[dict, str]:
    store = open_store(url)
    try:
        row = store.query(f"SELECT {', '.join(access_log.COLUMNS)}, previous_hash FROM access_log WHERE seq = ?", [seq])[0]
    finally:
        store.close()
    return dict(zip(access_log.COLUMNS, row[:-1])), row[-1]


def _rehash_from(url: str, first: int) -> str:
    """Recompute every hash from entry `first` on, as an attacker without the key can: the
    chain then links up again; only the head's signature (and the anchor) can tell."""
    previous = _entry_fields(url, first)[1]
    store = open_store(url)
    try:
        last = store.scalar("SELECT max(seq) FROM access_log")
        for seq in range(first, last + 1):
            row = store.query(f"SELECT {', '.join(access_log.COLUMNS)} FROM access_log WHERE seq = ?", [seq])[0]
            digest = access_log.entry_hash(dict(zip(access_log.COLUMNS, row)), previous)
            store.execute("UPDATE access_log SET previous_hash = ?, entry_hash = ? WHERE seq = ?", [previous, digest, seq])
            previous = digest
        return previous
    finally:
        store.close()


def _append_forged(url: str) -> tuple[int, str]:
    """An entry added without the key: it links to the chain's end, its hash is right."""
    fields, _ = _entry_fields(url, ENTRIES)
    store = open_store(url)
    try:
        previous = store.scalar("SELECT entry_hash FROM access_log WHERE seq = ?", [ENTRIES])
        forged = dict(fields, seq=ENTRIES + 1, actor="cli:mallory", purpose="nothing to see")
        digest = access_log.entry_hash(forged, previous)
        store.execute(f"INSERT INTO access_log ({', '.join(access_log.COLUMNS)}, previous_hash, entry_hash) VALUES "
                      f"({', '.join('?' for _ in access_log.COLUMNS)}, ?, ?)",
                      [forged[name] for name in access_log.COLUMNS] + [previous, digest])
        return ENTRIES + 1, digest
    finally:
        store.close()


def _signed_head(seq: int, entry_hash: str, key: bytes) -> str:
    signature = hmac.new(key, f"access-log-head\x1f{seq}\x1f{entry_hash}".encode(), hashlib.sha256).hexdigest()
    return f"{seq}:{entry_hash}:{signature}"


# -- the tamperings: each takes (url, work dir, head of entry 7 as it was) ---------------------

def edit(column: str, value: str, seq: int = 4):
    def tamper(url, work, old_head):
        _sql(url, f"UPDATE access_log SET {column} = '{value}' WHERE seq = {seq}")
    return tamper


def edit_and_rehash_one(url, work, old_head):
    _sql(url, "UPDATE access_log SET purpose = 'curiosity' WHERE seq = 4")
    fields, previous = _entry_fields(url, 4)
    _sql(url, f"UPDATE access_log SET entry_hash = '{access_log.entry_hash(fields, previous)}' WHERE seq = 4")


def edit_and_rehash_all_with_forged_head(url, work, old_head):
    _sql(url, "UPDATE access_log SET purpose = 'curiosity' WHERE seq = 4")
    last = _rehash_from(url, 4)
    _set_head(url, f"{ENTRIES}:{last}:{'0' * 64}")


def edit_and_rehash_all_head_unchanged(url, work, old_head):
    _sql(url, "UPDATE access_log SET outcome = 'allowed', reason = NULL WHERE seq = 5")
    _rehash_from(url, 5)


def delete(*seqs: int):
    def tamper(url, work, old_head):
        _sql(url, f"DELETE FROM access_log WHERE seq IN ({', '.join(map(str, seqs))})")
    return tamper


def delete_and_renumber(url, work, old_head):
    _sql(url, "DELETE FROM access_log WHERE seq = 6", "UPDATE access_log SET seq = seq - 1 WHERE seq > 6")


def swap(url, work, old_head):
    _sql(url, "UPDATE access_log SET seq = CASE seq WHEN 3 THEN 7 WHEN 7 THEN 3 ELSE seq END")


def swap_contents(url, work, old_head):
    """Two entries' fields exchanged, hashes kept with their sequence numbers."""
    store = open_store(url)
    try:
        three = store.query("SELECT actor, purpose, records FROM access_log WHERE seq = 3")[0]
        seven = store.query("SELECT actor, purpose, records FROM access_log WHERE seq = 7")[0]
        store.execute("UPDATE access_log SET actor = ?, purpose = ?, records = ? WHERE seq = 3", list(seven))
        store.execute("UPDATE access_log SET actor = ?, purpose = ?, records = ? WHERE seq = 7", list(three))
    finally:
        store.close()


def duplicate(url, work, old_head):
    _sql(url, "INSERT INTO access_log SELECT * FROM access_log WHERE seq = 3")


def truncate(keep: int, head: str):
    def tamper(url, work, old_head):
        _sql(url, f"DELETE FROM access_log WHERE seq > {keep}")
        if head == "forged":
            store = open_store(url)
            try:
                last = store.scalar("SELECT entry_hash FROM access_log WHERE seq = ?", [keep])
            finally:
                store.close()
            _set_head(url, f"{keep}:{last}:{'0' * 64}")
        elif head == "older":  # the head of entry 7 as it was: validly signed, taken earlier
            _set_head(url, old_head)
    return tamper


def wipe(head: str):
    def tamper(url, work, old_head):
        _sql(url, "DELETE FROM access_log")
        if head == "deleted":
            _set_head(url, None)
        elif head == "genesis":
            _set_head(url, f"0:{access_log.GENESIS}:{'0' * 64}")
    return tamper


def forged_append(head: str):
    def tamper(url, work, old_head):
        seq, digest = _append_forged(url)
        if head == "unsigned":
            _set_head(url, f"{seq}:{digest}:{'0' * 64}")
        elif head == "other key":
            _set_head(url, _signed_head(seq, digest, b"m" * 32))
    return tamper


def head(value: str | None):
    def tamper(url, work, old_head):
        _set_head(url, value)
    return tamper


def anchor_file(change: str):
    def tamper(url, work, old_head):
        path = work / "openeis.anchor"
        if change == "garbage":
            path.write_text("garbage")
            return
        document = json.loads(path.read_text())
        (record,) = document["stores"].values()
        if change == "lowered":  # to hide a rollback: without the key it cannot be re-signed
            record["seq"] = 7
        path.write_text(json.dumps(document))
        _sql(url, "DELETE FROM access_log WHERE seq > 7")
        _set_head(url, old_head)
    return tamper


TAMPERINGS = {
    "edit a purpose": edit("purpose", "curiosity"),
    "edit who it was": edit("actor", "cli:someone-else", seq=1),
    "edit a refusal into an allowed access": edit("outcome", "allowed", seq=5),
    "edit the time": edit("logged_at", "2001-01-01 00:00:00", seq=6),
    "edit the records read": edit("records", '{"officers": ["someone"]}', seq=7),
    "edit and recompute its hash": edit_and_rehash_one,
    "edit, recompute every hash, forge the head": edit_and_rehash_all_with_forged_head,
    "edit, recompute every hash, leave the head": edit_and_rehash_all_head_unchanged,
    "delete an entry": delete(6),
    "delete the first entry": delete(1),
    "delete the last entry": delete(ENTRIES),
    "delete an entry and renumber the rest": delete_and_renumber,
    "reorder two entries": swap,
    "exchange two entries' contents": swap_contents,
    "duplicate an entry": duplicate,
    "truncate": truncate(5, head="kept"),
    "truncate and forge the head": truncate(5, head="forged"),
    "roll back to an older head (entries 8-10 deleted, head of 7 restored)": truncate(7, head="older"),
    "wipe the table and the head": wipe(head="deleted"),
    "wipe the table, keep the head": wipe(head="kept"),
    "wipe the table, write an empty head": wipe(head="genesis"),
    "forged append": forged_append(head="kept"),
    "forged append with an unsigned head": forged_append(head="unsigned"),
    "forged append signed with another key": forged_append(head="other key"),
    "head deleted": head(None),
    "malformed head: garbage": head("garbage"),
    "malformed head: x:y:z": head("x:y:z"),
    "malformed head: empty": head(""),
    "malformed head: four parts": head(f"10:{'a' * 64}:{'b' * 64}:extra"),
    "malformed head: seq not a number": head(f"ten:{'a' * 64}:{'b' * 64}"),
    "anchor file garbage": anchor_file("garbage"),
    "anchor lowered to hide a rollback": anchor_file("lowered"),
}


def _ten_entries(url: str, key_file: Path) -> str:
    """Ten entries through the application layer (the anchor following them); returns the
    signed head as it was at entry 7, as an attacker might have kept it."""
    logged_store(url, key_file, entries=7)
    old_head = _head(url)
    with open_session(url, ANALYST, OpenEISConfig(), key_file) as session, session.transaction():
        for number in range(8, ENTRIES + 1):
            session.log(Action.READ, Resource.SOURCE_RECORDS, {"officers": [f"pseudonym{number}"]}, "monthly review")
    return old_head


def test_the_untouched_log_verifies(cli, tmp_path, any_store):
    _ten_entries(any_store, tmp_path / "openeis.key")
    output = cli("log", "verify").output
    assert "access log intact: 10 entries" in output and "(entry 10, anchored since the store's creation)" in output


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_every_tampering_is_reported_broken(cli, tmp_path, any_store, name):
    old_head = _ten_entries(any_store, tmp_path / "openeis.key")
    TAMPERINGS[name](any_store, tmp_path, old_head)
    result = cli("log", "verify", expect=1)
    assert "access log BROKEN" in result.output, (name, result.output)
    assert "Traceback" not in result.output and "intact" not in result.output


@pytest.mark.parametrize("name", ["wipe the table and the head",
                                  "roll back to an older head (entries 8-10 deleted, head of 7 restored)",
                                  "malformed head: garbage", "delete an entry"])
def test_without_the_key_a_tampered_log_is_still_broken(cli, tmp_path, any_store, name):
    """The anchor's numbers need no key to compare: a wipe or a rollback shows without it."""
    old_head = _ten_entries(any_store, tmp_path / "openeis.key")
    TAMPERINGS[name](any_store, tmp_path, old_head)
    (tmp_path / "openeis.key").rename(tmp_path / "elsewhere.key")
    result = cli("log", "verify", expect=1)
    assert "access log BROKEN" in result.output, result.output


def test_without_the_key_a_forged_append_is_not_called_verified(cli, tmp_path, any_store):
    """Issue 21: without the key file a forged append was reported as verified."""
    logged_store(any_store, tmp_path / "openeis.key", entries=ENTRIES)
    forged_append(head="unsigned")(any_store, tmp_path, None)
    (tmp_path / "openeis.key").rename(tmp_path / "elsewhere.key")
    result = cli("log", "verify", expect=1)
    assert "NOT VERIFIED" in result.output and "cannot be checked" in result.output
    assert "intact" not in result.output


def test_an_intact_log_without_the_key_is_not_verified_either(cli, tmp_path, any_store):
    logged_store(any_store, tmp_path / "openeis.key", entries=3)
    shutil.move(tmp_path / "openeis.key", tmp_path / "elsewhere.key")
    result = cli("log", "verify", expect=1)
    assert "NOT VERIFIED: the 3 entries link up" in result.output
    shutil.move(tmp_path / "elsewhere.key", tmp_path / "openeis.key")
    assert "access log intact: 3 entries" in cli("log", "verify").output


def test_a_whole_store_file_put_back_is_a_rollback(cli, tmp_path, store_url, monkeypatch):
    """An older copy of the DuckDB file, consistent with itself (chain and signed head), put
    back over the store: only the anchor beside the key knows entries 6-10 were written."""
    if "://" in store_url:
        pytest.skip("a file copy: the DuckDB store (PostgreSQL: see the SQL rollback above)")
    monkeypatch.setenv("OPENEIS_STORE", store_url)
    logged_store(store_url, tmp_path / "openeis.key", entries=5)
    shutil.copy(store_url, tmp_path / "backup.duckdb")
    with open_session(store_url, ANALYST, OpenEISConfig(), tmp_path / "openeis.key") as session:
        for _ in range(5):
            session.log(Action.READ, Resource.SOURCE_RECORDS, None, "monthly review")
    shutil.copy(tmp_path / "backup.duckdb", store_url)
    result = cli("log", "verify", expect=1)
    assert "BROKEN at entry 6" in result.output and "entry 10 was written" in result.output
    # An administrator who restored it on purpose accepts it, with a reason, in the log.
    cli("log", "reanchor", "--reason", "restored the backup of 1 March after disk failure")
    assert "access log intact: 7 entries" in cli("log", "verify").output
    entry = json.loads(cli("log", "show", "--json", "--limit", "2").output.splitlines()[0])
    assert (entry["action"], entry["resource"], entry["reason"]) == \
        ("change", "access_log", "restored the backup of 1 March after disk failure")
    assert json.loads(entry["records"])["previous_anchor"] == 10


def test_reanchor_is_for_administrators_and_a_sound_chain_only(cli, tmp_path, any_store, monkeypatch):
    logged_store(any_store, tmp_path / "openeis.key", entries=4)
    _sql(any_store, "UPDATE access_log SET purpose = 'curiosity' WHERE seq = 2")
    refused = cli("log", "reanchor", "--reason", "hide the edit", expect=1)
    assert "chain and head check out" in refused.output
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    assert "access denied" in cli("log", "reanchor", "--reason", "x", expect=1).output


def test_the_anchor_moves_only_after_a_commit(cli, tmp_path, any_store):
    """An entry rolled back with its action does not move the anchor: else the next entry,
    which takes the same number, would look like a rewrite."""
    logged_store(any_store, tmp_path / "openeis.key", entries=3)

    def anchored() -> int:
        (record,) = json.loads((tmp_path / "openeis.anchor").read_text())["stores"].values()
        return record["seq"]

    assert anchored() == 3
    with open_session(any_store, ANALYST, OpenEISConfig(), tmp_path / "openeis.key") as session:
        with pytest.raises(RuntimeError):
            with session.transaction():
                session.log(Action.EXPORT, Resource.SOURCE_RECORDS, None, "an export that then fails")
                raise RuntimeError("the export failed")
        assert anchored() == 3
        session.log(Action.READ, Resource.SOURCE_RECORDS, None, "monthly review")
        assert anchored() == 4
    assert "access log intact: 4 entries" in cli("log", "verify").output


def test_a_new_store_is_anchored_from_its_creation_and_an_old_one_from_its_head(cli, tmp_path, any_store):
    cli("init")
    (record,) = json.loads((tmp_path / "openeis.anchor").read_text())["stores"].values()
    assert (record["seq"], record["since_seq"]) == (0, 0)
    # A store anchored nowhere (made before anchors, or the anchor file lost) is anchored at its
    # signed head by the next command with the key; `log verify` says since when.
    cli("status")
    Path(tmp_path / "openeis.anchor").unlink()
    output = cli("log", "verify").output
    assert "anchored since entry 1" in output
