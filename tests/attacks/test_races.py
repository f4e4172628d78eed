"""Races (issue 21): many writers at once must neither fork the access log's chain nor move
its anchor backwards, concurrent password guesses must not slip past the lockout together,
and a second writer on an embedded store is refused clearly while the first holds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from openeis.application import sign_in as sign_in_actions
from openeis.application.session import advance_anchor, create_store
from openeis.config import OpenEISConfig, SignInConfig
from openeis.governance import access_log
from openeis.governance.log_anchor import LogAnchor
from openeis.governance.roles import Role
from openeis.governance.users import add_user
from openeis.store import open_store
from support.handmade import write_force

WRITERS, ENTRIES = 4, 15


WRITER = """
import sys
from pathlib import Path
from openeis.application.session import open_session
from openeis.config import OpenEISConfig
from openeis.governance.roles import Action, Actor, Resource, Role

url, key_file, writer, entries = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open_session(url, Actor(f"cli:writer-{writer}", Role.ANALYST), OpenEISConfig(), key_file) as session:
    for _ in range(entries):
        session.log(Action.READ, Resource.SOURCE_RECORDS, None, "race")
"""


def test_writers_in_several_processes_keep_one_chain_and_the_anchor_at_its_end(postgres_url, tmp_path):
    """Processes that each append, commit and move the anchor: the chain has every entry
    once, and the anchor (one file, flock) ends at the last entry, never behind a later one."""
    key_file = tmp_path / "openeis.key"
    create_store(postgres_url, OpenEISConfig(), key_file)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, postgres_url, str(key_file), str(n), str(ENTRIES)])
               for n in range(WRITERS)]
    for process in writers:
        assert process.wait(300) == 0
    store = open_store(postgres_url)
    try:
        result = access_log.verify(store, bytes.fromhex(key_file.read_text().strip()))
        assert result.ok and result.entries == WRITERS * ENTRIES, result
        last = access_log.head_entry(store)
    finally:
        store.close()
    (record,) = json.loads((tmp_path / "openeis.anchor").read_text())["stores"].values()
    assert (record["seq"], record["entry_hash"]) == last


def test_the_anchor_only_moves_forward_whatever_order_commits_report_in(tmp_path):
    """Two workers commit entries 11 and 12; the one with 12 moves the anchor first: 11 must
    not move it back (else a rollback of entry 12 would go unseen)."""
    key = b"k" * 32
    anchor = LogAnchor(tmp_path / "x.anchor", "store", key)
    anchor.begin(0, access_log.GENESIS)
    order = list(range(1, 201))
    threads = [threading.Thread(target=lambda part=part: [advance_anchor(anchor, seq, f"{seq:064x}") for seq in part])
               for part in (order[::-1], order, order[::2], order[1::2][::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = anchor.read()
    assert (record.seq, record.entry_hash) == (200, f"{200:064x}") and anchor.signature_ok(record)


def _guess(url: str, key: bytes, settings: SignInConfig, outcomes: list, attempts: int) -> None:
    store = open_store(url)
    try:
        for number in range(attempts):
            result = sign_in_actions.sign_in(store, key, None, settings, "target", f"guess {number}", "10.9.9.9")
            outcomes.append("locked" if result.locked_until else "failed")
    finally:
        store.close()


def test_concurrent_guesses_at_one_name_stop_at_the_limit(postgres_url, tmp_path):
    """Eight connections guessing at once: exactly the allowed number of passwords is checked;
    every other attempt is refused as locked without a check."""
    key = bytes(range(32))
    store = open_store(postgres_url)
    try:
        store.migrate()
        add_user(store, "target", Role.ANALYST, "the real password here")
    finally:
        store.close()
    settings = SignInConfig(max_failures_per_account=5, max_failures_per_address=1000)
    outcomes: list[str] = []
    threads = [threading.Thread(target=_guess, args=(postgres_url, key, settings, outcomes, 4)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("failed") == 5 and outcomes.count("locked") == 27
    store = open_store(postgres_url)
    try:
        assert access_log.verify(store, key).ok
        assert store.scalar("SELECT count(*) FROM access_log WHERE action = 'lock_out'") == 1
    finally:
        store.close()


def test_a_second_writer_on_an_embedded_store_is_refused_clearly(cli, tmp_path):
    """An ingest holds the DuckDB file (waiting just before its commit); a second command is
    refused with a message, not a traceback, and the store is as before once the first is killed."""
    write_force(tmp_path / "in")
    cli("init")
    marker = tmp_path / "holding"
    env = {**os.environ, "OPENEIS_TEST_HOLD_BEFORE_COMMIT": str(marker), "OPENEIS_STORE": str(tmp_path / "openeis.duckdb")}
    env.pop("OPENEIS_CONFIG", None)
    holder = subprocess.Popen([sys.executable, "-m", "openeis", "ingest", str(tmp_path / "in")], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert time.monotonic() < deadline and holder.poll() is None, "the ingest did not get to its commit"
            time.sleep(0.1)
        result = cli("status", expect=1)
        assert "cannot open store" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait(30)
    assert "access log intact: 0 entries" in cli("log", "verify").output
    assert "quarantine" in cli("status").output


def test_sign_in_attempts_on_an_embedded_store_are_counted_too(tmp_path):
    url = str(tmp_path / "s.duckdb")
    create_store(url, OpenEISConfig(), tmp_path / "s.key")
    key = bytes.fromhex((tmp_path / "s.key").read_text().strip())
    store = open_store(url)
    try:
        add_user(store, "someone", Role.ANALYST, "the real password here")
        settings = SignInConfig(max_failures_per_account=3)
        for number in range(3):
            assert sign_in_actions.sign_in(store, key, None, settings, "someone", f"no {number}", "a").user is None
        refused = sign_in_actions.sign_in(store, key, None, settings, "someone", "the real password here", "b")
        assert refused.user is None and refused.locked_until is not None
        assert access_log.verify(store, key).ok
    finally:
        store.close()
