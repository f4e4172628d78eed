"""The label-bias warning at the group size it needs (docs/audit.md, "Power"): forces of
8,000 officers with groups A and B in equal shares (about 4,500 of each over three dates).
The planted `upheld:group=B:1.5` must raise the warning on B; with no bias planted it must
stay quiet. One seed each way here; benchmarks/bench_audit_power.py runs 20 each way (at
least 18 of 20 with the bias, at most 1 of 20 without).

Only the label and the audit are exercised (the label-bias warning does not depend on the
model): the force is generated in full but only the complaint, posting and officer tables are
ingested, and the flags are the prior-count baseline's top 5%.
"""

from __future__ import annotations

import pytest

from support.audit_studies import power_seed

pytestmark = pytest.mark.slow


def test_planted_upheld_bias_raises_the_warning_on_b(tmp_path):
    result = power_seed(tmp_path, 1, ["upheld:group=B:1.5"])
    assert result["warning"] and result["low"] > 1, result


def test_without_bias_the_warning_stays_quiet(tmp_path):
    result = power_seed(tmp_path, 1, [])
    assert not result["warning"], result
