"""`openeis init`: store by migrations, key file beside it, key never in the database."""

from __future__ import annotations

import stat

from support.handmade import write_force

from openeis.privacy import Pseudonymiser, read_key_file
from openeis.schema import TABLES
from openeis.store import open_store


def test_init_creates_store_and_private_key(cli, tmp_path):
    cli("init")
    key_path = tmp_path / "openeis.key"
    assert (tmp_path / "openeis.duckdb").exists()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = read_key_file(key_path)
    assert len(key) == 32
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        assert store.schema_version() >= 1
        for table in TABLES:
            assert store.table_exists(table.qualified_name), table.name
        store.checkpoint()
    finally:
        store.close()
    content = (tmp_path / "openeis.duckdb").read_bytes()
    assert key not in content and key.hex().encode() not in content


def test_init_is_repeatable_and_keeps_the_key(cli, tmp_path):
    cli("init")
    first = (tmp_path / "openeis.key").read_text()
    cli("init")
    assert (tmp_path / "openeis.key").read_text() == first


def test_store_option_and_environment_variable(cli, tmp_path, monkeypatch):
    cli("init", "--store", "a.duckdb")
    monkeypatch.setenv("OPENEIS_STORE", str(tmp_path / "b.duckdb"))
    cli("init")
    assert (tmp_path / "a.duckdb").exists() and (tmp_path / "a.key").exists()
    assert (tmp_path / "b.duckdb").exists() and (tmp_path / "b.key").exists()
    assert (tmp_path / "a.key").read_text() != (tmp_path / "b.key").read_text()


def test_shared_key_file_gives_shared_pseudonyms(cli, tmp_path):
    write_force(tmp_path / "in")
    cli("init", "--store", "one.duckdb", "--key-file", "force.key")
    cli("init", "--store", "two.duckdb", "--key-file", "force.key")
    cli("ingest", "--store", "one.duckdb", "--key-file", "force.key", tmp_path / "in")
    cli("ingest", "--store", "two.duckdb", "--key-file", "force.key", tmp_path / "in")
    pseudonyms = []
    for name in ("one.duckdb", "two.duckdb"):
        store = open_store(str(tmp_path / name))
        pseudonyms.append(sorted(store.query("SELECT officer_id FROM officers")))
        store.close()
    assert pseudonyms[0] == pseudonyms[1]
    key = read_key_file(tmp_path / "force.key")
    assert (Pseudonymiser(key).pseudonym("officer", "WX100001"),) in pseudonyms[0]


def test_wrong_key_is_refused(cli, tmp_path):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    cli("init", "--store", "other.duckdb")  # makes other.key
    result = cli("ingest", "--key-file", "other.key", tmp_path / "in", expect=1)
    assert "different key" in result.output


def test_readable_key_file_is_refused(cli, tmp_path):
    write_force(tmp_path / "in")
    cli("init")
    (tmp_path / "openeis.key").chmod(0o644)
    result = cli("ingest", tmp_path / "in", expect=1)
    assert "chmod 600" in result.output


def test_commands_need_an_initialised_store(cli, tmp_path, any_store):
    result = cli("status", expect=1)
    assert "openeis init" in result.output
