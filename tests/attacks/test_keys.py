"""Key handling that cannot damage a store (issue 21, item 3). Before: `sar --key-file WRONG`
returned an empty export and re-signed the log's head with the wrong key (`log verify` then
said "head forged"); a missing key suggested `openeis init`, which was refused but left a new
`openeis.key` beside the store, which later commands used silently. Now a wrong or missing key
is refused before anything is written, and no command but `init` makes a key. Both engines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openeis.application.errors import Refused
from openeis.governance import access_log
from openeis.privacy import create_key_file
from openeis.store import open_store
from support.attacks import full_digest
from support.handmade import write_force

# Every command that opens the store with its key (each must refuse a wrong one unchanged).
KEYED_COMMANDS = [
    ["status"],
    ["sar", "--officer", "WX100001", "--out", "sar"],
    ["log", "verify"],
    ["log", "show"],
    ["log", "head"],
    ["quarantine", "list"],
    ["users", "list"],
    ["retention", "apply", "--dry-run"],
    ["transparency", "--out", "transparency"],
    ["models", "list"],
    ["ingest", "in"],
]


@pytest.fixture
def loaded(cli, tmp_path, any_store):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    create_key_file(tmp_path / "wrong.key")
    return any_store


def test_a_wrong_key_is_refused_before_anything_is_written(cli, tmp_path, loaded):
    before = full_digest(loaded)
    store = open_store(loaded)
    try:
        head = store.get_meta(access_log.HEAD_META)
    finally:
        store.close()
    for command in KEYED_COMMANDS:
        result = cli(*command, "--key-file", tmp_path / "wrong.key", expect=1)
        assert "different key" in result.output and "nothing was written" in result.output, (command, result.output)
        assert full_digest(loaded) == before, command
    assert not (tmp_path / "sar").exists() and not (tmp_path / "transparency").exists()
    store = open_store(loaded)
    try:
        assert store.get_meta(access_log.HEAD_META) == head  # never re-signed
    finally:
        store.close()
    assert "access log intact" in cli("log", "verify").output


def test_a_missing_key_is_refused_and_init_leaves_no_key_behind(cli, tmp_path, loaded):
    (tmp_path / "openeis.key").rename(tmp_path / "kept-safe.key")
    before = full_digest(loaded)
    keys = sorted(p.name for p in tmp_path.glob("*.key"))  # the vault key init made too
    assert "kept-safe.key" in keys and "openeis.key" not in keys
    result = cli("status", expect=1)
    assert "openeis.key not found" in result.output and "--key-file" in result.output
    assert "run `openeis init`" not in result.output
    refused = cli("init", expect=1)
    assert "with a key already" in refused.output
    for command in KEYED_COMMANDS:
        cli(*command, expect=1)
    assert not (tmp_path / "openeis.key").exists(), "no command but init makes a key, and init refused"
    assert sorted(p.name for p in tmp_path.glob("*.key")) == keys
    assert full_digest(loaded) == before
    cli("status", "--key-file", tmp_path / "kept-safe.key")  # the right key still opens it


def test_init_with_a_wrong_key_for_an_existing_store_is_refused(cli, tmp_path, loaded):
    before = full_digest(loaded)
    result = cli("init", "--key-file", tmp_path / "wrong.key", expect=1)
    assert "different key" in result.output
    assert full_digest(loaded) == before


def test_init_makes_the_key_only_with_the_store(cli, tmp_path, any_store):
    cli("init")
    first = (tmp_path / "openeis.key").read_text()
    cli("init")  # repeatable: the same key, the existing store
    assert (tmp_path / "openeis.key").read_text() == first


def test_a_store_made_before_fingerprints_is_checked_against_its_signed_head(cli, tmp_path, loaded):
    """A store with no key fingerprint (an older version's) but a signed log: the head tells."""
    store = open_store(loaded)
    try:
        store.execute("DELETE FROM store_meta WHERE name = 'key_fingerprint'")
    finally:
        store.close()
    before = full_digest(loaded)
    result = cli("status", "--key-file", tmp_path / "wrong.key", expect=1)
    assert "different key" in result.output
    assert full_digest(loaded) == before
    cli("status")  # the right key: accepted, and the fingerprint recorded again
    store = open_store(loaded)
    try:
        assert store.get_meta("key_fingerprint") is not None
    finally:
        store.close()


def test_the_web_server_refuses_a_wrong_key(cli, tmp_path, loaded):
    from openeis.application.session import prepare_store
    from openeis.config import OpenEISConfig
    from openeis.web.app import create_app

    with pytest.raises(Refused, match="different key"):
        prepare_store(loaded, tmp_path / "wrong.key", OpenEISConfig())
    with pytest.raises(Refused, match="different key"):
        create_app(loaded, bytes.fromhex((tmp_path / "wrong.key").read_text().strip()))


def test_a_key_readable_by_others_is_refused(cli, tmp_path, loaded):
    os.chmod(tmp_path / "openeis.key", 0o644)
    assert "chmod 600" in cli("status", expect=1).output
    assert Path(tmp_path / "openeis.key").stat().st_mode & 0o777 == 0o644  # left as it was


# -- the identity vault's key (issue 20's `openeis reveal`) ----------------------------------

def _beside_the_log(digest: dict[str, str]) -> dict[str, str]:
    """Every table but the access log and its head (a refused reveal is logged, as it must be)."""
    return {name: value for name, value in digest.items() if "access_log" not in name and "store_meta" not in name}


def test_reveal_refuses_a_wrong_or_missing_vault_key_and_logs_every_attempt(cli, tmp_path, loaded):
    from openeis.privacy import Pseudonymiser, read_key_file
    from openeis.vault import create_vault_key

    officer = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    reveal = ["reveal", "--officer", officer, "--reason", "attack suite: who is this officer?"]
    create_vault_key(tmp_path / "other.vault.key")
    exposed = tmp_path / "exposed.vault.key"
    exposed.write_bytes((tmp_path / "openeis.vault.key").read_bytes())
    os.chmod(exposed, 0o644)
    before = full_digest(loaded)
    refusals = {"other.vault.key": "not this store's identity vault key", "absent.vault.key": "not found",
                "exposed.vault.key": "readable by others"}
    for name, reason in refusals.items():
        result = cli(*reveal, "--vault-key-file", tmp_path / name, expect=1)
        assert reason in result.output and "WX100001" not in result.output, (name, result.output)
    # a wrong pseudonymisation key is refused before even the refusal could be logged
    result = cli(*reveal, "--key-file", tmp_path / "wrong.key", expect=1)
    assert "different key" in result.output and "WX100001" not in result.output
    after = full_digest(loaded)
    assert _beside_the_log(after) == _beside_the_log(before)  # nothing but the log moved
    found = cli(*reveal, "--json")
    assert '"staff_number": "WX100001"' in found.stdout
    store = open_store(loaded)
    try:
        attempts = [e for e in access_log.entries(store) if e.resource == "identity"]
    finally:
        store.close()
    assert [e.outcome for e in attempts] == ["denied"] * 3 + ["allowed"]
    for entry, reason in zip(attempts, refusals.values()):
        assert reason in entry.reason and "WX100001" not in (entry.records or "")
    assert "access log intact" in cli("log", "verify").output
