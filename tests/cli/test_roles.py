"""Roles at the command line (issue 21, item 1): OPENEIS_ROLE narrows what the CLI may do, on
every command, not only `detect` and `audit`. Each case below exited 0 before and did what it
was not allowed to; now it exits 1 with "access denied", changes nothing, and the access log
records the attempt as a refusal (and nothing as allowed). On both engines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openeis.governance import access_log
from openeis.privacy import Pseudonymiser, read_key_file
from openeis.store import open_store
from support.handmade import write_force
from support.retention import retention_force


@pytest.fixture
def store(cli, tmp_path, any_store, monkeypatch):
    """A store holding the hand-made force (with an allegation due for deletion), loaded by
    the administrator the CLI is by default."""
    write_force(tmp_path / "in", retention_force())
    cli("init")
    cli("ingest", tmp_path / "in")
    monkeypatch.setenv("OPENEIS_USER", "mallory")
    return any_store


def _pseudonym(tmp_path, officer: str) -> str:
    return Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", officer)


def _entries(url: str) -> list[access_log.Entry]:
    opened = open_store(url)
    try:
        return access_log.entries(opened)
    finally:
        opened.close()


def _refused(cli, url: str, role: str, *args: str, input: str | None = None):
    """Run the command as `role`; it must be refused, and leave exactly one new log entry: the
    refusal, with the role and the reason."""
    before = _entries(url)
    result = cli(*args, expect=1, input=input)
    assert "access denied" in result.output, result.output
    after = _entries(url)
    assert len(after) == len(before) + 1
    entry = after[-1]
    assert (entry.actor, entry.role, entry.outcome) == ("cli:mallory", role, "denied"), entry
    assert entry.reason and entry.reason in result.output
    return result


def _count(url: str, sql: str, params=()) -> int:
    opened = open_store(url)
    try:
        return opened.scalar(sql, list(params))
    finally:
        opened.close()


def test_an_auditor_cannot_ingest(cli, tmp_path, store, monkeypatch):
    rows = _count(store, "SELECT count(*) FROM allegations")
    batches = _count(store, "SELECT count(*) FROM ingest_batches")
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    extra = retention_force()
    extra["allegations"][0] = {**extra["allegations"][0], "allegation_id": "AL-NEW-BY-AUDITOR"}
    write_force(tmp_path / "more", extra)
    _refused(cli, store, "auditor", "ingest", tmp_path / "more")
    assert _count(store, "SELECT count(*) FROM allegations") == rows
    assert _count(store, "SELECT count(*) FROM ingest_batches") == batches


def test_an_auditor_cannot_add_an_administrator(cli, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    _refused(cli, store, "auditor", "users", "add", "mallory", "--role", "administrator",
             input="a password long enough\n")
    assert _count(store, "SELECT count(*) FROM users WHERE name = 'mallory'") == 0


def test_an_officer_cannot_export_another_officers_records(cli, tmp_path, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "officer")
    monkeypatch.setenv("OPENEIS_OFFICER", _pseudonym(tmp_path, "WX100001"))
    _refused(cli, store, "officer", "sar", "--officer", "WX100002", "--out", "sar-other")
    assert not (tmp_path / "sar-other").exists()
    # Their own records they may have.
    cli("sar", "--officer", "WX100001", "--out", "sar-own")
    assert json.loads((tmp_path / "sar-own" / "subject-access.json").read_text())["officer_pseudonym"] == \
        _pseudonym(tmp_path, "WX100001")


def test_a_reviewer_cannot_apply_retention(cli, store, monkeypatch):
    rows = _count(store, "SELECT count(*) FROM allegations")
    monkeypatch.setenv("OPENEIS_ROLE", "reviewer")
    monkeypatch.setenv("OPENEIS_SCOPE", "RESP")
    _refused(cli, store, "reviewer", "retention", "apply", "--as-of", "2021-01-01")
    assert _count(store, "SELECT count(*) FROM allegations") == rows
    # The rule was due: the administrator's run deletes the old allegation not upheld.
    monkeypatch.setenv("OPENEIS_ROLE", "administrator")
    cli("retention", "apply", "--as-of", "2021-01-01")
    assert _count(store, "SELECT count(*) FROM allegations") == rows - 1


def test_an_analyst_cannot_read_the_access_log(cli, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "analyst")
    result = _refused(cli, store, "analyst", "log", "show")
    assert "cli:" not in result.output.replace("cli:mallory", "")  # no entry printed
    assert "ingest" not in result.output


def test_a_reviewer_cannot_run_the_detectors_force_wide(cli, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "reviewer")
    monkeypatch.setenv("OPENEIS_SCOPE", "RESP")  # a reviewer covering one unit: still not the force
    # Without writing flags: before, only the write was checked, and the detectors ran over
    # every officer of the force for a reviewer of one unit.
    result = _refused(cli, store, "reviewer", "detect", "--no-write-flags", "--json", "hits.json")
    assert "covers every officer" in result.output
    assert not Path("hits.json").exists()
    assert _count(store, "SELECT count(*) FROM flags") == 0


def test_the_log_of_refusals_still_verifies(cli, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "analyst")
    _refused(cli, store, "analyst", "log", "show")
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    assert "access log intact" in cli("log", "verify").output
    denied = [e for e in _entries(store) if e.outcome == "denied"]
    assert [(e.role, e.action, e.resource) for e in denied] == [("analyst", "read", "access_log")]


def test_an_unknown_role_is_refused_before_anything_runs(cli, store, monkeypatch):
    monkeypatch.setenv("OPENEIS_ROLE", "superuser")
    before = _entries(store)
    result = cli("status", expect=1)
    assert "OPENEIS_ROLE='superuser'" in result.output
    assert len(_entries(store)) == len(before)
