"""Earlier versions of corrected records under governance: subject access exports them (and,
with `sar --as-of`, the records as the force knew them on a day), retention deletes them with
their record. On DuckDB and PostgreSQL (`any_store`)."""

from __future__ import annotations

import copy
import json

from openeis.privacy import Pseudonymiser, read_key_file
from openeis.store import open_store
from support.handmade import force, force_with_allegation, write_force


def test_subject_access_exports_earlier_versions_and_what_was_known(cli, tmp_path, any_store):
    write_force(tmp_path / "first", force_with_allegation(finding="open", outcome="", decided_at=""))
    write_force(tmp_path / "second", force())  # ALX-1 decided 2020-06-01: an update
    write_force(tmp_path / "third", force_with_allegation(category="corruption"))  # a correction
    cli("init")
    cli("ingest", tmp_path / "first")
    cli("ingest", tmp_path / "second", "--changed-at", "2020-07-01")
    cli("ingest", tmp_path / "third", "--changed-at", "2020-09-01")
    cli("sar", "--officer", "WX100001", "--out", "all")
    document = json.loads((tmp_path / "all" / "subject-access.json").read_text())
    assert [r["category"] for r in document["sections"]["allegations_history"]] == ["discourtesy"]
    assert "corruption" in [r["category"] for r in document["sections"]["allegations"]]

    def as_of(day: str) -> dict:
        cli("sar", "--officer", "WX100001", "--out", f"on-{day}", "--as-of", day)
        return json.loads((tmp_path / f"on-{day}" / "subject-access.json").read_text())

    before = as_of("2020-05-01")  # recorded, not decided yet, not corrected yet
    alx1 = [r for r in before["sections"]["allegations"] if r["occurred_at"].startswith("2020-01-01")]
    assert [(r["category"], r["finding"], r["decided_at"], r["outcome"]) for r in alx1] == [
        ("discourtesy", "open", None, None)]
    assert "ALX-3" not in json.dumps(before) and len(before["sections"]["allegations"]) == 1  # ALX-3: 2021
    assert before["as_of"] == "2020-05-01" and "allegations_history" not in before["sections"]
    if any_store.endswith(".duckdb"):  # the export's features are computed on DuckDB stores only
        assert before["sections"]["features"][0]["allegations_open_count_all"] == 1
    between = as_of("2020-08-01")  # decided, not corrected yet
    assert [(r["category"], r["finding"]) for r in between["sections"]["allegations"]] == [("discourtesy", "upheld")]
    after = as_of("2020-09-02")
    assert [(r["category"], r["finding"]) for r in after["sections"]["allegations"]] == [("corruption", "upheld")]
    assert "restricted.complainants" not in after["sections"]


def test_retention_deletes_earlier_versions_with_their_record(cli, tmp_path, any_store):
    old = {"allegation_id": "ALX-OLD-RETAIN-ME-NOT", "complaint_id": "CRX-2020-0001", "officer_id": "WX100002",
           "category": "discourtesy", "finding": "unfounded", "outcome": "", "occurred_at": "2009-01-01",
           "recorded_at": "2009-01-05", "decided_at": "2009-06-01"}
    first, corrected = copy.deepcopy(force()), copy.deepcopy(force())
    first["allegations"].append(old)
    corrected["allegations"].append({**old, "category": "property"})
    corrected["allegations"][0]["category"] = "corruption"  # ALX-1: upheld, kept
    write_force(tmp_path / "first", first)
    write_force(tmp_path / "corrected", corrected)
    cli("init")
    cli("ingest", tmp_path / "first")
    cli("ingest", tmp_path / "corrected", "--changed-at", "2020-09-01")
    key = read_key_file(tmp_path / "openeis.key")
    gone = Pseudonymiser(key).pseudonym("allegation", "ALX-OLD-RETAIN-ME-NOT")
    kept = Pseudonymiser(key).pseudonym("allegation", "ALX-1")
    store = open_store(any_store)
    try:
        assert {r[0] for r in store.query("SELECT allegation_id FROM allegations_history")} == {gone, kept}
    finally:
        store.close()
    cli("retention", "apply", "--as-of", "2021-01-01")
    store = open_store(any_store)
    try:
        assert {r[0] for r in store.query("SELECT allegation_id FROM allegations_history")} == {kept}
        assert gone not in str(store.query("SELECT * FROM allegations_history"))
    finally:
        store.close()
    if any_store.endswith(".duckdb"):
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("openeis.duckdb*") if p.is_file())
        assert gone.encode() not in raw

