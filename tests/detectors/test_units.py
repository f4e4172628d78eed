"""The peer-relative statistics on hand-made numbers: exposure adjustment, the workload
note, leave-one-out peers and Benjamini-Hochberg."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openeis.config.detectors import DetectorsConfig
from openeis.detectors.stats import bh_adjusted, leave_one_out, peer_count_test, repeat_p


def _team(counts, exposures, group="unit U1, patrol"):
    return pd.DataFrame({"officer": [f"o{i}" for i in range(len(counts))], "peer_group": group,
                         "count": counts, "exposure": exposures})


def test_leave_one_out_excludes_the_officer():
    frame = _team([1, 2, 3], [10, 10, 10])
    assert list(leave_one_out(frame, "count")) == [5, 4, 3]


def test_an_officer_far_beyond_peers_at_equal_exposure_is_a_hit():
    frame = _team([2] * 30 + [20], [100] * 31)
    out = peer_count_test(frame, "count", "exposure", fdr=0.05, min_count=5, workload_share=0.5)
    assert out["hit"].tolist() == [False] * 30 + [True]
    assert not out["mostly_workload"].iloc[-1]


def test_exposure_explains_a_busy_officer_and_the_note_says_so():
    # Same rate per unit of exposure as peers, ten times the exposure: raw counts would flag
    # the officer, the exposure-adjusted test does not.
    frame = _team([2] * 30 + [20], [100] * 30 + [1000])
    out = peer_count_test(frame, "count", "exposure", fdr=0.05, min_count=5, workload_share=0.5)
    assert bool(out["raw_hit"].iloc[-1]) and not bool(out["hit"].iloc[-1])
    assert out["workload"].iloc[-1] == 1.0 and bool(out["mostly_workload"].iloc[-1])


def test_benjamini_hochberg_keeps_chance_hits_rare():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=5000)  # no officer differs: nothing should survive
    assert (bh_adjusted(p) <= 0.05).sum() == 0
    p[:10] = 1e-9  # ten real ones
    assert (bh_adjusted(p) <= 0.05).sum() == 10


def test_repeat_probability_falls_with_each_look_up():
    p = repeat_p(np.array([2, 5, 15]), np.array([50, 50, 50]), np.array([0.2, 0.2, 0.2]))
    assert p[0] == 1.0 and p[1] < 0.1 and p[2] < 1e-8


def test_config_defaults_and_unknown_keys():
    config = DetectorsConfig()
    assert config.high_bradford_factor.prompt_kind == "welfare"
    assert config.overtime_during_sickness.prompt_kind == "integrity"
    try:
        DetectorsConfig.model_validate({"premium_day_swaps": {"enabld": False}})
    except ValueError as error:
        assert "enabld" in str(error)
    else:
        raise AssertionError("a misspelt option must be refused")
