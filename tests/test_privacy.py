"""Names, addresses, free text and raw identifiers never reach the store."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from support.handmade import write_force

from openeis.privacy import Pseudonymiser, read_key_file
from openeis.schema import TABLES, TABLES_BY_NAME, Privacy
from openeis.store import open_store


def sensitive_values(directory: Path) -> set[str]:
    """Every discarded value (names, free text: also each long word of it) and raw identifier."""
    found: set[str] = set()
    for path in directory.glob("*.csv"):
        table = TABLES_BY_NAME.get(path.name.removesuffix(".csv"))
        if table is None:
            continue
        data = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True, column_types={}))
        for name in data.column_names:
            personal = name in table.discarded
            identifier = table.has(name) and table.column(name).privacy is Privacy.PSEUDONYMISE
            if not (personal or identifier):
                continue
            for value in data.column(name).cast("string").to_pylist():
                if not value:
                    continue
                found.add(value)
                if personal and "name" in name:
                    # Each part of a name too: a first name alone is still a name.
                    found.update(word for word in re.findall(r"[A-Za-z]{6,}", value))
    return found


def store_strings(path: Path) -> str:
    """Every string value held in any table of the store."""
    store = open_store(str(path))
    try:
        parts = []
        tables = [t.qualified_name for t in TABLES] + ["quarantine", "record_changes", "ingest_batches", "store_meta"]
        for name in tables:
            parts.extend(str(row) for row in store.query(f"SELECT * FROM {name}"))
        store.checkpoint()
        return "\n".join(parts)
    finally:
        store.close()


TOKEN = re.compile(rb"[A-Za-z0-9_-]+")
RAW_BYTES_SAMPLE = 3000


def assert_absent(store_path: Path, values: set[str]) -> None:
    """No value appears in any table, nor in the file's bytes.

    Tables: every value, through a token set (a value can be present only if all its tokens
    are, and only then is it searched). File bytes: strings can sit back to back there, so
    tokens prove nothing; a plain search of an evenly spread sample keeps the test fast."""
    text = store_strings(store_path)
    raw = b"".join(p.read_bytes() for p in store_path.parent.glob(store_path.name + "*") if p.is_file())
    text_tokens = set(TOKEN.findall(text.encode()))
    # Common words from free text ("officer", "shouted") may legitimately appear as codes.
    allowed = {"officer", "shouted", "Complainant", "complainant", "Crescent"}
    checked = sorted(values - allowed)
    for value in checked:
        tokens = TOKEN.findall(value.encode())
        if tokens and all(t in text_tokens for t in tokens):
            assert value not in text, f"{value!r} found in a table"
    step = max(1, len(checked) // RAW_BYTES_SAMPLE)
    for value in checked[::step]:
        assert value.encode() not in raw, f"{value!r} found in the store file"


def test_handmade_force_leaves_no_names_or_raw_ids(cli, tmp_path):
    write_force(tmp_path / "in")
    values = sensitive_values(tmp_path / "in")
    assert {"Tavrin", "Oskelby", "WX100001", "CRX-2020-0001", "14 Velmire Crescent", "SUBJX-555"} <= values
    cli("init")
    cli("ingest", tmp_path / "in")
    assert_absent(tmp_path / "openeis.duckdb", values)
    # ...while the pseudonym of the same officer is there, and reproducible with the key.
    key = read_key_file(tmp_path / "openeis.key")
    assert Pseudonymiser(key).pseudonym("officer", "WX100001") in store_strings(tmp_path / "openeis.duckdb")


def test_protected_characteristics_only_in_restricted_schema(cli, tmp_path):
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        columns = store.query(
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE column_name IN ('ethnicity', 'gender', 'birth_year', 'disability')"
        )
        assert {schema for schema, _ in columns} == {"restricted"}
        assert store.scalar("SELECT count(*) FROM restricted.officer_characteristics") == 2
    finally:
        store.close()


def test_synthetic_force_leaves_no_names_or_raw_ids(cli, tmp_path):
    synth = pytest.importorskip("openeis.synth")
    synth.generate_force(synth.SynthOptions(officers=150, years=3, seed=11), tmp_path / "in")
    values = sensitive_values(tmp_path / "in")
    assert len(values) > 1000
    cli("init")
    cli("ingest", tmp_path / "in")
    assert_absent(tmp_path / "openeis.duckdb", values)


def test_the_identity_vault_identifies_nobody_from_a_copy_of_the_store(cli, tmp_path):
    """Staff numbers (and names, when the force keeps them) are sealed at ingest: the store
    holds only seals, the vault key is a file of its own, and with it an entitled reveal
    gives the staff number back (logged)."""
    import json

    write_force(tmp_path / "in")
    values = sensitive_values(tmp_path / "in")
    (tmp_path / "openeis.toml").write_text("[privacy]\nvault_names = true\n")
    cli("init")
    assert (tmp_path / "openeis.vault.key").exists() and (tmp_path / "openeis.vault.key").stat().st_mode & 0o077 == 0
    cli("ingest", tmp_path / "in")
    assert_absent(tmp_path / "openeis.duckdb", values)  # every table, and the file's bytes
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        sealed = store.query("SELECT officer_id, staff_number, name FROM restricted.identity_vault")
        vault_text = str(sealed)
    finally:
        store.close()
    assert len(sealed) == 3 and all(name for _, _, name in sealed)
    assert "WX100001" not in vault_text and "Tavrin" not in vault_text
    officer = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    revealed = json.loads(cli("reveal", "--officer", officer, "--reason", "privacy test: entitled reveal",
                              "--json").stdout)
    assert revealed["staff_number"] == "WX100001" and "Tavrin" in revealed["name"]
    assert "reason" in cli("reveal", "--officer", officer, "--reason", "x", expect=1).output
    # without the vault key, even the administrator at the shell identifies nobody
    (tmp_path / "openeis.vault.key").rename(tmp_path / "elsewhere.key")
    assert "not found" in cli("reveal", "--officer", officer, "--reason", "privacy test: no key here",
                              expect=1).output
    cli("ingest", tmp_path / "in")  # re-ingesting changes nothing in the vault
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        assert str(store.query("SELECT officer_id, staff_number, name FROM restricted.identity_vault")) == vault_text
        from openeis.governance import access_log

        reveals = [e for e in access_log.entries(store) if e.resource == "identity"]
        # every attempt is on the record: the reveal, then the two refusals (no reason, no key)
        assert [e.outcome for e in reveals] == ["allowed", "denied", "denied"]
        assert reveals[0].reason == "privacy test: entitled reveal" and "WX100001" not in reveals[0].records
        assert "reason" in reveals[1].reason and "not found" in reveals[2].reason
        assert not any("WX100001" in (e.records or "") for e in reveals)
    finally:
        store.close()
