"""Earlier versions of corrected records under governance: subject access exports them (and,
with `sar --as-of`, the records as the force knew them on a day), retention deletes them with
their record, and the identity vault goes with an officer whom retention removes. On DuckDB and
PostgreSQL (`any_store`)."""

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
    assert "WX100001" not in json.dumps(document)  # the vault's seal, not the staff number
    assert len(document["sections"]["restricted.identity_vault"]) == 1
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
    assert "restricted.identity_vault" not in after["sections"]  # the force's records only


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


def test_an_officer_removed_by_retention_takes_earlier_versions_and_vault_seal(cli, tmp_path, any_store):
    """A rule on officers (leavers, a year after they left): the officer's row, its earlier
    versions and its seal in the identity vault all go; the others' seals stay as they were."""
    first, corrected = copy.deepcopy(force()), copy.deepcopy(force())
    corrected["officers"][2]["rank"] = "sergeant"  # WX100003 (left 2021-02-01): a correction
    write_force(tmp_path / "first", first)
    write_force(tmp_path / "corrected", corrected)
    (tmp_path / "openeis.toml").write_text(
        '[[retention.rules]]\ntable = "officers"\nyears = 1\nafter = "left_at"\nreason = "leavers: 1 year"\n')
    cli("init")
    cli("ingest", tmp_path / "first")
    cli("ingest", tmp_path / "corrected", "--changed-at", "2021-06-01")
    pseudonyms = Pseudonymiser(read_key_file(tmp_path / "openeis.key"))
    gone = pseudonyms.pseudonym("officer", "WX100003")

    def held() -> tuple[set, set, dict]:
        store = open_store(any_store)
        try:
            return ({r[0] for r in store.query("SELECT officer_id FROM officers")},
                    {r[0] for r in store.query("SELECT officer_id FROM officers_history")},
                    dict(store.query("SELECT officer_id, staff_number FROM restricted.identity_vault")))
        finally:
            store.close()

    officers, history, vault = held()
    assert gone in officers and history == {gone} and gone in vault and len(vault) == 3
    cli("retention", "apply", "--as-of", "2022-06-01")
    officers_after, history_after, vault_after = held()
    assert gone not in officers_after and history_after == set()
    assert vault_after == {o: seal for o, seal in vault.items() if o != gone}  # the others' seals as they were
    if any_store.endswith(".duckdb"):  # the seal is gone from the file, the others' are there to be found
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("openeis.duckdb*") if p.is_file())
        assert vault[gone].encode() not in raw and all(seal.encode() in raw for seal in vault_after.values())
