"""Done-when of the models issues (14, 17): on a synthetic force whose officers have a known
latent propensity, the model chosen by temporal selection flags more officers who go on to
have an upheld allegation than the department threshold rules and the prior-complaint
ranking, at the review capacity, on every test date, and the backtest JSON says so.

One fixed seed (deterministic: the same JSON every run, under any pseudonymisation key, since
officers tied at the cut count with their expected share of hits), four test dates. One date's
top 2% is 40 officers here, so a few officers decide a date: docs/evidence.md reports other
seeds, where the model is ahead on AUC and at the rules' flag count on every date but not
always at capacity.
"""

from __future__ import annotations

import json

import pytest

# The default models and selection; a plan of quarterly dates from 2016 (the records begin in
# 2015): with the default yearly plan a 7-year force has 2-3 training dates per test date.
CONFIG = """
[splits]
start = "2016-01-01"
end = "2020-07-01"
frequency_months = 3
"""


@pytest.mark.slow
def test_selected_model_beats_rule_and_prior_count_at_capacity(cli, tmp_path):
    cli("synth", "--officers", 2000, "--years", 7, "--seed", 11, "--out", "force", "--format", "parquet")
    cli("init")
    cli("ingest", "force")
    (tmp_path / "openeis.toml").write_text(CONFIG)
    cli("backtest", "--as-of", "2019-01-01:2020-07-01:6m", "--json", "bt.json")
    result = json.loads((tmp_path / "bt.json").read_text())
    summary = result["summary"]
    assert summary["selected_beats_rule_at_capacity"] is True
    assert summary["selected_beats_prior_count_at_capacity"] is True
    assert summary["selected_beats_rule_at_rule_count"] is True
    assert summary["dates"] == 4
    for d in result["dates"]:
        assert d["label_window_closed"] is True
        selected = d["models"][d["selected"]]
        assert selected["precision_at_capacity"] > d["rule"]["precision"]
        # on every date, at capacity, ahead of counting complaints
        assert selected["true_positives_at_capacity"] > d["models"]["prior_complaints_5y"]["true_positives_at_capacity"]
    assert summary["dates_selected_beats_prior_count_at_capacity"] == "4/4"
