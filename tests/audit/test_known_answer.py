"""Known-answer tests: does the audit find a bias planted in a synthetic force, and stay
quiet when there is none? Through the real pipeline (tests/support/audit_synthetic.py), a
few seeds each way; the 20-seed study is benchmarks/bench_audit_power.py (docs/audit.md).

The force: 2,000 officers (about 300 of ethnicity B serving on any date, 1,400 of A), six
years; a logistic regression trained on 2016-01-01, the top 5% flagged on 2017, 2018 and
2019-01-01; the audit pools the three dates, on ethnicity and gender, with the default
verdict rules. `upheld:group=B:1.5` makes allegations against B upheld 1.5 times as often,
so B's label (an upheld allegation in the next 12 months) is about 1.4 times A's, while the
model's flag rate and FPR for B hardly move: the disparity to find is the label-rate gap. At
about 300 officers per group the label-bias warning fires in only some seeds (docs/audit.md,
"Power": test_power.py shows it at the group size it needs), so these seeds check that the
estimate points the right way and that no verdict points the wrong way. A false alarm is any
outside-band verdict, on the label rate, the flag rate or the FPR, for any group.

These seeds check verdicts, not the false-alarm rate: over 60 seeds without bias the audit
alarms in about 15% of forces of this size, before issue 18's as-of boundary and after alike
(docs/audit.md, "False alarms since the as-of boundary"), against the study's 5%; that is
open, and bench_audit_power.py reports it.
"""

from __future__ import annotations

import pytest

from support.audit_studies import known_answer_seed

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2])
def test_no_bias_raises_no_false_alarm(tmp_path, seed):
    result = known_answer_seed(tmp_path, seed, [])
    assert result["alarms"] == [], result


@pytest.mark.parametrize("seed", [1, 2])
def test_upheld_bias_raises_b_label_rate_and_no_verdict_points_the_wrong_way(tmp_path, seed):
    result = known_answer_seed(tmp_path, seed, ["upheld:group=B:1.5"])
    assert result["b_ratio"] > 1, result
    assert not [a for a in result["alarms"] if a.startswith("ethnicity B prevalence") and float(a.split()[-1]) < 1]
