"""Train, register, score with explanations, promote through the gate, backtest and monitor:
the real CLI on a real DuckDB store holding a small synthetic force."""

from __future__ import annotations

import json
import math
from datetime import date

import duckdb
import pytest

from openeis.flags.store import Flag, FlagWithoutExplanation, read_flags, replace_flags
from openeis.governance import access_log
from openeis.store import open_store
from support.models import FAST_MODELS

@pytest.mark.slow
def test_train_score_promote_backtest_monitor(cli, force_store, monkeypatch):
    # train: registered as a candidate with its provenance
    trained = json.loads(cli("train", "--json").stdout)
    model_id = trained["model_id"]
    assert trained["status"] == "candidate" and trained["label"] == "sustained_12m"
    assert trained["trained_as_of"] == "2020-12-31"  # the latest day in the data
    # its 12-month window closed, and then its findings had time to be decided: the synthetic
    # force decides half its upheld findings within 6.4 months, rounded up to the plan's
    # 6-month steps: 12
    assert trained["metrics"]["label_maturity_months"] == 12
    assert trained["train_dates"][-1] == "2018-07-01"
    assert len(trained["config_hash"]) == 64 and len(trained["data_hash"]) == 64
    assert trained["code_version"].startswith("0.")
    assert trained["metrics"]["selection"]["selected"] == trained["candidate"]
    listed = json.loads(cli("models", "list", "--json").stdout)
    assert [m["model_id"] for m in listed] == [model_id]
    shown = json.loads(cli("models", "show", model_id).stdout)
    assert shown["history"][0]["to"] == "candidate"

    # score: until a model is live, its scores are shadow scores: no model flag in any queue
    result = cli("score", "--as-of", "2020-06-01", "--json")
    assert "not live" in result.stderr and "shadow scores" in result.stderr
    shadow = json.loads(result.stdout)
    assert shadow["published"] is False and shadow["model_flags"] == 0
    assert not [f for f in shadow["flags"] if f["source"] == "model"]
    assert all(f["score"] is None for f in shadow["flags"])  # rule flags carry no shadow score
    queued = json.loads(cli("queue", "--as-of", "2020-06-01", "--json").stdout)
    assert not [i for i in queued["items"] if i["source"] == "model"]
    store = open_store(str(force_store / "openeis.duckdb"))
    try:
        assert store.scalar("SELECT count(*) FROM flags WHERE source = 'model'") == 0
        assert store.scalar("SELECT count(*) FROM scores") == shadow["cohort"]  # kept, to compare
    finally:
        store.close()
    # re-scoring the same date replaces the new flags, it does not add to them
    again = json.loads(cli("score", "--as-of", "2020-06-01", "--json").stdout)
    store = open_store(str(force_store / "openeis.duckdb"))
    try:
        assert store.scalar("SELECT count(*) FROM flags") == len(again["flags"]) == len(shadow["flags"])
    finally:
        store.close()

    # promotion to live goes through the bias gate: no audit yet -> refused, and logged
    refused = cli("models", "promote", model_id, "--to", "live", expect=1)
    assert "no bias audit yet" in refused.output
    # the audit: recorded for the gate; 500 officers x 2% = 10 flags is too thin to judge,
    # and thin data never passes
    cli("audit", "--json", "audit.json", "--report", "audit.html")
    audited = json.loads((force_store / "audit.json").read_text())
    assert audited["model_id"] == model_id and audited["gate"]["allowed"] is False
    assert any("cannot be judged" in r for r in audited["gate"]["reasons"])
    assert "<svg" in (force_store / "audit.html").read_text()
    refused = cli("models", "promote", model_id, "--to", "live", expect=1)
    assert "did not pass the gate" in refused.output
    # the rows behind the audit are for the auditor role only
    denied = cli("audit", "--json", "a2.json", "--rows", "rows.csv", expect=1)
    assert "access denied" in denied.output and not (force_store / "rows.csv").exists()
    monkeypatch.setenv("OPENEIS_ROLE", "auditor")
    cli("audit", "--json", "a3.json", "--rows", "rows.csv")
    monkeypatch.delenv("OPENEIS_ROLE")
    header = (force_store / "rows.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["officer", "as_of", "flag", "label"] and "ethnicity" in header
    cli("models", "promote", model_id, "--to", "live", "--override-gate", "--rationale", "short", expect=1)
    cli("models", "promote", model_id, "--to", "live", "--override-gate", "--rationale",
        "Test force: no protected characteristics to audit yet; reviewed by the board.")
    live = json.loads(cli("models", "list", "--json").stdout)[0]
    assert live["status"] == "live"
    history = json.loads(cli("models", "show", model_id).stdout)["history"]
    assert "OVERRIDDEN" in history[-1]["rationale"]
    scored = cli("score", "--as-of", "2020-06-01", "--json")
    assert "no live model" not in scored.stderr
    run = json.loads(scored.stdout)
    assert run["published"] is True
    assert run["capacity"] == math.ceil(run["cohort"] * 0.02) == run["model_flags"]
    model_flags = [f for f in run["flags"] if f["source"] == "model"]
    assert [f["rank"] for f in model_flags] == list(range(1, run["capacity"] + 1))
    for f in model_flags:
        e = f["explanation"]
        assert e["factors"] and all(s.endswith(".") for s in e["sentences"])
        # additive: base + factors + the rest = the calibrated log-odds = the score
        total = e["base"] + sum(x["contribution"] for x in e["factors"]) + e["other_factors"]
        assert total == pytest.approx(e["log_odds"], abs=1e-6)
        assert 1 / (1 + math.exp(-e["log_odds"])) == pytest.approx(f["score"], abs=1e-9)
        assert len(f["rules"]) == sum(s.startswith("Threshold rule") for s in e["sentences"])
        for factor in e["factors"]:  # each factor on its own scale, with a label in words
            assert factor["label"] and "_" not in factor["label"]
            assert factor["peer_percentile"] is None or 0 <= factor["peer_percentile"] <= 100
        assert not any(x["feature"].startswith("sickness_") for x in e["factors"])
    for f in run["flags"]:
        if f["source"] == "rule":
            assert f["rules"] and f["explanation"]["sentences"]
            assert f["queue"] == ("welfare" if f["rules"][0]["name"] == "sick_days_3_in_90d" else "conduct")
    # the queue after promotion: at most `capacity` conduct items, none from a model that is
    # not live, none whose reasons mention sickness or health; the welfare queue apart
    queued = json.loads(cli("queue", "--as-of", "2020-06-01", "--json").stdout)
    assert queued["as_of"] == "2020-06-01" and queued["capacity"] == run["capacity"]
    conduct = [i for i in queued["items"] if i["queue"] == "conduct"]
    assert 0 < len(conduct) <= queued["capacity"]
    assert {i["source"] for i in conduct} <= {"model", "rule", "detector"}
    assert all(i["model_status"] == "live" for i in conduct if i["source"] == "model")
    assert all(i["model_status"] is None for i in queued["items"] if i["source"] != "model")
    assert not [i for i in conduct if any(w in " ".join(i["reasons"]).lower() for w in ("sick", "health", "bradford"))]
    assert set(queued["not_queued"]) >= {"rule", "detector"}
    assert sum(queued["not_queued"].values()) == len([f for f in run["flags"] if f["queue"] == "conduct"]) - len(conduct)
    assert {i["queue"] for i in queued["items"]} <= {"conduct", "welfare"}
    store = open_store(str(force_store / "openeis.duckdb"))
    try:
        stored = read_flags(store, date.fromisoformat("2020-06-01"))
        assert {f["flag_id"] for f in stored} == {f["flag_id"] for f in run["flags"]}
        # subject access finds the officer's scores and flags with their explanations
        from openeis.governance.subject_access import collect

        officer = model_flags[0]["officer"]
        export = collect(store, officer)
        assert len(export.sections["scores"]) == 1
        assert export.sections["flags"][0]["explanation"] == json.dumps(model_flags[0]["explanation"])
        # and their features as of the latest date in the data, computed for the export
        from openeis.config.features import FeaturesConfig
        from openeis.governance.subject_access import add_current_features

        add_current_features(store, export, FeaturesConfig())
        (features,) = export.sections["features"]
        assert features["officer"] == officer and "complaints_count_1y" in features
    finally:
        store.close()
    store = open_store(str(force_store / "openeis.duckdb"))
    try:
        outcomes = [(e.outcome, e.purpose) for e in access_log.entries(store) if e.resource == "models"]
        assert ("denied", "promote") in outcomes and ("allowed", "promote") in outcomes
    finally:
        store.close()

    # transparency: a model card for the live model, the ATRS record, suppressed statistics
    cli("transparency", "--out", "public")
    card = json.loads((force_store / "public" / f"model-card-{model_id}.json").read_text())
    assert card["model_id"] == model_id and card["bias_audit"]["within_band"] is False
    atrs = json.loads((force_store / "public" / "atrs-record.json").read_text())
    assert {"owner", "purpose_and_benefits", "data", "models", "human_oversight", "risks",
            "mitigations", "audits"} <= set(atrs["tier_2"])
    stats = json.loads((force_store / "public" / "public-statistics.json").read_text())
    assert all(isinstance(f["count"], int) and f["count"] >= 5 or f["count"] == "<5" for f in stats["flags"])
    public_text = "".join(p.read_text() for p in (force_store / "public").iterdir())
    assert officer not in public_text  # no pseudonym in public records

    # backtest: the JSON contract of the issue, and the HTML report
    cli("backtest", "--as-of", "2019-01-01,2019-07-01", "--json", "bt.json", "--report", "bt.html")
    report = json.loads((force_store / "bt.json").read_text())
    assert report["label"] == "sustained_12m"
    assert [d["as_of"] for d in report["dates"]] == ["2019-01-01", "2019-07-01"]
    for d in report["dates"]:
        assert {"as_of", "cohort", "positives", "rule", "models", "selected"} <= set(d)
        assert set(d["rule"]) == {"flags", "true_positives", "precision", "recall"}
        assert d["selected"] in d["models"] and "prior_complaints_5y" in d["models"]
        assert d["audit"]["gate_allowed"] is False  # the same audit, on every backtest date
        for m in d["models"].values():
            assert {"auc", "average_precision", "precision_at", "recall_at",
                    "true_positives_at_rule_count", "precision_at_rule_count"} <= set(m)
            assert set(m["precision_at"]) == set(m["recall_at"]) == {"1%", "2%", "5%"}
        # trained only on dates whose label window closed by the test date, and then matured
        assert all(t <= f"{int(d['as_of'][:4]) - 1}{d['as_of'][4:]}" for t in d["train_dates"])
        assert d["train_labels_known_at"] == d["as_of"] and d["label_maturity_months"] > 0
        assert d["strongest_baseline"] in {"department_rules", "prior_complaints_5y", "empirical_bayes_rate"}
        assert {"department_rules", "prior_complaints_5y", "empirical_bayes_rate"} <= set(d["models"])
    html = (force_store / "bt.html").read_text()
    assert "<svg" in html and "Precision at k" in html and "How to read this" in html
    assert "src=\"http" not in html and "<link" not in html and "<script" not in html  # nothing fetched

    # monitor: two scored dates
    cli("score", "--as-of", "2020-12-01")
    cli("monitor", "--json", "mon.json", "--report", "mon.html")
    monitored = json.loads((force_store / "mon.json").read_text())
    assert [p["as_of"] for p in monitored["periods"]] == ["2020-06-01", "2020-12-01"]
    assert monitored["periods"][0]["score_psi"] == pytest.approx(0.0, abs=1e-9)
    assert monitored["periods"][1]["flags"] > 0


@pytest.mark.slow
def test_known_at_test_date_false_trains_on_labels_as_known_now(cli, force_store):
    """`[splits] known_at_test_date = false` reaches the backtest: training labels are read as
    the store knows them now (hindsight, for comparison), so findings decided after the test
    date count. (No maturity here: a matured date's findings are all decided by the test date,
    and the two would agree.)"""
    immature = FAST_MODELS + "label_maturity_months = 0\n"
    (force_store / "openeis.toml").write_text(immature)
    cli("backtest", "--as-of", "2019-07-01", "--json", "replayed.json")
    (force_store / "openeis.toml").write_text(immature + "known_at_test_date = false\n")
    cli("backtest", "--as-of", "2019-07-01", "--json", "hindsight.json")
    replayed, hindsight = (json.loads((force_store / f"{k}.json").read_text())["dates"][0]
                           for k in ("replayed", "hindsight"))
    assert replayed["train_labels_known_at"] == "2019-07-01" and hindsight["train_labels_known_at"] is None
    assert replayed["train_dates"] == hindsight["train_dates"]
    assert hindsight["train_positives"] > replayed["train_positives"]


def test_a_flag_without_an_explanation_cannot_be_written(cli, tmp_path):
    from datetime import date

    cli("init")
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        bare = Flag(date(2020, 1, 1), "abc", "model", {"sentences": []}, model_id="m")
        with pytest.raises(FlagWithoutExplanation):
            with store.transaction():
                replace_flags(store, date(2020, 1, 1), "m", [bare])
        no_factors = Flag(date(2020, 1, 1), "abc", "model", {"sentences": ["Something."]}, model_id="m")
        with pytest.raises(FlagWithoutExplanation):
            replace_flags(store, date(2020, 1, 1), "m", [no_factors])
        # and the store itself refuses one, whoever writes it
        with pytest.raises(duckdb.ConstraintException):
            store.execute("INSERT INTO flags (flag_id, as_of, officer, source, rules, explanation, created_at) "
                          "VALUES ('f', DATE '2020-01-01', 'abc', 'model', '[]', '{}', now())")
        assert store.scalar("SELECT count(*) FROM flags") == 0
    finally:
        store.close()
