"""`openeis detect --as-of DATE --json OUT.json`: the JSON contract, flags in the review
queue, the access log, and refusing what it must refuse."""

from __future__ import annotations

import json

from openeis.detectors import DETECTORS
from openeis.flags.store import read_flags
from openeis.governance import access_log
from openeis.store import open_store

HIT_KEYS = {"officer", "detector", "prompt_kind", "reason", "sentences", "evidence", "evidence_total", "measures"}


def _force(cli):
    cli("synth", "--officers", 300, "--years", 2, "--seed", 4, "--out", "force", "--format", "parquet")
    cli("init")
    cli("ingest", "force")


def test_detect_json_contract_and_flags(cli, tmp_path):
    _force(cli)
    result = cli("detect", "--as-of", "2017-01-01", "--json", "out.json")
    assert "never a finding" in result.output
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["as_of"] == "2017-01-01"
    assert payload["period"]["end"] == "2017-01-01"
    assert [d["detector"] for d in payload["detectors"]] == list(DETECTORS)
    for d in payload["detectors"]:
        assert d["prompt_kind"] in ("integrity", "welfare", "performance")
        assert d["method"] in ("rule", "peer_fdr")
    hits = payload["hits"]
    assert {h["detector"] for h in hits} == set(DETECTORS)  # 3 planted officers per kind at least
    for h in hits:
        assert set(h) == HIT_KEYS
        assert h["reason"] == " ".join(h["sentences"])
        assert h["evidence"] and all(set(e) == {"table", "record"} for e in h["evidence"])
    assert payload["flags"]["written"] == len(hits)

    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        flags = [f for f in read_flags(store) if f["source"] == "detector"]
        assert len(flags) == len(hits)
        assert {f["model_id"] for f in flags} == {f"detector:{name}" for name in DETECTORS}
        first = flags[0]["explanation"]
        assert {"sentences", "detector", "prompt_kind", "evidence"} <= set(first)
        actions = [(e.action, e.resource) for e in access_log.entries(store)]
        assert ("read", "source_records") in actions and ("change", "flags") in actions
    finally:
        store.close()

    # Running again replaces the run's new flags, it does not add to them.
    cli("detect", "--as-of", "2017-01-01", "--json", "again.json")
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        assert len([f for f in read_flags(store) if f["source"] == "detector"]) == len(hits)
    finally:
        store.close()


def test_detect_without_flags_and_with_the_audit(cli, tmp_path):
    _force(cli)
    # Three detectors only, so that the audit (one per detector and one for all) stays quick.
    off = [n for n in DETECTORS if n not in ("overtime_during_sickness", "out_of_hours_lookups",
                                              "high_bradford_factor")]
    (tmp_path / "openeis.toml").write_text(
        "[audit]\nbootstrap_replicates = 200\n[detectors]\nlookback_days = 365\n"
        + "".join(f"[detectors.{n}]\nenabled = false\n" for n in off))
    cli("detect", "--json", "out.json", "--no-write-flags", "--audit", "audit.json")
    payload = json.loads((tmp_path / "out.json").read_text())
    assert "flags" not in payload
    assert "premium_day_swaps" not in {d["detector"] for d in payload["detectors"]}
    audit = json.loads((tmp_path / "audit.json").read_text())
    assert "any" in audit["detectors"]
    assert {a["attribute"] for a in audit["detectors"]["any"]["attributes"]} >= {"ethnicity", "gender"}
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        assert not [f for f in read_flags(store) if f["source"] == "detector"]
        # The audit reads protected characteristics for aggregates only: logged as the
        # permission it needs (read audits), saying so.
        audits = [e for e in access_log.entries(store) if (e.action, e.resource) == ("read", "audits")]
        assert audits and json.loads(audits[-1].records)["protected_characteristics"] == "aggregates only"
    finally:
        store.close()


def test_detect_refuses_a_bad_date_and_a_narrow_role(cli, monkeypatch):
    _force(cli)
    result = cli("detect", "--as-of", "2017-13-01", expect=1)
    assert "not a date" in result.output
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    result = cli("detect", "--as-of", "2017-01-01", expect=1)
    assert "access denied" in result.output
